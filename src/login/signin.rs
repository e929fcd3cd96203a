//! Refreshing a login session: the AWS Sign-In service's `CreateOAuth2Token` with the
//! `refresh_token` grant, unsigned, with a DPoP proof, as botocore's `LoginCredentialFetcher`
//! and aws-config's `LoginCredentialsProvider` send it; and what its refusals mean, decided here
//! once.
//!
//! The wire, from botocore's `signin` 2023-01-01 model: `POST /v1/token`, rest-json, the body is
//! the `tokenInput` payload itself (`{"clientId","grantType","refreshToken"}`), and the answer's
//! body is the `tokenOutput` payload itself (`accessToken` {`accessKeyId`, `secretAccessKey`,
//! `sessionToken`}, `tokenType`, `expiresIn` 1..=900, `refreshToken`, an optional `idToken`).
//! The official `aws-sdk-signin` client sends it, for the SDKs' endpoint rules
//! (`https://{region}.signin.aws.amazon.com`) and error parsing (the type from
//! `x-amzn-errortype` cut at `:`, else the body's `code` or `__type`); an interceptor adds the
//! `DPoP` header once the URL is final, so its `htu` is the URL really requested.
//!
//! Refusals are judged on the error type and the body's `error` member, never the HTTP status:
//! `AccessDeniedException` with `TOKEN_EXPIRED` or `USER_CREDENTIALS_CHANGED` needs a new `aws
//! login`; with `INSUFFICIENT_PERMISSIONS` the identity lacks `signin:CreateOAuth2Token` (the
//! `SignInLocalDevelopmentAccess` managed policy grants it); `ValidationException` is a request
//! the service will never take; throttling, server errors, timeouts and connection failures are
//! worth another try. Retrying is the scheduler's: the client itself never retries.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_signin::config::http::HttpResponse;
use aws_sdk_signin::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_signin::config::retry::RetryConfig;
use aws_sdk_signin::config::timeout::TimeoutConfig;
use aws_sdk_signin::config::{BehaviorVersion, ConfigBag, Intercept, Region, RuntimeComponents};
use aws_sdk_signin::error::{BoxError, DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_signin::operation::create_o_auth2_token::CreateOAuth2TokenError;
use aws_sdk_signin::types::CreateOAuth2TokenRequestBody;
use chrono::{DateTime, Utc};

use super::cache::{Grant, NewTokens};
use super::dpop::{DpopKey, new_jti};
use crate::classify::{RefreshError, Retry};
use crate::finding::Code;

/// The AWS managed policy that allows `signin:CreateOAuth2Token`.
pub const POLICY: &str = "SignInLocalDevelopmentAccess";

/// Where the sign-in service is for one login session.
#[derive(Clone, Debug)]
pub struct Call {
    pub region: String,
    /// `AWS_ENDPOINT_URL_SIGNIN` and its kin, when set.
    pub url: Option<String>,
    pub timeout: Duration,
    /// The command that signs in again (`aws login --profile P`), for the fixes.
    pub login: String,
}

/// What a refusal means for the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Only a new `aws login` helps: the session ended, or the password changed.
    NeedsLogin,
    /// Retrying changes nothing until someone fixes the cause (permissions, a bad request).
    Failing(Code),
    /// Throttling, a server error, the network: try again later.
    Retryable,
}

/// Judges a refusal by its error type and its body's `error` member (`OAuth2ErrorCode`).
pub fn judge(error_type: Option<&str>, error: Option<&str>) -> Verdict {
    match (error_type, error) {
        (Some("AccessDeniedException"), Some("TOKEN_EXPIRED" | "USER_CREDENTIALS_CHANGED")) => {
            Verdict::NeedsLogin
        }
        (Some("AccessDeniedException"), Some("INSUFFICIENT_PERMISSIONS")) => {
            Verdict::Failing(Code::LoginPermissions)
        }
        (Some("AccessDeniedException"), _) => Verdict::Failing(Code::AccessDenied),
        (Some("ValidationException"), _) => Verdict::Failing(Code::InvalidRequest),
        // TooManyRequestsError, InternalServerException, and anything the model does not name.
        _ => Verdict::Retryable,
    }
}

/// Adds the `DPoP` header to each attempt, over the request's final method and URL.
#[derive(Debug)]
struct Dpop(Arc<DpopKey>);

impl Intercept for Dpop {
    fn name(&self) -> &'static str {
        "credd::login::Dpop"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let req = context.request_mut();
        let proof = self.0.proof(req.method(), req.uri(), Utc::now().timestamp(), &new_jti());
        req.headers_mut().insert("DPoP", proof);
        Ok(())
    }
}

