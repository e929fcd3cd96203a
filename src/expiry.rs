//! When each session is due, and what state it is in. Pure: no clock, no I/O, no randomness of its
//! own. Callers pass `now` and a random sample, so tests drive it with a manual clock.
//!
//! Deadlines are wall-clock instants (`DateTime<Utc>`), never monotonic ones: a laptop that sleeps
//! through a deadline must find it overdue on wake, and `Instant` does not advance during suspend
//! on Linux. Turning these instants into a timer is the daemon's job (`daemon/wallclock.rs`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// The knobs from the config that shape the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub refresh_before: Duration,
    pub jitter: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

impl Policy {
    pub fn from_config(c: &crate::config::Config) -> Policy {
        Policy {
            refresh_before: c.refresh_before,
            jitter: c.jitter,
            backoff_min: c.backoff_min,
            backoff_max: c.backoff_max,
        }
    }
}

/// The lead time: `refresh_before`, but never more than half the session's lifetime, so a short
/// session is not refreshed the moment it is issued.
pub fn lead(policy: &Policy, lifetime: Option<Duration>) -> Duration {
    match lifetime {
        Some(l) => policy.refresh_before.min(l / 2),
        None => policy.refresh_before,
    }
}

/// A stable offset in `[0, jitter)` per session name. Sessions issued together (one `credd mfa`
/// for three roles) then fall due a little apart, and a restart does not move anyone's deadline.
pub fn jitter_offset(name: &str, jitter: Duration) -> Duration {
    if jitter.is_zero() {
        return Duration::ZERO;
    }
    // FNV-1a: tiny, stable across Rust versions (unlike DefaultHasher).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    Duration::from_millis(h % jitter.as_millis().max(1) as u64)
}

/// When a session that expires at `expires_at` should be refreshed.
pub fn refresh_at(
    name: &str,
    expires_at: DateTime<Utc>,
    lifetime: Option<Duration>,
    policy: &Policy,
) -> DateTime<Utc> {
    let lead = lead(policy, lifetime);
    // The jitter only ever makes a refresh earlier, and by at most half the lead.
    let jitter = jitter_offset(name, policy.jitter.min(lead / 2));
    expires_at - to_chrono(lead + jitter)
}

/// The delay before retry number `failures` (1 for the first retry): exponential from
/// `backoff_min`, capped at `backoff_max`, drawn uniformly from `[backoff_min, cap]` ("full
/// jitter") so that many sessions failing together do not retry in lockstep. `sample` is in [0, 1).
pub fn backoff(policy: &Policy, failures: u32, sample: f64) -> Duration {
    let exp = policy.backoff_min.saturating_mul(1u32 << failures.saturating_sub(1).min(20));
    let cap = exp.min(policy.backoff_max).max(policy.backoff_min);
    let span = cap - policy.backoff_min;
    policy.backoff_min + span.mul_f64(sample.clamp(0.0, 1.0))
}

/// Whether credentials expiring at `expires_at` (`None`: unknown) have less than `ttl` left at
/// `now`. It decides both "inside the refresh lead" and "shorter than `--min-ttl`", for the
/// daemon and for the in-process fallbacks alike.
pub fn short_of(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>, ttl: Duration) -> bool {
    expires_at.is_none_or(|e| e - to_chrono(ttl) <= now)
}

pub fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// What the engine is doing with a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the next refresh (or, watch-only, for nothing).
    Idle,
    /// An STS call or write is in flight.
    Refreshing,
    /// Due, but an MFA code is needed and none is available.
    NeedsMfa,
    /// The last attempt failed. `retry_at` is `None` for a fatal error: it waits for a change
    /// (a file edit, an MFA code, a reload, a manual refresh).
    Failing { failures: u32, retry_at: Option<DateTime<Utc>> },
}

/// Everything the schedule needs to know about one session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Track {
    name: String,
    managed: bool,
    expires_at: Option<DateTime<Utc>>,
    /// How long the current credentials were issued for, when known (credd issued them).
    lifetime: Option<Duration>,
    phase: Phase,
    /// Not refreshed until first asked for (see `sessions::Managed::on_demand`): with no
    /// credentials yet, it waits instead of being due.
    on_demand: bool,
    /// Failed attempts in a row. Kept here, not only in `Phase::Failing`, because each retry
    /// passes through `Refreshing`, which would otherwise forget the count and retry every
    /// `backoff_min` for ever (issue 25: a locked keyring tried every 5 s). A success or a change
    /// (the engine's `unstick`) sets it back to 0.
    failures: u32,
}

