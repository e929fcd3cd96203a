//! Renewing a session: where its credentials come from and how credd renews from them
//! (`source`: a [`source::Source`], then a [`source::Renewal`]), one provider type per STS
//! method behind one trait ([`Provider`]), the client they share (`sts.rs`) and MFA codes
//! (`mfa.rs`). What an error means is `crate::classify`'s, re-exported here.
//!
//! - `endpoint`: which region and URL a session's STS calls go to.
//! - `run`: one refresh end to end (source, MFA code, method, store), and a kept token's
//!   refresh handed to its own room.
//! - `store`: writing an issued session back where it lives.
//!
//! Providers only talk to STS. Choosing *when* to refresh belongs to the engine.

pub mod endpoint;
pub mod mfa;
pub mod run;
pub mod source;
pub mod store;
pub mod sts;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use crate::classify::{self, RefreshError};
pub use endpoint::Endpoint;

use crate::config::Method;
use crate::profile::SessionCredentials;
use crate::profile::meta::ProfileCredentials;
use crate::secret::Secret;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

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

/// The converted STS expiry.
pub(crate) fn to_utc(t: &aws_sdk_sts::primitives::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos()).unwrap_or(DateTime::<Utc>::MIN_UTC)
}
