//! `credd doctor`: names the real cause behind `InvalidClientTokenId` and its cousins.
//!
//! It examines the setup the way the SDKs resolve it (environment first, then the files, with
//! `AWS_PROFILE`, `AWS_DEFAULT_PROFILE` and `--profile`), produces [`Finding`]s with stable codes,
//! and, unless offline, asks STS `GetCallerIdentity` once per credential set.
//!
//! - `checks`: everything that can be known offline (environment, files, keys, regions, roles).
//! - `material`: one credential set's key material: stray characters, shapes, tokens, pairs.
//! - `profile`: one profile's expiry, role chain and region.
//! - `botocore`: what the aws CLI and boto3 refuse in a file the SDKs' shared rules accept
//!   (a repeated section or key), so doctor agrees with the strictest SDK.
//! - `live`: the STS calls, and clock skew from the server's `Date` header.
//! - `regions`: known and opt-in regions.
//! - `keyring`: profiles whose keys are in the OS keyring: is it there, unlocked, holding them.
//! - `sso`: IAM Identity Center profiles and their cached tokens, offline.
//! - `sessions`: the sessions credd refreshes: could each be written where it lives.
//!
//! The classification of STS errors is `refresh::classify`'s, and of a file that cannot be read
//! `profile::ReadFailure`'s, both shared with the daemon, so doctor, `status`, the log and
//! notifications always name the same cause. The checks write each finding as it would be for
//! the profile in use; [`judge`] alone decides which ones are only warnings. The codes are
//! documented in docs/doctor.md; they are a contract.

pub(crate) mod botocore;
pub mod checks;
pub mod live;
mod material;
mod profile;
pub(crate) mod sessions;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Serialize;

use crate::config::{ConfigError, Home};
use crate::files::Loaded;
use crate::finding::Code;
pub use crate::finding::{Finding, Severity, Source};
use crate::paths::Env;
use crate::profile::{FileKind, ReadFailure, Sections, Unreadable, WriteError, read_document};

/// What `credd doctor` was asked.
pub struct Options {
    pub profile: Option<String>,
    pub offline: bool,
    pub aws_config: PathBuf,
    pub aws_credentials: PathBuf,
    /// credd's own config, checked too when it exists.
    pub credd_config: PathBuf,
    pub host_user: crate::sessions::Host,
    /// What a running daemon knows and the files cannot say: the kept tokens' cache files whose
    /// refresh their service refused (IAM Identity Center's `InvalidGrantException`), with its
    /// words. Empty when no daemon runs.
    pub refused: BTreeMap<PathBuf, String>,
}

/// Runs every check and, unless offline, the live ones.
pub async fn diagnose(opts: &Options, env: &dyn Env) -> Report {
    let now = chrono::Utc::now();
    let files = read_files(opts);
    let loaded = &files.loaded;
    let (sessions, config_problems) = planned_sessions(opts, loaded);
    let mut unwritable = sessions::check(&sessions, loaded, &opts.aws_credentials);
    unwritable.extend(sessions::shadowed(&sessions, loaded));
    let (selected, _) = checks::selected_profile(env, opts.profile.as_deref());
    let inputs = checks::Inputs {
        env,
        config: loaded.config_document(),
        credentials: loaded.credentials_document(),
        config_path: opts.aws_config.clone(),
        credentials_path: opts.aws_credentials.clone(),
        parse_errors: files.parse_errors,
        unreadable: files.unreadable,
        kept: kept(&sessions),
        credentials_mode: files.credentials_mode,
        profile_flag: opts.profile.clone(),
        now,
    };
    let mut report = Report { findings: checks::run(&inputs), identities: Vec::new() };
    report.findings.extend(botocore_findings(opts, loaded));
    report.findings.extend(unwritable);
    report.findings.extend(crate::kinds::doctor_config(
        loaded,
        env,
        opts.profile.as_deref(),
        &opts.refused,
        now,
    ));
    report.findings.extend(config_problems.into_iter().map(config_problem));
    let (findings, held) = crate::kinds::doctor_held(loaded, opts.profile.as_deref()).await;
    report.findings.extend(findings);
    let merged = loaded.merged();
    if !opts.offline {
        let names: Vec<&str> = match &opts.profile {
            Some(p) => vec![p.as_str()],
            None => merged.profile_names().collect(),
        };
        let sets = live::credential_sets(env, loaded, &names, &held);
        let (findings, identities) = live::run(sets, now).await;
        report.findings.extend(findings);
        report.identities = identities;
    }
    judge(&mut report.findings, &in_use(&selected, &merged, &inputs.kept));
    report
}

/// The two AWS files as doctor read them, and what kept it from reading them.
struct Files {
    loaded: Loaded,
    parse_errors: Vec<(Source, crate::profile::ParseError)>,
    unreadable: Vec<(Source, ReadFailure)>,
    credentials_mode: Option<u32>,
}

