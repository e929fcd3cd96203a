//! Doctor's `aws login` checks, offline: is each login profile's session in the cache and whole
//! (every field a refresh needs, a DPoP key that loads), can the sign-in service be found (a
//! region), and do static keys in the credentials file make the SDKs disagree about which
//! credentials the profile has. Each is written as an error or a warning; `doctor::judge` makes
//! those about profiles not in use warnings. It never refreshes: a refresh spends the refresh
//! token.
//!
//! What it cannot know offline, and so does not claim:
//! - When the refresh token ends. The cache records no expiry for it (no field in botocore's,
//!   aws-config's or the JS SDK's cache); only the sign-in service's `TOKEN_EXPIRED` says so,
//!   which a running daemon reports as `login-token-expired`.
//! - Whether the clock is skewed enough to break the DPoP proof's `iat`. Neither botocore nor
//!   aws-config corrects `iat` for skew, and the service's window is not documented; a refusal
//!   carries the server's `Date`, and [`clock_skew`] judges that against the same five minutes
//!   SigV4 allows (`classify::SKEW_FATAL`), the window the test fake enforces too.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::cache::{self, format_time};
use super::dpop::DpopKey;
use crate::finding::{Code, Finding, Severity, Source};
use crate::paths::Env;
use crate::profile::{SectionId, Sections, WriteError};

/// Checks every login profile (only `only`, when given) of the config file's `config`; the
/// credentials file's `credentials` for keys that shadow it; tokens from `cache_dir`; `env` for
/// a region.
pub fn check(
    config: &Sections,
    credentials: &Sections,
    cache_dir: &Path,
    env: &dyn Env,
    only: Option<&str>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (id, p) in &config.map {
        let SectionId::Profile(name) = id else { continue };
        if only.is_some_and(|o| o != name) || !super::signs_in_with_login(p) {
            continue;
        }
        let session = p.get("login_session").unwrap_or_default();
        let login = format!("aws login --profile {name}");
        let error = |code, message: String, fix: String| {
            Finding::new(code, Severity::Error, Some(name), Source::ConfigFile, message, fix)
        };
        if shadowed(credentials, name) {
            // botocore's chain (ProfileProviderBuilder.providers): web identity, SSO, the
            // credentials file's keys, login, credential_process, the config file's keys.
            // aws-config's (profile/credentials/repr.rs, base_provider): web identity, SSO,
            // login, credential_process, then static keys from either file. So the AWS CLI and
            // boto3 use these keys, and Rust programs the login session.
            out.push(Finding::new(
                Code::LoginShadowedByKeys,
                Severity::Warn,
                Some(name),
                Source::CredentialsFile,
                format!(
                    "[{name}] in the credentials file has access keys: the AWS CLI and boto3 use those instead of its login_session, while the Rust SDK uses the login session"
                ),
                format!("remove aws_access_key_id and aws_secret_access_key from [{name}] in the credentials file, or login_session from [profile {name}]"),
            ));
        }
        let path = super::cache_file(cache_dir, session);
        let token = match cache::read(&path) {
            Ok(Some(t)) => t,
            Ok(None) => {
                out.push(error(
                    Code::LoginTokenExpired,
                    format!("not signed in: no session for {session} in {}", path.display()),
                    login,
                ));
                continue;
            }
            Err(WriteError::Unparseable(e)) => {
                out.push(error(Code::LoginCacheInvalid, e.to_string(), login));
                continue;
            }
            Err(e) => {
                let fix = e.fix().unwrap_or_else(|| format!("make {} readable", path.display()));
                out.push(error(Code::FileUnreadable, e.to_string(), fix));
                continue;
            }
        };
        if let Err(e) = DpopKey::from_pem(token.grant().dpop_key.expose()) {
            out.push(error(Code::LoginCacheInvalid, format!("{}: {e}", path.display()), login.clone()));
        }
        let region = token
            .sign_in_region()
            .or_else(|| p.get("region").filter(|r| !r.is_empty()))
            .map(str::to_string)
            .or_else(|| {
                env.var("AWS_REGION").or_else(|| env.var("AWS_DEFAULT_REGION")).filter(|r| !r.is_empty())
            });
        if region.is_none() {
            out.push(error(
                Code::RegionMissing,
                format!(
                    "the login session (expiring {}) has no signInRegion and the profile no region: SDKs cannot find the sign-in service to refresh it",
                    format_time(token.expires_at())
                ),
                format!("set `region` in [profile {name}], or run `{login}` again"),
            ));
        }
    }
    out
}

