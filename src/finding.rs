//! The finding codes: the names of everything that can be wrong with a user's AWS credentials,
//! as `credd doctor`, `credd status`, notifications and the logs show them. They are a documented
//! contract (`docs/doctor.md`), serialized as the kebab-case names below; a unit test holds the
//! enum and the document to each other.
//!
//! It also holds one finding as doctor reports it (`Finding`, `Severity`, `Source`), so that the
//! kinds' rooms (`sso::doctor`, `keyring::doctor`) can report without importing `doctor`.
//!
//! A leaf: it says what each code is called, not when it applies. Deciding that belongs to
//! `doctor` and the rooms (offline checks), `classify` (STS and file errors) and the engine.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One finding code. See `docs/doctor.md` for each one's cause and fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    AccessDenied,
    ClockSkew,
    CreddConfigInvalid,
    EnvPartial,
    EnvShadowsProfile,
    ExpiryUnreadable,
    FileNotWritable,
    FilePermissions,
    FileUnparseable,
    FileUnreadable,
    Internal,
    InvalidRequest,
    KeyDuplicated,
    KeyFormat,
    KeyIncomplete,
    KeyUnknown,
    KeyringLocked,
    KeyringMissing,
    KeyringUnavailable,
    KeyWhitespace,
    LegacyTokenConflict,
    LoginCacheInvalid,
    LoginPermissions,
    LoginShadowedByKeys,
    LoginTokenExpired,
    LongTermKeyInSessionProfile,
    MfaCodeNeeded,
    MfaRequired,
    MissingProfilePrefixInConfig,
    ProfileNotFound,
    ProfilePrefixInCredentials,
    RegionInvalid,
    RegionMissing,
    RegionOptIn,
    RoleChainDuration,
    SecretMismatch,
    SectionDuplicated,
    SectionIgnored,
    SessionExpired,
    SessionExpiring,
    SessionNotIssued,
    SessionShadowed,
    SessionTokenMissing,
    SessionTokenUnexpected,
    SourceProfileCycle,
    SourceProfileMissing,
    SsoConfigIncomplete,
    SsoRegionInvalid,
    SsoSessionMissing,
    SsoTokenExpired,
    SsoTokenUnrefreshable,
    StsRejected,
    StsUnreachable,
    TokenExpired,
}

impl Code {
    /// Every code, for the documentation check.
    pub const ALL: &[Code] = &[
        Code::AccessDenied,
        Code::ClockSkew,
        Code::CreddConfigInvalid,
        Code::EnvPartial,
        Code::EnvShadowsProfile,
        Code::ExpiryUnreadable,
        Code::FileNotWritable,
        Code::FilePermissions,
        Code::FileUnparseable,
        Code::FileUnreadable,
        Code::Internal,
        Code::InvalidRequest,
        Code::KeyDuplicated,
        Code::KeyFormat,
        Code::KeyIncomplete,
        Code::KeyUnknown,
        Code::KeyringLocked,
        Code::KeyringMissing,
        Code::KeyringUnavailable,
        Code::KeyWhitespace,
        Code::LegacyTokenConflict,
        Code::LoginCacheInvalid,
        Code::LoginPermissions,
        Code::LoginShadowedByKeys,
        Code::LoginTokenExpired,
        Code::LongTermKeyInSessionProfile,
        Code::MfaCodeNeeded,
        Code::MfaRequired,
        Code::MissingProfilePrefixInConfig,
        Code::ProfileNotFound,
        Code::ProfilePrefixInCredentials,
        Code::RegionInvalid,
        Code::RegionMissing,
        Code::RegionOptIn,
        Code::RoleChainDuration,
        Code::SecretMismatch,
        Code::SectionDuplicated,
        Code::SectionIgnored,
        Code::SessionExpired,
        Code::SessionExpiring,
        Code::SessionNotIssued,
        Code::SessionShadowed,
        Code::SessionTokenMissing,
        Code::SessionTokenUnexpected,
        Code::SourceProfileCycle,
        Code::SourceProfileMissing,
        Code::SsoConfigIncomplete,
        Code::SsoRegionInvalid,
        Code::SsoSessionMissing,
        Code::SsoTokenExpired,
        Code::SsoTokenUnrefreshable,
        Code::StsRejected,
        Code::StsUnreachable,
        Code::TokenExpired,
    ];

