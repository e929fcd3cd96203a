//! One login session refresh, end to end: read the cache file, load its DPoP key, call the
//! sign-in service, and write the new tokens back, never over a file someone changed meanwhile
//! (`aws login` ran, or an SDK refreshed it first). Its shape is `sso::refresh`'s, so the
//! engine's `refresh_token` reaches it with one arm. Where the sign-in service is (the
//! `AWS_ENDPOINT_URL_SIGNIN` chain, `refresh::endpoint::service_url("signin", …)`) the caller
//! resolves, as for SSO: this room sits below `refresh` and `files`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::LoginSpec;
use super::cache::{self, Stored};
use super::dpop::DpopKey;
use super::signin::{self, Call};
use crate::classify::{RefreshError, file_failure};
use crate::finding::Code;
use crate::profile::WriteError;

/// A refreshed session: when its credentials expire now.
#[derive(Debug, PartialEq, Eq)]
pub struct Refreshed {
    pub expires_at: DateTime<Utc>,
    /// The cache file held other tokens by the time the new ones came (a new `aws login`, or
    /// another refresher): those were kept, and this is their expiry.
    pub kept_newer: bool,
}

/// Refreshes the session of `spec`; `url` overrides the sign-in endpoint (the caller resolves
/// it for the session's first profile).
pub async fn refresh(
    spec: &LoginSpec,
    url: Option<String>,
    timeout: Duration,
) -> Result<Refreshed, RefreshError> {
    let internal =
        |e: tokio::task::JoinError| RefreshError::local(Code::Internal, format!("task failed: {e}"));
    let login = spec.login_command();
    let needs_login = |code, message: String| RefreshError {
        fix: Some(format!("run `{login}`").into()),
        ..RefreshError::local(code, message)
    };
    let path = spec.cache.clone();
    let read = tokio::task::spawn_blocking(move || cache::read(&path)).await.map_err(internal)?;
    let token = match read {
        Ok(Some(t)) => t,
        Ok(None) => {
            return Err(needs_login(
                Code::LoginTokenExpired,
                format!("no login session for {} in {} (signed out?)", spec.session, spec.cache.display()),
            ));
        }
        // A file that does not hold a session waits for a new sign-in to write one (the daemon
        // watches it); one that cannot be read right now is tried again.
        Err(WriteError::Unparseable(p)) => {
            return Err(RefreshError {
                blocked_at: Some(p.path.as_path().into()),
                ..needs_login(Code::LoginCacheInvalid, WriteError::Unparseable(p).to_string())
            });
        }
        Err(e) => return Err(file_failure(e)),
    };
    let grant = token.grant();
    let key = DpopKey::from_pem(grant.dpop_key.expose()).map_err(|e| RefreshError {
        blocked_at: Some(spec.cache.as_path().into()),
        ..needs_login(Code::LoginCacheInvalid, format!("{}: {e}", spec.cache.display()))
    })?;
    let Some(region) = token.sign_in_region().map(str::to_string).or_else(|| spec.region.clone()) else {
        return Err(RefreshError {
            fix: Some(format!("set `region` in [profile {}] (or run `{login}` again)", spec.profiles.join("], [profile ")).into()),
            ..RefreshError::local(
                Code::RegionMissing,
                "the login session has no signInRegion and its profiles no region: the sign-in service's endpoint is regional".into(),
            )
        });
    };
    let call = Call { region, url, timeout, login: login.clone() };
    let now = Utc::now();
    let new = signin::create_oauth2_token(&call, &grant, key).await?;

    let path = spec.cache.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let stored = cache::store(&path, &token, &new, now);
        // The expiry as written (whole seconds), so status and the file agree.
        let mut written = token;
        written.apply(&new, now);
        stored.map(|s| (s, written.expires_at()))
    })
    .await
    .map_err(internal)?;
    match stored {
        Ok((Stored::Written, expires_at)) => Ok(Refreshed { expires_at, kept_newer: false }),
        Ok((Stored::KeptTheirs(Some(theirs)), _)) => Ok(Refreshed { expires_at: theirs, kept_newer: true }),
        Ok((Stored::KeptTheirs(None), _)) => Err(RefreshError {
            blocked_at: Some(spec.cache.as_path().into()),
            ..needs_login(
                Code::LoginCacheInvalid,
                format!(
                    "{} changed during the refresh and no longer holds a session; it was left as it is",
                    spec.cache.display()
                ),
            )
        }),
        Ok((Stored::Gone, _)) => Err(needs_login(
            Code::LoginTokenExpired,
            format!("the login session for {} left the cache during the refresh (signed out?)", spec.session),
        )),
        Err(e) => Err(file_failure(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(cache: std::path::PathBuf, region: Option<&str>) -> LoginSpec {
        LoginSpec {
            name: "login-session arn:aws:iam::1:user/a".into(),
            session: "arn:aws:iam::1:user/a".into(),
            region: region.map(str::to_string),
            cache,
            profiles: vec!["dev".into()],
        }
    }

    async fn failure(spec: &LoginSpec) -> RefreshError {
        match refresh(spec, Some("http://127.0.0.1:9".into()), Duration::from_secs(5)).await {
            Err(e) => e,
            Ok(other) => panic!("expected a failure, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn login_refresh_fails_locally_with_the_login_fix() {
        let dir = tempfile::tempdir().unwrap();
        let e = failure(&spec(dir.path().join("absent.json"), Some("us-east-1"))).await;
        assert_eq!((e.is_fatal(), e.finding), (true, Some(Code::LoginTokenExpired)), "{e:?}");
        assert_eq!(e.fix.as_deref(), Some("run `aws login --profile dev`"));

        let broken = dir.path().join("broken.json");
        std::fs::write(&broken, "{\"accessToken\": {}}").unwrap();
        let e = failure(&spec(broken.clone(), Some("us-east-1"))).await;
        assert_eq!((e.is_fatal(), e.finding), (true, Some(Code::LoginCacheInvalid)), "{e:?}");
        assert_eq!(e.blocked_at.as_deref(), Some(broken.as_path()));

        // A cache whose key is not a key, and one with no region anywhere.
        let file = dir.path().join("c.json");
        std::fs::write(&file, cache::tests::FILE).unwrap();
        let e = failure(&spec(file.clone(), None)).await;
        assert_eq!(e.finding, Some(Code::LoginCacheInvalid), "{e:?}");
        let mut no_region: serde_json::Value = serde_json::from_str(cache::tests::FILE).unwrap();
        no_region["dpopKey"] = super::super::dpop::tests::sec1_pem().into();
        no_region.as_object_mut().unwrap().remove("signInRegion");
        std::fs::write(&file, no_region.to_string()).unwrap();
        let e = failure(&spec(file, None)).await;
        assert_eq!(e.finding, Some(Code::RegionMissing), "{e:?}");
        assert!(e.fix.as_deref().unwrap().contains("[profile dev]"), "{e:?}");
    }
}
