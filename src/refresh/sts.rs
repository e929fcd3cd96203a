//! The STS client and the two calls credd makes with it.
//!
//! Each call builds a client from static credentials (the source profile's long-term keys, or a
//! chained session), an explicit region and endpoint, and the configured timeout. The SDK's own
//! retries are off: retrying is the scheduler's decision, with its own backoff and its own view of
//! what is worth retrying (`classify.rs`).

use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::timeout::TimeoutConfig;
use std::sync::{Arc, Mutex};

use aws_sdk_sts::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_sts::config::{BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents};
use aws_sdk_sts::error::BoxError;
use chrono::{DateTime, Utc};

use super::classify::{self, RefreshError};
use super::{AssumeRole, CallContext, Issued, SessionToken, to_utc};
use crate::profile::SessionCredentials;
use crate::secret::Secret;

pub fn client(ctx: &CallContext) -> aws_sdk_sts::Client {
    client_with(ctx, None)
}

fn client_with(ctx: &CallContext, dates: Option<DateCapture>) -> aws_sdk_sts::Client {
    let creds = Credentials::new(
        ctx.source.access_key_id.clone(),
        ctx.source.secret_access_key.expose().to_string(),
        ctx.source.session_token.as_ref().map(|t| t.expose().to_string()),
        None,
        "credd-source-profile",
    );
    let mut b = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(ctx.endpoint.region.clone()))
        .credentials_provider(creds)
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(ctx.endpoint.timeout)
                .connect_timeout(ctx.endpoint.timeout)
                .build(),
        );
    if let Some(url) = &ctx.endpoint.url {
        b = b.endpoint_url(url);
    }
    if let Some(d) = dates {
        b = b.interceptor(d);
    }
    aws_sdk_sts::Client::from_conf(b.build())
}

fn duration_secs(d: std::time::Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

fn session(c: Option<&aws_sdk_sts::types::Credentials>) -> Result<SessionCredentials, RefreshError> {
    let c = c.ok_or_else(|| RefreshError::transient("STS answered without credentials"))?;
    Ok(SessionCredentials {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: Secret::new(c.secret_access_key()),
        session_token: Secret::new(c.session_token()),
        expiration: to_utc(c.expiration()),
    })
}

pub async fn assume_role(p: &AssumeRole, ctx: &CallContext) -> Result<Issued, RefreshError> {
    let mut req = client(ctx)
        .assume_role()
        .role_arn(&p.role_arn)
        .role_session_name(&p.session_name)
        .duration_seconds(duration_secs(p.duration));
    if let Some(id) = &p.external_id {
        req = req.external_id(id);
    }
    if let Some((serial, code)) = &ctx.mfa {
        req = req.serial_number(serial).token_code(code.expose());
    }
    let out = req.send().await.map_err(|e| classify::sdk_error(&e))?;
    Ok(Issued {
        credentials: session(out.credentials())?,
        identity: out.assumed_role_user().map(|u| u.arn().to_string()),
    })
}

pub async fn session_token(p: &SessionToken, ctx: &CallContext) -> Result<Issued, RefreshError> {
    let mut req = client(ctx).get_session_token().duration_seconds(duration_secs(p.duration));
    if let Some((serial, code)) = &ctx.mfa {
        req = req.serial_number(serial).token_code(code.expose());
    }
    let out = req.send().await.map_err(|e| classify::sdk_error(&e))?;
    Ok(Issued { credentials: session(out.credentials())?, identity: None })
}

/// Records the `Date` header of every response, successful or not, for clock-skew checks.
#[derive(Debug, Clone, Default)]
pub struct DateCapture(Arc<Mutex<Option<DateTime<Utc>>>>);

impl DateCapture {
    pub fn get(&self) -> Option<DateTime<Utc>> {
        *self.0.lock().expect("not poisoned")
    }
}

impl Intercept for DateCapture {
    fn name(&self) -> &'static str {
        "credd-date-capture"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(raw) = context.response().headers().get("date")
            && let Ok(d) = DateTime::parse_from_rfc2822(raw)
        {
            *self.0.lock().expect("not poisoned") = Some(d.with_timezone(&Utc));
        }
        Ok(())
    }
}

/// `sts:GetCallerIdentity`: who these credentials are, as `(arn, account)`, plus the server's
/// clock. GetCallerIdentity needs no permission, so any failure is about the credentials.
pub async fn caller_identity(
    ctx: &CallContext,
) -> (Result<(String, String), RefreshError>, Option<DateTime<Utc>>) {
    let dates = DateCapture::default();
    let result = client_with(ctx, Some(dates.clone())).get_caller_identity().send().await;
    let result = match result {
        Ok(out) => {
            Ok((out.arn().unwrap_or_default().to_string(), out.account().unwrap_or_default().to_string()))
        }
        Err(e) => Err(classify::sdk_error(&e)),
    };
    (result, dates.get())
}
