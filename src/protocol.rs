//! The control protocol: newline-delimited JSON over a Unix stream socket, one request and one
//! reply line per connection; only a `status-document` reply has the document it announces
//! after its line. Only the types live here (the engine, the CLI and the socket all speak
//! them, so they sit low: they name only `config`'s method, `expiry`'s state and the finding
//! codes); `ipc::server` and `ipc::client` move them.
//!
//! Every frame carries `protocol`. A daemon answers a request of another version with an error
//! that names both versions, and a client checks the reply's version the same way, so a
//! half-upgraded install says what is wrong instead of misreading fields.
//!
//! Nothing here may ever hold a secret: status carries names, states, times, ARNs and shortened
//! key IDs only.

use crate::config::Method;
pub use crate::expiry::State;
use crate::finding::Code;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Bump on any incompatible change.
pub const PROTOCOL: u32 = 1;
/// Requests larger than this are refused; a client cannot grow the daemon's memory.
pub const MAX_REQUEST: usize = 64 * 1024;

/// A request, as the client sends it: `{"protocol":1,"request":"status"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestFrame {
    pub protocol: u32,
    #[serde(flatten)]
    pub request: Request,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "kebab-case")]
pub enum Request {
    /// `credd status`: every session, its state and why. A `form` asks the daemon to render the
    /// answer as the client prints it, so the client copies bytes instead of parsing a few MB
    /// with thousands of sessions: `document` for `--json` ([`Reply::StatusDocument`]),
    /// `prompt` for `--prompt` ([`Reply::StatusPrompt`]). A daemon that predates `form` ignores
    /// it and sends the one-line `status`, which the client renders itself.
    Status {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        form: Option<StatusForm>,
    },
    /// `credd refresh NAME` or `--all` (`name` absent): refresh now and wait for the outcome.
    Refresh {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// `credd mfa NAME CODE`: a one-time MFA code for a session that needs one.
    Mfa { name: String, code: String },
    /// `credd reload`: re-read the config and the AWS files.
    Reload,
    /// `credd export` / `credential-process`: make sure the session is fresh (refreshing first if
    /// it is expired or inside its lead window) and say where its credentials are. The reply
    /// never carries them: the client reads them from that file, as the same user.
    /// With `min_ttl` (seconds), a session with less left than that is refreshed too, and one
    /// that cannot last that long is refused before any STS call (`ttl-unreachable`).
    Export {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_ttl: Option<u64>,
    },
    /// The shell hook: this shell holds a session (no secret: the key ID and expiry only).
    RegisterShell(ShellSession),
}

/// How the daemon renders a status for the client (see [`Request::Status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatusForm {
    Document,
    Prompt,
}

/// A live shell's session, as its prompt hook reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShellSession {
    pub pid: u32,
    pub tty: Option<String>,
    pub key_id: String,
    pub expires_at: DateTime<Utc>,
    /// `CREDD_SESSION`, when the variables came from `credd export`.
    pub session: Option<String>,
}

/// A reply: `{"protocol":1,"version":"0.1.0","pid":123,"ok":true,"reply":"status",...}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplyFrame {
    pub protocol: u32,
    pub version: String,
    pub pid: u32,
    #[serde(flatten)]
    pub reply: Reply,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "kebab-case")]
pub enum Reply {
    /// Answers `status`.
    Status(Status),
    /// Answers `status` with `form: document`. The `status` frame follows on the connection,
    /// indented as `serde_json::to_string_pretty` writes it, with a final newline, and the
    /// connection then ends. `attention` is [`Status::needs_attention`], the exit code
    /// `credd status` gives.
    StatusDocument { attention: bool },
    /// Answers `status` with `form: prompt`: the line `credd status --prompt` prints (empty when
    /// all is well), and the exit code's `attention`.
    StatusPrompt { line: String, attention: bool },
    /// Answers `refresh` and `mfa`: one result per session refreshed.
    Refreshed { results: Vec<RefreshResult> },
    /// Answers `reload`.
    Reloaded { errors: Vec<String> },
    /// Answers `export`: where the fresh credentials are.
    Exported(ExportLocation),
    /// Answers `register-shell`.
    Registered,
    /// Answers anything that could not be done.
    Error { code: ErrorCode, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    ProtocolMismatch,
    BadRequest,
    TooLarge,
    Timeout,
    UnknownSession,
    NotManaged,
    ShuttingDown,
    /// `export --min-ttl` / `ensure`: the session cannot last that long.
    TtlUnreachable,
}

/// The daemon and everything it tracks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    pub started_at: DateTime<Utc>,
    pub config_path: String,
    pub files: Vec<String>,
    pub sessions: Vec<SessionStatus>,
}

impl Status {
    /// Whether `credd status` exits 1: some session needs the user.
    pub fn needs_attention(&self) -> bool {
        self.sessions.iter().any(SessionStatus::needs_attention)
    }
}

