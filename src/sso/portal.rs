//! An SSO profile's role credentials: which SSO session and token a profile signs in with
//! (`sso_session` or its own `sso_start_url`, `sso_account_id`, `sso_role_name`), and the sso
//! portal's `GetRoleCredentials`, authorised by the cached access token.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_sso::config::http::HttpResponse;
use aws_sdk_sso::config::retry::RetryConfig;
use aws_sdk_sso::config::timeout::TimeoutConfig;
use aws_sdk_sso::config::{BehaviorVersion, Region};
use aws_sdk_sso::error::{ProvideErrorMetadata, SdkError};
use chrono::{DateTime, TimeZone, Utc};

use crate::classify::RefreshError;
use crate::finding::Code;
use crate::profile::SessionCredentials;
use crate::profile::{SectionId, Sections};
use crate::secret::Secret;

/// A profile that gets its credentials from IAM Identity Center.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoProfile {
    pub profile: String,
    pub account_id: String,
    pub role_name: String,
    pub region: String,
    /// Its SSO session's token cache file.
    pub cache: PathBuf,
    /// The command that signs in again.
    pub login: String,
}

/// Which sections [`sso_profile`] reads for `profile`: the profile and every `[sso-session]`.
/// Merging only these spares resolving the rest of a large file.
pub fn sections_of(profile: &str) -> impl Fn(&SectionId) -> bool + '_ {
    move |id| match id {
        SectionId::Profile(n) => n == profile,
        SectionId::SsoSession(_) => true,
        _ => false,
    }
}

/// Whether `profile` signs in through IAM Identity Center (`None` when not), and if so its
/// settings, or what is missing from them. `merged` holds at least the profile and the
/// `[sso-session]` sections (see [`sections_of`]).
pub fn sso_profile(merged: &Sections, profile: &str, cache_dir: &Path) -> Option<Result<SsoProfile, String>> {
    let p = merged.profile(profile).filter(|p| super::signs_in_with_sso(p))?;
    let (session, legacy_url) = (p.get("sso_session"), p.get("sso_start_url"));
    Some((|| {
        let (key, region, login) = match session {
            Some(s) => {
                let sec = merged.map.get(&SectionId::SsoSession(s.to_string())).ok_or_else(|| {
                    format!("profile \"{profile}\" names sso_session {s}, and there is no [sso-session {s}]")
                })?;
                (s.to_string(), sec.get("sso_region"), format!("aws sso login --sso-session {s}"))
            }
            None => (
                legacy_url.unwrap_or_default().to_string(),
                p.get("sso_region"),
                format!("aws sso login --profile {profile}"),
            ),
        };
        let missing = |k: &str| {
            format!("profile \"{profile}\" has no {k}; run `aws configure sso --profile {profile}`")
        };
        Ok(SsoProfile {
            profile: profile.to_string(),
            account_id: p.get("sso_account_id").ok_or_else(|| missing("sso_account_id"))?.to_string(),
            role_name: p.get("sso_role_name").ok_or_else(|| missing("sso_role_name"))?.to_string(),
            region: region.ok_or_else(|| missing("sso_region"))?.to_string(),
            cache: super::cache_file(cache_dir, &key),
            login,
        })
    })())
}

