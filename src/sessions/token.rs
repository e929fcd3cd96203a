//! The tokens credd keeps fresh where their tools cache them: one variant per kind of token,
//! each method asking that kind's own room. Today that is IAM Identity Center's (`sso/`); an
//! `aws login` session is the next variant. The engine and the views ask these methods and never
//! which kind a token is.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::files::Loaded;
use crate::finding::Code;
use crate::protocol::Origin;
use crate::sso::SsoSpec;

/// A token credd keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// An IAM Identity Center session's token (`~/.aws/sso/cache/<sha1>.json`).
    Sso(Box<SsoSpec>),
}

impl Token {
    /// Its cache file, where it lives.
    pub fn cache(&self) -> &Path {
        match self {
            Token::Sso(s) => &s.cache,
        }
    }

    /// What it is, for messages: "SSO token".
    pub fn noun(&self) -> &'static str {
        match self {
            Token::Sso(_) => "SSO token",
        }
    }

    /// How the control socket names where it lives.
    pub fn origin(&self) -> Origin {
        match self {
            Token::Sso(_) => Origin::SsoCache,
        }
    }

    /// The one command that signs in again.
    pub fn login_command(&self) -> String {
        match self {
            Token::Sso(s) => s.login_command(),
        }
    }

    /// The profiles that use it, sorted.
    pub fn profiles(&self) -> &[String] {
        match self {
            Token::Sso(s) => &s.profiles,
        }
    }

    /// When it expires, as its cache file (read into `loaded`) says.
    pub fn expires_at(&self, loaded: &Loaded) -> Option<DateTime<Utc>> {
        match self {
            Token::Sso(s) => loaded.sso_token(&s.cache).and_then(|t| t.expires_at()),
        }
    }

    /// Until when credd can refresh it, as its cache file has it now; or why it cannot, which
    /// only a new sign-in changes.
    pub fn refreshable(&self, loaded: &Loaded, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
        match self {
            Token::Sso(s) => match loaded.sso_token(&s.cache).map(|t| t.refresh(now)) {
                Some(crate::sso::cache::Refresh::Until(t)) => Ok(t),
                Some(crate::sso::cache::Refresh::No(why)) => Err(why),
                None => Err("the token is no longer in the cache".into()),
            },
        }
    }

    /// The finding of a refusal by the token's service that only a new sign-in lifts.
    pub fn refused(&self) -> Code {
        match self {
            Token::Sso(_) => Code::SsoTokenUnrefreshable,
        }
    }

    /// The least time between two refresh attempts the service accepts from one client: IAM
    /// Identity Center gets at most one token refresh a minute, as from botocore.
    pub fn min_retry(&self) -> Duration {
        match self {
            Token::Sso(_) => Duration::from_secs(60),
        }
    }

    /// Why it cannot be exported as credentials.
    pub fn not_credentials(&self) -> &'static str {
        match self {
            Token::Sso(_) => "it is an SSO token, not credentials; export one of the profiles that use it",
        }
    }
}
