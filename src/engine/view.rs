//! Read-only views of the engine: the status the socket shows, a waiting client's result, what the
//! alerts judge, and the one-line summary for the log and systemd. None of them holds a secret, and
//! none changes anything.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::{Engine, Entry};
use crate::alerts::{ErrorView, SessionView};
use crate::config::Home;
use crate::expiry::{Phase, State, Track};
use crate::finding::{Code, shell_word};
use crate::protocol::{LastError, Origin, RefreshResult, SessionStatus, ShellSession};
use crate::refresh::{RefreshError, classify};
use crate::sessions::{Mfa, SessionSpec};

/// How the socket names where a session lives: it is read from its profile when it has one; a
/// keyring-held profile's session is cached in an env file, but its origin is the keyring.
pub fn origin(spec: &SessionSpec) -> Origin {
    match (&spec.home, spec.token()) {
        (_, Some(t)) => t.origin(),
        (Home::EnvFile(_), _) if spec.keeps_held_session() => crate::kinds::held_origin(),
        (Home::EnvFile(_), _) => Origin::EnvFile,
        _ => Origin::CredentialsFile,
    }
}

/// The file a session is read from, and its profile there (none for an env file).
pub fn location(spec: &SessionSpec, credentials: &Path) -> (String, Option<String>) {
    match &spec.home {
        Home::EnvFile(p) | Home::Cache(p) => (p.display().to_string(), None),
        Home::Profile | Home::Both(_) => (credentials.display().to_string(), Some(spec.name.clone())),
    }
}

/// The one thing that fixes `err` for this session: for a kept token, signing in again.
pub fn fix(spec: &SessionSpec, err: &RefreshError) -> Option<String> {
    if let Some(token) = spec.token() {
        return Some(token.login_command());
    }
    let m = spec.managed()?;
    classify::fix_for(err, &m.settings.source_profile, m.settings.method.as_str())
}

/// Why a session's state is `unknown` (no expiry credd can read), and what fixes it: status never
/// shows that state without its reason.
fn unknown_reason(e: &Entry) -> LastError {
    let name = &e.spec.name;
    match &e.expiry_unreadable {
        Some(why) => LastError {
            code: None,
            finding: Some(Code::ExpiryUnreadable),
            message: format!("its expiry cannot be read: {why}"),
            fix: Some(format!(
                "{}{}",
                match e.spec.home {
                    Home::EnvFile(_) =>
                        "write the expiry as an RFC3339 timestamp (2026-01-01T12:00:00Z), quoted or not, with any comment after ` #`",
                    _ => "fix or remove that line (credd writes x_security_token_expires in RFC3339)",
                },
                if e.track.managed() {
                    format!(", or run `credd refresh {}`", shell_word(name))
                } else {
                    String::new()
                }
            )),
        },
        // A session credd keeps that has no expiry yet has not been issued.
        None if e.track.managed() => LastError {
            code: None,
            finding: Some(Code::SessionNotIssued),
            message: if e.track.on_demand() {
                "no session issued yet: credd issues one when it is first asked for".into()
            } else {
                "no session issued yet".into()
            },
            fix: Some(format!("credd refresh {}", shell_word(name))),
        },
        None => LastError {
            code: None,
            finding: None,
            message: "no expiry is recorded where it lives, so credd cannot tell when it ends".into(),
            fix: Some(
                "have the tool that writes it record its expiry (x_security_token_expires), or ignore it"
                    .into(),
            ),
        },
    }
}

fn shell_name(s: &ShellSession) -> String {
    format!("shell:{}", s.pid)
}

impl Engine {
    /// The status of every session and live shell, as the control socket shows it.
    pub fn status(&self, now: DateTime<Utc>) -> Vec<SessionStatus> {
        let mut out: Vec<SessionStatus> =
            self.sessions.values().map(|e| self.session_status(e, now)).collect();
        out.extend(self.shells.values().map(|s| self.shell_status(s, now)));
        out
    }

    fn last_error(&self, e: &Entry, now: DateTime<Utc>) -> Option<LastError> {
        if let Some((serial, why)) = e.needs_mfa() {
            return Some(LastError {
                code: None,
                finding: Some(Code::MfaCodeNeeded),
                message: format!("needs an MFA code for {serial} ({why})"),
                fix: Some(format!(
                    "credd mfa {} CODE",
                    shell_word(e.waits_for.as_deref().unwrap_or(&e.spec.name))
                )),
            });
        }
        if let (None, Some(why), Some(token)) = (&e.last_error, e.needs_login(), e.spec.token()) {
            return Some(LastError {
                code: None,
                finding: Some(token.refused()),
                message: format!("the {} cannot be refreshed: {why}", token.noun()),
                fix: Some(token.login_command()),
            });
        }
        if e.last_error.is_none() && e.state(now, &self.policy) == State::Unknown {
            return Some(unknown_reason(e));
        }
        e.last_error.as_ref().map(|err| LastError {
            code: err.code.clone(),
            finding: err.finding,
            message: err.message.clone(),
            fix: fix(&e.spec, err),
        })
    }

