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
//!
//! This file decides when; the words of each notification are `alerts/render.rs`'s.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::expiry::to_chrono;
use crate::finding::Code;
use crate::secret::short_key_id;
pub use render::names;
use render::render;

mod render;

/// What alerts needs to know about one session. Owned and secret-free.
#[derive(Debug, Clone, Default)]
pub struct SessionView {
    pub name: String,
    pub managed: bool,
    pub refreshing: bool,
    pub expires_at: Option<DateTime<Utc>>,
    /// `(device, why)` while waiting for an MFA code.
    pub needs_mfa: Option<(String, String)>,
    /// For a role assumed from a shared MFA session: that session, whose code is its code.
    pub mfa_via: Option<String>,
    /// For a shared MFA session that only a code renews (no `mfa_command`): its device and the
    /// roles assumed from it. It is announced `warn_before` ahead of its end.
    pub mfa_session: Option<MfaSessionView>,
    /// The last error, if any, with whether it is fatal.
    pub error: Option<ErrorView>,
    /// For an SSO token: when a new sign-in will be needed, and how.
    pub login: Option<LoginView>,
    /// For a live shell's session (credd cannot renew what is in another process's
    /// environment): what the shell holds, so the alert can name what renews it.
    pub shell: Option<ShellView>,
}

/// A shared MFA session that only a code renews.
#[derive(Debug, Clone, Default)]
pub struct MfaSessionView {
    pub device: String,
    /// The roles assumed from it.
    pub serves: Vec<String>,
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
        // An MFA session ends: the code that renews it (and its roles) is asked for ahead.
        if let (true, Some(m)) = (soon, &v.mfa_session) {
            return Some(Problem::NeedsMfa { device: m.device.clone() });
        }
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
            let pending = std::mem::take(&mut self.pending);
            let batch: std::collections::HashSet<&str> = pending.iter().map(|(n, _, _)| n.as_str()).collect();
            for (name, p, _) in &pending {
                let v = views.iter().find(|v| v.name == *name);
                // A role waiting for its MFA session's code says nothing of its own once that
                // session has told its problem: one notification per device, with one command.
                let told = v.and_then(|v| v.mfa_via.as_deref()).is_some_and(|via| {
                    matches!(p, Problem::NeedsMfa { .. })
                        && self.open.contains_key(via)
                        && !batch.contains(via)
                });
                if let (Some(v), false) = (v, told) {
                    opening.entry(p.clone()).or_default().push(v);
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

    /// Every problem rendered for one session and for two, word for word, as `render` wrote them
    /// before it was split into one function per problem.
    #[test]
    fn notifications_word_for_word() {
        let login = |mut v: SessionView, why: Option<&str>| {
            let fix = "aws sso login --sso-session corp".to_string();
            let profiles = vec!["a".into(), "b".into()];
            v.login = Some(LoginView {
                by: now() + chrono::Duration::minutes(7),
                why: why.map(Into::into),
                fix,
                profiles,
            });
            v
        };
        let shell = |mut v: SessionView, session: Option<&str>| {
            let session = session.map(Into::into);
            v.shell = Some(ShellView { tty: Some("/dev/pts/3".into()), key: "AKIA…MPLE".into(), session });
            v
        };
        let failed_key = Problem::Failed { finding: Code::KeyUnknown, cause: "k".into() };
        let cases: Vec<(Problem, Vec<SessionView>)> = vec![
            (Problem::NeedsLogin, vec![login(view("s", false, 30), Some("the token was revoked."))]),
            (Problem::NeedsLogin, vec![login(view("s", false, 30), None), view("t", false, 30)]),
            (Problem::NeedsMfa { device: "d".into() }, vec![mfa(view("dev", true, 5), "d")]),
            (
                Problem::NeedsMfa { device: "d".into() },
                vec![mfa(view("dev", true, 5), "d"), view("prod", true, 5)],
            ),
            (failed_key.clone(), vec![failed(view("dev", true, 5), true, "AKIA1")]),
            (failed_key, vec![view("dev", false, 5), view("prod", false, 5)]),
            (Problem::Expiring, vec![failed(view("dev", true, 8), false, "AKIA1")]),
            (Problem::Expiring, vec![view("saml", false, 5), view("okta", false, 5)]),
            (Problem::Expiring, vec![shell(view("sh", false, 5), Some("dev"))]),
            (Problem::Expiring, vec![shell(view("sh", false, 5), None)]),
            (Problem::Expired, vec![mfa(view("dev", true, -1), "d")]),
            (Problem::Expired, vec![failed(view("dev", true, -1), true, "AKIA1"), view("prod", true, -1)]),
            (Problem::Expired, vec![view("saml", false, -1)]),
            (Problem::Expired, vec![shell(view("sh", false, -1), Some("dev"))]),
        ];
        let got: Vec<String> = cases
            .iter()
            .map(|(p, vs)| format!("{:?}", render(p, &vs.iter().collect::<Vec<_>>(), now())))
            .collect();
        let want = [
            "Notification { event: \"needs-login\", sessions: [\"s\"], summary: \"s needs a new sign-in within 7 min\", body: \"Its token cannot be refreshed: the token was revoked. Profiles that use it: a and b. Run `aws sso login --sso-session corp`.\", fix: Some(\"aws sso login --sso-session corp\"), urgency: Normal, refresh_action: false }",
            "Notification { event: \"needs-login\", sessions: [\"s\", \"t\"], summary: \"s and t needs a new sign-in within 7 min\", body: \"Its client registration ends, and with it every refresh. Profiles that use it: a and b. Run `aws sso login --sso-session corp`.\", fix: Some(\"aws sso login --sso-session corp\"), urgency: Normal, refresh_action: false }",
            "Notification { event: \"needs-mfa\", sessions: [\"dev\"], summary: \"dev needs an MFA code\", body: \"credd needs a one-time code from d to refresh it; no mfa_command is configured. Run `credd mfa dev CODE`.\", fix: Some(\"credd mfa dev CODE\"), urgency: Normal, refresh_action: false }",
            "Notification { event: \"needs-mfa\", sessions: [\"dev\", \"prod\"], summary: \"dev and prod need an MFA code\", body: \"credd needs a one-time code from d to refresh them; no mfa_command is configured. Run `credd mfa dev CODE`, then the others with the next codes.\", fix: Some(\"credd mfa dev CODE\"), urgency: Normal, refresh_action: false }",
            "Notification { event: \"refresh-failed\", sessions: [\"dev\"], summary: \"dev: refresh failed: InvalidClientTokenId\", body: \"The security token included in the request is invalid (key-unknown). Fix: create a new key. credd will not retry until something changes.\", fix: Some(\"create a new key\"), urgency: Normal, refresh_action: true }",
            "Notification { event: \"refresh-failed\", sessions: [\"dev\", \"prod\"], summary: \"dev and prod: refresh failed: key-unknown\", body: \" (key-unknown). credd will not retry until something changes.\", fix: None, urgency: Normal, refresh_action: false }",
            "Notification { event: \"expiring\", sessions: [\"dev\"], summary: \"dev expires in 8 min\", body: \"credd keeps failing to refresh it: The security token included in the request is invalid. It keeps trying.\", fix: Some(\"credd refresh dev\"), urgency: Normal, refresh_action: true }",
            "Notification { event: \"expiring\", sessions: [\"okta\", \"saml\"], summary: \"okta and saml expire in 5 min\", body: \"credd does not manage them: renew them with the tool that wrote them.\", fix: None, urgency: Normal, refresh_action: false }",
            "Notification { event: \"expiring\", sessions: [\"sh\"], summary: \"sh expires in 5 min\", body: \"The shell on /dev/pts/3 holds dev (key AKIA…MPLE) from `credd export dev`. Run `eval \\\"$(credd export dev)\\\"` in it for fresh credentials.\", fix: Some(\"eval \\\"$(credd export dev)\\\"\"), urgency: Normal, refresh_action: false }",
            "Notification { event: \"expiring\", sessions: [\"sh\"], summary: \"sh expires in 5 min\", body: \"The shell on /dev/pts/3 holds credentials (key AKIA…MPLE) that a command other than credd put in its environment; credd cannot renew them. Run that command again in it, or use a session credd keeps fresh: `eval \\\"$(credd export NAME)\\\"`.\", fix: None, urgency: Normal, refresh_action: false }",
            "Notification { event: \"expired\", sessions: [\"dev\"], summary: \"dev has expired\", body: \"Commands using it now fail. Cause: it needs an MFA code from d. Fix: credd mfa dev CODE.\", fix: Some(\"credd mfa dev CODE\"), urgency: Critical, refresh_action: true }",
            "Notification { event: \"expired\", sessions: [\"dev\", \"prod\"], summary: \"dev and prod have expired\", body: \"Commands using them now fail. Cause: The security token included in the request is invalid. Fix: create a new key.\", fix: Some(\"create a new key\"), urgency: Critical, refresh_action: true }",
            "Notification { event: \"expired\", sessions: [\"saml\"], summary: \"saml has expired\", body: \"Commands using it now fail. Cause: credd does not manage it: renew it with the tool that wrote it.\", fix: None, urgency: Critical, refresh_action: false }",
            "Notification { event: \"expired\", sessions: [\"sh\"], summary: \"sh has expired\", body: \"Commands using it now fail. Cause: The shell on /dev/pts/3 holds dev (key AKIA…MPLE) from `credd export dev`. Run `eval \\\"$(credd export dev)\\\"` in it for fresh credentials. Fix: eval \\\"$(credd export dev)\\\".\", fix: Some(\"eval \\\"$(credd export dev)\\\"\"), urgency: Critical, refresh_action: false }",
        ];
        assert_eq!(got, want);
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
