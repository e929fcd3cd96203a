//! When credd must tell a human, and what it says. Pure: sessions and the time in, notifications
//! out. The daemon feeds it after every change and sends what comes out (`notify.rs`).
//!
//! An *incident* is one problem of one session (its event name in brackets): it needs an MFA code
//! (`needs-mfa`), a kept token needs a sign-in, now or `warn_before` ahead of when it will
//! (`needs-login`), a refresh failed for a reason retrying will not fix (`refresh-failed`), it will
//! expire within `warn_before` and credd cannot refresh it (`expiring`; for a live shell's
//! session, naming what renews it), or it expired (`expired`). An incident notifies once, when it opens or changes into a different problem;
//! retries of the same problem say nothing. Sessions whose incidents open together and share a
//! cause (the same MFA device, the same source key) get one notification that names them all.
//! When the problem goes away the incident closes (and, if asked, says so).
//!
//! Transient failures (throttling, 5xx, timeouts) are not incidents while there is time: they
//! become one only when they push the session into `warn_before`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::expiry::to_chrono;
use crate::finding::Code;
use crate::secret::short_key_id;

/// What alerts needs to know about one session. Owned and secret-free.
#[derive(Debug, Clone, Default)]
pub struct SessionView {
    pub name: String,
    pub managed: bool,
    pub refreshing: bool,
    pub expires_at: Option<DateTime<Utc>>,
    /// `(device, why)` while waiting for an MFA code.
    pub needs_mfa: Option<(String, String)>,
    /// The last error, if any, with whether it is fatal.
    pub error: Option<ErrorView>,
    /// For an SSO token: when a new sign-in will be needed, and how.
    pub login: Option<LoginView>,
    /// For a live shell's session (credd cannot renew what is in another process's
    /// environment): what the shell holds, so the alert can name what renews it.
    pub shell: Option<ShellView>,
}

/// A live shell holding a session, as its hook registered it.
#[derive(Debug, Clone, Default)]
pub struct ShellView {
    pub tty: Option<String>,
    /// The key ID, shortened.
    pub key: String,
    /// `CREDD_SESSION`: the session `credd export` put there, when it did.
    pub session: Option<String>,
}

/// What renews a session credd does not manage, in words and as one command when there is one:
/// for a shell, `credd export` of the session it came from; else the tool that wrote it.
fn renewal(v: &SessionView, them: &str) -> (String, Option<String>) {
    let Some(sh) = &v.shell else {
        return (
            format!("credd does not manage {them}: renew {them} with the tool that wrote {them}."),
            None,
        );
    };
    let tty = sh.tty.as_deref().map(|t| format!(" on {t}")).unwrap_or_default();
    match &sh.session {
        Some(name) => {
            let fix = format!("eval \"$(credd export {name})\"");
            (
                format!(
                    "The shell{tty} holds {name} (key {}) from `credd export {name}`. Run `{fix}` in it for fresh credentials.",
                    sh.key
                ),
                Some(fix),
            )
        }
        None => (
            format!(
                "The shell{tty} holds credentials (key {}) that a command other than credd put in its environment; credd cannot renew them. Run that command again in it, or use a session credd keeps fresh: `eval \"$(credd export NAME)\"`.",
                sh.key
            ),
            None,
        ),
    }
}

/// When an SSO session needs a new `aws sso login`.
#[derive(Debug, Clone, Default)]
pub struct LoginView {
    /// The token's expiry when it cannot be refreshed; its registration's end when it can.
    pub by: DateTime<Utc>,
    /// Why it cannot be refreshed, when it cannot.
    pub why: Option<String>,
    pub fix: String,
    /// The profiles that sign in through it.
    pub profiles: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ErrorView {
    pub fatal: bool,
    pub finding: Option<Code>,
    pub code: Option<String>,
    pub message: String,
    pub fix: Option<String>,
    /// The source profile and key, to group sessions that fail for the same key.
    pub source: Option<String>,
    pub key_id: Option<String>,
}

/// One session's current problem. Two sessions with equal problems share a notification.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Problem {
    NeedsMfa { device: String },
    NeedsLogin,
    Failed { finding: Code, cause: String },
    Expiring,
    Expired,
}

