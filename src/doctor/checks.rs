//! Everything doctor can find without the network: the environment, the two files (unreadable,
//! unparseable, too open), the key material, the expiry keys, regions, role profiles, and the
//! sessions credd keeps that have not been issued yet. Pure over its [`Inputs`], so each rule is
//! tested with a map for an environment and strings for files.
//!
//! Each finding is written as it would be for the profile in use; whether it decides the verdict
//! is `doctor::judge`'s call, made once for every check.

use std::collections::HashSet;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::regions;
use super::{Finding, Severity, Source};
use crate::finding::Code;
use crate::paths::Env;
use crate::profile::meta::{self, ExpiryRead};
use crate::profile::parse::{Ignored, Section};
use crate::profile::{Document, ParseError, ReadFailure, Sections};
use crate::secret::short_key_id;

pub struct Inputs<'a> {
    pub env: &'a dyn Env,
    pub config: Option<&'a Document>,
    pub credentials: Option<&'a Document>,
    pub config_path: PathBuf,
    pub credentials_path: PathBuf,
    /// Files that could not be parsed (and so are missing above).
    pub parse_errors: Vec<(Source, ParseError)>,
    /// Files that are there but could not be read (and so are missing above).
    pub unreadable: Vec<(Source, ReadFailure)>,
    /// The profiles credd keeps a session in (`sessions::plan`): before the first one is issued,
    /// such a profile does not exist yet, and that is not "not found".
    pub kept: Vec<Kept>,
    /// The credentials file's permission bits, if it exists.
    pub credentials_mode: Option<u32>,
    /// `--profile`.
    pub profile_flag: Option<String>,
    pub now: DateTime<Utc>,
}

/// A profile credd writes sessions into, and where it gets them from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub name: String,
    /// The profile holding the long-term keys (or the session) it is made from.
    pub source: String,
    /// Each refresh needs a code from an MFA device.
    pub mfa: bool,
    /// Found without config in this tool's layout (`"aws-mfa"`), or `None` for a `[[session]]`.
    pub layout: Option<&'static str>,
}

/// The profile SDKs will use, and what selected it.
pub fn selected_profile(env: &dyn Env, flag: Option<&str>) -> (String, &'static str) {
    if let Some(p) = flag {
        return (p.to_string(), "--profile");
    }
    for var in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"] {
        if let Some(p) = env.var(var).filter(|p| !p.is_empty()) {
            return (p, var);
        }
    }
    ("default".to_string(), "the default")
}

/// What is wrong with a key, secret or token's characters, if anything. Never echoes the value.
pub fn material_problem(v: &str) -> Option<String> {
    if v != v.trim() {
        return Some("has leading or trailing whitespace".into());
    }
    if v.starts_with(['"', '\'']) || v.ends_with(['"', '\'']) {
        return Some("is wrapped in quotes".into());
    }
    if let Some(pos) = v.chars().position(char::is_whitespace) {
        return Some(format!("has whitespace inside it (character {})", pos + 1));
    }
    if let Some((pos, c)) = v.chars().enumerate().find(|(_, c)| !c.is_ascii() || c.is_ascii_control()) {
        return Some(format!(
            "has an invisible or non-ASCII character U+{:04X} at character {}",
            c as u32,
            pos + 1
        ));
    }
    None
}

fn key_id_ok(k: &str) -> bool {
    k.len() == 20
        && (k.starts_with("AKIA") || k.starts_with("ASIA"))
        && k[4..].bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// The key material of one credential set, wherever it came from.
struct Material<'a> {
    key_id: Option<&'a str>,
    secret: Option<&'a str>,
    token: Option<&'a str>,
    legacy_token: Option<&'a str>,
}

