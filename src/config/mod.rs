//! credd's own configuration, `~/.config/credd/config.toml`: the schema, its defaults, and the
//! checks that can be made from the file alone (formats, ranges, names).
//!
//! Every error names `file:line:col`, the key, what is allowed, and, for a typo, the key or value
//! that was probably meant. Checks that need the AWS files (does the source profile exist, does it
//! hold long-term keys, cycles) live in `sessions.rs`, which reuses [`ConfigError`].
//!
//! No file at all is a valid configuration: zero-config mode.
//!
//! This file holds the validated types and the format checks; `load.rs` reads and checks a file,
//! and `rules.rs` says which keys each session method requires or refuses.

mod load;
mod rules;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A position in the config file, 1-based.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Loc {
    pub line: usize,
    pub col: usize,
}

impl Loc {
    pub fn of(text: &str, offset: usize) -> Loc {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
        Loc { line, col }
    }
}

/// One problem with the config file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub path: PathBuf,
    pub loc: Loc,
    /// The key at fault, when there is one.
    pub key: Option<String>,
    pub message: String,
    pub fix: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.path.display(), self.loc.line, self.loc.col)?;
        if let Some(k) = &self.key {
            write!(f, "`{k}`: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, "; {fix}")?;
        }
        Ok(())
    }
}

/// Which call keeps a session alive: an STS call, or IAM Identity Center's GetRoleCredentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    AssumeRole,
    SessionToken,
    /// An SSO profile's own role credentials, written where tools that cannot read SSO profiles
    /// find them.
    Sso,
    /// An `aws login` profile's current credentials, written where tools that cannot read
    /// `login_session` find them.
    Login,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::AssumeRole => "assume-role",
            Method::SessionToken => "session-token",
            Method::Sso => "sso",
            Method::Login => "login",
        }
    }

    /// The duration STS grants when none is configured.
    pub fn default_duration(self) -> Duration {
        match self {
            // The permission set decides; 1 h is its default.
            Method::AssumeRole | Method::Sso => Duration::from_secs(3600),
            // The sign-in service issues 15 minutes.
            Method::Login => Duration::from_secs(900),
            Method::SessionToken => Duration::from_secs(12 * 3600),
        }
    }

    /// The range STS accepts (role chaining narrows it further; see `sessions.rs`).
    pub fn duration_range(self) -> (Duration, Duration) {
        rules::of(self).duration
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where a session's credentials live: one of three, so an impossible mix (no profile and no
/// env file) cannot be written down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Home {
    /// The profile named like the session, in the credentials file.
    Profile,
    /// Only this dotenv file (`write_profile = false`, or a `[[watch]]`).
    EnvFile(PathBuf),
    /// The profile, and a copy in this dotenv file.
    Both(PathBuf),
    /// A kept token's cache file (for IAM Identity Center, `~/.aws/sso/cache/<sha1>.json`): no
    /// credentials, a token.
    Cache(PathBuf),
}

impl Home {
    /// The env file the session is read from or also written to.
    pub fn env_file(&self) -> Option<&Path> {
        match self {
            Home::Profile | Home::Cache(_) => None,
            Home::EnvFile(p) | Home::Both(p) => Some(p),
        }
    }

    /// Whether the session has a profile in the credentials file.
    pub fn has_profile(&self) -> bool {
        matches!(self, Home::Profile | Home::Both(_))
    }
}

/// How a managed session is refreshed: every setting a `[[session]]` takes, declared once. The
/// config fills it, zero-config discovery fills it, and the providers read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub method: Method,
    pub source_profile: String,
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    /// `None` until planning fills in `credd-USER@HOST`.
    pub role_session_name: Option<String>,
    pub mfa_serial: Option<String>,
    pub mfa_command: Option<String>,
    pub duration: Duration,
    pub region: Option<String>,
    /// An assume-role session with MFA that takes its own code at each refresh, instead of
    /// being assumed from the shared MFA session of its source and device (`direct_mfa`).
    pub direct_mfa: bool,
}

