//! Getting a new session from STS: one provider type per STS method behind one trait
//! ([`Provider`]), the client they share (`sts.rs`), MFA codes (`mfa.rs`), and the one place
//! that decides what an STS error means (`classify.rs`).
//!
//! Providers only talk to STS. Choosing when to call them and writing the result back belong to
//! the daemon and `session_write`.

pub mod classify;
pub mod mfa;
pub mod run;
pub mod sts;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use classify::RefreshError;

use crate::config::Method;
use crate::profile::SessionCredentials;
use crate::profile::meta::ProfileCredentials;
use crate::secret::Secret;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where and how to reach STS.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub region: String,
    /// An explicit endpoint (moto, GovCloud, China, FIPS, a VPC endpoint), or the SDK's default.
    pub url: Option<String>,
    pub timeout: Duration,
}

/// One call's inputs.
#[derive(Clone, Debug)]
pub struct CallContext {
    pub source: ProfileCredentials,
    /// `(serial, code)`; the code is used once.
    pub mfa: Option<(String, Secret)>,
    pub endpoint: Endpoint,
}

/// What STS handed back.
#[derive(Clone, Debug)]
pub struct Issued {
    pub credentials: SessionCredentials,
    /// The assumed role's ARN when STS says it.
    pub identity: Option<String>,
}

/// A way to get a session from STS.
pub trait Provider: Send + Sync {
    fn method(&self) -> Method;
    fn issue<'a>(&'a self, ctx: &'a CallContext) -> BoxFuture<'a, Result<Issued, RefreshError>>;
}

/// `sts:AssumeRole`.
#[derive(Clone, Debug)]
pub struct AssumeRole {
    pub role_arn: String,
    pub external_id: Option<String>,
    pub session_name: String,
    pub duration: Duration,
}

/// `sts:GetSessionToken`.
#[derive(Clone, Debug)]
pub struct SessionToken {
    pub duration: Duration,
}

impl Provider for AssumeRole {
    fn method(&self) -> Method {
        Method::AssumeRole
    }

    fn issue<'a>(&'a self, ctx: &'a CallContext) -> BoxFuture<'a, Result<Issued, RefreshError>> {
        Box::pin(sts::assume_role(self, ctx))
    }
}

impl Provider for SessionToken {
    fn method(&self) -> Method {
        Method::SessionToken
    }

    fn issue<'a>(&'a self, ctx: &'a CallContext) -> BoxFuture<'a, Result<Issued, RefreshError>> {
        Box::pin(sts::session_token(self, ctx))
    }
}

/// The default RoleSessionName: `credd-USER@HOST`, cut down to what STS accepts, so CloudTrail
/// shows who and where.
pub fn default_session_name(user: &str, host: &str) -> String {
    let raw = format!("credd-{user}@{host}");
    let mut s: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) { c } else { '-' })
        .take(64)
        .collect();
    if s.len() < 2 {
        s = "credd".into();
    }
    s
}

/// The converted STS expiry.
pub(crate) fn to_utc(t: &aws_sdk_sts::primitives::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos()).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_follow_sts_rules() {
        assert_eq!(default_session_name("alice", "laptop.local"), "credd-alice@laptop.local");
        let n = default_session_name("al ice/x", "höst");
        assert!(crate::config::is_role_session_name(&n), "{n}");
        assert_eq!(default_session_name(&"u".repeat(100), "h").len(), 64);
    }
}