fn check_material(
    m: &Material,
    profile: Option<&str>,
    source: Source,
    how_to_set: &str,
    out: &mut Vec<Finding>,
) {
    let mut bad = HashSet::new();
    for (what, v) in
        [("access key ID", m.key_id), ("secret access key", m.secret), ("session token", m.token)]
    {
        let Some(v) = v else { continue };
        if let Some(problem) = material_problem(v) {
            bad.insert(what);
            out.push(Finding::new(
                Code::KeyWhitespace,
                Severity::Error,
                profile,
                source,
                format!("the {what} {problem}; STS sees those characters as part of the key"),
                format!("re-enter it exactly as issued: {how_to_set}"),
            ));
        }
    }
    if let Some(k) = m.key_id
        && !bad.contains("access key ID")
        && !key_id_ok(k)
    {
        out.push(Finding::new(
            Code::KeyFormat,
            Severity::Error,
            profile,
            source,
            format!(
                "the access key ID {} is not AKIA or ASIA followed by 16 capitals and digits",
                short_key_id(k)
            ),
            format!("copy the key ID again from the IAM console: {how_to_set}"),
        ));
    }
    if let Some(s) = m.secret
        && !bad.contains("secret access key")
        && s.len() != 40
    {
        out.push(Finding::new(
            Code::KeyFormat,
            Severity::Error,
            profile,
            source,
            format!("the secret access key is {} characters long; AWS secrets have 40", s.len()),
            format!(
                "copy the secret again (it is shown only once; create a new key if you lost it): {how_to_set}"
            ),
        ));
    }
    let key = m.key_id.unwrap_or_default();
    let any_token = m.token.or(m.legacy_token);
    if key.starts_with("ASIA") && any_token.is_none() {
        out.push(Finding::new(
            Code::SessionTokenMissing,
            Severity::Error,
            profile,
            source,
            format!(
                "{} is a temporary key (ASIA…) but there is no session token beside it",
                short_key_id(key)
            ),
            "set the session token that was issued with the key, or get a new session".into(),
        ));
    }
    if key.starts_with("AKIA") && any_token.is_some() {
        out.push(Finding::new(
            Code::SessionTokenUnexpected,
            Severity::Error,
            profile,
            source,
            format!(
                "{} is a long-term key (AKIA…) but a session token is set too; STS rejects the pair",
                short_key_id(key)
            ),
            "remove the leftover session token".into(),
        ));
    }
    if let (Some(t), Some(l)) = (m.token, m.legacy_token)
        && t != l
    {
        out.push(Finding::new(
            Code::LegacyTokenConflict,
            Severity::Error,
            profile,
            source,
            "the legacy security token differs from the session token, and botocore (the aws CLI, boto3) sends the legacy one".into(),
            match source {
                Source::Env => "unset AWS_SECURITY_TOKEN, or set it to AWS_SESSION_TOKEN's value".into(),
                _ => "remove aws_security_token from the profile, or make it equal aws_session_token".into(),
            },
        ));
    }
    if let (Some(_), None) | (None, Some(_)) = (m.key_id, m.secret) {
        let (have, missing) =
            if m.key_id.is_some() { ("access key ID", "secret") } else { ("secret", "access key ID") };
        let code = if source == Source::Env { Code::EnvPartial } else { Code::KeyIncomplete };
        out.push(Finding::new(
            code,
            Severity::Error,
            profile,
            source,
            format!("an {have} is set without its {missing}"),
            format!("set both, or neither: {how_to_set}"),
        ));
    }
}

/// The profile an ignored section header was meant for: `[profile work]` → `work`, `[work]` →
/// `work`. `None` for other kinds of sections.
fn meant_profile(header: &str) -> Option<&str> {
    let inner = header.trim().strip_prefix('[')?.split(']').next()?.trim();
    match inner.split_once(char::is_whitespace) {
        Some(("profile", name)) => Some(name.trim()),
        Some(_) => None,
        None => Some(inner),
    }
}

