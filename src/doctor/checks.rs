//! Everything doctor can find without the network: the environment, the two files (unreadable,
//! unparseable, too open), the key material (judged by `material.rs`), the expiry keys, regions,
//! role profiles (`profile.rs`), and the sessions credd keeps that have not been issued yet. Pure
//! over its [`Inputs`], so each rule is tested with a map for an environment and strings for files.
//!
//! Each finding is written as it would be for the profile in use; whether it decides the verdict
//! is `doctor::judge`'s call, made once for every check.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::material::{Material, check_material};
use super::profile::{check_expiry, check_profile_region, check_region, check_role};
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

pub fn run(i: &Inputs) -> Vec<Finding> {
    let mut out = Vec::new();
    let selected = selected_profile(i.env, i.profile_flag.as_deref());
    check_files(i, &selected.0, &mut out);
    let env_key = check_env(i, &selected, &mut out);
    check_profiles(i, &selected, env_key, &mut out);
    out
}

/// The two files as wholes: unreadable, unparseable, too open, sections every SDK ignores.
fn check_files(i: &Inputs, selected: &str, out: &mut Vec<Finding>) {
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
        if let Some(doc) = doc {
            check_ignored_sections(i, doc, source, selected, out);
        }
    }
}

fn check_ignored_sections(
    i: &Inputs,
    doc: &Document,
    source: Source,
    selected: &str,
    out: &mut Vec<Finding>,
) {
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
            for_selected.then_some(selected),
            source,
            format!("{}:{line}: {header} is ignored by every SDK", path.display()),
            why.to_string(),
        ));
    }
}

/// The environment's credentials, which beat every profile, and its region. Returns whether it
/// sets an access key ID.
fn check_env(i: &Inputs, (selected, selected_by): &(String, &str), out: &mut Vec<Finding>) -> bool {
    let var = |k: &str| i.env.var(k).filter(|v| !v.is_empty());
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
            out,
        );
        if *selected_by != "the default" {
            out.push(Finding::new(
                Code::EnvShadowsProfile,
                Severity::Error,
                Some(selected),
                Source::Env,
                format!(
                    "AWS_ACCESS_KEY_ID{} in the environment overrides profile \"{selected}\" selected with {selected_by}: SDKs use the environment's keys first",
                    env_key.as_deref().map(|k| format!(" ({})", short_key_id(k))).unwrap_or_default()
                ),
                "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN".into(),
            ));
        }
        check_env_expiry(i, out);
    }
    for key in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Some(r) = var(key) {
            check_region(&r, None, Source::Env, key, out);
        }
    }
    env_key.is_some()
}