impl Problem {
    fn event(&self) -> &'static str {
        match self {
            Problem::NeedsMfa { .. } => "needs-mfa",
            Problem::NeedsLogin => "needs-login",
            Problem::Failed { .. } => "refresh-failed",
            Problem::Expiring => "expiring",
            Problem::Expired => "expired",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Normal,
    Critical,
}

/// A message for a human. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// `needs-mfa`, `needs-login`, `refresh-failed`, `expiring`, `expired` or `recovered`.
    pub event: &'static str,
    pub sessions: Vec<String>,
    pub summary: String,
    pub body: String,
    /// The one command (or step) that fixes it.
    pub fix: Option<String>,
    pub urgency: Urgency,
    /// Offer "Refresh now": some of the sessions are managed, so a refresh can help.
    pub refresh_action: bool,
}

/// "dev", "dev and prod", "dev, prod and staging".
pub fn names(sessions: &[String]) -> String {
    match sessions {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn minutes(d: chrono::Duration) -> String {
    let m = d.num_minutes().max(0);
    if m < 1 {
        "less than a minute".into()
    } else if m == 1 {
        "1 min".into()
    } else {
        format!("{m} min")
    }
}

/// How long a new incident waits for others with the same cause (sessions refreshed together
/// finish their attempts one by one) before it is sent.
pub const GROUP_WINDOW: Duration = Duration::from_secs(2);

/// The open incidents, per session, and those opened but not yet sent.
#[derive(Debug, Default)]
pub struct Alerts {
    open: HashMap<String, Problem>,
    pending: Vec<(String, Problem, DateTime<Utc>)>,
}

impl Alerts {
    /// A session's problem now, if it has one.
    pub fn problem(v: &SessionView, now: DateTime<Utc>, warn_before: Duration) -> Option<Problem> {
        if v.refreshing {
            return None;
        }
        // One incident per SSO session, from `warn_before` ahead of the sign-in until it is done:
        // the token expiring meanwhile is the same problem, not a second one.
        if v.login.as_ref().is_some_and(|l| l.by - to_chrono(warn_before) <= now) {
            return Some(Problem::NeedsLogin);
        }
        let expired = v.expires_at.is_some_and(|e| e <= now);
        let stuck = !v.managed || v.needs_mfa.is_some() || v.error.is_some();
        if expired && stuck {
            return Some(Problem::Expired);
        }
        if let Some((device, _)) = &v.needs_mfa {
            return Some(Problem::NeedsMfa { device: device.clone() });
        }
        if let Some(e) = v.error.as_ref().filter(|e| e.fatal) {
            // The thing to fix: the key STS refused, else what the fix names (a path, a profile
            // holding keys, a sign-in), else the source. Sessions share a notification only when
            // one fix serves them all.
            let cause = e
                .key_id
                .as_deref()
                .map(short_key_id)
                .or(e.fix.clone())
                .or(e.source.clone())
                .unwrap_or_default();
            return Some(Problem::Failed { finding: e.finding.unwrap_or(Code::StsRejected), cause });
        }
        let soon = v.expires_at.is_some_and(|e| e - to_chrono(warn_before) <= now);
        (soon && stuck).then_some(Problem::Expiring)
    }

    /// Updates the incidents and returns what to send now.
    /// New incidents are held while other sessions are still refreshing, for at most
    /// [`GROUP_WINDOW`], so that sessions failing for one cause share one notification.
    pub fn evaluate(
        &mut self,
        views: &[SessionView],
        now: DateTime<Utc>,
        warn_before: Duration,
        recovered: bool,
    ) -> Vec<Notification> {
        let mut closed = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for v in views {
            seen.insert(v.name.clone());
            match (Self::problem(v, now, warn_before), self.open.get(&v.name)) {
                (Some(p), Some(old)) if *old == p => {}
                (Some(p), _) => {
                    self.open.insert(v.name.clone(), p.clone());
                    self.pending.retain(|(n, _, _)| *n != v.name);
                    self.pending.push((v.name.clone(), p, now));
                }
                (None, Some(_)) if !v.refreshing => {
                    self.open.remove(&v.name);
                    closed.push(v.name.clone());
                }
                (None, _) => {}
            }
        }
        self.open.retain(|name, _| seen.contains(name));
        // A pending incident whose problem went away (or changed) before it was sent is dropped.
        let open = &self.open;
        self.pending.retain(|(n, p, _)| open.get(n) == Some(p));
        closed.retain(|n| !self.pending.iter().any(|(p, _, _)| p == n));
        let busy = views.iter().any(|v| v.refreshing);
        let oldest = self.pending.iter().map(|(_, _, t)| *t).min();
        let due = oldest.is_some_and(|t| !busy || now - t >= to_chrono(GROUP_WINDOW));
        let mut out = Vec::new();
        if due {
            let mut opening: BTreeMap<Problem, Vec<&SessionView>> = BTreeMap::new();
            for (name, p, _) in std::mem::take(&mut self.pending) {
                if let Some(v) = views.iter().find(|v| v.name == name) {
                    opening.entry(p).or_default().push(v);
                }
            }
            out.extend(opening.into_iter().map(|(p, vs)| render(&p, &vs, now)));
        }
        if recovered && !closed.is_empty() {
            closed.sort();
            out.push(Notification {
                event: "recovered",
                summary: format!(
                    "{} {} fine again",
                    names(&closed),
                    if closed.len() == 1 { "is" } else { "are" }
                ),
                body: "credd has fresh credentials again.".into(),
                sessions: closed,
                fix: None,
                urgency: Urgency::Normal,
                refresh_action: false,
            });
        }
        out
    }

    /// The next instant at which a session's problem changes with time alone (it enters
    /// `warn_before`, or expires), for the daemon's timer.
    pub fn next_deadline(
        &self,
        views: &[SessionView],
        now: DateTime<Utc>,
        warn_before: Duration,
    ) -> Option<DateTime<Utc>> {
        let grouping = self.pending.iter().map(|(_, _, t)| *t + to_chrono(GROUP_WINDOW)).min();
        views
            .iter()
            .flat_map(|v| v.expires_at.into_iter().chain(v.login.as_ref().map(|l| l.by)))
            .flat_map(|e| [e - to_chrono(warn_before), e])
            .filter(|t| *t > now)
            .chain(grouping)
            .min()
    }
}

fn render(p: &Problem, vs: &[&SessionView], now: DateTime<Utc>) -> Notification {
    let mut sessions: Vec<String> = vs.iter().map(|v| v.name.clone()).collect();
    sessions.sort();
    let who = names(&sessions);
    let plural = sessions.len() > 1;
    let first = vs[0];
    let error = first.error.as_ref();
    let managed = vs.iter().any(|v| v.managed);
    let (summary, body, fix, urgency) = match p {
        Problem::NeedsLogin => {
            let login = first.login.clone().unwrap_or_default();
            let when = if login.by <= now {
                "now".to_string()
            } else {
                format!("within {}", minutes(login.by - now))
            };
            let why = match &login.why {
                Some(why) => format!("Its token cannot be refreshed: {}.", why.trim_end_matches('.')),
                None => "Its client registration ends, and with it every refresh.".into(),
            };
            let users = match login.profiles.as_slice() {
                [] => String::new(),
                ps => format!(" Profiles that use it: {}.", names(ps)),
            };
            (
                format!("{who} needs a new sign-in {when}"),
                format!("{why}{users} Run `{}`.", login.fix),
                Some(login.fix.clone()),
                Urgency::Normal,
            )
        }
        Problem::NeedsMfa { device } => {
            let why = first.needs_mfa.as_ref().map(|(_, w)| w.as_str()).unwrap_or_default();
            let fix = format!("credd mfa {} CODE", sessions[0]);
            let more = if plural { ", then the others with the next codes" } else { "" };
            (
                format!("{who} {} an MFA code", if plural { "need" } else { "needs" }),
                format!(
                    "credd needs a one-time code from {device} to refresh {}; {why}. Run `{fix}`{more}.",
                    if plural { "them" } else { "it" }
                ),
                Some(fix),
                Urgency::Normal,
            )
        }
        Problem::Failed { finding, .. } => {
            let e = error.cloned().unwrap_or_default();
            let what = e.code.clone().unwrap_or_else(|| finding.to_string());
            let fix = e.fix.clone();
            let mut body = format!("{} ({finding}).", e.message.trim_end_matches('.'));
            if let Some(f) = &fix {
                body.push_str(&format!(" Fix: {f}."));
            }
            body.push_str(" credd will not retry until something changes.");
            (format!("{who}: refresh failed: {what}"), body, fix, Urgency::Normal)
        }
        Problem::Expiring => {
            let left = first.expires_at.map(|e| minutes(e - now)).unwrap_or_default();
            let (body, fix) = match error {
                Some(e) => (
                    format!(
                        "credd keeps failing to refresh {}: {}. It keeps trying.",
                        if plural { "them" } else { "it" },
                        e.message.trim_end_matches('.')
                    ),
                    Some(format!("credd refresh {}", sessions[0])),
                ),
                None => renewal(first, if plural { "them" } else { "it" }),
            };
            (
                format!("{who} {} in {left}", if plural { "expire" } else { "expires" }),
                body,
                fix,
                Urgency::Normal,
            )
        }
        Problem::Expired => {
            let (cause, fix) = match (&first.needs_mfa, error) {
                (Some((device, _)), _) => (
                    format!("it needs an MFA code from {device}"),
                    Some(format!("credd mfa {} CODE", sessions[0])),
                ),
                (None, Some(e)) => (
                    e.message.trim_end_matches('.').to_string(),
                    e.fix.clone().or(Some(format!("credd refresh {}", sessions[0]))),
                ),
                (None, None) => {
                    let (body, fix) = renewal(first, "it");
                    (body.trim_end_matches('.').to_string(), fix)
                }
            };
            let mut body =
                format!("Commands using {} now fail. Cause: {cause}.", if plural { "them" } else { "it" });
            if let Some(f) = &fix {
                body.push_str(&format!(" Fix: {f}."));
            }
            (format!("{who} {} expired", if plural { "have" } else { "has" }), body, fix, Urgency::Critical)
        }
    };
    Notification {
        event: p.event(),
        sessions,
        summary,
        body,
        fix,
        urgency,
        refresh_action: managed && !matches!(p, Problem::NeedsMfa { .. } | Problem::NeedsLogin),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const WARN: Duration = Duration::from_secs(600);

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
    }

    fn view(name: &str, managed: bool, expires_in_min: i64) -> SessionView {
        SessionView {
            name: name.into(),
            managed,
            expires_at: Some(now() + chrono::Duration::minutes(expires_in_min)),
            ..Default::default()
        }
    }

    fn mfa(mut v: SessionView, device: &str) -> SessionView {
        v.needs_mfa = Some((device.into(), "no mfa_command is configured".into()));
        v
    }

    fn failed(mut v: SessionView, fatal: bool, key: &str) -> SessionView {
        v.error = Some(ErrorView {
            fatal,
            finding: fatal.then_some(Code::KeyUnknown),
            code: Some(if fatal { "InvalidClientTokenId" } else { "ServiceUnavailable" }.into()),
            message: "The security token included in the request is invalid.".into(),
            fix: Some("create a new key".into()),
            source: Some("base".into()),
            key_id: Some(key.into()),
        });
        v
    }

    #[test]
    fn sessions_sharing_an_mfa_device_get_one_notification() {
        let mut a = Alerts::default();
        let d = "arn:aws:iam::123456789012:mfa/alice";
        let views = [
            mfa(view("prod", true, 60), d),
            mfa(view("dev", true, 60), d),
            mfa(view("staging", true, 60), d),
        ];
        let out = a.evaluate(&views, now(), WARN, false);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].summary, "dev, prod and staging need an MFA code");
        assert!(out[0].body.contains(d) && out[0].body.contains("`credd mfa dev CODE`"), "{}", out[0].body);
        assert_eq!((out[0].urgency, out[0].refresh_action), (Urgency::Normal, false));
        // The same incident again says nothing.
        assert!(a.evaluate(&views, now(), WARN, false).is_empty());
    }

    #[test]
    fn a_fatal_error_notifies_once_and_groups_by_key() {
        let mut a = Alerts::default();
        let views = [
            failed(view("dev", true, 60), true, "AKIAIOSFODNN7EXAMPLE"),
            failed(view("prod", true, 60), true, "AKIAIOSFODNN7EXAMPLE"),
            failed(view("other", true, 60), true, "AKIAOTHER00000000000"),
        ];
        let out = a.evaluate(&views, now(), WARN, false);
        assert_eq!(out.len(), 2);
        assert_eq!(
            out.iter().find(|n| n.sessions.len() == 2).unwrap().summary,
            "dev and prod: refresh failed: InvalidClientTokenId"
        );
        assert!(out.iter().all(|n| n.refresh_action));
        for _ in 0..10 {
            assert!(a.evaluate(&views, now(), WARN, false).is_empty());
        }
    }

    /// Issue 24: two sessions whose env files are blocked at two different paths share a finding
    /// and a source, but not a fix: each gets its own notification, naming its own path.
    #[test]
    fn issue24_local_failures_at_different_paths_are_told_apart() {
        let mut a = Alerts::default();
        let blocked = |name: &str, path: &str| {
            let mut v = failed(view(name, true, 60), true, "");
            let e = v.error.as_mut().unwrap();
            (e.finding, e.code, e.key_id) = (Some(Code::FileNotWritable), None, None);
            e.fix = Some(format!("{path} is a file where a directory should be"));
            v
        };
        let views = [blocked("ef1", "/home/u/proj"), blocked("ef2", "/home/u/envdir.env")];
        let out = a.evaluate(&views, now(), WARN, false);
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(out.iter().any(|n| n.fix.as_deref().is_some_and(|f| f.contains("/home/u/envdir.env"))));
    }

    #[test]
    fn transient_errors_are_silent_until_they_threaten_expiry() {
        let mut a = Alerts::default();
        let v = [failed(view("dev", true, 30), false, "AKIAIOSFODNN7EXAMPLE")];
        assert!(a.evaluate(&v, now(), WARN, false).is_empty());
        let later = now() + chrono::Duration::minutes(22);
        let out = a.evaluate(&v, later, WARN, false);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].summary, "dev expires in 8 min");
        assert!(out[0].body.contains("keeps failing") && out[0].fix.as_deref() == Some("credd refresh dev"));
        // Many more retries of the same incident: nothing more.
        for m in 23..29 {
            assert!(a.evaluate(&v, now() + chrono::Duration::minutes(m), WARN, false).is_empty());
        }
        // Then it expires: a new, critical notification.
        let out = a.evaluate(&v, now() + chrono::Duration::minutes(31), WARN, false);
        assert_eq!((out[0].event, out[0].urgency), ("expired", Urgency::Critical));
        assert_eq!(out[0].summary, "dev has expired");
    }

    #[test]
    fn issue25_an_expiring_shell_names_the_command_that_renews_it() {
        let shell = |pid: &str, session: Option<&str>| SessionView {
            shell: Some(ShellView {
                tty: Some("/dev/pts/3".into()),
                key: "ASIA…WXYZ".into(),
                session: session.map(str::to_string),
            }),
            ..view(&format!("shell:{pid}"), false, 5)
        };
        let out = Alerts::default().evaluate(&[shell("29241", Some("dev"))], now(), WARN, false);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].fix.as_deref(), Some("eval \"$(credd export dev)\""));
        assert!(out[0].body.contains("`eval \"$(credd export dev)\"`"), "{}", out[0].body);
        assert!(!out[0].body.contains("that tool"), "{}", out[0].body);
        // Credentials from elsewhere: say so, and how to use a session credd keeps instead.
        let out = Alerts::default().evaluate(&[shell("29242", None)], now(), WARN, false);
        assert!(
            out[0].body.contains("/dev/pts/3") && out[0].body.contains("credd export NAME"),
            "{}",
            out[0].body
        );
        assert!(!out[0].body.contains("that tool"), "{}", out[0].body);
    }

    #[test]
    fn watch_only_sessions_warn_then_expire_and_managed_ones_do_not() {
        let mut a = Alerts::default();
        let views = [view("saml", false, 5), view("dev", true, 5)];
        let out = a.evaluate(&views, now(), WARN, false);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].summary, "saml expires in 5 min");
        assert!(!out[0].refresh_action && out[0].fix.is_none());
        assert_eq!(a.next_deadline(&views, now(), WARN), Some(now() + chrono::Duration::minutes(5)));
    }

    #[test]
    fn recovery_closes_the_incident_and_reports_only_if_asked() {
        let mut a = Alerts::default();
        let bad = [failed(view("dev", true, 60), true, "AKIAIOSFODNN7EXAMPLE")];
        assert_eq!(a.evaluate(&bad, now(), WARN, true).len(), 1);
        let good = [view("dev", true, 60)];
        let out = a.evaluate(&good, now(), WARN, true);
        assert_eq!((out[0].event, out[0].summary.as_str()), ("recovered", "dev is fine again"));
        assert_eq!(
            a.evaluate(&bad, now(), WARN, false).len(),
            1,
            "a new incident after recovery notifies again"
        );
        assert!(
            a.evaluate(&good, now(), WARN, false).is_empty(),
            "recovered notifications are off by default"
        );
    }

    #[test]
    fn incidents_opening_one_by_one_while_others_refresh_are_grouped() {
        let mut a = Alerts::default();
        let d = "arn:aws:iam::123456789012:mfa/alice";
        let busy = |name: &str| SessionView { refreshing: true, ..view(name, true, 60) };
        // dev is done, prod and staging are still refreshing: hold.
        assert!(
            a.evaluate(&[mfa(view("dev", true, 60), d), busy("prod"), busy("staging")], now(), WARN, false)
                .is_empty()
        );
        assert_eq!(a.next_deadline(&[], now(), WARN), Some(now() + to_chrono(GROUP_WINDOW)));
        assert!(
            a.evaluate(
                &[mfa(view("dev", true, 60), d), mfa(view("prod", true, 60), d), busy("staging")],
                now(),
                WARN,
                false
            )
            .is_empty()
        );
        let all = [
            mfa(view("dev", true, 60), d),
            mfa(view("prod", true, 60), d),
            mfa(view("staging", true, 60), d),
        ];
        let out = a.evaluate(&all, now(), WARN, false);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].summary, "dev, prod and staging need an MFA code");
        // A session that keeps refreshing cannot hold the others back past the window.
        let mut a = Alerts::default();
        assert!(a.evaluate(&[mfa(view("dev", true, 60), d), busy("x")], now(), WARN, false).is_empty());
        let out = a.evaluate(
            &[mfa(view("dev", true, 60), d), busy("x")],
            now() + to_chrono(GROUP_WINDOW),
            WARN,
            false,
        );
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn names_read_naturally() {
        let s = |v: &[&str]| names(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            (s(&["a"]), s(&["a", "b"]), s(&["a", "b", "c"])),
            ("a".into(), "a and b".into(), "a, b and c".into())
        );
    }
}
