//! Doctor's IAM Identity Center checks, offline: is each SSO profile's configuration complete,
//! does its `sso_session` exist, is `sso_region` a region, and is its token in the cache, unexpired
//! or refreshable. Each is written as an error; `doctor::judge` makes those about profiles not in
//! use warnings. Whether IAM Identity Center would refresh a token only it can say: doctor never
//! tries (a refresh spends the refresh token), so it takes a running daemon's word for a refusal.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::cache::{Refresh, format_time};
use crate::finding::{Code, Finding, Severity, Source};
use crate::profile::parse::Section;
use crate::profile::{SectionId, Sections};
use crate::regions;

/// Checks every SSO profile (only `only`, when given) in the config file's `sections`; tokens
/// are read from `cache_dir`.
pub fn check(
    sections: &Sections,
    cache_dir: &Path,
    only: Option<&str>,
    refused: &BTreeMap<PathBuf, String>,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (id, p) in &sections.map {
        let SectionId::Profile(name) = id else { continue };
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let (session, legacy_url) = (p.get("sso_session"), p.get("sso_start_url"));
        if session.is_none() && legacy_url.is_none() && p.get("sso_account_id").is_none() {
            continue;
        }
        let finding = |(code, message, fix): Problem| {
            Finding::new(code, Severity::Error, Some(name), Source::ConfigFile, message, fix)
        };
        match signin(name, p, sections) {
            Err(problem) => out.push(finding(problem)),
            Ok(s) => {
                out.extend(settings(name, p, s.region.as_deref()).into_iter().map(finding));
                out.extend(token(name, &s, cache_dir, refused, now));
            }
        }
    }
    out
}

/// A finding's code, message and fix.
type Problem = (Code, String, String);

/// Where a profile signs in: its start URL and region, the token cache key and the login command.
struct Signin {
    url: String,
    region: Option<String>,
    key: String,
    login: String,
}

/// The profile's SSO session, from its `[sso-session]` or (legacy) its own keys; an error when
/// that section or the start URL is missing.
fn signin(name: &str, p: &Section, sections: &Sections) -> Result<Signin, Problem> {
    let session = p.get("sso_session");
    let (url, region, key, login) = match session {
        Some(s) => {
            let Some(sec) = sections.map.get(&SectionId::SsoSession(s.to_string())) else {
                return Err((
                    Code::SsoSessionMissing,
                    format!("sso_session = {s}, but the config file has no [sso-session {s}]"),
                    format!(
                        "add [sso-session {s}] with sso_start_url and sso_region (`aws configure sso-session`), or fix the name"
                    ),
                ));
            };
            (
                sec.get("sso_start_url"),
                sec.get("sso_region"),
                s.to_string(),
                format!("aws sso login --sso-session {s}"),
            )
        }
        None => {
            let url = p.get("sso_start_url");
            (
                url,
                p.get("sso_region"),
                url.unwrap_or_default().to_string(),
                format!("aws sso login --profile {name}"),
            )
        }
    };
    let Some(url) = url.filter(|u| !u.is_empty()) else {
        return Err((
            Code::SsoConfigIncomplete,
            format!(
                "no sso_start_url for {}",
                session.map(|s| format!("[sso-session {s}]")).unwrap_or_else(|| "this profile".into())
            ),
            "run `aws configure sso` to set the start URL of your IAM Identity Center".into(),
        ));
    };
    Ok(Signin { url: url.to_string(), region: region.map(str::to_string), key, login })
}

/// The region, and the account and role, as SDKs need them for credentials.
fn settings(name: &str, p: &Section, region: Option<&str>) -> Vec<Problem> {
    let mut out = Vec::new();
    match region {
        None => out.push((
            Code::SsoRegionInvalid,
            "sso_region is missing: SDKs cannot reach IAM Identity Center".into(),
            "set sso_region to the region of your IAM Identity Center (its start page says which)".into(),
        )),
        Some(r) if !regions::known(r) => out.push((
            Code::SsoRegionInvalid,
            format!("sso_region \"{r}\" is not an AWS region"),
            match regions::suggest(r) {
                Some(s) => format!("did you mean \"{s}\"? set sso_region = {s}"),
                None => "set sso_region to the region of your IAM Identity Center".into(),
            },
        )),
        Some(_) => {}
    }
    if p.get("sso_account_id").is_some() != p.get("sso_role_name").is_some() {
        out.push((
            Code::SsoConfigIncomplete,
            "the profile sets one of sso_account_id and sso_role_name without the other; SDKs need both for credentials".into(),
            format!("run `aws configure sso --profile {name}`"),
        ));
    }
    out
}