/// The first expiry variable a tool set beside the environment's keys.
fn check_env_expiry(i: &Inputs, out: &mut Vec<Finding>) {
    let var = |k: &str| i.env.var(k).filter(|v| !v.is_empty());
    for key in ["AWS_CREDENTIAL_EXPIRATION", "AWS_SESSION_EXPIRATION", "AWSUME_EXPIRATION"] {
        if let Some(raw) = var(key) {
            match meta::parse_timestamp(&raw, false) {
                Some(at) => check_expiry(at, key, None, Source::Env, i.now, out),
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

/// The profiles: the kept ones not issued yet, the selected one if it is nowhere, and each
/// profile examined (only `--profile`'s when given).
fn check_profiles(i: &Inputs, selected: &(String, &str), env_key: bool, out: &mut Vec<Finding>) {
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
        check_not_issued(k, out);
    }
    let (name, selected_by) = selected;
    if merged.profile(name).is_none()
        && (*selected_by != "the default" || !env_key)
        && i.unreadable.is_empty()
        && !not_issued.iter().any(|k| k.name == *name)
    {
        out.push(profile_not_found(i, selected, &names));
    }
    let examine: Vec<&str> = match &i.profile_flag {
        Some(p) => names.iter().copied().filter(|n| n == p).collect(),
        None => names.clone(),
    };
    for name in examine {
        let p = merged.profile(name).expect("listed");
        let in_creds = cred_sections.profile(name).is_some_and(|s| s.get("aws_access_key_id").is_some());
        let source = if in_creds { Source::CredentialsFile } else { Source::ConfigFile };
        check_profile(i, name, p, source, &merged, name == selected.0, out);
    }
}

fn profile_not_found(i: &Inputs, (selected, selected_by): &(String, &str), names: &[&str]) -> Finding {
    let fix = match crate::config::did_you_mean(selected, names.iter().copied()) {
        Some(m) => format!("did you mean \"{m}\"?"),
        None if names.is_empty() => "create it with `aws configure`".into(),
        None => format!("profiles that exist: {}", names.join(", ")),
    };
    Finding::new(
        Code::ProfileNotFound,
        Severity::Error,
        Some(selected),
        Source::ConfigFile,
        format!(
            "profile \"{selected}\" (selected by {selected_by}) is in neither {} nor {}",
            i.credentials_path.display(),
            i.config_path.display()
        ),
        fix,
    )
}

/// One profile, found in `source`: its keys, its expiry, its role and its region. `important`
/// when it is the one in use.
fn check_profile(
    i: &Inputs,
    name: &str,
    p: &Section,
    source: Source,
    merged: &Sections,
    important: bool,
    out: &mut Vec<Finding>,
) {
    let m = Material {
        key_id: p.get("aws_access_key_id"),
        secret: p.get("aws_secret_access_key"),
        token: p.get("aws_session_token"),
        legacy_token: p.get("aws_security_token"),
    };
    let how = format!("aws configure --profile {name}");
    check_material(&m, Some(name), source, &how, out);
    match meta::expiry(p) {
        ExpiryRead::Found(e) => {
            let origin = format!("{} on line {}", e.key, e.line);
            check_expiry(e.at, &origin, Some(name), source, i.now, out)
        }
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
    check_role(name, p, merged, out);
    check_profile_region(name, p, important, i.env, out);
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

    /// Every finding of a setup with a bit of everything wrong, word for word and in order, as the
    /// checks wrote them before `run` was split into steps.
    #[test]
    fn findings_word_for_word() {
        let env: HashMap<String, String> = [
            ("AWS_PROFILE", "dve"),
            ("AWS_ACCESS_KEY_ID", "ASIAIOSFODNN7EXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "short"),
            ("AWS_SESSION_TOKEN", "a"),
            ("AWS_SECURITY_TOKEN", "b"),
            ("AWS_CREDENTIAL_EXPIRATION", "soon"),
            ("AWS_REGION", "us-east1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let creds = format!(
            "{}[profile x]\nk = v\n[dev]\naws_access_key_id = \"{KEY}\"\naws_secret_access_key = {SECRET}\u{200b}\n\
             [old]\naws_access_key_id = AKIA123\naws_secret_access_key = {SECRET}\naws_session_token = t\n\
             x_security_token_expires = 2026-01-01T12:10:00Z\n[gone]\naws_access_key_id = {KEY}\n\
             aws_secret_access_key = {SECRET}\nx_security_token_expires = 2025-01-01T00:00:00Z\n\
             [odd]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\nexpiration = never\n",
            good()
        );
        let config = "[x]\nregion = eu-west-1\n[profile a]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = b\n\
             [profile b]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = a\n[profile c]\n\
             role_arn = arn:aws:iam::123456789012:role/c\nsource_profile = nope\n[profile r1]\n\
             role_arn = arn:aws:iam::123456789012:role/r1\nsource_profile = default\nregion = af-south-1\n\
             [profile r2]\nrole_arn = arn:aws:iam::123456789012:role/r2\nsource_profile = r1\nduration_seconds = 7200\n";
        let c = Document::parse(&creds, FileKind::Credentials, Path::new("credentials")).unwrap();
        let k = Document::parse(config, FileKind::Config, Path::new("config")).unwrap();
        let kept =
            |name: &str, mfa, layout| Kept { name: name.into(), source: "default".into(), mfa, layout };
        let i = Inputs {
            env: &env,
            config: Some(&k),
            credentials: Some(&c),
            config_path: "config".into(),
            credentials_path: "credentials".into(),
            parse_errors: vec![],
            unreadable: vec![],
            kept: vec![
                kept("k1", true, Some("aws-mfa")),
                kept("k2", false, Some("other")),
                kept("k3", false, None),
            ],
            credentials_mode: Some(0o644),
            profile_flag: None,
            now: "2026-01-01T12:00:00Z".parse().unwrap(),
        };
        let got: Vec<String> = run(&i).iter().map(|f| format!("{f:?}")).collect();
        let want = [
            "Finding { code: FilePermissions, severity: Warn, profile: None, source: CredentialsFile, message: \"credentials is readable by others (mode 644)\", fix: \"chmod 600 credentials\" }",
            "Finding { code: ProfilePrefixInCredentials, severity: Warn, profile: None, source: CredentialsFile, message: \"credentials:4: [profile x] is ignored by every SDK\", fix: \"the credentials file takes bare names: write [x], not [profile x]\" }",
            "Finding { code: MissingProfilePrefixInConfig, severity: Warn, profile: None, source: ConfigFile, message: \"config:1: [x] is ignored by every SDK\", fix: \"sections in the config file other than [default] need a prefix: write [profile x]\" }",
            "Finding { code: KeyFormat, severity: Error, profile: None, source: Env, message: \"the secret access key is 5 characters long; AWS secrets have 40\", fix: \"copy the secret again (it is shown only once; create a new key if you lost it): export AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… again\" }",
            "Finding { code: LegacyTokenConflict, severity: Error, profile: None, source: Env, message: \"the legacy security token differs from the session token, and botocore (the aws CLI, boto3) sends the legacy one\", fix: \"unset AWS_SECURITY_TOKEN, or set it to AWS_SESSION_TOKEN's value\" }",
            "Finding { code: EnvShadowsProfile, severity: Error, profile: Some(\"dve\"), source: Env, message: \"AWS_ACCESS_KEY_ID (ASIA…MPLE) in the environment overrides profile \\\"dve\\\" selected with AWS_PROFILE: SDKs use the environment's keys first\", fix: \"unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN\" }",
            "Finding { code: ExpiryUnreadable, severity: Warn, profile: None, source: Env, message: \"AWS_CREDENTIAL_EXPIRATION is not a timestamp\", fix: \"set AWS_CREDENTIAL_EXPIRATION in RFC3339, e.g. 2026-01-01T12:00:00Z\" }",
            "Finding { code: RegionInvalid, severity: Error, profile: None, source: Env, message: \"\\\"us-east1\\\" is not an AWS region\", fix: \"did you mean \\\"us-east-1\\\"? set AWS_REGION = us-east-1\" }",
            "Finding { code: MfaCodeNeeded, severity: Error, profile: Some(\"k1\"), source: CredentialsFile, message: \"[k1] is aws-mfa's short-term profile: credd keeps a session there made from [default] (its aws_mfa_device), and none has been issued yet; the first one needs a code from the MFA device\", fix: \"credd mfa k1 CODE\" }",
            "Finding { code: SessionNotIssued, severity: Error, profile: Some(\"k2\"), source: CredentialsFile, message: \"[k2] holds a session credd keeps (other layout, from [default]), and none has been issued yet\", fix: \"credd refresh k2 (a running daemon issues it on its own)\" }",
            "Finding { code: SessionNotIssued, severity: Error, profile: Some(\"k3\"), source: CredentialsFile, message: \"[k3] is a [[session]] credd keeps (from [default]), and none has been issued yet\", fix: \"credd refresh k3 (a running daemon issues it on its own)\" }",
            "Finding { code: ProfileNotFound, severity: Error, profile: Some(\"dve\"), source: ConfigFile, message: \"profile \\\"dve\\\" (selected by AWS_PROFILE) is in neither credentials nor config\", fix: \"did you mean \\\"dev\\\"?\" }",
            "Finding { code: SourceProfileCycle, severity: Error, profile: Some(\"a\"), source: ConfigFile, message: \"source profiles loop: a → b → a\", fix: \"point one of them at a profile with keys\" }",
            "Finding { code: SourceProfileCycle, severity: Error, profile: Some(\"b\"), source: ConfigFile, message: \"source profiles loop: b → a → b\", fix: \"point one of them at a profile with keys\" }",
            "Finding { code: SourceProfileMissing, severity: Error, profile: Some(\"c\"), source: ConfigFile, message: \"source_profile \\\"nope\\\" does not exist\", fix: \"create [nope] with `aws configure --profile nope`\" }",
            "Finding { code: KeyWhitespace, severity: Error, profile: Some(\"dev\"), source: CredentialsFile, message: \"the access key ID is wrapped in quotes; STS sees those characters as part of the key\", fix: \"re-enter it exactly as issued: aws configure --profile dev\" }",
            "Finding { code: KeyWhitespace, severity: Error, profile: Some(\"dev\"), source: CredentialsFile, message: \"the secret access key has an invisible or non-ASCII character U+200B at character 41; STS sees those characters as part of the key\", fix: \"re-enter it exactly as issued: aws configure --profile dev\" }",
            "Finding { code: SessionExpired, severity: Error, profile: Some(\"gone\"), source: CredentialsFile, message: \"the session expired at 2025-01-01T00:00:00Z (x_security_token_expires on line 17)\", fix: \"get a new session (or let credd keep it fresh: add a [[session]] for it)\" }",
            "Finding { code: ExpiryUnreadable, severity: Warn, profile: Some(\"odd\"), source: CredentialsFile, message: \"line 21: `expiration` is not a timestamp any tool writes\", fix: \"fix or remove the line; credd writes x_security_token_expires in RFC3339\" }",
            "Finding { code: KeyFormat, severity: Error, profile: Some(\"old\"), source: CredentialsFile, message: \"the access key ID AKIA123 is not AKIA or ASIA followed by 16 capitals and digits\", fix: \"copy the key ID again from the IAM console: aws configure --profile old\" }",
            "Finding { code: SessionTokenUnexpected, severity: Error, profile: Some(\"old\"), source: CredentialsFile, message: \"AKIA123 is a long-term key (AKIA…) but a session token is set too; STS rejects the pair\", fix: \"remove the leftover session token\" }",
            "Finding { code: SessionExpiring, severity: Warn, profile: Some(\"old\"), source: CredentialsFile, message: \"the session expires in 10 min (x_security_token_expires on line 13)\", fix: \"refresh it soon; credd can do it ahead of time\" }",
            "Finding { code: RoleChainDuration, severity: Error, profile: Some(\"r2\"), source: ConfigFile, message: \"duration_seconds = 7200 on a chained role (r2 → r1 → default); STS allows 3600 at most\", fix: \"set duration_seconds = 3600 or less\" }",
        ];
        assert_eq!(got, want);
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
