//! The one HTTPS `GET` to the federation endpoint that trades credentials for a sign-in token:
//! `getSigninToken`, answered `200 {"SigninToken": "…"}`. Building the request is `super`'s;
//! deciding which credentials to send is the CLI's.
//!
//! The client is hyper with rustls and the system's roots, the stack the AWS SDK already uses.
//! Plain `http://` is accepted too, for a local endpoint (`CREDD_FEDERATION_ENDPOINT`). Nothing
//! here logs the request, the answer or the token; an error says the endpoint's base URL, the
//! status and the fix, never the URL it asked.

use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::secret::Secret;

/// Why no sign-in token came back.
#[derive(Debug, thiserror::Error)]
pub enum SigninError {
    #[error("could not reach the federation endpoint {base}: {why}")]
    Unreachable { base: String, why: String },
    #[error("the federation endpoint {base} did not answer within {}", humantime::format_duration(*.after))]
    Timeout { base: String, after: Duration },
    /// A 4xx or 5xx, with what the endpoint said (when it says nothing secret).
    #[error("the federation endpoint {base} refused the credentials (HTTP {status}{said})")]
    Refused { base: String, status: u16, said: String },
    #[error("the federation endpoint {base} answered without a SigninToken (HTTP {status})")]
    NoToken { base: String, status: u16 },
}

impl SigninError {
    /// Whether the endpoint itself said no, rather than could not be asked.
    pub fn refused(&self) -> bool {
        matches!(self, SigninError::Refused { .. })
    }
}

/// `GET request` (built by `super::signin_request` against `base`); the sign-in token.
/// `secrets` are the values the request carries: an error body that echoes one is not repeated.
pub async fn token(
    base: &str,
    request: &Secret,
    secrets: &[&str],
    timeout: Duration,
) -> Result<Secret, SigninError> {
    let unreachable = |why: String| SigninError::Unreachable { base: base.to_string(), why };
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|e| unreachable(format!("no TLS roots: {e}")))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let uri: hyper::Uri = request.expose().parse().map_err(|_| {
        unreachable("it is not a URL (check CREDD_FEDERATION_ENDPOINT or `federation_endpoint`)".into())
    })?;
    let req = hyper::Request::get(uri)
        .header("user-agent", concat!("credd/", env!("CARGO_PKG_VERSION")))
        .header("accept", "application/json")
        .body(Empty::new())
        .map_err(|_| unreachable("it is not a URL".into()))?;
    let exchange = async {
        let resp = client.request(req).await.map_err(|e| unreachable(cause(&e)))?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.map_err(|e| unreachable(e.to_string()))?.to_bytes();
        Ok::<_, SigninError>((status, body))
    };
    let (status, body) = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| SigninError::Timeout { base: base.to_string(), after: timeout })??;
    let text = String::from_utf8_lossy(&body);
    if !(200..300).contains(&status) {
        let said = text.trim();
        let said = if said.is_empty() || secrets.iter().any(|s| !s.is_empty() && said.contains(s)) {
            String::new()
        } else {
            format!(": {}", said.chars().take(200).collect::<String>())
        };
        return Err(SigninError::Refused { base: base.to_string(), status, said });
    }
    let parsed: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    match parsed.as_ref().and_then(|v| v.get("SigninToken")).and_then(|t| t.as_str()) {
        Some(t) if !t.is_empty() => Ok(Secret::new(t)),
        _ => Err(SigninError::NoToken { base: base.to_string(), status }),
    }
}

/// The innermost cause of a client error: hyper's own says only "client error (Connect)".
fn cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner: &dyn std::error::Error = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}