/// The state shown to people, derived from the track and the time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Fresh,
    Expiring,
    Refreshing,
    NeedsMfa,
    /// An SSO token that cannot be refreshed: it needs a new `aws sso login` (before it expires).
    NeedsLogin,
    Failing,
    Expired,
    Unknown,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Fresh => "fresh",
            State::Expiring => "expiring",
            State::Refreshing => "refreshing",
            State::NeedsMfa => "needs-mfa",
            State::NeedsLogin => "needs-login",
            State::Failing => "failing",
            State::Expired => "expired",
            State::Unknown => "unknown",
        }
    }
}

impl Track {
    /// A session's schedule, idle: `managed` when credd refreshes it, `on_demand` when not
    /// before it is first asked for.
    pub fn new(
        name: String,
        managed: bool,
        expires_at: Option<DateTime<Utc>>,
        lifetime: Option<Duration>,
        on_demand: bool,
    ) -> Track {
        Track { name, managed, expires_at, lifetime, phase: Phase::Idle, on_demand, failures: 0 }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.expires_at
    }

    pub fn lifetime(&self) -> Option<Duration> {
        self.lifetime
    }

    /// Whether credd refreshes it now (a kept token stops being refreshed once it cannot be).
    pub fn managed(&self) -> bool {
        self.managed
    }

    pub fn on_demand(&self) -> bool {
        self.on_demand
    }

    pub fn set_expires_at(&mut self, at: Option<DateTime<Utc>>) {
        self.expires_at = at;
    }

    pub fn set_lifetime(&mut self, lifetime: Option<Duration>) {
        self.lifetime = lifetime;
    }

    pub fn set_managed(&mut self, managed: bool) {
        self.managed = managed;
    }

    pub fn set_on_demand(&mut self, on_demand: bool) {
        self.on_demand = on_demand;
    }

    /// A refresh started: a second caller joins it.
    pub fn begin(&mut self) {
        self.phase = Phase::Refreshing;
    }

    /// Due, but it waits for an MFA code.
    pub fn wait_for_mfa(&mut self) {
        self.phase = Phase::NeedsMfa;
    }

    /// Back to its schedule: nothing stuck, no failures counted (a success, or a change).
    pub fn reset(&mut self) {
        self.phase = Phase::Idle;
        self.failures = 0;
    }

    /// Stopped before any attempt, for a reason only a change lifts: no retry, no backoff.
    pub fn hold(&mut self) {
        self.phase = Phase::Failing { failures: 1, retry_at: None };
    }

    /// A session waiting for a change saw it: it is due now, once.
    pub fn retry_now(&mut self, now: DateTime<Utc>) {
        if let Phase::Failing { failures, retry_at: None } = self.phase {
            self.phase = Phase::Failing { failures, retry_at: Some(now) };
        }
    }

    /// A retry already set comes no sooner than `at`.
    pub fn retry_no_sooner_than(&mut self, at: DateTime<Utc>) {
        if let Phase::Failing { retry_at: Some(t), .. } = &mut self.phase {
            *t = (*t).max(at);
        }
    }

    /// When the engine must next act on this session, if ever. An overdue instant means "now".
    pub fn next_action(&self, policy: &Policy) -> Option<DateTime<Utc>> {
        match &self.phase {
            Phase::Refreshing | Phase::NeedsMfa => None,
            Phase::Failing { retry_at, .. } => *retry_at,
            Phase::Idle if !self.managed => None,
            Phase::Idle if self.on_demand && self.expires_at.is_none() => None,
            // A managed session with no known expiry (say, its profile does not exist yet) is
            // due at once: `DateTime::MIN_UTC` is always in the past.
            Phase::Idle => Some(match self.expires_at {
                Some(at) => refresh_at(&self.name, at, self.lifetime, policy),
                None => DateTime::<Utc>::MIN_UTC,
            }),
        }
    }

    pub fn is_due(&self, now: DateTime<Utc>, policy: &Policy) -> bool {
        self.next_action(policy).is_some_and(|at| at <= now)
    }

