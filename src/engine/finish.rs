//! How the end of a refresh changes a session: a new session written (or a longer one kept), a
//! token refreshed, a wait for an MFA code, a partial write, or a failure with its backoff or
//! the change it waits for. Each outcome is logged with its reason.

use chrono::{DateTime, Utc};

use super::{Blocked, Engine, Entry, at, whole_seconds};
use crate::expiry::Policy;
use crate::refresh::run::Outcome;
use crate::refresh::store::Stored;
use crate::refresh::{Issued, RefreshError};

impl Engine {
    /// Records how a refresh ended. `sample` in [0, 1) draws the backoff jitter.
    pub fn finish(&mut self, name: &str, outcome: Outcome, now: DateTime<Utc>, sample: f64) {
        let policy = self.policy;
        let Some(e) = self.sessions.get_mut(name) else {
            return;
        };
        match outcome {
            Outcome::Refreshed { issued, stored } => {
                e.refreshed(issued, stored, now, &policy);
                self.release_dependents(name);
            }
            Outcome::TokenRefreshed { expires_at, kept_newer } => {
                e.token_refreshed(expires_at, kept_newer, now, &policy)
            }
            Outcome::NeedsMfa { serial, why } => {
                e.track.wait_for_mfa();
                tracing::warn!(
                    "{name}: due, but needs an MFA code for {serial} ({why}); run `credd mfa {name} CODE`"
                );
                e.blocked = Some(Blocked::Mfa { serial, why });
            }
            Outcome::PartlyStored { expires_at, error } => {
                // The profile holds the new session: what SDKs reading it get, and credd's own
                // write. The env file does not: the session fails until that is fixed.
                let expires_at = whole_seconds(expires_at);
                e.track.set_expires_at(Some(expires_at));
                e.written = Some(expires_at);
                e.generation += 1;
                e.last_refresh_at = Some(now);
                e.failed(error, now, &policy, sample);
            }
            Outcome::Failed(err) => e.failed(err, now, &policy, sample),
        }
    }
}

impl Engine {
    /// `name` has a new session: the roles assumed from it that were stuck on it (waiting for
    /// its code, or failing for want of it) try again, once each; the others keep their
    /// schedule, so an MFA session's refresh never makes every role due.
    fn release_dependents(&mut self, name: &str) {
        let stuck: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, e)| e.stuck() && self.source_of(e).is_some_and(|(n, _)| n == name))
            .map(|(n, _)| n.clone())
            .collect();
        for n in stuck {
            tracing::info!("{n}: its source session \"{name}\" was refreshed; trying again now");
            self.sessions.get_mut(&n).expect("listed").unstick();
        }
    }
}

impl Entry {
    /// STS issued a session, and it was stored (or a longer one already there was kept).
    fn refreshed(&mut self, issued: Issued, stored: Stored, now: DateTime<Utc>, policy: &Policy) {
        let name = self.spec.name.clone();
        let method = self.spec.managed().map_or("?", |m| m.settings.method.as_str());
        self.unstick();
        self.last_refresh_at = Some(now);
        if issued.identity.is_some() {
            self.identity = issued.identity;
        }
        match stored {
            Stored::Written => {
                let expires = whole_seconds(issued.credentials.expiration);
                self.track.set_expires_at(Some(expires));
                self.written = Some(expires);
                self.generation += 1;
                // As issued: STS may grant less than asked (a chained role, an SSO
                // permission set's own length).
                self.track.set_lifetime(
                    (expires - now).to_std().ok().filter(|l| !l.is_zero()).or(self.spec.lifetime()),
                );
                let next = self.track.next_action(policy).map(at).unwrap_or_default();
                tracing::info!(
                    "{name}: refreshed ({method}); new key {}, expires at {}; next refresh at {next}",
                    crate::secret::short_key_id(&issued.credentials.access_key_id),
                    at(issued.credentials.expiration),
                );
            }
            Stored::KeptNewer(t) => {
                self.generation += u64::from(self.track.expires_at() != Some(whole_seconds(t)));
                self.track.set_expires_at(Some(whole_seconds(t)));
                self.track.set_lifetime(self.spec.lifetime());
                tracing::info!(
                    "{name}: kept the session already in the file: it lasts longer (until {})",
                    at(t)
                );
            }
        }
    }

    /// A kept token was refreshed, or one signed in meanwhile was kept.
    fn token_refreshed(
        &mut self,
        expires_at: DateTime<Utc>,
        kept_newer: bool,
        now: DateTime<Utc>,
        policy: &Policy,
    ) {
        let name = self.spec.name.clone();
        let what = self.spec.token().map_or("token", |t| t.noun());
        self.unstick();
        self.last_refresh_at = Some(now);
        let expires_at = whole_seconds(expires_at);
        self.track.set_expires_at(Some(expires_at));
        self.written = Some(expires_at);
        self.track.set_lifetime(self.spec.lifetime());
        if kept_newer {
            tracing::info!("{name}: kept the token signed in meanwhile; expires at {}", at(expires_at));
        } else {
            let next = self.track.next_action(policy).map(at).unwrap_or_default();
            tracing::info!("{name}: {what} refreshed; expires at {}; next refresh at {next}", at(expires_at));
        }
    }

    /// A refresh failed: a kept token its service refused waits for a sign-in; anything else
    /// backs off, or waits for the change that can fix it.
    fn failed(&mut self, err: RefreshError, now: DateTime<Utc>, policy: &Policy, sample: f64) {
        let name = self.spec.name.clone();
        if let Some(token) = self.spec.token().filter(|t| err.finding == Some(t.refused())) {
            tracing::warn!("{name}: {err}; needs `{}`", token.login_command());
            self.track.fail(now, policy, true, sample);
            self.track.set_managed(false);
            self.blocked = Some(Blocked::SignIn(err.message.clone()));
            self.last_error = Some(err);
            return;
        }
        self.drop_mfa();
        self.track.fail(now, policy, err.is_fatal(), sample);
        // A token's service may take fewer attempts than the backoff would make.
        if let Some(token) = self.spec.token() {
            let least = chrono::Duration::from_std(token.min_retry()).unwrap_or_default();
            self.track.retry_no_sooner_than(now + least);
        }
        let finding = err.finding.map(|f| format!(" [{f}]")).unwrap_or_default();
        match (self.track.next_action(policy), &err.blocked_at) {
            (Some(retry), _) => tracing::warn!("{name}: refresh failed, will retry at {}: {err}", at(retry)),
            (None, Some(path)) => tracing::error!(
                "{name}: refresh failed and retrying will not help: {err}{finding}; waiting for {} to change",
                path.display()
            ),
            (None, None) => tracing::error!(
                "{name}: refresh failed and retrying will not help: {err}{finding}; waiting for a change to the files or config"
            ),
        }
        self.last_error = Some(err);
    }
}
