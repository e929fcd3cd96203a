//! One SSO token refresh, end to end: read the cache file, check that it can be refreshed, call
//! sso-oidc, and write the new token back, never over a token someone signed in with meanwhile.

use chrono::Utc;

use super::SsoSpec;
use super::cache::{self, CachedToken, Refresh};
use super::oidc::{self, Call};
use crate::config::Config;
use crate::files::AwsFiles;
use crate::finding::Code;
use crate::paths::Env;
use crate::profile::EditError;
use crate::profile::write::{Format, update_with};
use crate::refresh::RefreshError;
use crate::refresh::run::Outcome;

pub async fn refresh(spec: &SsoSpec, files: &AwsFiles, config: &Config, env: &(dyn Env + Sync)) -> Outcome {
    match run(spec, files, config, env).await {
        Ok(outcome) => outcome,
        Err(e) => Outcome::Failed(e),
    }
}

async fn run(
    spec: &SsoSpec,
    files: &AwsFiles,
    config: &Config,
    env: &(dyn Env + Sync),
) -> Result<Outcome, RefreshError> {
    let internal =
        |e: tokio::task::JoinError| RefreshError::local(Code::Internal, format!("task failed: {e}"));
    let (path, aws) = (spec.cache.clone(), files.clone());
    let (token, loaded) =
        tokio::task::spawn_blocking(move || (cache::read(&path), aws.read())).await.map_err(internal)?;
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
        Err(e) => return Err(crate::refresh::run::file_failure(e)),
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
    // The endpoint overrides apply as for the profiles that use the session.
    let url = match &loaded {
        Ok(l) => {
            spec.profiles.first().and_then(|p| crate::refresh::endpoint::service_url("sso_oidc", p, l, env))
        }
        Err(_) => env.var("AWS_ENDPOINT_URL_SSO_OIDC").or_else(|| env.var("AWS_ENDPOINT_URL")),
    };
    drop(loaded);
    let call = Call { region, url, timeout: config.sts_timeout };
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
        Ok(None) => Ok(Outcome::TokenRefreshed { expires_at, kept_newer: false }),
        Ok(Some(Some(theirs))) => Ok(Outcome::TokenRefreshed { expires_at: theirs, kept_newer: true }),
        Ok(Some(None)) => Err(RefreshError::local(
            Code::SsoTokenExpired,
            format!("the token for {} left the SSO cache during the refresh (signed out?)", spec.name),
        )),
        Err(e) => Err(crate::refresh::run::file_failure(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

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

    async fn failure(cache: std::path::PathBuf, dir: &std::path::Path) -> RefreshError {
        let files = AwsFiles { config: dir.join("config"), credentials: dir.join("credentials") };
        let env: HashMap<String, String> = HashMap::new();
        match refresh(&spec(cache), &files, &Config::default(), &env).await {
            Outcome::Failed(e) => e,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn an_unreadable_cache_is_retried_and_an_unparseable_one_waits_for_a_sign_in() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: reading it fails, as a permission flicker would.
        let unreadable = dir.path().join("unreadable.json");
        std::fs::create_dir(&unreadable).unwrap();
        let e = failure(unreadable, dir.path()).await;
        assert!(!e.is_fatal(), "{e:?}");
        let broken = dir.path().join("broken.json");
        std::fs::write(&broken, "[not an object]").unwrap();
        let e = failure(broken, dir.path()).await;
        assert_eq!((e.is_fatal(), e.finding), (true, Some(Code::FileUnparseable)), "{e:?}");
        let e = failure(dir.path().join("absent.json"), dir.path()).await;
        assert_eq!((e.is_fatal(), e.finding), (true, Some(Code::SsoTokenExpired)), "{e:?}");
    }
}
