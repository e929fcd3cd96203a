//! The engine: every tracked session's state, and every decision about it. The daemon's loop and
//! the CLI's no-daemon fallbacks both ask it; nothing else decides whether a session is due,
//! whether a request can be served, whether an export must refresh first, or what an outside write
//! means.
//!
//! Its state changes only through its methods, each pure: the caller passes in the files as read,
//! the time and the outcome of a refresh, and does the I/O the answer asks for. Each decision is
//! logged with its reason.
//!
//! - `mod.rs`: the session table, `reconcile` with the files and config, and what a reading says
//!   of each session (long-term keys where it lives, an unreadable expiry, a kept token).
//! - `finish`: how the end of a refresh changes a session.
//! - `requests`: answering requests: refresh, export, MFA codes, live shells, refusals.
//! - `schedule`: what is due now: roles waiting for their source session, sessions waiting for
//!   a blocked path, the next wake.
//! - `view`: read-only projections for the socket, the alerts and the log.

mod finish;
#[cfg(test)]
mod mfa_tests;
mod requests;
mod schedule;
#[cfg(test)]
mod simulation;
#[cfg(test)]
mod tests;
mod view;

pub use requests::{Begin, Export, Refusal};
pub use view::fix;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, SecondsFormat, Utc};

use crate::config::{Config, Home};
use crate::expiry::{self, Phase, Policy, State, Track};
use crate::files::{Loaded, Resolved};
use crate::finding::Code;
use crate::protocol::ShellSession;
use crate::refresh::RefreshError;
use crate::refresh::run::file_failure;
use crate::refresh::source;
use crate::refresh::store;
use crate::sessions::{self, Kind, SessionSpec};

/// One tracked session.
#[derive(Debug, Clone)]
struct Entry {
    spec: SessionSpec,
    track: Track,
    last_refresh_at: Option<DateTime<Utc>>,
    last_error: Option<RefreshError>,
    /// What it waits for a person to do, if anything: hand in an MFA code, or sign in again.
    blocked: Option<Blocked>,
    /// Set while the code it waits for is its source session's (a role assumed from a
    /// `session-token` session with MFA): that session's name, which `credd mfa` then takes.
    waits_for: Option<String>,
    identity: Option<String>,
    /// A fingerprint of the source profile's keys, to notice when the user fixes them.
    source_fp: Option<u64>,
    /// For a kept token that can be refreshed: until when (for IAM Identity Center, its client
    /// registration's end). Only [`Entry::judge_token`] sets it.
    refreshable_until: Option<DateTime<Utc>>,
    /// The expiry credd itself last wrote where the session is read from. Seeing it in the
    /// file again is credd's own write coming back through the watcher, never another
    /// program's: it changes nothing, so a write of one session cannot make any session due.
    written: Option<DateTime<Utc>>,
    /// Why the expiry where the session lives cannot be read (file, line, variable), if so.
    expiry_unreadable: Option<String>,
    /// Counts the credentials this session has had while tracked: a refresh or an outside write
    /// makes new ones, even with an expiry to the same second as the old.
    generation: u64,
}

/// What a session waits for a person to do. One of two, so that a session cannot wait for a
/// code and a sign-in at once; only a kept token's own judgement ([`Entry::judge_token`]) or its
/// service's refusal makes it wait for a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Blocked {
    /// An MFA code for this device: the serial, and what was tried.
    Mfa { serial: String, why: String },
    /// A new sign-in (`aws sso login`): why the token cannot be refreshed.
    SignIn(String),
}

impl Entry {
    /// The device and what was tried, while it waits for an MFA code.
    fn needs_mfa(&self) -> Option<(&str, &str)> {
        match &self.blocked {
            Some(Blocked::Mfa { serial, why }) => Some((serial, why)),
            _ => None,
        }
    }

    /// Why it cannot be refreshed, while it waits for a sign-in.
    fn needs_login(&self) -> Option<&str> {
        match &self.blocked {
            Some(Blocked::SignIn(why)) => Some(why),
            _ => None,
        }
    }

    /// Stops waiting for an MFA code (a sign-in is waited for until the token's cache changes).
    fn drop_mfa(&mut self) {
        if matches!(self.blocked, Some(Blocked::Mfa { .. })) {
            self.blocked = None;
        }
    }