fn check_expiry(
    at: DateTime<Utc>,
    origin: &str,
    profile: Option<&str>,
    source: Source,
    now: DateTime<Utc>,
    out: &mut Vec<Finding>,
) {
    if at <= now {
        out.push(Finding::new(
            Code::SessionExpired,
            Severity::Error,
            profile,
            source,
            format!(
                "the session expired at {} ({origin})",
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            "get a new session (or let credd keep it fresh: add a [[session]] for it)".into(),
        ));
    } else if at - now < chrono::Duration::minutes(15) {
        out.push(Finding::new(
            Code::SessionExpiring,
            Severity::Warn,
            profile,
            source,
            format!("the session expires in {} min ({origin})", (at - now).num_minutes()),
            "refresh it soon; credd can do it ahead of time".into(),
        ));
    }
}

fn check_region(
    region: &str,
    profile: Option<&str>,
    source: Source,
    what: &str,
    out: &mut Vec<Finding>,
) -> bool {
    if regions::known(region) {
        return true;
    }
    let fix = match regions::suggest(region) {
        Some(r) => format!("did you mean \"{r}\"? set {what} = {r}"),
        None => format!("set {what} to a region such as us-east-1"),
    };
    out.push(Finding::new(
        Code::RegionInvalid,
        Severity::Error,
        profile,
        source,
        format!("\"{region}\" is not an AWS region"),
        fix,
    ));
    false
}

pub fn run(i: &Inputs) -> Vec<Finding> {
    let mut out = Vec::new();
    let env = i.env;
    let (selected, selected_by) = selected_profile(env, i.profile_flag.as_deref());

    // A file that cannot be read is not an empty one: every SDK fails on it (botocore raises, the
    // Rust and Go SDKs give up on the profile), so it is an error, whichever profile is in use.
    for (source, e) in &i.unreadable {
        out.push(Finding::new(Code::FileUnreadable, Severity::Error, None, *source, e.message(), e.fix()));
    }
    for (source, e) in &i.parse_errors {
        out.push(Finding::new(
            Code::FileUnparseable,
            Severity::Error,
            None,
            *source,
            format!("{}:{}: {}; every SDK fails on this file", e.path.display(), e.line, e.message),
            e.fix.clone(),
        ));
    }
    if let Some(mode) = i.credentials_mode
        && mode & 0o077 != 0
    {
        out.push(Finding::new(
            Code::FilePermissions,
            Severity::Warn,
            None,
            Source::CredentialsFile,
            format!("{} is readable by others (mode {:o})", i.credentials_path.display(), mode & 0o777),
            format!("chmod 600 {}", i.credentials_path.display()),
        ));
    }
    for (doc, source) in [(i.credentials, Source::CredentialsFile), (i.config, Source::ConfigFile)] {
        let Some(doc) = doc else { continue };
        for (line, why) in doc.ignored_sections() {
            let header = doc.text(&doc.lines()[line - 1]).trim().to_string();
            let code = match why {
                Ignored::BareNamesOnly(_) => Code::ProfilePrefixInCredentials,
                Ignored::NeedsPrefix(_) => Code::MissingProfilePrefixInConfig,
                _ => Code::SectionIgnored,
            };
            let path = if source == Source::CredentialsFile { &i.credentials_path } else { &i.config_path };
            // When the section was meant for the profile in use, it is why that profile has no
            // credentials (or region): every SDK will fail, so it is an error. Elsewhere, a warning.
            let for_selected = meant_profile(&header).is_some_and(|m| m == selected);
            out.push(Finding::new(
                code,
                if for_selected { Severity::Error } else { Severity::Warn },
                for_selected.then_some(selected.as_str()),
                source,
                format!("{}:{line}: {header} is ignored by every SDK", path.display()),
                why.to_string(),
            ));
        }
    }

    // The environment's credentials, which beat every profile.
    let var = |k: &str| env.var(k).filter(|v| !v.is_empty());
    let env_key = var("AWS_ACCESS_KEY_ID");
    let env_secret = var("AWS_SECRET_ACCESS_KEY");
    let env_token = var("AWS_SESSION_TOKEN");
    let env_legacy = var("AWS_SECURITY_TOKEN");
    if env_key.is_some() || env_secret.is_some() {
        let m = Material {
            key_id: env_key.as_deref(),
            secret: env_secret.as_deref(),
            token: env_token.as_deref(),
            legacy_token: env_legacy.as_deref(),
        };
        check_material(
            &m,
            None,
            Source::Env,
            "export AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… again",
            &mut out,
        );
        if selected_by != "the default" {
            out.push(Finding::new(
                Code::EnvShadowsProfile,
                Severity::Error,
                Some(&selected),
                Source::Env,
                format!(
                    "AWS_ACCESS_KEY_ID{} in the environment overrides profile \"{selected}\" selected with {selected_by}: SDKs use the environment's keys first",
                    env_key.as_deref().map(|k| format!(" ({})", short_key_id(k))).unwrap_or_default()
                ),
                "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN".into(),
            ));
        }
        for key in ["AWS_CREDENTIAL_EXPIRATION", "AWS_SESSION_EXPIRATION", "AWSUME_EXPIRATION"] {
            if let Some(raw) = var(key) {
                match meta::parse_timestamp(&raw, false) {
                    Some(at) => check_expiry(at, key, None, Source::Env, i.now, &mut out),
                    None => out.push(Finding::new(
                        Code::ExpiryUnreadable,
                        Severity::Warn,
                        None,
                        Source::Env,
                        format!("{key} is not a timestamp"),
                        format!("set {key} in RFC3339, e.g. 2026-01-01T12:00:00Z"),
                    )),
                }
                break;
            }
        }
    }
    for key in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Some(r) = var(key) {
            check_region(&r, None, Source::Env, key, &mut out);
        }
    }

    let config_sections = i.config.map(Document::sections).unwrap_or_default();
    let cred_sections = i.credentials.map(Document::sections).unwrap_or_default();
    let merged = config_sections.clone().merged_with(&cred_sections);
    let names: Vec<&str> = merged.profile_names().collect();
    // What credd will write is not missing, only not issued yet. Nor is anything "not found"
    // while a file it may be in cannot be read: that file's finding says why.
    let not_issued: Vec<&Kept> = i
        .kept
        .iter()
        .filter(|k| merged.profile(&k.name).is_none())
        .filter(|k| i.profile_flag.as_ref().is_none_or(|p| *p == k.name))
        .collect();
    for k in &not_issued {
        check_not_issued(k, &mut out);
    }
    if merged.profile(&selected).is_none()
        && (selected_by != "the default" || env_key.is_none())
        && i.unreadable.is_empty()
        && !not_issued.iter().any(|k| k.name == selected)
    {
        let fix = match crate::config::did_you_mean(&selected, names.iter().copied()) {
            Some(m) => format!("did you mean \"{m}\"?"),
            None if names.is_empty() => "create it with `aws configure`".into(),
            None => format!("profiles that exist: {}", names.join(", ")),
        };
        out.push(Finding::new(
            Code::ProfileNotFound,
            Severity::Error,
            Some(&selected),
            Source::ConfigFile,
            format!(
                "profile \"{selected}\" (selected by {selected_by}) is in neither {} nor {}",
                i.credentials_path.display(),
                i.config_path.display()
            ),
            fix,
        ));
    }

    let examine: Vec<&str> = match &i.profile_flag {
        Some(p) => names.iter().copied().filter(|n| n == p).collect(),
        None => names.clone(),
    };
    for name in examine {
        let p = merged.profile(name).expect("listed");
        let important = name == selected;
        let in_creds = cred_sections.profile(name).is_some_and(|s| s.get("aws_access_key_id").is_some());
        let source = if in_creds { Source::CredentialsFile } else { Source::ConfigFile };
        let m = Material {
            key_id: p.get("aws_access_key_id"),
            secret: p.get("aws_secret_access_key"),
            token: p.get("aws_session_token"),
            legacy_token: p.get("aws_security_token"),
        };
        let how = format!("aws configure --profile {name}");
        check_material(&m, Some(name), source, &how, &mut out);
        match meta::expiry(p) {
            ExpiryRead::Found(e) => check_expiry(
                e.at,
                &format!("{} on line {}", e.key, e.line),
                Some(name),
                source,
                i.now,
                &mut out,
            ),
            ExpiryRead::Invalid { key, line } => out.push(Finding::new(
                Code::ExpiryUnreadable,
                Severity::Warn,
                Some(name),
                source,
                format!("line {line}: `{key}` is not a timestamp any tool writes"),
                "fix or remove the line; credd writes x_security_token_expires in RFC3339".into(),
            )),
            ExpiryRead::None => {}
        }
        check_role(name, p, &merged, &mut out);
        check_profile_region(name, p, important, env, &mut out);
    }
    out
}

