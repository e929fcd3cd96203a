//! When the engine must act, beyond each session's own schedule (`expiry`): a role chained
//! from another session credd refreshes waits for that one (while it refreshes, is due first,
//! or needs an MFA code, whose code is then the role's too), and a session stuck on a local
//! error waits for the path that blocks it. The daemon's loop asks `due` and `next_wake`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{Engine, Entry};
use crate::expiry::{self, Phase};
use crate::finding::Code;
use crate::refresh::RefreshError;

/// Whether a source session's credentials can still sign a role's refresh: they last beyond
/// the call.
fn usable(src: &Entry, now: DateTime<Utc>) -> bool {
    let margin = crate::expiry::to_chrono(crate::sessions::ISSUE_MARGIN);
    src.track.expires_at().is_some_and(|e| e > now + margin)
}

impl Engine {
    /// Sessions whose refresh is due now. A role chained from another session credd refreshes
    /// waits for that one: while it refreshes or is due itself (it comes first), and while it
    /// needs an MFA code and its session has run out: the code is then this session's code too
    /// (it shows `needs-mfa`, and its fix names the source). While a source that failed has
    /// run out, it holds. Its source's refresh makes it due again (`finish`), once.
    pub fn due(&mut self, now: DateTime<Utc>) -> Vec<String> {
        let due: BTreeSet<String> = self
            .sessions
            .iter()
            .filter(|(_, e)| e.track.is_due(now, &self.policy))
            .map(|(n, _)| n.clone())
            .collect();
        let mut out = Vec::with_capacity(due.len());
        for name in &due {
            let e = &self.sessions[name];
            match self.source_of(e).map(|(n, s)| (n.to_string(), s)) {
                // A source waiting for a code whose session still works serves its roles
                // meanwhile (an MFA session asks for its code ahead of its end).
                Some((src_name, src)) if src.track.phase() == Phase::NeedsMfa && !usable(src, now) => {
                    let serial = src.needs_mfa().map(|(s, _)| s.to_string()).unwrap_or_default();
                    tracing::warn!(
                        "{name}: due, but its source session \"{src_name}\" needs an MFA code first; run `credd mfa {src_name} CODE`"
                    );
                    let e = self.sessions.get_mut(name).expect("listed");
                    e.track.wait_for_mfa();
                    let why = format!("its source session \"{src_name}\" waits for one");
                    e.blocked = Some(super::Blocked::Mfa { serial, why });
                    e.waits_for = Some(src_name);
                }
                // A source that failed and whose session has run out would only hand its role
                // expired keys: the role holds until the source is refreshed (`finish`), which
                // makes it due once.
                Some((src_name, src)) if src.stuck() && !usable(src, now) => {
                    let why = format!("its source session \"{src_name}\" has run out and its refresh failed");
                    tracing::warn!("{name}: due, but {why}; waiting for it");
                    let err = RefreshError {
                        fix: Some(
                            format!("see `credd status` for \"{src_name}\": its fix is this session's")
                                .into(),
                        ),
                        ..RefreshError::local(Code::SessionExpired, why)
                    };
                    let e = self.sessions.get_mut(name).expect("listed");
                    e.track.hold();
                    e.last_error = Some(err);
                }
                _ if self.starts_now(e, &due) => out.push(name.clone()),
                _ => {}
            }
        }
        out
    }

    /// Whether a due session starts in this pass, or waits for its source session's refresh,
    /// which is running or starts in this pass too (chains are acyclic: `sessions` refuses loops).
    fn starts_now(&self, e: &Entry, due: &BTreeSet<String>) -> bool {
        match self.source_of(e) {
            Some((_, src)) if src.track.phase() == Phase::Refreshing => false,
            Some((name, src)) if due.contains(name) => !self.starts_now(src, due),
            _ => true,
        }
    }

    /// The session an MFA code for `name` is for: its source's, while it waits for that one,
    /// and always its MFA session's for a role assumed from one (issue 29).
    pub fn mfa_target(&self, name: &str) -> String {
        let Some(e) = self.sessions.get(name) else { return name.to_string() };
        let via = match e.spec.mfa() {
            Some(crate::sessions::Mfa::Via { session, .. }) => Some(session.clone()),
            _ => None,
        };
        e.waits_for.clone().or(via).unwrap_or_else(|| name.to_string())
    }

    /// Whether `name` is a role assumed from a shared MFA session (issue 29).
    pub fn shares_mfa(&self, name: &str) -> bool {
        self.sessions
            .get(name)
            .is_some_and(|e| matches!(e.spec.mfa(), Some(crate::sessions::Mfa::Via { .. })))
    }

    /// The paths that sessions stuck on a local error wait for (see `RefreshError::blocked_at`):
    /// the daemon watches them and tells [`Engine::unblock`] when one changes.
    pub fn blocked_paths(&self) -> Vec<PathBuf> {
        let mut paths: Vec<_> = self
            .sessions
            .values()
            .filter(|e| matches!(e.track.phase(), Phase::Failing { retry_at: None, .. }))
            .filter_map(|e| e.last_error.as_ref()?.blocked_at.as_deref().map(Path::to_path_buf))
            .collect();
        paths.sort();
        paths.dedup();
        paths
    }

    /// `path` changed: every session that waited for it is due now, once.
    pub fn unblock(&mut self, path: &Path, now: DateTime<Utc>) {
        for (name, e) in &mut self.sessions {
            let waiting = e.last_error.as_ref().and_then(|err| err.blocked_at.as_deref()) == Some(path);
            if waiting && matches!(e.track.phase(), Phase::Failing { retry_at: None, .. }) {
                tracing::info!("{name}: {} changed; trying again now", path.display());
                e.track.retry_now(now);
            }
        }
    }

    /// The earliest instant a session needs the engine. A role waiting for its source
    /// session's refresh has none of its own: that refresh's end wakes the loop.
    pub fn next_wake(&self) -> Option<DateTime<Utc>> {
        let waiting =
            |e: &Entry| self.source_of(e).is_some_and(|(_, s)| s.track.phase() == Phase::Refreshing);
        expiry::next_wake(self.sessions.values().filter(|e| !waiting(e)).map(|e| &e.track), &self.policy)
    }

    /// For a role chained from another session credd refreshes: that session, by name.
    pub(super) fn source_of(&self, e: &Entry) -> Option<(&str, &Entry)> {
        let m = e.spec.managed().filter(|m| m.chained)?;
        let (name, src) = self.sessions.get_key_value(&m.settings.source_profile)?;
        src.spec.managed().is_some().then_some((name.as_str(), src))
    }
}