    fn state(&self, now: DateTime<Utc>, policy: &Policy) -> State {
        match self.track.phase() {
            // A token credd cannot refresh still works until it ends, like any session credd
            // cannot renew: fresh, then expiring (the alerts warn `warn_before` ahead); only then
            // does it need a sign-in. A legacy profile's token is always such a one.
            Phase::Idle | Phase::Failing { .. } if self.needs_login().is_some() => {
                match self.track.idle_state(now, policy) {
                    s @ (State::Fresh | State::Expiring) => s,
                    _ => State::NeedsLogin,
                }
            }
            _ => self.track.state(now, policy),
        }
    }

    /// Forgets what the session was stuck on: an error, a wait for a code.
    fn unstick(&mut self) {
        self.track.reset();
        self.last_error = None;
        self.drop_mfa();
        self.waits_for = None;
    }

    fn stuck(&self) -> bool {
        matches!(self.track.phase(), Phase::Failing { .. } | Phase::NeedsMfa)
    }

    fn stuck_on(&self, finding: Code) -> bool {
        self.last_error.as_ref().is_some_and(|e| e.finding == Some(finding))
    }

    /// Whether writing this session would destroy long-term keys, as the files read now
    /// (`conflict`, from `refresh::store::conflict`). Such a session fails at once, without an
    /// STS call, and waits; once the keys are gone (or the session renamed) it carries on.
    fn judge_keys(&mut self, conflict: Option<RefreshError>) {
        let name = &self.spec.name;
        match conflict {
            Some(err) if !self.stuck_on(Code::LongTermKeyInSessionProfile) => {
                tracing::error!(
                    "{name}: will not refresh: {err} [{}]; fix: {}",
                    Code::LongTermKeyInSessionProfile,
                    err.fix.as_deref().unwrap_or_default()
                );
                self.drop_mfa();
                self.track.hold();
                self.last_error = Some(err);
            }
            None if self.stuck_on(Code::LongTermKeyInSessionProfile) => {
                tracing::info!("{name}: no long-term keys where it lives any more; refreshing it again");
                self.unstick();
            }
            _ => {}
        }
    }

    /// The expiry where the session lives, as readable or not: an unreadable one is warned
    /// about once and shown in status (`view`), never silently taken for none.
    fn judge_expiry(&mut self, why: Option<String>) {
        if why != self.expiry_unreadable {
            match &why {
                Some(w) => tracing::warn!("{}: {w} [{}]", self.spec.name, Code::ExpiryUnreadable),
                None => tracing::info!("{}: its expiry can be read again", self.spec.name),
            }
        }
        self.expiry_unreadable = why;
    }

    /// A kept token as its cache file has it now: whether credd can refresh it, and until when.
    /// One that cannot is left alone (no schedule): fresh, then expiring, then `needs-login`.
    fn judge_token(&mut self, loaded: &Loaded, now: DateTime<Utc>) {
        let Kind::Token(token) = &self.spec.kind else { return };
        let (until, why) = match token.refreshable(loaded, now) {
            Ok(t) => (t, None),
            Err(why) => (None, Some(why)),
        };
        // The token's service's own refusal stands until the file changes (a new sign-in).
        let refused = self.last_error.as_ref().is_some_and(|e| e.finding == Some(token.refused()));
        let why = why.or_else(|| {
            refused.then(|| self.last_error.as_ref().map(|e| e.message.clone()).unwrap_or_default())
        });
        if why.as_deref() != self.needs_login() {
            match &why {
                Some(w) => tracing::warn!(
                    "{}: cannot be refreshed ({w}); needs `{}`",
                    self.spec.name,
                    token.login_command()
                ),
                None => tracing::info!(
                    "{}: can be refreshed until {}",
                    self.spec.name,
                    until.map(at).unwrap_or_default()
                ),
            }
        }
        self.track.set_managed(why.is_none());
        self.refreshable_until = until;
        self.blocked = why.map(Blocked::SignIn);
    }
}

pub struct Engine {
    config: Config,
    policy: Policy,
    sessions: BTreeMap<String, Entry>,
    /// Live shells holding sessions, by pid (from the shell hook).
    shells: BTreeMap<u32, ShellSession>,
    /// The generation each session had when generations were last handed out.
    generations: HashMap<String, u64>,
    host: sessions::Host,
}

/// An expiry to whole seconds, as every file credd reads records it (some writers keep
/// milliseconds, some STS answers carry them): an expiry read back must equal the one written.
fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(0)
}

