//! Refreshing an SSO access token: sso-oidc `CreateToken` with the `refresh_token` grant,
//! unsigned, as botocore's `SSOTokenProvider` sends it. Which errors mean "sign in again" and
//! which are worth retrying is decided here, once.

use std::time::Duration;

use aws_sdk_ssooidc::config::http::HttpResponse;
use aws_sdk_ssooidc::config::retry::RetryConfig;
use aws_sdk_ssooidc::config::timeout::TimeoutConfig;
use aws_sdk_ssooidc::config::{BehaviorVersion, Region};
use aws_sdk_ssooidc::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::cache::{Grant, NewToken};
use crate::classify::RefreshError;
use crate::finding::Code;

/// Where sso-oidc is for one SSO session.
#[derive(Clone, Debug)]
pub struct Call {
    pub region: String,
    /// `AWS_ENDPOINT_URL_SSO_OIDC` and its kin, when set.
    pub url: Option<String>,
    pub timeout: Duration,
}

/// Errors after which only a new `aws sso login` helps.
const SIGN_IN_AGAIN: &[&str] = &[
    "InvalidGrantException",
    "ExpiredTokenException",
    "UnauthorizedClientException",
    "InvalidClientException",
    "AccessDeniedException",
    "InvalidRequestException",
];

/// Whether an sso-oidc error code means the token can no longer be refreshed.
pub fn is_final(code: &str) -> bool {
    SIGN_IN_AGAIN.contains(&code)
}

pub async fn create_token(call: &Call, grant: &Grant) -> Result<NewToken, RefreshError> {
    let mut b = aws_sdk_ssooidc::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(call.region.clone()))
        // The scheduler retries, with its own backoff, as it does for STS.
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder().operation_timeout(call.timeout).connect_timeout(call.timeout).build(),
        );
    if let Some(url) = &call.url {
        b = b.endpoint_url(url);
    }
    let client = aws_sdk_ssooidc::Client::from_conf(b.build());
    let out = client
        .create_token()
        .grant_type("refresh_token")
        .client_id(&grant.client_id)
        .client_secret(grant.client_secret.expose())
        .refresh_token(grant.refresh_token.expose())
        .send()
        .await
        .map_err(|e| classify(&e))?;
    let access_token = out.access_token().filter(|t| !t.is_empty()).ok_or_else(|| {
        RefreshError::transient("IAM Identity Center answered CreateToken without an access token")
    })?;
    Ok(NewToken {
        access_token: access_token.into(),
        expires_in: Duration::from_secs(u64::try_from(out.expires_in()).unwrap_or(0)),
        refresh_token: out.refresh_token().filter(|t| !t.is_empty()).map(Into::into),
    })
}

fn classify<E>(err: &SdkError<E, HttpResponse>) -> RefreshError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match err {
        SdkError::TimeoutError(_) => {
            RefreshError::transient("IAM Identity Center (sso-oidc) did not answer in time")
        }
        SdkError::DispatchFailure(_) => RefreshError::transient(&format!(
            "could not reach IAM Identity Center (sso-oidc): {}",
            DisplayErrorContext(err)
        )),
        _ => {
            let code = err.as_service_error().and_then(|e| e.code()).map(str::to_string);
            let detail = err.as_service_error().and_then(|e| e.message()).unwrap_or_default().to_string();
            match code {
                Some(c) if is_final(&c) => {
                    let mut e = RefreshError::local(
                        Code::SsoTokenUnrefreshable,
                        format!(
                            "IAM Identity Center refused to refresh the token: {c}{}",
                            if detail.is_empty() { String::new() } else { format!(" ({detail})") }
                        ),
                    );
                    e.code = Some(c);
                    e
                }
                // Throttling, SlowDown, InternalServer, 5xx: worth another try later.
                Some(c) => {
                    let mut e =
                        RefreshError::transient(&format!("IAM Identity Center answered {c}; retrying later"));
                    e.code = Some(c);
                    e
                }
                None => RefreshError::transient(&crate::classify::no_error_code(
                    "IAM Identity Center (sso-oidc)",
                    err,
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_grant_and_client_errors_are_final() {
        for c in ["InvalidGrantException", "ExpiredTokenException", "UnauthorizedClientException"] {
            assert!(is_final(c), "{c}");
        }
        for c in ["SlowDownException", "InternalServerException", "ThrottlingException"] {
            assert!(!is_final(c), "{c}");
        }
    }
}