    pub fn state(&self, now: DateTime<Utc>, policy: &Policy) -> State {
        let expired = self.expires_at.is_some_and(|at| at <= now);
        match &self.phase {
            Phase::Refreshing => State::Refreshing,
            Phase::NeedsMfa if expired => State::Expired,
            Phase::NeedsMfa => State::NeedsMfa,
            _ if expired => State::Expired,
            Phase::Failing { .. } => State::Failing,
            Phase::Idle => self.idle_state(now, policy),
        }
    }

    /// The state by the expiry alone, as if nothing were failing or in flight: `fresh`, then
    /// `expiring` within the lead, then `expired`; `unknown` without an expiry.
    pub fn idle_state(&self, now: DateTime<Utc>, policy: &Policy) -> State {
        match self.expires_at {
            None => State::Unknown,
            Some(at) if at <= now => State::Expired,
            Some(at) if at - to_chrono(lead(policy, self.lifetime)) <= now => State::Expiring,
            Some(_) => State::Fresh,
        }
    }

    /// Records a failed attempt.
    pub fn fail(&mut self, now: DateTime<Utc>, policy: &Policy, fatal: bool, sample: f64) {
        let before = match self.phase {
            Phase::Failing { failures, .. } => failures.max(self.failures),
            _ => self.failures,
        };
        let failures = before.saturating_add(1);
        self.failures = failures;
        let retry_at = (!fatal).then(|| now + to_chrono(backoff(policy, failures, sample)));
        self.phase = Phase::Failing { failures, retry_at };
    }
}