/// The role credentials of `p`, with the token in its cache file.
/// The role credentials of `p`, with the token in its cache file; `url` overrides the portal's
/// endpoint (see `refresh::endpoint::service_url`).
pub async fn role_credentials(
    p: &SsoProfile,
    url: Option<String>,
    timeout: Duration,
) -> Result<SessionCredentials, RefreshError> {
    let cache = p.cache.clone();
    let read = tokio::task::spawn_blocking(move || super::cache::read(&cache).ok().flatten());
    let token = read.await.ok().flatten().ok_or_else(|| {
        signed_out(p, format!("profile \"{}\" is not signed in to IAM Identity Center", p.profile))
    })?;
    let access = match (token.access_token(), token.expires_at()) {
        (Some(t), Some(e)) if e > Utc::now() => t,
        _ => return Err(signed_out(p, format!("the SSO token of profile \"{}\" has expired", p.profile))),
    };
    let mut b = aws_sdk_sso::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(p.region.clone()))
        .retry_config(RetryConfig::disabled())
        .timeout_config(TimeoutConfig::builder().operation_timeout(timeout).connect_timeout(timeout).build());
    if let Some(url) = url {
        b = b.endpoint_url(url);
    }
    let out = aws_sdk_sso::Client::from_conf(b.build())
        .get_role_credentials()
        .role_name(&p.role_name)
        .account_id(&p.account_id)
        .access_token(access.expose())
        .send()
        .await
        .map_err(|e| classify(&e, p))?;
    let c = out
        .role_credentials()
        .ok_or_else(|| RefreshError::transient("IAM Identity Center answered without credentials"))?;
    let (Some(id), Some(secret), Some(session)) =
        (c.access_key_id(), c.secret_access_key(), c.session_token())
    else {
        return Err(RefreshError::transient("IAM Identity Center answered with incomplete credentials"));
    };
    let expiration: DateTime<Utc> =
        Utc.timestamp_millis_opt(c.expiration()).single().unwrap_or_else(Utc::now);
    Ok(SessionCredentials {
        access_key_id: id.to_string(),
        secret_access_key: Secret::new(secret),
        session_token: Secret::new(session),
        expiration,
    })
}

/// The SSO profile's settings are incomplete (`why` names what is missing): `aws configure sso`
/// completes them.
pub fn incomplete(profile: &str, why: String) -> RefreshError {
    RefreshError {
        fix: Some(format!("run `aws configure sso --profile {profile}`").into()),
        ..RefreshError::local(Code::SsoConfigIncomplete, why)
    }
}

/// The profile needs a new sign-in: `what` is why, and the fix is its own login command.
fn signed_out(p: &SsoProfile, what: String) -> RefreshError {
    RefreshError {
        fix: Some(p.login.as_str().into()),
        ..RefreshError::local(Code::SsoTokenExpired, format!("{what}; run `{}`", p.login))
    }
}

fn classify<E>(err: &SdkError<E, HttpResponse>, p: &SsoProfile) -> RefreshError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = err.as_service_error().and_then(|e| e.code()).map(str::to_string);
    let mut e = match code.as_deref() {
        Some("UnauthorizedException") => signed_out(
            p,
            format!("IAM Identity Center no longer accepts the SSO token of profile \"{}\"", p.profile),
        ),
        Some("ResourceNotFoundException") | Some("InvalidRequestException") => RefreshError::local(
            Code::SsoConfigIncomplete,
            format!(
                "IAM Identity Center has no role {} in account {} for this sign-in; check sso_account_id and sso_role_name of profile \"{}\"",
                p.role_name, p.account_id, p.profile
            ),
        ),
        _ => RefreshError::transient(&crate::classify::no_error_code("IAM Identity Center (portal)", err)),
    };
    e.code = code;
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sso_profiles_with_sessions_or_legacy_settings() {
        let config = "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\
                      [profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Dev\n\
                      [profile old]\nsso_start_url = https://old.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = R\n\
                      [profile half]\nsso_session = corp\nsso_account_id = 1\n[profile lost]\nsso_session = gone\n[profile plain]\nregion = x\n";
        let doc = crate::profile::Document::parse(config, crate::profile::FileKind::Config, Path::new("/k"))
            .unwrap();
        let merged = doc.sections();
        let dir = Path::new("/c");
        let dev = sso_profile(&merged, "dev", dir).unwrap().unwrap();
        assert_eq!(
            (dev.account_id.as_str(), dev.role_name.as_str(), dev.region.as_str(), dev.login.as_str()),
            ("111122223333", "Dev", "eu-west-1", "aws sso login --sso-session corp")
        );
        assert_eq!(dev.cache, super::super::cache_file(dir, "corp"));
        let old = sso_profile(&merged, "old", dir).unwrap().unwrap();
        assert_eq!(old.cache, super::super::cache_file(dir, "https://old.awsapps.com/start"));
        assert!(sso_profile(&merged, "half", dir).unwrap().unwrap_err().contains("sso_role_name"));
        assert!(sso_profile(&merged, "lost", dir).unwrap().unwrap_err().contains("no [sso-session gone]"));
        assert!(sso_profile(&merged, "plain", dir).is_none());
    }
}