/// The cached token: there, unexpired, and refreshable (IAM Identity Center's refusal, as a
/// running daemon met it, outweighs the refresh fields).
fn token(
    name: &str,
    s: &Signin,
    cache_dir: &Path,
    refused: &BTreeMap<PathBuf, String>,
    now: DateTime<Utc>,
) -> Option<Finding> {
    let error = |code, message: String, fix: String| {
        Finding::new(code, Severity::Error, Some(name), Source::ConfigFile, message, fix)
    };
    let cache = super::cache_file(cache_dir, &s.key);
    let Some(token) = super::cache::read(&cache).ok().flatten() else {
        let message = format!("not signed in: no token for {} in the SSO cache", s.url);
        return Some(error(Code::SsoTokenExpired, message, s.login.clone()));
    };
    let expired = token.expires_at().is_none_or(|e| e <= now);
    let refresh = match (token.refresh(now), refused.get(&cache)) {
        (Refresh::Until(_), Some(why)) => Refresh::No(why.clone()),
        (r, _) => r,
    };
    let at = token.expires_at();
    match (refresh, expired) {
        (Refresh::No(why), true) => Some(error(
            Code::SsoTokenExpired,
            format!(
                "the SSO token expired{} and cannot be refreshed: {why}",
                at.map(|e| format!(" at {}", format_time(e))).unwrap_or_default()
            ),
            s.login.clone(),
        )),
        (Refresh::No(why), false) => Some(Finding::new(
            Code::SsoTokenUnrefreshable,
            Severity::Warn,
            Some(name),
            Source::ConfigFile,
            format!(
                "the SSO token cannot be refreshed ({why}); it expires at {}, and then needs a new sign-in",
                at.map(format_time).unwrap_or_default()
            ),
            format!("{} before then", s.login),
        )),
        (Refresh::Until(_), _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Document, FileKind};

    fn codes(config: &str, cache: &[(&str, &str)]) -> Vec<(Code, Severity, String)> {
        codes_refused(config, cache, &[])
    }

    fn codes_refused(
        config: &str,
        cache: &[(&str, &str)],
        refused: &[&str],
    ) -> Vec<(Code, Severity, String)> {
        let dir = tempfile::tempdir().unwrap();
        let refused: BTreeMap<PathBuf, String> = refused
            .iter()
            .map(|k| (crate::sso::cache_file(dir.path(), k), "InvalidGrantException".to_string()))
            .collect();
        for (key, json) in cache {
            std::fs::write(crate::sso::cache_file(dir.path(), key), json).unwrap();
        }
        let doc = Document::parse(config, FileKind::Config, Path::new("/c")).unwrap();
        let now = crate::sso::cache::parse_time("2026-11-23T12:00:00Z").unwrap();
        check(&doc.sections(), dir.path(), None, &refused, now)
            .into_iter()
            .map(|f| (f.code, f.severity, f.profile.unwrap_or_default()))
            .collect()
    }

    const SESSION: &str =
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n";

    #[test]
    fn each_misconfiguration_has_its_code() {
        let config = format!(
            "{SESSION}[profile a]\nsso_session = crop\n[profile b]\nsso_session = corp\nsso_account_id = 1\n\
             [profile c]\nsso_start_url = https://old.awsapps.com/start\nsso_region = eu-wset-1\nsso_account_id = 1\nsso_role_name = R\n[profile plain]\nregion = x\n"
        );
        let got = codes(&config, &[]);
        assert_eq!(
            got,
            [
                (Code::SsoSessionMissing, Severity::Error, "a".into()),
                (Code::SsoConfigIncomplete, Severity::Error, "b".into()),
                (Code::SsoTokenExpired, Severity::Error, "b".into()),
                (Code::SsoRegionInvalid, Severity::Error, "c".into()),
                (Code::SsoTokenExpired, Severity::Error, "c".into()),
            ]
        );
    }

    #[test]
    fn tokens_expired_unrefreshable_or_fine() {
        let config =
            format!("{SESSION}[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n");
        let expired = r#"{"accessToken": "a", "expiresAt": "2026-11-23T11:00:00Z"}"#;
        assert_eq!(
            codes(&config, &[("corp", expired)]),
            [(Code::SsoTokenExpired, Severity::Error, "dev".into())]
        );
        let valid = r#"{"accessToken": "a", "expiresAt": "2026-11-23T13:00:00Z"}"#;
        assert_eq!(
            codes(&config, &[("corp", valid)]),
            [(Code::SsoTokenUnrefreshable, Severity::Warn, "dev".into())]
        );
        let refreshable = r#"{"accessToken": "a", "expiresAt": "2026-11-23T11:00:00Z", "refreshToken": "r", "clientId": "c", "clientSecret": "s", "registrationExpiresAt": "2027-01-01T00:00:00Z"}"#;
        assert!(codes(&config, &[("corp", refreshable)]).is_empty());
    }

    #[test]
    fn issue25_a_token_identity_center_refused_is_expired_once_it_ends() {
        let config =
            format!("{SESSION}[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n");
        let fields = r#""refreshToken": "r", "clientId": "c", "clientSecret": "s", "registrationExpiresAt": "2027-01-01T00:00:00Z""#;
        let expired = format!(r#"{{"accessToken": "a", "expiresAt": "2026-11-23T11:00:00Z", {fields}}}"#);
        assert_eq!(
            codes_refused(&config, &[("corp", &expired)], &["corp"]),
            [(Code::SsoTokenExpired, Severity::Error, "dev".into())]
        );
        let valid = format!(r#"{{"accessToken": "a", "expiresAt": "2026-11-23T13:00:00Z", {fields}}}"#);
        assert_eq!(
            codes_refused(&config, &[("corp", &valid)], &["corp"]),
            [(Code::SsoTokenUnrefreshable, Severity::Warn, "dev".into())]
        );
    }
}