/// The earliest action across sessions: what the daemon's single timer is set to.
pub fn next_wake<'a>(tracks: impl IntoIterator<Item = &'a Track>, policy: &Policy) -> Option<DateTime<Utc>> {
    tracks.into_iter().filter_map(|t| t.next_action(policy)).min()
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_of_counts_unknown_and_the_boundary_as_short() {
        use super::short_of;
        let now = chrono::DateTime::parse_from_rfc3339("2026-05-01T12:00:00Z").unwrap().to_utc();
        let hour = std::time::Duration::from_secs(3600);
        assert!(short_of(None, now, hour));
        assert!(short_of(Some(now + chrono::Duration::minutes(59)), now, hour));
        assert!(short_of(Some(now + chrono::Duration::minutes(60)), now, hour));
        assert!(!short_of(Some(now + chrono::Duration::minutes(61)), now, hour));
        assert!(short_of(Some(now - chrono::Duration::minutes(1)), now, std::time::Duration::ZERO));
    }

    use super::*;
    use chrono::TimeZone;

    /// A manual clock: time moves only when the test says so.
    struct Clock(DateTime<Utc>);
    impl Clock {
        fn advance(&mut self, d: Duration) {
            self.0 += to_chrono(d);
        }
    }

    const MIN: Duration = Duration::from_secs(60);

    fn policy() -> Policy {
        Policy {
            refresh_before: 15 * MIN,
            jitter: Duration::from_secs(30),
            backoff_min: Duration::from_secs(5),
            backoff_max: Duration::from_secs(300),
        }
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 14, 0, 0).unwrap()
    }

    fn track(expires_in: Duration, lifetime: Option<Duration>) -> Track {
        Track {
            name: "dev".into(),
            managed: true,
            expires_at: Some(t0() + to_chrono(expires_in)),
            lifetime,
            phase: Phase::Idle,
            on_demand: false,
            failures: 0,
        }
    }

    #[test]
    fn refresh_is_lead_plus_jitter_before_expiry() {
        let p = policy();
        let t = track(60 * MIN, Some(60 * MIN));
        let at = t.next_action(&p).unwrap();
        let before = t.expires_at.unwrap() - at;
        assert!(before >= to_chrono(15 * MIN) && before < to_chrono(15 * MIN + p.jitter), "{before}");
        // Stable: the same name gets the same offset every time.
        assert_eq!(at, t.next_action(&p).unwrap());
    }

    #[test]
    fn lead_is_at_most_half_the_lifetime() {
        let p = policy();
        assert_eq!(lead(&p, Some(15 * MIN)), Duration::from_secs(450));
        assert_eq!(lead(&p, Some(12 * 60 * MIN)), 15 * MIN);
        assert_eq!(lead(&p, None), 15 * MIN);
    }

    #[test]
    fn jitter_spreads_names_and_stays_in_range() {
        let j = Duration::from_secs(30);
        let offsets: std::collections::BTreeSet<_> =
            ["dev", "staging", "prod", "a", "b"].iter().map(|n| jitter_offset(n, j)).collect();
        assert!(offsets.len() >= 4);
        assert!(offsets.iter().all(|o| *o < j));
        assert_eq!(jitter_offset("dev", Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn a_session_inside_its_lead_window_is_due_now() {
        let p = policy();
        let t = track(2 * MIN, None);
        assert!(t.is_due(t0(), &p));
        assert_eq!(t.state(t0(), &p), State::Expiring);
    }

    #[test]
    fn unknown_expiry_on_a_managed_session_is_due_at_once() {
        let mut t = track(MIN, None);
        t.expires_at = None;
        assert!(t.is_due(t0(), &policy()));
        assert_eq!(t.state(t0(), &policy()), State::Unknown);
    }

    #[test]
    fn watch_only_sessions_are_never_due() {
        let mut t = track(MIN, None);
        t.managed = false;
        assert_eq!(t.next_action(&policy()), None);
    }

    #[test]
    fn backoff_grows_to_the_cap_with_full_jitter() {
        let p = policy();
        assert_eq!(backoff(&p, 1, 0.0), Duration::from_secs(5));
        assert_eq!(backoff(&p, 1, 0.99), Duration::from_secs(5));
        assert_eq!(backoff(&p, 3, 1.0), Duration::from_secs(20));
        assert_eq!(backoff(&p, 3, 0.0), Duration::from_secs(5));
        assert_eq!(backoff(&p, 30, 1.0), Duration::from_secs(300));
        assert!(backoff(&p, 30, 0.5) < Duration::from_secs(300));
    }

    #[test]
    fn retryable_failures_back_off_and_fatal_ones_wait_for_a_change() {
        let p = policy();
        let mut clock = Clock(t0());
        let mut t = track(10 * MIN, None);
        t.fail(clock.0, &p, false, 1.0);
        assert_eq!(t.next_action(&p), Some(clock.0 + to_chrono(Duration::from_secs(5))));
        clock.advance(Duration::from_secs(5));
        assert!(t.is_due(clock.0, &p));
        t.fail(clock.0, &p, false, 1.0);
        assert_eq!(
            t.phase,
            Phase::Failing { failures: 2, retry_at: Some(clock.0 + to_chrono(Duration::from_secs(10))) }
        );
        assert_eq!(t.state(clock.0, &p), State::Failing);
        t.fail(clock.0, &p, true, 1.0);
        assert_eq!(t.next_action(&p), None);
        clock.advance(20 * MIN);
        assert_eq!(t.state(clock.0, &p), State::Expired);
    }

    #[test]
    fn a_two_hour_suspend_leaves_the_refresh_overdue_on_wake() {
        // Deadlines are wall-clock instants: after the machine sleeps through one, the first
        // look at the clock finds it overdue, so the wake-up check refreshes at once.
        let p = policy();
        let mut clock = Clock(t0());
        let t = track(60 * MIN, Some(60 * MIN));
        assert!(!t.is_due(clock.0, &p));
        assert_eq!(t.state(clock.0, &p), State::Fresh);
        clock.advance(120 * MIN); // suspended
        assert!(t.is_due(clock.0, &p));
        assert_eq!(t.state(clock.0, &p), State::Expired);
        assert!(next_wake([&t], &p).unwrap() <= clock.0);
    }

    #[test]
    fn the_earliest_deadline_wins() {
        let p = policy();
        let a = track(60 * MIN, None);
        let mut b = track(30 * MIN, None);
        b.name = "b".into();
        let mut w = track(5 * MIN, None);
        w.managed = false;
        assert_eq!(next_wake([&a, &b, &w], &p), b.next_action(&p));
        assert_eq!(next_wake([&w], &p), None);
    }

    #[test]
    fn states() {
        let p = policy();
        let mut t = track(60 * MIN, None);
        assert_eq!(t.state(t0(), &p), State::Fresh);
        t.phase = Phase::Refreshing;
        assert_eq!(t.state(t0(), &p), State::Refreshing);
        t.phase = Phase::NeedsMfa;
        assert_eq!(t.state(t0(), &p), State::NeedsMfa);
        assert_eq!(t.state(t0() + to_chrono(61 * MIN), &p), State::Expired);
    }
}