/// A session credd keeps in profile `k.name` that has not been issued yet: what it is, and the
/// command that issues the first one.
fn check_not_issued(k: &Kept, out: &mut Vec<Finding>) {
    let (name, source) = (k.name.as_str(), k.source.as_str());
    let what = match k.layout {
        Some("aws-mfa") => format!(
            "[{name}] is aws-mfa's short-term profile: credd keeps a session there made from [{source}] (its aws_mfa_device), and none has been issued yet"
        ),
        Some(layout) => format!(
            "[{name}] holds a session credd keeps ({layout} layout, from [{source}]), and none has been issued yet"
        ),
        None => {
            format!("[{name}] is a [[session]] credd keeps (from [{source}]), and none has been issued yet")
        }
    };
    let (code, message, fix) = if k.mfa {
        (
            Code::MfaCodeNeeded,
            format!("{what}; the first one needs a code from the MFA device"),
            format!("credd mfa {name} CODE"),
        )
    } else {
        (
            Code::SessionNotIssued,
            what,
            format!("credd refresh {name} (a running daemon issues it on its own)"),
        )
    };
    out.push(Finding::new(code, Severity::Error, Some(name), Source::CredentialsFile, message, fix));
}

fn check_role(name: &str, p: &Section, merged: &Sections, out: &mut Vec<Finding>) {
    if p.get("role_arn").is_none() {
        return;
    }
    let Some(source) = p.get("source_profile") else { return };
    let mut chain = vec![name.to_string()];
    let mut cur = source.to_string();
    loop {
        if chain.contains(&cur) {
            chain.push(cur);
            out.push(Finding::new(
                Code::SourceProfileCycle,
                Severity::Error,
                Some(name),
                Source::ConfigFile,
                format!("source profiles loop: {}", chain.join(" → ")),
                "point one of them at a profile with keys".into(),
            ));
            return;
        }
        let Some(next) = merged.profile(&cur) else {
            let names: Vec<&str> = merged.profile_names().collect();
            let fix = crate::config::did_you_mean(&cur, names.iter().copied())
                .map(|m| format!("did you mean \"{m}\"?"))
                .unwrap_or_else(|| format!("create [{cur}] with `aws configure --profile {cur}`"));
            out.push(Finding::new(
                Code::SourceProfileMissing,
                Severity::Error,
                Some(name),
                Source::ConfigFile,
                format!("source_profile \"{cur}\" does not exist"),
                fix,
            ));
            return;
        };
        chain.push(cur.clone());
        match (next.get("role_arn"), next.get("source_profile")) {
            (Some(_), Some(s)) if s != cur => cur = s.to_string(),
            _ => break,
        }
    }
    // Chained: the source is itself a role, and STS caps chained sessions at one hour.
    let chained = chain.len() > 2;
    let asked: Option<u64> = p.get("duration_seconds").and_then(|d| d.parse().ok());
    if chained && asked.is_some_and(|d| d > 3600) {
        out.push(Finding::new(
            Code::RoleChainDuration,
            Severity::Error,
            Some(name),
            Source::ConfigFile,
            format!(
                "duration_seconds = {} on a chained role ({}); STS allows 3600 at most",
                asked.unwrap(),
                chain.join(" → ")
            ),
            "set duration_seconds = 3600 or less".into(),
        ));
    }
}