impl Settings {
    /// A session of `method` from `source_profile`, with every optional setting unset.
    pub fn new(method: Method, source_profile: &str) -> Settings {
        Settings {
            method,
            source_profile: source_profile.to_string(),
            role_arn: None,
            external_id: None,
            role_session_name: None,
            mfa_serial: None,
            mfa_command: None,
            duration: method.default_duration(),
            region: None,
            direct_mfa: false,
        }
    }
}

/// A managed session, as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    pub name: String,
    pub home: Home,
    pub settings: Settings,
    /// Where the `[[session]]` table starts, and where `source_profile` is, for later errors.
    pub loc: Loc,
    pub source_loc: Loc,
}

/// `[notify]`: whether and when to tell a human, and an optional command hook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyConfig {
    pub enabled: bool,
    pub warn_before: Duration,
    pub recovered: bool,
    pub command: Option<String>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig { enabled: true, warn_before: Duration::from_secs(600), recovered: false, command: None }
    }
}

/// `[[watch]]`: an env file another tool writes, tracked for expiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchConfig {
    pub name: String,
    pub env_file: PathBuf,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The file this came from; `None` in zero-config mode.
    pub path: Option<PathBuf>,
    pub refresh_before: Duration,
    pub jitter: Duration,
    pub sts_timeout: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    pub log_format: LogFormat,
    pub region: Option<String>,
    pub socket: Option<PathBuf>,
    /// `credd console`'s federation endpoint, up to `/federation`, instead of the partition's.
    pub federation_endpoint: Option<String>,
    /// How long the shared MFA session of a source and device lasts (GetSessionToken with MFA):
    /// the roles assumed from it refresh without a code until it ends.
    pub mfa_session_duration: Duration,
    pub notify: NotifyConfig,
    pub sessions: Vec<SessionConfig>,
    pub watches: Vec<WatchConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: None,
            refresh_before: Duration::from_secs(15 * 60),
            jitter: Duration::from_secs(30),
            sts_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_secs(5),
            backoff_max: Duration::from_secs(300),
            log_format: LogFormat::Text,
            region: None,
            socket: None,
            federation_endpoint: None,
            mfa_session_duration: Method::SessionToken.default_duration(),
            notify: NotifyConfig::default(),
            sessions: Vec::new(),
            watches: Vec::new(),
        }
    }
}

/// The closest candidate to a typo, if it is close enough to be worth suggesting: a small edit
/// distance (which catches swapped letters in short names) or a high Jaro-Winkler similarity
/// (which catches long names with a dropped syllable).
pub fn did_you_mean<'a>(typo: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter_map(|c| {
            let edits = strsim::damerau_levenshtein(typo, c);
            let similarity = strsim::jaro_winkler(typo, c);
            let close = edits <= (typo.len().max(c.len()) / 3).max(1) || similarity > 0.85;
            close.then_some((edits, similarity, c))
        })
        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|(_, _, c)| c)
}

/// `arn:PARTITION:iam::ACCOUNT:KIND/...`, the shape STS requires.
pub fn is_iam_arn(s: &str, kind: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].strip_prefix(kind).is_some_and(|r| r.starts_with('/') && r.len() > 1)
}

/// STS's RoleSessionName rule: 2–64 of `[\w+=,.@-]`.
pub fn is_role_session_name(s: &str) -> bool {
    (2..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// An MFA serial is a virtual device ARN or a hardware token serial.
pub(crate) fn is_mfa_serial(s: &str) -> bool {
    is_iam_arn(s, "mfa")
        || ((9..=256).contains(&s.len())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "_+=/:,.@-".contains(c)))
}

pub(crate) fn is_region(s: &str) -> bool {
    // A syntactic check; whether the region exists is `doctor`'s question.
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts.last().unwrap().bytes().all(|b| b.is_ascii_digit())
}
