//! The one-line status for shell prompts (`dev 42m prod MFA!`), and the short durations it and
//! the table print. The daemon renders the line for `credd status --prompt`, so a prompt costs
//! the same with 5,000 sessions as with 5 (it used to parse the whole status); the client renders
//! it for a daemon that predates that. Pure functions over the status reply.

use chrono::{DateTime, Utc};

use crate::protocol::{State, Status};

/// `42m`, `3h05m`, `2d`: short, for columns and prompts.
pub fn short_duration(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let secs = (to - from).num_seconds();
    if secs <= 0 {
        return "now".into();
    }
    let (d, h, m) = (secs / 86400, (secs % 86400) / 3600, (secs % 3600) / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h{m:02}m"),
        (d, h, _) => format!("{d}d{h:02}h"),
    }
}

/// The prompt line: nothing when all is well; otherwise the sessions that want attention or are
/// about to expire, e.g. `dev 42m` or `dev MFA! prod EXP`.
pub fn prompt(status: &Status, now: DateTime<Utc>) -> String {
    let mut parts = Vec::new();
    for s in &status.sessions {
        let tag = match s.state {
            State::NeedsMfa => "MFA!".to_string(),
            State::NeedsLogin => "LOGIN!".to_string(),
            State::Expired => "EXP".to_string(),
            State::Failing => "ERR".to_string(),
            State::Expiring => s.expires_at.map(|e| short_duration(now, e)).unwrap_or_else(|| "?".into()),
            State::Fresh | State::Refreshing | State::Unknown => continue,
        };
        parts.push(format!("{} {tag}", s.name));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::SessionStatus;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
    }

    fn session(name: &str, state: State, expires_in: i64) -> SessionStatus {
        let mut s = crate::protocol::tests::plain(name);
        s.state = state;
        s.expires_at = Some(at() + chrono::Duration::seconds(expires_in));
        s
    }

    fn status(sessions: Vec<SessionStatus>) -> Status {
        Status { started_at: at(), config_path: "/c".into(), files: vec![], sessions }
    }

    #[test]
    fn prompt_is_quiet_when_all_is_well() {
        assert_eq!(prompt(&status(vec![session("dev", State::Fresh, 3600)]), at()), "");
        let st = status(vec![
            session("dev", State::Expiring, 42 * 60),
            session("ok", State::Fresh, 3600),
            session("prod", State::NeedsMfa, 60),
            session("sso-session corp", State::NeedsLogin, 60),
        ]);
        assert_eq!(prompt(&st, at()), "dev 42m prod MFA! sso-session corp LOGIN!");
    }

    #[test]
    fn durations() {
        let d = |secs| short_duration(at(), at() + chrono::Duration::seconds(secs));
        assert_eq!(
            (d(-5), d(0), d(59), d(60 * 42)),
            ("now".into(), "now".into(), "59s".into(), "42m".into())
        );
        assert_eq!((d(3 * 3600 + 5 * 60), d(2 * 86400 + 3600)), ("3h05m".into(), "2d01h".into()));
    }
}