fn check_profile_region(name: &str, p: &Section, important: bool, env: &dyn Env, out: &mut Vec<Finding>) {
    let from_env = env.var("AWS_REGION").or_else(|| env.var("AWS_DEFAULT_REGION")).filter(|r| !r.is_empty());
    let own = p.get("region");
    if let Some(r) = own
        && !check_region(r, Some(name), Source::ConfigFile, "region", out)
    {
        return;
    }
    if !important {
        return;
    }
    let Some(region) = from_env.as_deref().or(own) else {
        // Only the profile in use gets here, and without a region its SDK calls fail.
        out.push(Finding::new(
            Code::RegionMissing,
            Severity::Error,
            Some(name),
            Source::ConfigFile,
            "no region is set for this profile or in the environment; many commands fail with \"You must specify a region\"".into(),
            format!("aws configure set region us-east-1 --profile {name}"),
        ));
        return;
    };
    let regional = env.var("AWS_STS_REGIONAL_ENDPOINTS").as_deref() == Some("regional")
        || p.get("sts_regional_endpoints") == Some("regional");
    if regions::opt_in(region) && !regional {
        out.push(Finding::new(
            Code::RegionOptIn,
            Severity::Warn,
            Some(name),
            Source::ConfigFile,
            format!("{region} is an opt-in region: session tokens from the global STS endpoint are invalid there unless the account issues v2 tokens"),
            format!("aws configure set sts_regional_endpoints regional --profile {name} (or make global-endpoint tokens valid in all regions under IAM → Account settings)"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::FileKind;
    use std::collections::HashMap;
    use std::path::Path;

    const KEY: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn codes(env: &[(&str, &str)], creds: &str, config: &str, flag: Option<&str>) -> Vec<Code> {
        codes_kept(env, creds, config, flag, vec![])
    }

    fn codes_kept(
        env: &[(&str, &str)],
        creds: &str,
        config: &str,
        flag: Option<&str>,
        kept: Vec<Kept>,
    ) -> Vec<Code> {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let c = Document::parse(creds, FileKind::Credentials, Path::new("credentials")).unwrap();
        let k = Document::parse(config, FileKind::Config, Path::new("config")).unwrap();
        let i = Inputs {
            env: &env,
            config: Some(&k),
            credentials: Some(&c),
            config_path: "config".into(),
            credentials_path: "credentials".into(),
            parse_errors: vec![],
            unreadable: vec![],
            kept,
            credentials_mode: Some(0o600),
            profile_flag: flag.map(str::to_string),
            now: Utc::now(),
        };
        let mut v: Vec<_> = run(&i).into_iter().map(|f| f.code).collect();
        v.sort();
        v
    }

    fn good() -> String {
        format!("[default]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n")
    }

    #[test]
    fn a_healthy_setup_has_no_findings() {
        assert!(
            codes(&[("AWS_REGION", "eu-west-1")], &good(), "[default]\nregion = eu-west-1\n", None)
                .is_empty()
        );
    }

    #[test]
    fn environment_rules() {
        let env = [
            ("AWS_PROFILE", "default"),
            ("AWS_ACCESS_KEY_ID", KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("AWS_REGION", "us-east-1"),
        ];
        assert_eq!(codes(&env, &good(), "", None), [Code::EnvShadowsProfile]);
        assert_eq!(
            codes(&[("AWS_ACCESS_KEY_ID", KEY), ("AWS_REGION", "us-east-1")], &good(), "", None),
            [Code::EnvPartial]
        );
        let asia = [
            ("AWS_ACCESS_KEY_ID", "ASIAIOSFODNN7EXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("AWS_REGION", "us-east-1"),
        ];
        assert_eq!(codes(&asia, &good(), "", None), [Code::SessionTokenMissing]);
        let legacy = [
            ("AWS_ACCESS_KEY_ID", "ASIAIOSFODNN7EXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("AWS_SESSION_TOKEN", "a"),
            ("AWS_SECURITY_TOKEN", "b"),
            ("AWS_REGION", "us-east-1"),
        ];
        assert_eq!(codes(&legacy, &good(), "", None), [Code::LegacyTokenConflict]);
    }

    #[test]
    fn key_material_rules() {
        let creds =
            format!("[default]\naws_access_key_id = \"{KEY}\"\naws_secret_access_key = {SECRET}\u{200b}\n");
        assert_eq!(
            codes(&[("AWS_REGION", "us-east-1")], &creds, "", None),
            [Code::KeyWhitespace, Code::KeyWhitespace]
        );
        let creds =
            "[default]\naws_access_key_id = AKIA123\naws_secret_access_key = short\naws_session_token = t\n";
        assert_eq!(
            codes(&[("AWS_REGION", "us-east-1")], creds, "", None),
            [Code::KeyFormat, Code::KeyFormat, Code::SessionTokenUnexpected]
        );
        let env_ws = [
            ("AWS_ACCESS_KEY_ID", " AKIAIOSFODNN7EXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("AWS_REGION", "us-east-1"),
        ];
        assert_eq!(codes(&env_ws, &good(), "", None), [Code::KeyWhitespace]);
        assert!(material_problem("abc def").unwrap().contains("character 4"));
        assert!(!material_problem(&format!("{SECRET}\u{a0}")).unwrap().contains(SECRET));
    }

    #[test]
    fn profile_selection_and_sections() {
        assert_eq!(
            codes(
                &[("AWS_PROFILE", "dve"), ("AWS_REGION", "us-east-1")],
                &format!("{}[dev]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n", good()),
                "",
                None
            ),
            [Code::ProfileNotFound]
        );
        let c = codes(
            &[("AWS_REGION", "us-east-1")],
            &format!("{}[profile x]\nk = v\n", good()),
            "[x]\nregion = eu-west-1\n",
            None,
        );
        assert_eq!(c, [Code::MissingProfilePrefixInConfig, Code::ProfilePrefixInCredentials]);
    }

    #[test]
    fn expiry_region_and_role_rules() {
        let past = (Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
        let creds = format!(
            "[default]\naws_access_key_id = ASIAIOSFODNN7EXAMPLE\naws_secret_access_key = {SECRET}\naws_session_token = t\nx_security_token_expires = {past}\n"
        );
        assert_eq!(codes(&[("AWS_REGION", "us-east-1")], &creds, "", None), [Code::SessionExpired]);
        assert_eq!(codes(&[], &good(), "", None), [Code::RegionMissing]);
        assert_eq!(codes(&[], &good(), "[default]\nregion = us-east1\n", None), [Code::RegionInvalid]);
        assert_eq!(codes(&[], &good(), "[default]\nregion = af-south-1\n", None), [Code::RegionOptIn]);
        assert!(
            codes(&[], &good(), "[default]\nregion = af-south-1\nsts_regional_endpoints = regional\n", None)
                .is_empty()
        );
        let config = "[default]\nregion = us-east-1\n[profile a]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = a\n[profile c]\nrole_arn = arn:aws:iam::123456789012:role/c\nsource_profile = nope\n[profile r1]\nrole_arn = arn:aws:iam::123456789012:role/r1\nsource_profile = default\n[profile r2]\nrole_arn = arn:aws:iam::123456789012:role/r2\nsource_profile = r1\nduration_seconds = 7200\n";
        assert_eq!(
            codes(&[], &good(), config, None),
            [
                Code::RoleChainDuration,
                Code::SourceProfileCycle,
                Code::SourceProfileCycle,
                Code::SourceProfileMissing
            ]
        );
    }

    #[test]
    fn a_session_credd_keeps_but_has_not_issued_is_not_a_missing_profile() {
        let kept = |mfa| Kept { name: "dev".into(), source: "default".into(), mfa, layout: None };
        let env = [("AWS_REGION", "us-east-1")];
        assert_eq!(codes_kept(&env, &good(), "", Some("dev"), vec![kept(false)]), [Code::SessionNotIssued]);
        assert_eq!(codes_kept(&env, &good(), "", Some("dev"), vec![kept(true)]), [Code::MfaCodeNeeded]);
        assert_eq!(codes_kept(&env, &good(), "", Some("dev"), vec![]), [Code::ProfileNotFound]);
        // Once issued, it is a profile like any other.
        let issued =
            format!("{}[dev]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n", good());
        assert!(codes_kept(&env, &issued, "", Some("dev"), vec![kept(true)]).is_empty());
    }
}