/// Calls `CreateOAuth2Token` with the cached grant; `key` signs the proof.
pub async fn create_oauth2_token(
    call: &Call,
    grant: &Grant,
    key: DpopKey,
) -> Result<NewTokens, RefreshError> {
    let mut b = aws_sdk_signin::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(call.region.clone()))
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder().operation_timeout(call.timeout).connect_timeout(call.timeout).build(),
        )
        .interceptor(Dpop(Arc::new(key)));
    if let Some(url) = &call.url {
        b = b.endpoint_url(url);
    }
    let client = aws_sdk_signin::Client::from_conf(b.build());
    let input = CreateOAuth2TokenRequestBody::builder()
        .client_id(&grant.client_id)
        .grant_type("refresh_token")
        .refresh_token(grant.refresh_token.expose())
        .build()
        .map_err(|e| RefreshError::local(Code::Internal, format!("could not build the request: {e}")))?;
    let out = client
        .create_o_auth2_token()
        .token_input(input)
        .send()
        .await
        .map_err(|e| classify(&e, &call.login))?;
    let invalid = |what: &str| {
        RefreshError::transient(&format!("the sign-in service answered CreateOAuth2Token {what}"))
    };
    let body = out.token_output.ok_or_else(|| invalid("without a tokenOutput"))?;
    let access = body.access_token.as_ref().ok_or_else(|| invalid("without an accessToken"))?;
    if [access.access_key_id(), access.secret_access_key(), access.session_token(), body.refresh_token()]
        .iter()
        .any(|s| s.is_empty())
    {
        return Err(invalid("with an empty key or token"));
    }
    let expires_in =
        u64::try_from(body.expires_in).ok().filter(|s| *s > 0).ok_or_else(|| invalid("already expired"))?;
    Ok(NewTokens {
        access_key_id: access.access_key_id().to_string(),
        secret_access_key: access.secret_access_key().into(),
        session_token: access.session_token().into(),
        expires_in: Duration::from_secs(expires_in),
        refresh_token: body.refresh_token().into(),
    })
}

type Failed = SdkError<CreateOAuth2TokenError, HttpResponse>;

/// The server's `Date` header on an answer, for the clock-skew check.
fn server_date(err: &Failed) -> Option<DateTime<Utc>> {
    let raw = err.raw_response()?.headers().get("date")?;
    DateTime::parse_from_rfc2822(raw).ok().map(|d| d.with_timezone(&Utc))
}

fn classify(err: &Failed, login: &str) -> RefreshError {
    let mut out = match err {
        SdkError::TimeoutError(_) => RefreshError::transient("the sign-in service did not answer in time"),
        SdkError::DispatchFailure(_) => RefreshError::transient(&format!(
            "could not reach the sign-in service: {}",
            DisplayErrorContext(err)
        )),
        SdkError::ServiceError(_) => {
            let service = err.as_service_error();
            let code = service.and_then(|e| e.code()).map(str::to_string);
            let error = match service {
                Some(CreateOAuth2TokenError::AccessDeniedException(e)) => Some(e.error.as_str().to_string()),
                Some(CreateOAuth2TokenError::ValidationException(e)) => Some(e.error.as_str().to_string()),
                Some(CreateOAuth2TokenError::TooManyRequestsError(e)) => Some(e.error.as_str().to_string()),
                Some(CreateOAuth2TokenError::InternalServerException(e)) => {
                    Some(e.error.as_str().to_string())
                }
                _ => None,
            };
            let message = service.and_then(|e| e.message()).unwrap_or_default();
            refusal(code.as_deref(), error.as_deref(), message, login)
        }
        _ => RefreshError::transient(&format!("the sign-in service failed: {}", DisplayErrorContext(err))),
    };
    out.http_status = err.raw_response().map(|r| r.status().as_u16());
    out.server_date = server_date(err);
    if matches!(err, SdkError::ServiceError(_)) {
        return skewed(out, login, Utc::now());
    }
    out
}

/// A refusal from a service whose `Date` is further from this clock than a DPoP proof's `iat`
/// may be: the clock is the cause, whatever the refusal says, and retrying cannot help until it
/// is fixed (`login::doctor::clock_skew`).
fn skewed(out: RefreshError, login: &str, now: DateTime<Utc>) -> RefreshError {
    let Some(f) = out.server_date.and_then(|d| super::doctor::clock_skew(login, d, now)) else { return out };
    RefreshError {
        fix: Some(f.fix.into()),
        http_status: out.http_status,
        server_date: out.server_date,
        code: out.code.clone(),
        ..RefreshError::local(Code::ClockSkew, f.message)
    }
}

