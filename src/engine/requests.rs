//! The engine's answers to requests: may this session be refreshed now (and with an MFA code),
//! must an export refresh first, did that refresh leave something to export, and the live shells
//! the shell hook registers. A request the engine cannot serve gets a [`Refusal`], worded once for
//! the socket and the no-daemon fallbacks alike.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Engine, view};
use crate::expiry::{self, Phase, State};
use crate::protocol::{ErrorCode, ExportLocation, RefreshResult, ShellSession};
use crate::sessions::{Kind, SessionSpec};

/// Why a request cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no session named \"{name}\"{}", .suggestion.as_ref().map(|m| format!("; did you mean \"{m}\"?")).unwrap_or_default())]
    Unknown { name: String, suggestion: Option<String> },
    #[error(
        "\"{0}\" is watch-only: another tool writes it; add a [[session]] for it to let credd refresh it"
    )]
    WatchOnly(String),
    #[error("\"{0}\" has no mfa_serial, so it takes no MFA code")]
    NoMfaSerial(String),
    #[error("\"{0}\" is refreshing right now; send the code again in a moment")]
    Busy(String),
    /// `--min-ttl` asks more than any session of it can last; the reason says why.
    #[error("{0}")]
    TtlUnreachable(String),
    /// `plight` says where the session stands ("has expired and could not be refreshed"), so a
    /// session that was never issued is never said to have expired.
    #[error("\"{name}\" {plight}: {why}")]
    Unrefreshable { name: String, plight: &'static str, why: String },
}

impl Refusal {
    /// The code the socket carries.
    pub fn code(&self) -> ErrorCode {
        match self {
            Refusal::Unknown { .. } => ErrorCode::UnknownSession,
            Refusal::WatchOnly(_) | Refusal::Unrefreshable { .. } => ErrorCode::NotManaged,
            Refusal::NoMfaSerial(_) | Refusal::Busy(_) => ErrorCode::BadRequest,
            Refusal::TtlUnreachable(_) => ErrorCode::TtlUnreachable,
        }
    }
}

/// What `begin` decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// A refresh starts now: run it for this session and report back with `finish`.
    Start(Box<SessionSpec>),
    /// A refresh is already in flight; wait for its result.
    Join,
}

/// What `export` decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Export {
    /// The credentials at this location do: hand it over.
    Ready(ExportLocation),
    /// Refresh first (expired, inside the lead window, unknown, or shorter than `--min-ttl`),
    /// then answer with [`Engine::exported`].
    RefreshFirst(ExportLocation),
}

impl Engine {
    /// Whether `name` may be refreshed now, with an MFA code if `with_code`. Starting marks it
    /// refreshing, so a second caller joins the first refresh instead of calling STS again.
    pub fn begin(&mut self, name: &str, with_code: bool) -> Result<Begin, Refusal> {
        let names = self.sessions.keys().map(String::as_str);
        let unknown = || Refusal::Unknown {
            name: name.to_string(),
            suggestion: crate::config::did_you_mean(name, names).map(str::to_string),
        };
        let Some(entry) = self.sessions.get(name) else {
            return Err(unknown());
        };
        match (&entry.spec.kind, entry.needs_login()) {
            (Kind::Watched, _) => return Err(Refusal::WatchOnly(name.to_string())),
            (Kind::Token(token), Some(why)) => {
                return Err(Refusal::Unrefreshable {
                    name: name.to_string(),
                    plight: "cannot be refreshed",
                    why: format!("{}; sign in again: {}", why.trim_end_matches('.'), token.login_command()),
                });
            }
            _ => {}
        }
        let refreshing = entry.track.phase() == Phase::Refreshing;
        if with_code {
            if entry.spec.managed().is_none_or(|m| m.settings.mfa_serial.is_none()) {
                return Err(Refusal::NoMfaSerial(name.to_string()));
            }
            // A code belongs to one attempt; joining a refresh that runs without it would drop it.
            if refreshing {
                return Err(Refusal::Busy(name.to_string()));
            }
        }
        if refreshing {
            return Ok(Begin::Join);
        }
        let entry = self.sessions.get_mut(name).expect("looked up above");
        entry.track.begin();
        tracing::debug!("{name}: refreshing");
        Ok(Begin::Start(Box::new(entry.spec.clone())))
    }