fn read_files(opts: &Options) -> Files {
    let (mut parse_errors, mut unreadable) = (Vec::new(), Vec::new());
    // The daemon's own read, so doctor sees what the daemon sees; a file it cannot read is a
    // finding, never an absent or empty file.
    let mut read = |path: &PathBuf, kind, source| match read_document(path, kind) {
        Ok(doc) => doc,
        Err(WriteError::Unparseable(e)) => {
            parse_errors.push((source, e));
            None
        }
        Err(WriteError::Unreadable(e)) => {
            unreadable.push((source, e));
            None
        }
        Err(e) => {
            let why = match e {
                WriteError::Contended { .. } => "another program kept writing it for seconds".into(),
                e => e.to_string(),
            };
            unreadable.push((source, ReadFailure { path: path.clone(), why: Unreadable::Other(why) }));
            None
        }
    };
    let config = read(&opts.aws_config, FileKind::Config, Source::ConfigFile);
    let credentials = read(&opts.aws_credentials, FileKind::Credentials, Source::CredentialsFile);
    // Only a file has a mode worth a finding: a directory's 755 is its own, different problem.
    let credentials_mode = std::fs::metadata(&opts.aws_credentials).ok().filter(|m| m.is_file()).map(|m| {
        use std::os::unix::fs::PermissionsExt;
        m.permissions().mode()
    });
    let loaded = Loaded::of(config, credentials, unreadable.iter().map(|(_, e)| e.clone()).collect());
    Files { loaded, parse_errors, unreadable, credentials_mode }
}

/// The sessions credd keeps, as the daemon plans them, and the problems with its config. With a
/// broken config, the ones it finds on its own are still what it will keep once the config is
/// fixed.
fn planned_sessions(
    opts: &Options,
    loaded: &Loaded,
) -> (Vec<crate::sessions::SessionSpec>, Vec<ConfigError>) {
    match crate::config::Config::load(&opts.credd_config, false) {
        Ok(c) => {
            let plan = crate::sessions::plan(&c, loaded, &opts.host_user);
            (plan.sessions, plan.errors)
        }
        Err(errors) => (crate::sessions::plan(&Default::default(), loaded, &opts.host_user).sessions, errors),
    }
}

/// The profiles credd keeps a session in.
fn kept(sessions: &[crate::sessions::SessionSpec]) -> Vec<checks::Kept> {
    sessions
        .iter()
        .filter(|s| matches!(s.home, Home::Profile | Home::Both(_)))
        .filter_map(|s| {
            let m = s.managed()?;
            // A role assumed from a shared MFA session (issue 29) is made from that session's
            // source, and needs that session's code first.
            let via = match &m.mfa {
                Some(crate::sessions::Mfa::Via { session, .. }) => {
                    sessions.iter().find(|x| x.name == *session).and_then(|x| x.managed())
                }
                _ => None,
            };
            Some(checks::Kept {
                name: s.name.clone(),
                source: via.unwrap_or(m).settings.source_profile.clone(),
                mfa: m.settings.mfa_serial.is_some() || via.is_some(),
                layout: m.discovered,
            })
        })
        .collect()
}

/// What botocore refuses in each file.
fn botocore_findings(opts: &Options, loaded: &Loaded) -> Vec<Finding> {
    let mut out = Vec::new();
    for (doc, path, source) in [
        (loaded.config_document(), &opts.aws_config, Source::ConfigFile),
        (loaded.credentials_document(), &opts.aws_credentials, Source::CredentialsFile),
    ] {
        out.extend(doc.and_then(|d| botocore::check(d, path, source)));
        if let Some(d) = doc {
            out.extend(botocore::inline_comments(d, path, source, None));
        }
    }
    out
}

/// A problem with credd's own config, as a finding.
fn config_problem(e: ConfigError) -> Finding {
    // The problem's own fix when it has one: one caused by an unreadable AWS file is fixed
    // there, not in credd's config.
    let fix = e
        .fix
        .clone()
        .unwrap_or_else(|| "fix credd's config; `credd config check` lists every problem".into());
    Finding::new(
        Code::CreddConfigInvalid,
        Severity::Warn,
        None,
        Source::ConfigFile,
        ConfigError { fix: None, ..e }.to_string(),
        fix,
    )
}

/// The profiles whose problems decide the verdict: the one in use, and those it gets its
/// credentials from: the `source_profile` chain SDKs follow for a role, and the source credd
/// makes the session it keeps there from.
fn in_use(selected: &str, merged: &Sections, kept: &[checks::Kept]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut next = Some(selected.to_string());
    while let Some(name) = next.take() {
        if !out.insert(name.clone()) {
            break;
        }
        let role = merged.profile(&name).filter(|p| p.get("role_arn").is_some());
        let sdk_source = role.and_then(|p| p.get("source_profile")).map(str::to_string);
        let credd_source = kept.iter().find(|k| k.name == name).map(|k| k.source.clone());
        next = sdk_source.or(credd_source);
    }
    out
}

/// The verdict, decided here once for every check: a problem in a profile that is not in use
/// (see [`in_use`]) is a warning, whatever its code, since no SDK call in this setup meets it.
/// Findings about no profile (the environment, a whole file, the clock) keep their severity.
fn judge(findings: &mut [Finding], in_use: &BTreeSet<String>) {
    for f in findings {
        if f.profile.as_ref().is_some_and(|p| !in_use.contains(p)) {
            f.severity = Severity::Warn;
        }
    }
}