    fn session_status(&self, e: &Entry, now: DateTime<Utc>) -> SessionStatus {
        let managed = e.spec.managed();
        SessionStatus {
            name: e.spec.name.clone(),
            origin: origin(&e.spec),
            profile: match &e.spec.home {
                Home::EnvFile(p) | Home::Cache(p) => p.display().to_string(),
                Home::Profile | Home::Both(_) => e.spec.name.clone(),
            },
            // What the schedule says: the spec's, or for an SSO token whether it can be refreshed.
            managed: e.track.managed(),
            method: managed.map(|m| m.settings.method),
            state: e.state(now, &self.policy),
            expires_at: e.track.expires_at(),
            next_refresh_at: e.track.next_action(&self.policy).map(|t| t.max(now)),
            last_refresh_at: e.last_refresh_at,
            identity: match e.spec.token() {
                Some(t) if !t.profiles().is_empty() => Some(format!("profiles {}", t.profiles().join(", "))),
                _ => e.identity.clone(),
            },
            last_error: self.last_error(e, now),
            refreshable_until: e.refreshable_until,
            note: e.spec.mfa().map(Mfa::note),
        }
    }

    fn shell_track(s: &ShellSession) -> Track {
        Track::new(shell_name(s), false, Some(s.expires_at), None, false)
    }

    fn shell_status(&self, s: &ShellSession, now: DateTime<Utc>) -> SessionStatus {
        SessionStatus {
            name: shell_name(s),
            origin: Origin::Shell,
            profile: s.session.clone().unwrap_or_default(),
            managed: false,
            method: None,
            state: Self::shell_track(s).state(now, &self.policy),
            expires_at: Some(s.expires_at),
            next_refresh_at: None,
            last_refresh_at: None,
            identity: Some(format!(
                "tty {}, key {}",
                s.tty.as_deref().unwrap_or("?"),
                crate::secret::short_key_id(&s.key_id)
            )),
            last_error: None,
            refreshable_until: None,
            note: None,
        }
    }

    /// The outcome of the last refresh of `name`, for a client waiting on it.
    pub fn result(&self, name: &str, now: DateTime<Utc>) -> RefreshResult {
        match self.sessions.get(name) {
            Some(e) => RefreshResult {
                name: name.to_string(),
                ok: e.last_error.is_none() && e.needs_mfa().is_none() && e.track.phase() == Phase::Idle,
                state: e.state(now, &self.policy),
                expires_at: e.track.expires_at(),
                error: self.last_error(e, now),
            },
            None => RefreshResult {
                name: name.to_string(),
                ok: false,
                state: State::Unknown,
                expires_at: None,
                error: Some(LastError {
                    code: None,
                    finding: None,
                    message: "no longer tracked".into(),
                    fix: None,
                }),
            },
        }
    }

    /// What the alerting logic needs about each session and live shell.
    pub fn alert_views(&self) -> Vec<SessionView> {
        let sessions = self.sessions.values().map(|e| {
            let managed = e.spec.managed();
            SessionView {
                name: e.spec.name.clone(),
                // What the schedule says: the spec's, or for an SSO token whether it can be refreshed.
                managed: e.track.managed(),
                refreshing: e.track.phase() == Phase::Refreshing,
                expires_at: e.track.expires_at(),
                needs_mfa: e.needs_mfa().map(|(s, w)| (s.to_string(), w.to_string())),
                mfa_via: match e.spec.mfa() {
                    Some(Mfa::Via { session, .. }) => Some(session.clone()),
                    _ => e.waits_for.clone(),
                },
                // Only a code renews it: announced ahead of its end (`warn_before`).
                mfa_session: match (e.spec.mfa(), managed) {
                    (Some(Mfa::Shared { serial, dependents }), Some(m))
                        if m.settings.mfa_command.is_none() =>
                    {
                        Some(crate::alerts::MfaSessionView {
                            device: serial.clone(),
                            serves: dependents.clone(),
                        })
                    }
                    _ => None,
                },
                login: e.spec.token().and_then(|token| {
                    // A sign-in is needed when the token expires, if it cannot be refreshed, or
                    // else when its client registration ends.
                    let by =
                        if e.needs_login().is_some() { e.track.expires_at() } else { e.refreshable_until }?;
                    Some(crate::alerts::LoginView {
                        by,
                        why: e.needs_login().map(str::to_string),
                        fix: token.login_command(),
                        profiles: token.profiles().to_vec(),
                    })
                }),
                error: e.last_error.as_ref().map(|err| ErrorView {
                    fatal: err.is_fatal(),
                    finding: err.finding,
                    code: err.code.clone(),
                    message: err.message.clone(),
                    fix: fix(&e.spec, err),
                    source: managed.map(|m| m.settings.source_profile.clone()),
                    key_id: err.key_id.as_deref().map(str::to_string),
                }),
                shell: None,
            }
        });
        let shells = self.shells.values().map(|s| SessionView {
            name: shell_name(s),
            expires_at: Some(s.expires_at),
            shell: Some(crate::alerts::ShellView {
                tty: s.tty.clone(),
                key: crate::secret::short_key_id(&s.key_id),
                session: s.session.clone(),
            }),
            ..Default::default()
        });
        sessions.chain(shells).collect()
    }

    /// How long a session of `name`'s own lasts, as far as the config says (see
    /// `SessionSpec::lifetime`).
    pub fn lifetime(&self, name: &str) -> Option<std::time::Duration> {
        self.sessions.get(name)?.spec.lifetime()
    }

    /// Counts by state, for the log line at start and for systemd's `STATUS=`.
    pub fn summary(&self, now: DateTime<Utc>) -> String {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for e in self.sessions.values() {
            *counts.entry(e.state(now, &self.policy).as_str()).or_default() += 1;
        }
        if counts.is_empty() {
            return "no sessions".into();
        }
        counts.iter().map(|(s, n)| format!("{n} {s}")).collect::<Vec<_>>().join(", ")
    }
}