    /// Where `name`'s credentials can be read, and whether they must be refreshed first: when
    /// they are expired, inside the lead window or of unknown age, or (with `min_ttl`) would not
    /// last that long. A watch-only session is never refreshed here: the caller judges what it
    /// gets. A `min_ttl` no fresh session could meet is refused before any STS call.
    pub fn export(
        &self,
        name: &str,
        min_ttl: Option<Duration>,
        now: DateTime<Utc>,
        credentials: &Path,
    ) -> Result<Export, Refusal> {
        let Some(entry) = self.sessions.get(name) else {
            let names = self.sessions.keys().map(String::as_str);
            let suggestion = crate::config::did_you_mean(name, names).map(str::to_string);
            return Err(Refusal::Unknown { name: name.to_string(), suggestion });
        };
        let state = entry.state(now, &self.policy);
        let (path, profile) = view::location(&entry.spec, credentials);
        let location = ExportLocation {
            name: name.to_string(),
            origin: view::origin(&entry.spec),
            path,
            profile,
            expires_at: entry.track.expires_at(),
            state,
            region: entry.spec.managed().and_then(|m| m.settings.region.clone()),
        };
        let managed = match &entry.spec.kind {
            Kind::Renewed(m) => Some(m),
            Kind::Watched => return Ok(Export::Ready(location)),
            // A token that holds credentials (an `aws login` session) is served like a session,
            // as it is while it waits for a sign-in (its service refused: no refresh could help).
            Kind::Token(t) if t.serves_credentials() && entry.needs_login().is_some() => {
                return Ok(Export::Ready(location));
            }
            Kind::Token(t) if t.serves_credentials() => None,
            Kind::Token(t) => {
                return Err(Refusal::Unrefreshable {
                    name: name.to_string(),
                    plight: "cannot be exported",
                    why: t.not_credentials().into(),
                });
            }
        };
        let stale = matches!(state, State::Expired | State::Expiring | State::Unknown | State::Refreshing);
        let short = min_ttl.is_some_and(|t| expiry::short_of(entry.track.expires_at(), now, t));
        if let (true, Some(t), Some(managed)) = (short, min_ttl, managed) {
            managed.can_last(name, t).map_err(Refusal::TtlUnreachable)?;
        }
        // A token whose service fixes its lifetime: more than that, less the minute an issue
        // takes, can never be met, and asking would refresh it at every request.
        if let (true, Some(t), Some(life)) =
            (short, min_ttl, entry.spec.lifetime().filter(|_| managed.is_none()))
            && t + Duration::from_secs(60) > life
        {
            return Err(Refusal::TtlUnreachable(format!(
                "\"{name}\" cannot last {}: its sessions last {}; ask for at most half that (credd renews it then)",
                humantime::format_duration(t),
                humantime::format_duration(life)
            )));
        }
        Ok(if stale || short { Export::RefreshFirst(location) } else { Export::Ready(location) })
    }

    /// The answer to an export that waited for `result`: the location with the new expiry when
    /// the refresh worked or the old session is still valid, and the reason otherwise.
    pub fn exported(
        location: ExportLocation,
        result: RefreshResult,
        now: DateTime<Utc>,
    ) -> Result<ExportLocation, Refusal> {
        let still_valid = result.expires_at.is_some_and(|e| e > now);
        if result.ok || still_valid {
            return Ok(ExportLocation { expires_at: result.expires_at, state: result.state, ..location });
        }
        let why = result
            .error
            .map(|e| format!("{}{}", e.message, e.fix.map(|f| format!("; fix: {f}")).unwrap_or_default()))
            .unwrap_or_default();
        let plight = match result.expires_at {
            Some(_) => "has expired and could not be refreshed",
            None => "has no session yet (none recorded where it lives) and could not get one",
        };
        Err(Refusal::Unrefreshable { name: result.name, plight, why })
    }

    /// Records a live shell's session (from the shell hook). Returns whether it is new or changed.
    pub fn register_shell(&mut self, shell: ShellSession) -> bool {
        if self.shells.get(&shell.pid) == Some(&shell) {
            return false;
        }
        tracing::info!(
            "shell {} registered a session: key {}, expires at {}",
            shell.pid,
            crate::secret::short_key_id(&shell.key_id),
            super::at(shell.expires_at)
        );
        self.shells.insert(shell.pid, shell);
        true
    }

    /// Drops the shells whose process is gone (`alive` says which are not).
    pub fn prune_shells(&mut self, alive: impl Fn(u32) -> bool) {
        self.shells.retain(|pid, _| {
            let keep = alive(*pid);
            if !keep {
                tracing::info!("shell {pid} exited; dropping its session");
            }
            keep
        });
    }
}