/// Whether the credentials file's section for `profile` holds an access key.
fn shadowed(credentials: &Sections, profile: &str) -> bool {
    credentials
        .map
        .get(&SectionId::Profile(profile.to_string()))
        .is_some_and(|s| s.get("aws_access_key_id").is_some_and(|k| !k.is_empty()))
}

/// A refusal's server `Date` against this machine's clock: a DPoP proof's `iat` further off
/// than [`crate::classify::SKEW_FATAL`] is refused however often it is tried.
pub fn clock_skew(profile: &str, server_date: DateTime<Utc>, now: DateTime<Utc>) -> Option<Finding> {
    let skew = now - server_date;
    (skew.abs() > crate::classify::SKEW_FATAL).then(|| {
        Finding::new(
            Code::ClockSkew,
            Severity::Error,
            Some(profile),
            Source::ConfigFile,
            format!(
                "this machine's clock is {}s {} the sign-in service's: its DPoP proofs carry that time, and are refused",
                skew.num_seconds().abs(),
                if skew > chrono::Duration::zero() { "ahead of" } else { "behind" }
            ),
            "turn on time sync (`timedatectl set-ntp true`, chrony or NTP)".into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::profile::{Document, FileKind};

    const ARN: &str = "arn:aws:iam::0123456789012:user/Admin";

    fn codes(
        config: &str,
        creds: &str,
        cache: Option<String>,
        env: &[(&str, &str)],
    ) -> Vec<(Code, Severity)> {
        let dir = tempfile::tempdir().unwrap();
        if let Some(json) = cache {
            std::fs::write(crate::login::cache_file(dir.path(), ARN), json).unwrap();
        }
        let config = Document::parse(config, FileKind::Config, Path::new("/c")).unwrap();
        let creds = Document::parse(creds, FileKind::Credentials, Path::new("/k")).unwrap();
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        check(&config.sections(), &creds.sections(), dir.path(), &env, None)
            .into_iter()
            .inspect(|f| assert!(!f.fix.is_empty() && f.profile.as_deref() == Some("dev"), "{f:?}"))
            .map(|f| (f.code, f.severity))
            .collect()
    }

    fn good_cache() -> serde_json::Value {
        let mut v: serde_json::Value = serde_json::from_str(crate::login::cache::tests::FILE).unwrap();
        v["dpopKey"] = crate::login::dpop::tests::sec1_pem().into();
        v
    }

    #[test]
    fn login_doctor_finds_each_problem_once() {
        let config = format!("[profile dev]\nlogin_session = {ARN}\n[profile plain]\nregion = x\n");
        assert_eq!(codes(&config, "", None, &[]), [(Code::LoginTokenExpired, Severity::Error)]);
        assert_eq!(codes(&config, "", Some("{}".into()), &[]), [(Code::LoginCacheInvalid, Severity::Error)]);
        assert!(codes(&config, "", Some(good_cache().to_string()), &[]).is_empty());
        let bad_key = cache::tests::FILE.to_string();
        assert_eq!(codes(&config, "", Some(bad_key), &[]), [(Code::LoginCacheInvalid, Severity::Error)]);

        let mut no_region = good_cache();
        no_region.as_object_mut().unwrap().remove("signInRegion");
        let no_region = no_region.to_string();
        assert_eq!(
            codes(&config, "", Some(no_region.clone()), &[]),
            [(Code::RegionMissing, Severity::Error)]
        );
        assert!(codes(&config, "", Some(no_region.clone()), &[("AWS_REGION", "eu-west-1")]).is_empty());
        let with_region = config.replace("[profile plain]", "region = eu-west-1\n[profile plain]");
        assert!(codes(&with_region, "", Some(no_region), &[]).is_empty());

        let keys = "[dev]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s\n";
        assert_eq!(
            codes(&config, keys, Some(good_cache().to_string()), &[]),
            [(Code::LoginShadowedByKeys, Severity::Warn)]
        );
    }

    #[test]
    fn login_clock_skew_beyond_five_minutes_is_a_finding() {
        let now = cache::parse_time("2026-12-07T12:00:00Z").unwrap();
        assert!(clock_skew("dev", now - chrono::Duration::seconds(200), now).is_none());
        let f = clock_skew("dev", now + chrono::Duration::seconds(400), now).unwrap();
        assert_eq!(f.code, Code::ClockSkew);
        assert!(f.message.contains("400s behind"), "{}", f.message);
    }
}
