//! What credd finds in the AWS shared files: every profile, the kind of credentials it holds, and
//! when they expire. Pure over the parsed files, so the daemon's zero-config discovery and
//! `credd list` share one reading.

use chrono::{DateTime, Utc};
use serde::Serialize;

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

/// Summarises every profile of the merged files, sorted by name.
pub fn summarize(files: &Loaded) -> Vec<ProfileSummary> {
    let merged = files.merged();
    merged
        .map
        .iter()
        .filter_map(|(id, section)| {
            let SectionId::Profile(name) = id else {
                return None;
            };
            let (kind, problem) = kind_label(meta::credential_kind(section));
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