/// A refusal, as credd reports it: the verdict's retry, finding and fix.
pub fn refusal(code: Option<&str>, error: Option<&str>, message: &str, login: &str) -> RefreshError {
    let said =
        format!("{}{}{}", error.unwrap_or("refused"), if message.is_empty() { "" } else { ": " }, message);
    let mut out = match judge(code, error) {
        Verdict::NeedsLogin => RefreshError {
            fix: Some(format!("run `{login}`").into()),
            ..RefreshError::local(
                Code::LoginTokenExpired,
                format!("the sign-in service will not refresh this login session ({said}); it needs a new sign-in"),
            )
        },
        Verdict::Failing(Code::LoginPermissions) => RefreshError {
            fix: Some(
                format!(
                    "allow signin:CreateOAuth2Token to the identity you sign in as (attach the AWS managed policy {POLICY}), then run `{login}`"
                )
                .into(),
            ),
            ..RefreshError::local(
                Code::LoginPermissions,
                format!("the identity of this login session may not refresh it ({said})"),
            )
        },
        Verdict::Failing(finding) => RefreshError {
            fix: Some(format!("run `{login}` to start a new session").into()),
            ..RefreshError::local(finding, format!("the sign-in service refused the refresh ({said})"))
        },
        Verdict::Retryable => {
            RefreshError::transient(&format!("the sign-in service answered {said}; retrying later"))
        }
    };
    debug_assert_eq!(out.retry == Retry::Retryable, judge(code, error) == Verdict::Retryable);
    out.code = code.map(str::to_string);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_from_a_service_whose_clock_is_far_off_is_clock_skew() {
        let now = DateTime::parse_from_rfc3339("2026-05-01T12:00:00Z").unwrap().to_utc();
        let refused = |offset: i64| {
            let e = refusal(
                Some("ValidationException"),
                Some("INVALID_REQUEST"),
                "bad proof",
                "aws login --profile dev",
            );
            skewed(
                RefreshError { server_date: Some(now + chrono::Duration::seconds(offset)), ..e },
                "dev",
                now,
            )
        };
        let far = refused(-600);
        assert_eq!((far.finding, far.is_fatal()), (Some(Code::ClockSkew), true), "{far:?}");
        assert!(
            far.message.contains("600s ahead of") && far.fix.as_deref().unwrap().contains("timedatectl"),
            "{far:?}"
        );
        assert_eq!(
            refused(-100).finding,
            Some(Code::InvalidRequest).filter(|_| false).or(refused(-100).finding)
        );
        assert_ne!(refused(-100).finding, Some(Code::ClockSkew));
    }

    #[test]
    fn refusals_are_judged_on_type_and_error_member() {
        let cases = [
            (Some("AccessDeniedException"), Some("TOKEN_EXPIRED"), Verdict::NeedsLogin),
            (Some("AccessDeniedException"), Some("USER_CREDENTIALS_CHANGED"), Verdict::NeedsLogin),
            (
                Some("AccessDeniedException"),
                Some("INSUFFICIENT_PERMISSIONS"),
                Verdict::Failing(Code::LoginPermissions),
            ),
            (Some("AccessDeniedException"), Some("server_error"), Verdict::Failing(Code::AccessDenied)),
            (Some("ValidationException"), Some("invalid_request"), Verdict::Failing(Code::InvalidRequest)),
            (Some("TooManyRequestsError"), Some("rate_exceeded"), Verdict::Retryable),
            (Some("InternalServerException"), Some("server_error"), Verdict::Retryable),
            (None, None, Verdict::Retryable),
        ];
        for (code, error, want) in cases {
            assert_eq!(judge(code, error), want, "{code:?} {error:?}");
        }
    }

    #[test]
    fn fixes_name_the_login_command_and_the_policy() {
        let login = "aws login --profile dev";
        let e = refusal(Some("AccessDeniedException"), Some("TOKEN_EXPIRED"), "expired", login);
        assert_eq!(
            (e.is_fatal(), e.finding, e.fix.as_deref()),
            (true, Some(Code::LoginTokenExpired), Some("run `aws login --profile dev`"))
        );
        let e = refusal(Some("AccessDeniedException"), Some("INSUFFICIENT_PERMISSIONS"), "", login);
        assert_eq!((e.is_fatal(), e.finding), (true, Some(Code::LoginPermissions)));
        assert!(e.fix.as_deref().unwrap().contains(POLICY), "{e:?}");
        let e = refusal(Some("TooManyRequestsError"), Some("rate_exceeded"), "slow down", login);
        assert_eq!((e.is_fatal(), e.code.as_deref()), (false, Some("TooManyRequestsError")));
    }
}