/// Who a credential set is, according to STS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// The profile, or `env` for the environment's credentials.
    pub profile: String,
    pub arn: String,
    pub account: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub identities: Vec<Identity>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// Findings grouped by profile (environment first), with ✔ for each verified identity.
    pub fn render(&self, selected: &str) -> String {
        let mut groups: BTreeMap<(u8, String), Vec<&Finding>> = BTreeMap::new();
        for f in &self.findings {
            // About no profile: the environment's credentials, or a whole file and the sessions
            // credd writes there (which are no environment variable's business).
            let key = match (&f.profile, f.source) {
                (None, Source::Env | Source::Sts) => (0, "environment".to_string()),
                (None, _) => (0, "files and credd's sessions".to_string()),
                (Some(p), _) => (1, p.clone()),
            };
            groups.entry(key).or_default().push(f);
        }
        for id in &self.identities {
            let key =
                if id.profile == "env" { (0, "environment".to_string()) } else { (1, id.profile.clone()) };
            groups.entry(key).or_default();
        }
        let mut out = String::new();
        for ((_, name), findings) in &groups {
            let mark = if name == selected { " (selected)" } else { "" };
            out.push_str(&format!("{name}{mark}\n"));
            let id_name = if name == "environment" { "env" } else { name.as_str() };
            if let Some(id) = self.identities.iter().find(|i| i.profile == id_name) {
                out.push_str(&format!("  ✔ credentials work: {}\n", id.arn));
            }
            let mut findings = findings.clone();
            findings.sort_by_key(|f| f.severity);
            for f in findings {
                let mark = match f.severity {
                    Severity::Error => "✖",
                    Severity::Warn => "!",
                };
                out.push_str(&format!("  {mark} {}: {}\n      fix: {}\n", f.code, f.message, f.fix));
            }
        }
        let errors = self.findings.iter().filter(|f| f.severity == Severity::Error).count();
        let warnings = self.findings.iter().filter(|f| f.severity == Severity::Warn).count();
        if errors == 0 && warnings == 0 {
            out.push_str("✔ no problems found\n");
        } else {
            out.push_str(&format!("{errors} error(s), {warnings} warning(s)\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Document, FileKind};

    #[test]
    fn only_problems_in_the_profile_in_use_or_its_sources_are_errors() {
        let config = "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\n\
                      [profile loop]\nrole_arn = arn:aws:iam::123456789012:role/l\nsource_profile = loop\n";
        let doc = Document::parse(config, FileKind::Config, std::path::Path::new("/c")).unwrap();
        let merged = doc.sections();
        let finding = |profile: Option<&str>| {
            Finding::new(
                Code::KeyIncomplete,
                Severity::Error,
                profile,
                Source::CredentialsFile,
                "m".into(),
                "f".into(),
            )
        };
        let mut findings =
            vec![finding(Some("role")), finding(Some("base")), finding(Some("other")), finding(None)];
        judge(&mut findings, &in_use("role", &merged, &[]));
        let got: Vec<Severity> = findings.iter().map(|f| f.severity).collect();
        assert_eq!(got, [Severity::Error, Severity::Error, Severity::Warn, Severity::Error]);
        // A loop of sources ends.
        assert_eq!(in_use("loop", &merged, &[]).into_iter().collect::<Vec<_>>(), ["loop"]);
        // The source credd makes a kept session from counts too: aws-mfa's `-long-term`.
        let kept = [checks::Kept {
            name: "work".into(),
            source: "work-long-term".into(),
            mfa: true,
            layout: Some("aws-mfa"),
        }];
        assert_eq!(
            in_use("work", &merged, &kept).into_iter().collect::<Vec<_>>(),
            ["work", "work-long-term"]
        );
    }

    /// Issue 29: a role assumed from a shared MFA session is kept from the real source, and
    /// its first session needs a code.
    #[test]
    fn issue29_a_role_on_a_shared_mfa_session_is_kept_from_its_source_with_mfa() {
        let role = |n: &str| {
            format!(
                "[[session]]\nname = \"{n}\"\nmethod = \"assume-role\"\nsource_profile = \"base\"\nrole_arn = \"arn:aws:iam::123456789012:role/r\"\nmfa_serial = \"arn:aws:iam::123456789012:mfa/a\"\n"
            )
        };
        let config = crate::config::Config::parse(
            &format!("{}{}", role("dev"), role("prod")),
            std::path::Path::new("/c"),
        )
        .unwrap();
        let loaded =
            Loaded::from_text("", "[base]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s\n");
        let plan = crate::sessions::plan(&config, &loaded, &crate::sessions::Host::test());
        let got: Vec<(String, String, bool)> =
            kept(&plan.sessions).into_iter().map(|k| (k.name, k.source, k.mfa)).collect();
        assert_eq!(got, [("dev".into(), "base".into(), true), ("prod".into(), "base".into(), true)]);
    }
}