fn at(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Engine {
    pub fn new(config: Config, host: sessions::Host) -> Engine {
        Engine {
            policy: Policy::from_config(&config),
            config,
            sessions: BTreeMap::new(),
            shells: BTreeMap::new(),
            generations: HashMap::new(),
            host,
        }
    }

    /// An engine that has read `loaded` once: what a no-daemon fallback works from.
    pub fn from_files(config: Config, host: sessions::Host, loaded: &Loaded, now: DateTime<Utc>) -> Engine {
        let mut e = Engine::new(config, host);
        e.reconcile(loaded, now);
        e
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The sessions the files and config hold now, as planned (with the problems left out).
    pub fn plan(&self, loaded: &Loaded) -> sessions::Plan {
        sessions::plan(&self.config, loaded, &self.host)
    }

    /// Brings the session list in line with the config and the files as they are now.
    pub fn reconcile(&mut self, loaded: &Loaded, now: DateTime<Utc>) {
        let resolved = loaded.resolve();
        let plan = sessions::plan_resolved(&self.config, &resolved, &self.host);
        for e in &plan.errors {
            tracing::error!("{e}; this session is left out until the config or the AWS files are fixed");
        }
        let (creds, merged) = (&resolved.credentials, &resolved.merged);
        let mut next = BTreeMap::new();
        for spec in plan.sessions {
            let name = spec.name.clone();
            let file_expiry = spec.recorded_expiry(loaded, creds).map(whole_seconds);
            let fp = spec.managed().and_then(|m| source::fingerprint(loaded, merged, m, &self.host));
            let conflict = self.conflict(&spec, loaded, &resolved);
            let mut entry = match self.sessions.remove(&name) {
                None => Self::track(spec, file_expiry, fp),
                Some(old) => Self::adopt(old, spec, file_expiry, fp),
            };
            let unreadable = match entry.spec.home {
                Home::Profile | Home::Both(_) => {
                    sessions::unreadable_expiry(creds, &name, &self.host.credentials_file)
                }
                Home::EnvFile(_) => entry.spec.unreadable_expiry(loaded),
                Home::Cache(_) => None,
            };
            entry.judge_token(loaded, now);
            entry.judge_expiry(unreadable);
            entry.judge_keys(conflict);
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

    /// Why a session credd writes must not be written now (see [`Entry::judge_keys`]).
    fn conflict(&self, spec: &SessionSpec, loaded: &Loaded, resolved: &Resolved) -> Option<RefreshError> {
        if spec.managed()?.in_own_file() {
            return None;
        }
        let found = store::Found {
            profile: resolved.credentials.profile(&spec.name),
            held: resolved.held.contains(spec.name.as_str()),
            env: spec.home.env_file().and_then(|p| loaded.env_file(p)),
        };
        store::conflict(&spec.name, &spec.home, &self.host.credentials_file, &found).map(file_failure)
    }

    /// A session seen for the first time.
    fn track(spec: SessionSpec, file_expiry: Option<DateTime<Utc>>, fp: Option<u64>) -> Entry {
        let name = &spec.name;
        let how = match &spec.kind {
            Kind::Token(t) => format!(
                "{} {}",
                if t.noun().starts_with(['A', 'E', 'I', 'O', 'U', 'S']) { "an" } else { "a" },
                t.noun()
            ),
            Kind::Renewed(m) => format!(
                "managed ({}{}, source {})",
                m.settings.method.as_str(),
                m.discovered.map(|d| format!(", found in {d} layout")).unwrap_or_default(),
                m.settings.source_profile
            ),
            Kind::Watched => "watch-only".to_string(),
        };
        match file_expiry {
            Some(e) => tracing::info!("{name}: tracking, {how}; expires at {}", at(e)),
            None => tracing::info!("{name}: tracking, {how}; no expiry recorded yet"),
        }
        Entry {
            track: Track::new(name.clone(), spec.refreshed(), file_expiry, spec.lifetime(), spec.on_demand()),
            spec,
            last_refresh_at: None,
            last_error: None,
            blocked: None,
            waits_for: None,
            identity: None,
            source_fp: fp,
            refreshable_until: None,
            written: None,
            expiry_unreadable: None,
            generation: 0,
        }
    }

    /// A session already tracked, as the files and config have it now: a changed config
    /// reschedules it, fixed source keys retry it now, and a session another program wrote is
    /// adopted.
    fn adopt(
        mut old: Entry,
        spec: SessionSpec,
        file_expiry: Option<DateTime<Utc>>,
        fp: Option<u64>,
    ) -> Entry {
        let name = spec.name.clone();
        if old.spec != spec {
            tracing::info!("{name}: configuration changed; rescheduling");
            old.track.set_managed(spec.refreshed());
            old.track.set_on_demand(spec.on_demand());
            old.track.set_lifetime(spec.lifetime());
            old.unstick();
            old.spec = spec;
        }
        if old.source_fp != fp {
            // Unstuck, a session inside its lead window is due at once; one refreshed early by
            // hand goes back to its schedule.
            if old.stuck() {
                tracing::info!("{name}: the source profile's keys changed; trying again now");
                old.unstick();
            }
            old.source_fp = fp;
        }
        if file_expiry.is_some() && file_expiry == old.written {
            // credd's own write, seen through the watcher (perhaps before its refresh finished
            // here): nothing another program did, so nothing to adopt or reschedule.
            if old.track.phase() != Phase::Refreshing {
                old.track.set_expires_at(file_expiry);
            }
        } else if file_expiry == old.track.expires_at() || old.track.phase() == Phase::Refreshing {
            // Nothing new, or a refresh is under way (its end decides).
        } else if old.stuck_on(Code::FileUnparseable) {
            // A file credd could not write changed: that is someone fixing it, and what it holds
            // is not a session to adopt but the one credd could not write there. The change
            // makes that write due now (`unblock`), not at the next refresh.
            tracing::info!(
                "{name}: the file credd could not write changed; not adopting what it holds, writing the session there instead"
            );
            old.track.set_expires_at(file_expiry);
        } else {
            // Another program (aws configure, saml2aws, a second credd) wrote this profile. What
            // is in the file is what every SDK uses: adopt it.
            match file_expiry {
                Some(e) => {
                    tracing::info!(
                        "{name}: adopted a session written by another program; expires at {}",
                        at(e)
                    )
                }
                None => tracing::info!("{name}: the file no longer records an expiry"),
            }
            old.track.set_expires_at(file_expiry);
            old.generation += 1;
            // How long the other program's session was issued for is unknown: schedule it as
            // one of this session's own (its `duration`), never by the time left now, which
            // would make a short session due the moment it is adopted.
            old.track.set_lifetime(old.spec.lifetime());
            old.written = None;
            // A new session in the file resolves whatever we were stuck on.
            if old.stuck() {
                old.unstick();
            }
        }
        old
    }

    /// Installs a new config (already validated) and reconciles.
    pub fn set_config(&mut self, config: Config, loaded: &Loaded, now: DateTime<Utc>) {
        self.policy = Policy::from_config(&config);
        self.config = config;
        self.reconcile(loaded, now);
    }

    fn log_schedule(&self, now: DateTime<Utc>) {
        for (name, e) in &self.sessions {
            if let (Some(when), Some(exp)) = (e.track.next_action(&self.policy), e.track.expires_at())
                && matches!(e.track.phase(), Phase::Idle)
            {
                let lead = expiry::lead(&self.policy, e.track.lifetime());
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

    /// Every session credd refreshes (what `credd refresh` with no name means).
    pub fn managed_names(&self) -> Vec<String> {
        // What the schedule says, as status shows it: an SSO token counts while credd can refresh
        // it; one that needs a sign-in would only fail.
        // Not those that take a person's MFA code: without one their refresh can only end in
        // `needs-mfa`, a false alarm for a session that still has hours (`credd mfa` gives it).
        let takes_a_code = |e: &Entry| {
            e.spec
                .managed()
                .is_some_and(|m| m.settings.mfa_serial.is_some() && m.settings.mfa_command.is_none())
        };
        self.sessions
            .iter()
            .filter(|(_, e)| e.track.managed() && !takes_a_code(e))
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// The sessions whose credentials changed since the last call, so the daemon can touch their
    /// generation stamps and shells that exported one re-export at their next prompt. A session
    /// seen for the first time has not changed.
    pub fn changed_generations(&mut self) -> Vec<String> {
        let mut changed = Vec::new();
        if self.generations.len() > self.sessions.len() {
            self.generations.retain(|name, _| self.sessions.contains_key(name));
        }
        // A token is no shell's credentials: no stamp (and an SSO start URL is no file name).
        for (name, e) in self.sessions.iter().filter(|(_, e)| e.spec.token().is_none()) {
            let now = e.generation;
            match self.generations.get_mut(name) {
                Some(before) if *before != now => {
                    *before = now;
                    changed.push(name.clone());
                }
                Some(_) => {}
                None => {
                    self.generations.insert(name.clone(), now);
                }
            }
        }
        changed
    }
}
