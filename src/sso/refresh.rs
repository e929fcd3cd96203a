//! One SSO token refresh, end to end: read the cache file, check that it can be refreshed, call
//! sso-oidc, and write the new token back, never over a token someone signed in with meanwhile.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::SsoSpec;
use super::cache::{self, CachedToken, Refresh};
use super::oidc::{self, Call};
use crate::classify::{RefreshError, file_failure};
use crate::finding::Code;
use crate::profile::EditError;
use crate::profile::write::{Format, update_with};

/// A refreshed token: when it expires now.
#[derive(Debug)]
pub struct Refreshed {
    pub expires_at: DateTime<Utc>,
    /// The cache file held a newer token than the one refreshed (`aws sso login` ran), which
    /// was kept.
    pub kept_newer: bool,
}

/// Refreshes the token of `spec`; `url` overrides sso-oidc's endpoint, as for the profiles that
/// use the session (the caller resolves it from the files and the environment).
pub async fn refresh(
    spec: &SsoSpec,
    url: Option<String>,
    timeout: Duration,
) -> Result<Refreshed, RefreshError> {
    let internal =
        |e: tokio::task::JoinError| RefreshError::local(Code::Internal, format!("task failed: {e}"));
    let path = spec.cache.clone();
    let token = tokio::task::spawn_blocking(move || cache::read(&path)).await.map_err(internal)?;
    let token = match token {
        Ok(Some(t)) => t,
        Ok(None) => {
            return Err(RefreshError::local(
                Code::SsoTokenExpired,
                format!("no token for {} in the SSO cache (signed out?)", spec.name),
            ));
        }
        // A cache file that does not parse waits for a new sign-in; one that cannot be read
        // right now is tried again, as for the credentials file.
        Err(e) => return Err(file_failure(e)),
    };
    let now = Utc::now();
    let grant = match (token.refresh(now), token.grant()) {
        (Refresh::Until(_), Some(g)) => g,
        (Refresh::No(why), _) => return Err(RefreshError::local(Code::SsoTokenUnrefreshable, why)),
        (Refresh::Until(_), None) => {
            return Err(RefreshError::local(
                Code::SsoTokenUnrefreshable,
                "the cached token lacks its refresh fields".into(),
            ));
        }
    };
    let region = spec
        .region
        .clone()
        .or_else(|| token.region().map(str::to_string))
        .unwrap_or_else(|| "us-east-1".into());
    let call = Call { region, url, timeout };
    let new = oidc::create_token(&call, &grant).await?;
    let expires_at = now + chrono::Duration::from_std(new.expires_in).unwrap_or_default();

    let path = spec.cache.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let format = Format {
            parse: &|b: &[u8]| CachedToken::parse(b, &path),
            empty: &CachedToken::default,
            render: &CachedToken::render,
            reads_back: true,
            private: true,
        };
        let mut theirs = None;
        let outcome = update_with(
            &path,
            &format,
            |current: &mut CachedToken| {
                // `aws sso login` (or another refresher) wrote the file since it was read: what
                // it wrote is newer than what this refresh started from. Keep it.
                if !current.same_token(&token) {
                    theirs = Some(current.expires_at());
                    return Ok::<(), EditError>(());
                }
                theirs = None;
                current.apply(&new, now);
                Ok(())
            },
            &mut |_| {},
        );
        outcome.map(|_| theirs)
    })
    .await
    .map_err(internal)?;
    match stored {
        Ok(None) => Ok(Refreshed { expires_at, kept_newer: false }),
        Ok(Some(Some(theirs))) => Ok(Refreshed { expires_at: theirs, kept_newer: true }),
        Ok(Some(None)) => Err(RefreshError::local(
            Code::SsoTokenExpired,
            format!("the token for {} left the SSO cache during the refresh (signed out?)", spec.name),
        )),
        Err(e) => Err(file_failure(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(cache: std::path::PathBuf) -> SsoSpec {
        SsoSpec {
            name: "sso-session corp".into(),
            session: Some("corp".into()),
            start_url: "https://corp.awsapps.com/start".into(),
            region: Some("us-east-1".into()),
            cache,
            profiles: vec!["dev".into()],
        }
    }

    async fn failure(cache: std::path::PathBuf) -> RefreshError {
        match refresh(&spec(cache), None, Duration::from_secs(10)).await {
            Err(e) => e,
            Ok(other) => panic!("expected a failure, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn an_unreadable_cache_is_retried_and_an_unparseable_one_waits_for_a_sign_in() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: reading it fails, as a permission flicker would.
        let unreadable = dir.path().join("unreadable.json");
        std::fs::create_dir(&unreadable).unwrap();
        let e = failure(unreadable).await;
        assert!(!e.is_fatal(), "{e:?}");
        let broken = dir.path().join("broken.json");
        std::fs::write(&broken, "[not an object]").unwrap();
        let e = failure(broken).await;
        assert_eq!((e.is_fatal(), e.finding), (true, Some(Code::FileUnparseable)), "{e:?}");
        let e = failure(dir.path().join("absent.json")).await;
        assert_eq!((e.is_fatal(), e.finding), (true, Some(Code::SsoTokenExpired)), "{e:?}");
    }
}