/// Where a session's credentials live: `credentials-file`, `env-file`, `shell`, `sso-cache`,
/// `login-cache` or `keyring`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    CredentialsFile,
    EnvFile,
    /// A live shell that reported the session through the prompt hook.
    Shell,
    /// An IAM Identity Center (SSO) token in `~/.aws/sso/cache`.
    SsoCache,
    /// An `aws login` session's tokens and credentials in `~/.aws/login/cache`.
    LoginCache,
    /// The session of a profile whose long-term keys are in the OS keyring, cached as an env file
    /// in credd's runtime directory for `credd credential-process`.
    Keyring,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::CredentialsFile => "credentials-file",
            Origin::EnvFile => "env-file",
            Origin::Shell => "shell",
            Origin::SsoCache => "sso-cache",
            Origin::LoginCache => "login-cache",
            Origin::Keyring => "keyring",
        }
    }

    /// Whether the session's credentials are read from an env file (`path` in a reply).
    pub fn in_env_file(self) -> bool {
        matches!(self, Origin::EnvFile | Origin::Keyring)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStatus {
    pub name: String,
    pub origin: Origin,
    pub profile: String,
    pub managed: bool,
    /// `assume-role`, `session-token` or `sso`; null for a watched session or a kept token.
    pub method: Option<Method>,
    /// `fresh`, `expiring`, `refreshing`, `needs-mfa`, `needs-login`, `failing`, `expired` or
    /// `unknown`.
    pub state: State,
    pub expires_at: Option<DateTime<Utc>>,
    pub next_refresh_at: Option<DateTime<Utc>>,
    pub last_refresh_at: Option<DateTime<Utc>>,
    pub identity: Option<String>,
    pub last_error: Option<LastError>,
    /// For an SSO token (`origin: sso-cache`) that credd can refresh: until when (its client
    /// registration's end). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refreshable_until: Option<DateTime<Utc>>,
    /// How a session with MFA gets its code (issue 29): the shared MFA session, a role assumed
    /// from it, or a role that keeps its own code, and why. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl SessionStatus {
    /// Needs the user: an MFA code, a sign-in, a failure or an expiry, or a session credd does not
    /// refresh running out. A managed session that is expiring is credd's job, not theirs.
    pub fn needs_attention(&self) -> bool {
        match self.state {
            State::NeedsMfa | State::NeedsLogin | State::Failing | State::Expired => true,
            State::Expiring => !self.managed,
            State::Fresh | State::Refreshing | State::Unknown => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastError {
    /// STS's error code when there is one, e.g. `InvalidClientTokenId`.
    pub code: Option<String>,
    /// The doctor's finding code, e.g. `key-unknown`.
    pub finding: Option<Code>,
    pub message: String,
    pub fix: Option<String>,
}

/// Where a session's current credentials can be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportLocation {
    pub name: String,
    /// `credentials-file` (read `profile` from `path`) or `env-file` (read the dotenv at `path`).
    pub origin: Origin,
    pub path: String,
    pub profile: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub state: State,
    /// The AWS region, when credd knows it.
    pub region: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshResult {
    pub name: String,
    pub ok: bool,
    pub state: State,
    pub expires_at: Option<DateTime<Utc>>,
    pub error: Option<LastError>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fresh watch-only session in the credentials file.
    pub(crate) fn plain(name: &str) -> SessionStatus {
        SessionStatus {
            name: name.into(),
            origin: Origin::CredentialsFile,
            profile: name.into(),
            managed: false,
            method: None,
            state: State::Fresh,
            expires_at: None,
            next_refresh_at: None,
            last_refresh_at: None,
            identity: None,
            last_error: None,
            refreshable_until: None,
            note: None,
        }
    }

    #[test]
    fn attention_rules() {
        let s = |state: State, managed: bool| SessionStatus { state, managed, ..plain("a") };
        assert!(!s(State::Fresh, true).needs_attention());
        assert!(!s(State::Expiring, true).needs_attention());
        assert!(s(State::Expiring, false).needs_attention());
        for st in [State::NeedsMfa, State::Failing, State::Expired] {
            assert!(s(st, true).needs_attention());
        }
    }

    #[test]
    fn wire_format() {
        let f = RequestFrame { protocol: 1, request: Request::Refresh { name: Some("dev".into()) } };
        assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"protocol":1,"request":"refresh","name":"dev"}"#);
        let back: RequestFrame = serde_json::from_str(r#"{"protocol":1,"request":"status"}"#).unwrap();
        assert_eq!(back.request, Request::Status { form: None });
        let doc = RequestFrame { protocol: 1, request: Request::Status { form: Some(StatusForm::Document) } };
        assert_eq!(
            serde_json::to_string(&doc).unwrap(),
            r#"{"protocol":1,"request":"status","form":"document"}"#
        );
        let prompt: RequestFrame =
            serde_json::from_str(r#"{"protocol":1,"request":"status","form":"prompt"}"#).unwrap();
        assert_eq!(prompt.request, Request::Status { form: Some(StatusForm::Prompt) });
        let plain = RequestFrame { protocol: 1, request: Request::Status { form: None } };
        assert_eq!(serde_json::to_string(&plain).unwrap(), r#"{"protocol":1,"request":"status"}"#);
        let all: RequestFrame = serde_json::from_str(r#"{"protocol":1,"request":"refresh"}"#).unwrap();
        assert_eq!(all.request, Request::Refresh { name: None });
        let r = ReplyFrame {
            protocol: 1,
            version: "0.1.0".into(),
            pid: 7,
            reply: Reply::Error { code: ErrorCode::ProtocolMismatch, message: "m".into() },
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"protocol":1,"version":"0.1.0","pid":7,"reply":"error","code":"protocol-mismatch","message":"m"}"#
        );
    }
}
