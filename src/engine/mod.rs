//! The daemon's state: every tracked session with its schedule, its last result and why. It
//! changes only through three doors: `reconcile` (the files or the config changed), `start` (a
//! refresh begins) and `finish` (a refresh ended). Each decision is logged with its reason.
//!
//! No I/O here: the loop in `mod.rs` reads files, runs refreshes and passes the results in.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use chrono::{DateTime, SecondsFormat, Utc};

use crate::config::{Config, Home};
use crate::expiry::{self, Phase, Policy, State, Track};
use crate::files::Loaded;
use crate::ipc::protocol::{LastError, Origin, RefreshResult, SessionStatus};
use crate::profile::Sections;
use crate::profile::meta;
use crate::refresh::run::Outcome;
use crate::refresh::store::Stored;
use crate::refresh::{RefreshError, classify};
use crate::sessions::{self, SessionSpec};
use std::path::Path;

/// One tracked session.
#[derive(Debug, Clone)]
pub struct Entry {
    pub spec: SessionSpec,
    pub track: Track,
    pub last_refresh_at: Option<DateTime<Utc>>,
    pub last_error: Option<RefreshError>,
    /// Set while the session waits for an MFA code: the device and what was tried.
    pub needs_mfa: Option<(String, String)>,
    pub identity: Option<String>,
    /// A fingerprint of the source profile's keys, to notice when the user fixes them.
    source_fp: Option<u64>,
}

impl Entry {
    pub fn state(&self, now: DateTime<Utc>, policy: &Policy) -> State {
        self.track.state(now, policy)
    }
}

pub struct Engine {
    pub config: Config,
    pub policy: Policy,
    pub sessions: BTreeMap<String, Entry>,
    host_user: (String, String),
}

