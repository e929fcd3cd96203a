//! The one rule for moving a profile's keys out of the credentials file: read them the way every
//! SDK reads them first, and refuse when any SDK would read something else or refuse the file.
//!
//! The key material is judged by doctor's own offline checks (`doctor::checks::run`, for this
//! profile, on this file alone), so import refuses exactly what doctor reports as an error, under
//! the same finding code and with the same fix: continuation lines and whitespace
//! (`key-whitespace`), a leftover token (`session-token-unexpected`), `[profile x]`
//! (`profile-prefix-in-credentials`). On top of those, what aws-config's reading (and so doctor's)
//! cannot see and botocore reads differently (`profile::strict`): a repeated section or key, and
//! an inline comment on a key line.
//!
//! What it does not decide: whether the keys are long-term keys (the caller's `key_in_file`).

use std::collections::HashMap;
use std::path::Path;

use crate::doctor::checks::{self, Inputs};
use crate::doctor::{Severity, Source};
use crate::finding::Code;
use crate::profile::Document;

/// The keys a move carries.
pub const KEY_LINES: [&str; 2] = ["aws_access_key_id", "aws_secret_access_key"];

/// Why the keys of a profile may not be moved: a finding code, what is wrong, and the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: Code,
    pub message: String,
    pub fix: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}]; fix: {}", self.message, self.code, self.fix)
    }
}

/// The codes doctor reports about a profile's key material in the credentials file, and about
/// where its section is: each one means the value an SDK reads is not the value credd would move.
const MATERIAL: [Code; 6] = [
    Code::KeyWhitespace,
    Code::KeyIncomplete,
    Code::SessionTokenUnexpected,
    Code::SessionTokenMissing,
    Code::LegacyTokenConflict,
    Code::ProfilePrefixInCredentials,
];

/// `Ok` when every SDK reads `profile`'s keys in `doc` (the credentials file at `path`) as the
/// same single value each, and botocore can parse the file.
pub fn check(doc: &Document, path: &Path, profile: &str) -> Result<(), Refusal> {
    let nothing = HashMap::new();
    let inputs = Inputs {
        env: &nothing,
        config: None,
        credentials: Some(doc),
        config_path: Path::new("").to_path_buf(),
        credentials_path: path.to_path_buf(),
        parse_errors: Vec::new(),
        unreadable: Vec::new(),
        kept: Vec::new(),
        credentials_mode: None,
        profile_flag: Some(profile.to_string()),
        now: chrono::Utc::now(),
    };
    let found = checks::run(&inputs).into_iter().find(|f| {
        f.severity == Severity::Error
            && f.profile.as_deref() == Some(profile)
            && f.source == Source::CredentialsFile
            && MATERIAL.contains(&f.code)
    });
    if let Some(f) = found {
        return Err(Refusal {
            code: f.code,
            message: format!("[{profile}] in {}: {}", path.display(), f.message),
            fix: f.fix,
        });
    }
    // What botocore (the aws CLI, boto3) refuses, doctor's one rule for it: a repeated section
    // or key, text before any header. No key moves out of a file the strictest SDK cannot read.
    if let Some(f) = crate::doctor::botocore::check(doc, path, Source::CredentialsFile) {
        return Err(Refusal { code: f.code, message: f.message, fix: f.fix });
    }
    // A comment after a key on its line: botocore reads it as part of the key.
    if let Some(f) =
        crate::doctor::botocore::inline_comments(doc, path, Source::CredentialsFile, Some(profile)).pop()
    {
        return Err(Refusal { code: f.code, message: f.message, fix: f.fix });
    }
    Ok(())
}
