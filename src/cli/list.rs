//! `credd list`: every profile in the AWS shared files, the kind of credentials it holds, and
//! when they expire, as a table or JSON. `summarize` is pure over the parsed files.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Failure;

use crate::files::Loaded;
use crate::profile::SectionId;
use crate::profile::meta::{self, CredentialKind, ExpiryRead, Inconsistency};

#[derive(Debug, Clone, Serialize)]
pub struct ProfileSummary {
    pub name: String,
    /// `long-term`, `session`, `none` or `inconsistent`.
    pub kind: &'static str,
    /// Why the credentials look wrong, when `kind` is `inconsistent`.
    pub problem: Option<&'static str>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The key the expiry was read from, and an error if it could not be read.
    pub expiry_key: Option<&'static str>,
    pub expiry_error: Option<String>,
}

pub fn kind_label(kind: CredentialKind) -> (&'static str, Option<&'static str>) {
    match kind {
        CredentialKind::Absent => ("none", None),
        CredentialKind::LongTerm => ("long-term", None),
        CredentialKind::Session => ("session", None),
        CredentialKind::Inconsistent(i) => (
            "inconsistent",
            Some(match i {
                Inconsistency::MissingSecret => "access key id without a secret",
                Inconsistency::MissingKeyId => "secret without an access key id",
                Inconsistency::SessionKeyWithoutToken => "ASIA key without a session token",
                Inconsistency::LongTermKeyWithToken => "AKIA key with a leftover session token",
            }),
        ),
    }
}

/// What gives a profile without keys of its own its credentials, as SDKs look: a role, a kind's
/// service (IAM Identity Center), a web identity token or a process; or the OS keyring, where the
/// credentials file says its keys are held. "none" when nothing does.
fn elsewhere(section: &crate::profile::parse::Section, held: bool) -> &'static str {
    if section.get("role_arn").is_some() {
        "role"
    } else if let Some(issuer) = crate::kinds::Issuer::of(section) {
        issuer.label()
    } else if section.get("web_identity_token_file").is_some() {
        "web-identity"
    } else if held {
        "keyring"
    } else if section.get("credential_process").is_some() {
        "process"
    } else {
        "none"
    }
}

/// Summarises every profile of the merged files, sorted by name.
pub fn summarize(files: &Loaded) -> Vec<ProfileSummary> {
    let merged = files.merged();
    let held = files.held_profiles();
    merged
        .map
        .iter()
        .filter_map(|(id, section)| {
            let SectionId::Profile(name) = id else {
                return None;
            };
            let (kind, problem) = match kind_label(meta::credential_kind(section)) {
                ("none", None) => (elsewhere(section, held.contains(&name.as_str())), None),
                label => label,
            };
            let (expires_at, expiry_key, expiry_error) = match meta::expiry(section) {
                ExpiryRead::None => (None, None, None),
                ExpiryRead::Found(e) => (Some(e.at), Some(e.key), None),
                ExpiryRead::Invalid { key, line } => {
                    (None, Some(key), Some(format!("line {line}: `{key}` is not a timestamp credd can read")))
                }
            };
            Some(ProfileSummary { name: name.clone(), kind, problem, expires_at, expiry_key, expiry_error })
        })
        .collect()
}
pub(super) fn list(json: bool) -> Result<(), Failure> {
    let files =
        crate::files::AwsFiles::from_env(&crate::paths::ProcessEnv).read().map_err(anyhow::Error::from)?;
    let profiles = summarize(&files);
    if json {
        println!("{}", serde_json::to_string_pretty(&profiles).map_err(anyhow::Error::from)?);
    } else {
        print!("{}", table(&profiles, Utc::now()));
    }
    Ok(())
}

fn table(profiles: &[ProfileSummary], now: DateTime<Utc>) -> String {
    let mut out = format!("{:<24} {:<13} EXPIRES\n", "PROFILE", "KIND");
    for p in profiles {
        let expires = match (&p.expires_at, &p.expiry_error) {
            (_, Some(err)) => err.clone(),
            (Some(at), None) if *at <= now => format!("expired {}", at.format("%Y-%m-%d %H:%M UTC")),
            (Some(at), None) => {
                let left = (*at - now).num_seconds().max(0) as u64;
                format!(
                    "in {} ({})",
                    humantime::format_duration(std::time::Duration::from_secs(left)),
                    at.format("%Y-%m-%d %H:%M UTC")
                )
            }
            (None, None) => "-".into(),
        };
        let kind = match p.problem {
            Some(problem) => format!("{} ({problem})", p.kind),
            None => p.kind.to_string(),
        };
        out.push_str(&format!("{:<24} {:<13} {}\n", p.name, kind, expires));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_without_keys_says_what_gives_it_credentials() {
        let files = Loaded::from_text(
            "[profile r]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = k\n[profile s]\nsso_session = corp\n\
             [profile p]\ncredential_process = /bin/x\n[profile w]\ncredential_process = /usr/bin/credd credential-process w\n[profile n]\nregion = eu-west-1\n",
            "[k]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = s\n[w]\n# credd-keyring: held\n",
        );
        let kinds: Vec<(String, &str)> = summarize(&files).into_iter().map(|p| (p.name, p.kind)).collect();
        let want = [
            ("k", "long-term"),
            ("n", "none"),
            ("p", "process"),
            ("r", "role"),
            ("s", "sso"),
            ("w", "keyring"),
        ];
        assert_eq!(kinds, want.map(|(n, k)| (n.to_string(), k)));
    }
}