    /// The documented name.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::AccessDenied => "access-denied",
            Code::ClockSkew => "clock-skew",
            Code::CreddConfigInvalid => "credd-config-invalid",
            Code::EnvPartial => "env-partial",
            Code::EnvShadowsProfile => "env-shadows-profile",
            Code::ExpiryUnreadable => "expiry-unreadable",
            Code::FileNotWritable => "file-not-writable",
            Code::FilePermissions => "file-permissions",
            Code::FileUnparseable => "file-unparseable",
            Code::FileUnreadable => "file-unreadable",
            Code::Internal => "internal",
            Code::InvalidRequest => "invalid-request",
            Code::KeyDuplicated => "key-duplicated",
            Code::KeyFormat => "key-format",
            Code::KeyIncomplete => "key-incomplete",
            Code::KeyUnknown => "key-unknown",
            Code::KeyringLocked => "keyring-locked",
            Code::KeyringMissing => "keyring-missing",
            Code::KeyringUnavailable => "keyring-unavailable",
            Code::KeyWhitespace => "key-whitespace",
            Code::LegacyTokenConflict => "legacy-token-conflict",
            Code::LoginCacheInvalid => "login-cache-invalid",
            Code::LoginPermissions => "login-permissions",
            Code::LoginShadowedByKeys => "login-shadowed-by-keys",
            Code::LoginTokenExpired => "login-token-expired",
            Code::LongTermKeyInSessionProfile => "long-term-key-in-session-profile",
            Code::MfaCodeNeeded => "mfa-code-needed",
            Code::MfaRequired => "mfa-required",
            Code::MissingProfilePrefixInConfig => "missing-profile-prefix-in-config",
            Code::ProfileNotFound => "profile-not-found",
            Code::ProfilePrefixInCredentials => "profile-prefix-in-credentials",
            Code::RegionInvalid => "region-invalid",
            Code::RegionMissing => "region-missing",
            Code::RegionOptIn => "region-opt-in",
            Code::RoleChainDuration => "role-chain-duration",
            Code::SecretMismatch => "secret-mismatch",
            Code::SectionDuplicated => "section-duplicated",
            Code::SectionIgnored => "section-ignored",
            Code::SessionExpired => "session-expired",
            Code::SessionExpiring => "session-expiring",
            Code::SessionNotIssued => "session-not-issued",
            Code::SessionShadowed => "session-shadowed",
            Code::SessionTokenMissing => "session-token-missing",
            Code::SessionTokenUnexpected => "session-token-unexpected",
            Code::SourceProfileCycle => "source-profile-cycle",
            Code::SourceProfileMissing => "source-profile-missing",
            Code::SsoConfigIncomplete => "sso-config-incomplete",
            Code::SsoRegionInvalid => "sso-region-invalid",
            Code::SsoSessionMissing => "sso-session-missing",
            Code::SsoTokenExpired => "sso-token-expired",
            Code::SsoTokenUnrefreshable => "sso-token-unrefreshable",
            Code::StsRejected => "sts-rejected",
            Code::StsUnreachable => "sts-unreachable",
            Code::TokenExpired => "token-expired",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a finding matters: an error breaks the credentials in use; a warning does not, yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Env,
    CredentialsFile,
    ConfigFile,
    Sts,
}

/// One thing doctor found. Never holds a secret: key IDs appear shortened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    /// The profile it concerns; `None` for the environment's credentials and global matters.
    pub profile: Option<String>,
    pub source: Source,
    pub message: String,
    pub fix: String,
}

/// `name` as one word of a shell command in a fix: as it is when it needs no quoting, else in
/// single quotes (`credd refresh 'sso-session corp'`), so that the fix runs as written.
pub fn shell_word(name: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-.@:/+=,%".contains(c);
    if !name.is_empty() && name.chars().all(plain) {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', r"'\''"))
    }
}

impl Finding {
    pub fn new(
        code: Code,
        severity: Severity,
        profile: Option<&str>,
        source: Source,
        message: String,
        fix: String,
    ) -> Finding {
        Finding { code, severity, profile: profile.map(str::to_string), source, message, fix }
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn a_fix_quotes_a_name_only_when_the_shell_would_split_it() {
        assert_eq!(super::shell_word("dev-1.prod@x"), "dev-1.prod@x");
        assert_eq!(super::shell_word("sso-session corp"), "'sso-session corp'");
        assert_eq!(super::shell_word("it's"), r"'it'\''s'");
        assert_eq!(super::shell_word(""), "''");
    }

    /// The codes in docs/doctor.md's table are exactly the enum's, and each serializes to its name.
    #[test]
    fn the_enum_and_the_documented_table_agree() {
        let docs = include_str!("../docs/doctor.md");
        let table = docs.split("\n## Codes\n").nth(1).expect("a `## Codes` section");
        let table = table.split("\n## ").next().unwrap_or(table);
        let documented: std::collections::BTreeSet<&str> =
            table.lines().filter_map(|l| l.strip_prefix("| `")).filter_map(|l| l.split('`').next()).collect();
        let ours: std::collections::BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(ours, documented, "docs/doctor.md's table and finding::Code differ");
        for c in Code::ALL {
            assert_eq!(serde_json::to_string(c).unwrap(), format!("\"{c}\""));
            assert_eq!(serde_json::from_str::<Code>(&format!("\"{c}\"")).unwrap(), *c);
        }
    }
}
