//! What a notification says: the words for each kind of problem, for one session or several
//! that share it. When to say it is the parent's (`alerts.rs`).

use chrono::{DateTime, Utc};

use super::{Notification, Problem, SessionView, Urgency};
use crate::finding::shell_word;

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
            let fix = format!("eval \"$(credd export {})\"", shell_word(name));
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

/// The sessions one notification is about.
struct Group<'a> {
    /// Sorted by name.
    sessions: Vec<String>,
    /// "dev", "dev and prod".
    who: String,
    plural: bool,
    /// The session whose details (its error, its device) speak for the group.
    first: &'a SessionView,
    views: &'a [&'a SessionView],
    now: DateTime<Utc>,
}

impl Group<'_> {
    /// "it" or "them".
    fn them(&self) -> &'static str {
        if self.plural { "them" } else { "it" }
    }
}

/// What a notification says, and how urgently.
struct Words {
    summary: String,
    body: String,
    fix: Option<String>,
    urgency: Urgency,
}

pub(super) fn render(p: &Problem, vs: &[&SessionView], now: DateTime<Utc>) -> Notification {
    let mut sessions: Vec<String> = vs.iter().map(|v| v.name.clone()).collect();
    sessions.sort();
    // The session that speaks for the group: a shared MFA session when there is one.
    let first = vs.iter().find(|v| v.mfa_session.is_some()).unwrap_or(&vs[0]);
    let g = Group { who: names(&sessions), plural: sessions.len() > 1, sessions, first, views: vs, now };
    let managed = vs.iter().any(|v| v.managed);
    let words = match p {
        Problem::NeedsLogin => needs_login(&g),
        Problem::NeedsMfa { device } => needs_mfa(&g, device),
        Problem::Failed { finding, .. } => failed(&g, finding),
        Problem::Expiring => expiring(&g),
        Problem::Expired => expired(&g),
    };
    Notification {
        event: p.event(),
        sessions: g.sessions,
        summary: words.summary,
        body: words.body,
        fix: words.fix,
        urgency: words.urgency,
        refresh_action: managed && !matches!(p, Problem::NeedsMfa { .. } | Problem::NeedsLogin),
    }
}

fn needs_login(g: &Group) -> Words {
    let login = g.first.login.clone().unwrap_or_default();
    let when =
        if login.by <= g.now { "now".to_string() } else { format!("within {}", minutes(login.by - g.now)) };
    let why = match &login.why {
        Some(why) => format!("Its token cannot be refreshed: {}.", why.trim_end_matches('.')),
        None => "Its client registration ends, and with it every refresh.".into(),
    };
    let users = match login.profiles.as_slice() {
        [] => String::new(),
        ps => format!(" Profiles that use it: {}.", names(ps)),
    };
    Words {
        summary: format!("{} needs a new sign-in {when}", g.who),
        body: format!("{why}{users} Run `{}`.", login.fix),
        fix: Some(login.fix.clone()),
        urgency: Urgency::Normal,
    }
}

/// The session that takes the code for all of `g`, when one does: a shared MFA session, and the
/// roles assumed from it (issue 29).
fn one_code_for(g: &Group) -> Option<String> {
    let mut targets = g.views.iter().map(|v| v.mfa_via.clone().unwrap_or_else(|| v.name.clone()));
    let first = targets.next()?;
    let shared = g.views.iter().any(|v| v.mfa_via.is_some() || v.mfa_session.is_some());
    (shared && targets.all(|t| t == first)).then_some(first)
}

/// The command that gives the code, for `g`.
fn mfa_fix(g: &Group) -> String {
    format!("credd mfa {} CODE", shell_word(&one_code_for(g).unwrap_or_else(|| g.sessions[0].clone())))
}

fn needs_mfa(g: &Group, device: &str) -> Words {
    let session = g.views.iter().find_map(|v| v.mfa_session.as_ref());
    let why = match (g.first.needs_mfa.as_ref(), session, g.first.expires_at) {
        (Some((_, w)), _, _) => w.clone(),
        (None, Some(_), Some(e)) if e > g.now => format!("its MFA session ends in {}", minutes(e - g.now)),
        (None, Some(_), _) => "its MFA session has ended".into(),
        (None, None, _) => String::new(),
    };
    let fix = mfa_fix(g);
    let (summary, them, more) = match one_code_for(g) {
        // One code, for one MFA session, renews the whole group: name that session.
        Some(target) => {
            let mut served: Vec<String> = session.map(|s| s.serves.clone()).unwrap_or_default();
            served.extend(g.sessions.iter().filter(|n| **n != target).cloned());
            served.sort();
            served.dedup();
            let more = match served.is_empty() {
                true => String::new(),
                false => format!("; that one code renews {} too", names(&served)),
            };
            (format!("{target} needs an MFA code"), "it", more)
        }
        None => (
            format!("{} {} an MFA code", g.who, if g.plural { "need" } else { "needs" }),
            g.them(),
            if g.plural { ", then the others with the next codes" } else { "" }.to_string(),
        ),
    };
    Words {
        summary,
        body: format!(
            "credd needs a one-time code from {device} to refresh {them}; {why}. Run `{fix}`{more}."
        ),
        fix: Some(fix),
        urgency: Urgency::Normal,
    }
}

fn failed(g: &Group, finding: &crate::finding::Code) -> Words {
    let e = g.first.error.clone().unwrap_or_default();
    let what = e.code.clone().unwrap_or_else(|| finding.to_string());
    let fix = e.fix.clone();
    let mut body = format!("{} ({finding}).", e.message.trim_end_matches('.'));
    if let Some(f) = &fix {
        body.push_str(&format!(" Fix: {f}."));
    }
    body.push_str(" credd will not retry until something changes.");
    Words { summary: format!("{}: refresh failed: {what}", g.who), body, fix, urgency: Urgency::Normal }
}

fn expiring(g: &Group) -> Words {
    let left = g.first.expires_at.map(|e| minutes(e - g.now)).unwrap_or_default();
    let (body, fix) = match &g.first.error {
        Some(e) => (
            format!(
                "credd keeps failing to refresh {}: {}. It keeps trying.",
                g.them(),
                e.message.trim_end_matches('.')
            ),
            // It keeps trying: refreshing now is the one thing to do.
            Some(format!("credd refresh {}", shell_word(&g.sessions[0]))),
        ),
        None => renewal(g.first, g.them()),
    };
    Words {
        summary: format!("{} {} in {left}", g.who, if g.plural { "expire" } else { "expires" }),
        body,
        fix,
        urgency: Urgency::Normal,
    }
}

fn expired(g: &Group) -> Words {
    let (cause, fix) = match (&g.first.needs_mfa, &g.first.error) {
        (Some((device, _)), _) => (format!("it needs an MFA code from {device}"), Some(mfa_fix(g))),
        (None, Some(e)) => (
            e.message.trim_end_matches('.').to_string(),
            e.fix.clone().or(Some(format!("credd refresh {}", shell_word(&g.sessions[0])))),
        ),
        (None, None) => {
            let (body, fix) = renewal(g.first, "it");
            (body.trim_end_matches('.').to_string(), fix)
        }
    };
    let mut body = format!("Commands using {} now fail. Cause: {cause}.", g.them());
    if let Some(f) = &fix {
        body.push_str(&format!(" Fix: {f}."));
    }
    Words {
        summary: format!("{} {} expired", g.who, if g.plural { "have" } else { "has" }),
        body,
        fix,
        urgency: Urgency::Critical,
    }
}