fn at(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// How the socket names where a session lives: it is read from its profile when it has one.
pub fn origin(home: &Home) -> Origin {
    match home {
        Home::EnvFile(_) => Origin::EnvFile,
        Home::Profile | Home::Both(_) => Origin::CredentialsFile,
    }
}

/// The file a session is read from, and its profile there (none for an env file).
pub fn location(spec: &SessionSpec, credentials: &Path) -> (String, Option<String>) {
    match &spec.home {
        Home::EnvFile(p) => (p.display().to_string(), None),
        Home::Profile | Home::Both(_) => (credentials.display().to_string(), Some(spec.name.clone())),
    }
}

fn fingerprint(merged: &Sections, spec: &SessionSpec) -> Option<u64> {
    let m = spec.managed.as_ref()?;
    let c = meta::credentials(merged.profile(&m.settings.source_profile)?)?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (c.access_key_id.as_str(), c.secret_access_key.expose()).hash(&mut h);
    Some(h.finish())
}

impl Engine {
    pub fn new(config: Config, host_user: (String, String)) -> Engine {
        Engine { policy: Policy::from_config(&config), config, sessions: BTreeMap::new(), host_user }
    }

    /// Brings the session list in line with the config and the files as they are now.
    pub fn reconcile(&mut self, loaded: &Loaded, now: DateTime<Utc>) {
        let plan = sessions::plan(&self.config, loaded, (&self.host_user.0, &self.host_user.1));
        for e in &plan.errors {
            tracing::error!("{e}; this session is left out until the config or the AWS files are fixed");
        }
        let creds = loaded.credentials.as_ref().map(|d| d.sections()).unwrap_or_default();
        let merged = loaded.merged();
        let mut next = BTreeMap::new();
        for spec in plan.sessions {
            let name = spec.name.clone();
            let file_expiry = spec.recorded_expiry(loaded, &creds);
            let fp = fingerprint(&merged, &spec);
            let entry = match self.sessions.remove(&name) {
                None => {
                    let how = match &spec.managed {
                        Some(m) => format!(
                            "managed ({}{}, source {})",
                            m.settings.method.as_str(),
                            m.discovered.map(|d| format!(", found in {d} layout")).unwrap_or_default(),
                            m.settings.source_profile
                        ),
                        None => "watch-only".to_string(),
                    };
                    match file_expiry {
                        Some(e) => tracing::info!("{name}: tracking, {how}; expires at {}", at(e)),
                        None => tracing::info!("{name}: tracking, {how}; no expiry recorded yet"),
                    }
                    Entry {
                        track: Track {
                            name: name.clone(),
                            managed: spec.managed.is_some(),
                            expires_at: file_expiry,
                            lifetime: None,
                            phase: Phase::Idle,
                        },
                        spec,
                        last_refresh_at: None,
                        last_error: None,
                        needs_mfa: None,
                        identity: None,
                        source_fp: fp,
                    }
                }
                Some(mut old) => {
                    if old.spec != spec {
                        tracing::info!("{name}: configuration changed; rescheduling");
                        old.track.managed = spec.managed.is_some();
                        old.track.phase = Phase::Idle;
                        old.last_error = None;
                        old.needs_mfa = None;
                        old.spec = spec;
                    }
                    if old.source_fp != fp {
                        if matches!(old.track.phase, Phase::Failing { .. } | Phase::NeedsMfa) {
                            tracing::info!("{name}: the source profile's keys changed; trying again now");
                            old.track.phase = Phase::Idle;
                            old.last_error = None;
                            old.needs_mfa = None;
                            old.track.expires_at = old.track.expires_at.min(Some(now));
                        }
                        old.source_fp = fp;
                    }
                    if file_expiry != old.track.expires_at && old.track.phase != Phase::Refreshing {
                        // Another program (aws configure, saml2aws, a second credd) wrote this
                        // profile. What is in the file is what every SDK uses: adopt it.
                        match file_expiry {
                            Some(e) => tracing::info!(
                                "{name}: adopted a session written by another program; expires at {}",
                                at(e)
                            ),
                            None => tracing::info!("{name}: the file no longer records an expiry"),
                        }
                        old.track.expires_at = file_expiry;
                        old.track.lifetime = None;
                        // A new session in the file resolves whatever we were stuck on.
                        if matches!(old.track.phase, Phase::Failing { .. } | Phase::NeedsMfa) {
                            old.track.phase = Phase::Idle;
                            old.last_error = None;
                            old.needs_mfa = None;
                        }
                    }
                    old
                }
            };
            next.insert(name, entry);
        }
        for name in self.sessions.keys() {
            if !next.contains_key(name) {
                tracing::info!("{name}: no longer tracked (gone from the files or the config)");
            }
        }
        self.sessions = next;
        self.log_schedule(now);
    }

    /// Installs a new config (already validated) and reconciles.
    pub fn set_config(&mut self, config: Config, loaded: &Loaded, now: DateTime<Utc>) {
        self.policy = Policy::from_config(&config);
        self.config = config;
        self.reconcile(loaded, now);
    }

    fn log_schedule(&self, now: DateTime<Utc>) {
        for (name, e) in &self.sessions {
            if let (Some(when), Some(exp)) = (e.track.next_action(&self.policy), e.track.expires_at)
                && matches!(e.track.phase, Phase::Idle)
            {
                let lead = expiry::lead(&self.policy, e.track.lifetime);
                if when <= now {
                    tracing::info!(
                        "{name}: refresh now, within {} of expiry at {}",
                        humantime::format_duration(lead),
                        at(exp)
                    );
                } else {
                    tracing::debug!(
                        "{name}: refresh at {}, {} before expiry at {}",
                        at(when),
                        humantime::format_duration(lead),
                        at(exp)
                    );
                }
            }
        }
    }

    /// Sessions whose refresh is due now.
    pub fn due(&self, now: DateTime<Utc>) -> Vec<String> {
        self.sessions
            .iter()
            .filter(|(_, e)| e.track.is_due(now, &self.policy))
            .map(|(n, _)| n.clone())
            .collect()
    }

    pub fn start(&mut self, name: &str) {
        if let Some(e) = self.sessions.get_mut(name) {
            e.track.phase = Phase::Refreshing;
        }
    }

    /// Records how a refresh ended. `sample` in [0, 1) draws the backoff jitter.
    pub fn finish(&mut self, name: &str, outcome: Outcome, now: DateTime<Utc>, sample: f64) {
        let policy = self.policy;
        let Some(e) = self.sessions.get_mut(name) else {
            return;
        };
        let managed = e.spec.managed.clone();
        match outcome {
            Outcome::Refreshed { issued, stored } => {
                e.last_refresh_at = Some(now);
                e.last_error = None;
                e.needs_mfa = None;
                e.track.phase = Phase::Idle;
                if issued.identity.is_some() {
                    e.identity = issued.identity;
                }
                match stored {
                    Stored::Written => {
                        e.track.expires_at = Some(issued.credentials.expiration);
                        e.track.lifetime = managed.map(|m| m.settings.duration);
                        let next = e.track.next_action(&policy).map(at).unwrap_or_default();
                        tracing::info!(
                            "{name}: refreshed ({}); new key {}, expires at {}; next refresh at {next}",
                            e.spec.managed.as_ref().map(|m| m.settings.method.as_str()).unwrap_or("?"),
                            crate::secret::short_key_id(&issued.credentials.access_key_id),
                            at(issued.credentials.expiration),
                        );
                    }
                    Stored::KeptNewer(t) => {
                        e.track.expires_at = Some(t);
                        e.track.lifetime = None;
                        tracing::info!(
                            "{name}: kept the session already in the file: it lasts longer (until {})",
                            at(t)
                        );
                    }
                }
            }
            Outcome::NeedsMfa { serial, why } => {
                e.track.phase = Phase::NeedsMfa;
                tracing::warn!(
                    "{name}: due, but needs an MFA code for {serial} ({why}); run `credd mfa {name} CODE`"
                );
                e.needs_mfa = Some((serial, why));
            }
            Outcome::Failed(err) => {
                e.needs_mfa = None;
                let fatal = err.is_fatal();
                e.track.fail(now, &policy, fatal, sample);
                match e.track.next_action(&policy) {
                    Some(retry) => {
                        tracing::warn!("{name}: refresh failed, will retry at {}: {err}", at(retry))
                    }
                    None => tracing::error!(
                        "{name}: refresh failed and retrying will not help: {err}{}; waiting for a change to the files or config",
                        err.finding.map(|f| format!(" [{f}]")).unwrap_or_default()
                    ),
                }
                e.last_error = Some(err);
            }
        }
    }

    /// The status of every session, as the control socket shows it. Never holds a secret.
    pub fn status(&self, now: DateTime<Utc>) -> Vec<SessionStatus> {
        self.sessions.values().map(|e| self.session_status(e, now)).collect()
    }

    fn session_status(&self, e: &Entry, now: DateTime<Utc>) -> SessionStatus {
        let managed = e.spec.managed.as_ref();
        let last_error = if let Some((serial, why)) = &e.needs_mfa {
            Some(LastError {
                code: None,
                finding: Some("mfa-code-needed".into()),
                message: format!("needs an MFA code for {serial} ({why})"),
                fix: Some(format!("credd mfa {} CODE", e.spec.name)),
            })
        } else {
            e.last_error.as_ref().map(|err| LastError {
                code: err.code.clone(),
                finding: err.finding.map(str::to_string),
                message: err.message.clone(),
                fix: managed.and_then(|m| {
                    classify::fix_for(err, &m.settings.source_profile, m.settings.method.as_str())
                }),
            })
        };
        SessionStatus {
            name: e.spec.name.clone(),
            origin: origin(&e.spec.home),
            profile: match &e.spec.home {
                Home::EnvFile(p) => p.display().to_string(),
                Home::Profile | Home::Both(_) => e.spec.name.clone(),
            },
            managed: managed.is_some(),
            method: managed.map(|m| m.settings.method),
            state: e.state(now, &self.policy),
            expires_at: e.track.expires_at,
            next_refresh_at: e.track.next_action(&self.policy).map(|t| t.max(now)),
            last_refresh_at: e.last_refresh_at,
            identity: e.identity.clone(),
            last_error,
        }
    }

    /// The outcome of the last refresh of `name`, for a client waiting on it.
    pub fn result(&self, name: &str, now: DateTime<Utc>) -> RefreshResult {
        match self.sessions.get(name) {
            Some(e) => {
                let s = self.session_status(e, now);
                RefreshResult {
                    name: name.to_string(),
                    ok: s.last_error.is_none() && e.track.phase == Phase::Idle,
                    state: s.state,
                    expires_at: s.expires_at,
                    error: s.last_error,
                }
            }
            None => RefreshResult {
                name: name.to_string(),
                ok: false,
                state: crate::expiry::State::Unknown,
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

    /// What the alerting logic needs about each session.
    pub fn alert_views(&self) -> Vec<crate::alerts::SessionView> {
        self.sessions
            .values()
            .map(|e| {
                let managed = e.spec.managed.as_ref();
                crate::alerts::SessionView {
                    name: e.spec.name.clone(),
                    managed: managed.is_some(),
                    refreshing: e.track.phase == Phase::Refreshing,
                    expires_at: e.track.expires_at,
                    needs_mfa: e.needs_mfa.clone(),
                    error: e.last_error.as_ref().map(|err| crate::alerts::ErrorView {
                        fatal: err.is_fatal(),
                        finding: err.finding.map(str::to_string),
                        code: err.code.clone(),
                        message: err.message.clone(),
                        fix: managed.and_then(|m| {
                            classify::fix_for(err, &m.settings.source_profile, m.settings.method.as_str())
                        }),
                        source: managed.map(|m| m.settings.source_profile.clone()),
                        key_id: err.key_id.clone(),
                    }),
                }
            })
            .collect()
    }

    pub fn next_wake(&self) -> Option<DateTime<Utc>> {
        expiry::next_wake(self.sessions.values().map(|e| &e.track), &self.policy)
    }

    /// Counts by state, for the log line at start and (later) for `STATUS=`.
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
