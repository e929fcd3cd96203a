//! Issue 29, one MFA code a day: roles that share a source and an MFA device are assumed from one
//! MFA session of that source and device, driven on a manual clock as the daemon would drive it.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::*;
use crate::alerts::Alerts;
use crate::profile::{Document, FileKind, SessionCredentials};
use crate::protocol::State;
use crate::refresh::Issued;
use crate::refresh::run::Outcome;
use crate::refresh::store::Stored;
use crate::secret::Secret;
use crate::sessions::Mfa;

const SERIAL: &str = "arn:aws:iam::123456789012:mfa/alice";
const MFA: &str = "mfa,base";
const WARN: Duration = Duration::from_secs(600);

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-05-01T08:00:00Z").unwrap().to_utc()
}

fn mins(m: i64) -> chrono::Duration {
    chrono::Duration::minutes(m)
}

/// A role `name` from `base` with the device; `extra` adds keys.
fn role(name: &str, extra: &str) -> String {
    format!(
        "[[session]]\nname = \"{name}\"\nmethod = \"assume-role\"\nsource_profile = \"base\"\nrole_arn = \"arn:aws:iam::123456789012:role/{name}\"\nmfa_serial = \"{SERIAL}\"\n{extra}"
    )
}

/// dev, staging and prod from one device; `top` goes first, `prod` adds keys to prod.
fn engine_with(top: &str, prod: &str) -> Engine {
    let text =
        format!("jitter = \"0s\"\n{top}{}{}{}", role("dev", ""), role("staging", ""), role("prod", prod));
    let config = Config::parse(&text, Path::new("/credd.toml")).unwrap();
    let creds = "[base]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s\n";
    let loaded = Loaded::of(
        None,
        Some(Document::parse(creds, FileKind::Credentials, Path::new("/k")).unwrap()),
        vec![],
    );
    Engine::from_files(config, crate::sessions::Host::test(), &loaded, t0())
}

fn engine() -> Engine {
    engine_with("", "")
}

fn issued(exp: DateTime<Utc>) -> Outcome {
    Outcome::Refreshed {
        issued: Issued {
            credentials: SessionCredentials {
                access_key_id: "ASIANEW".into(),
                secret_access_key: Secret::new("s"),
                session_token: Secret::new("t"),
                expiration: exp,
            },
            identity: None,
        },
        stored: Stored::Written,
    }
}

fn no_code() -> Outcome {
    Outcome::NeedsMfa { serial: SERIAL.into(), why: "no mfa_command is configured".into() }
}

/// Runs what is due at `now` as the daemon would, with `code` for the MFA session when given
/// (or `None` for "no code to be had"). Returns the sessions that called STS.
fn step(e: &mut Engine, now: DateTime<Utc>, code: bool) -> Vec<String> {
    let mut called = Vec::new();
    loop {
        let due = e.due(now);
        if due.is_empty() {
            return called;
        }
        for name in due {
            assert!(matches!(e.begin(&name, false), Ok(Begin::Start(_))), "{name}");
            let outcome = match (name.as_str(), code) {
                (MFA, true) => issued(now + mins(12 * 60)),
                (MFA, false) => no_code(),
                _ => issued(now + mins(60)),
            };
            // A role's STS call is made with the MFA session's keys: never without them.
            if name != MFA {
                let src = &e.sessions[MFA];
                assert!(
                    src.track.expires_at().is_some_and(|x| x > now),
                    "{name} called STS without its MFA session"
                );
            }
            if !matches!(outcome, Outcome::NeedsMfa { .. }) {
                called.push(name.clone());
            }
            e.finish(&name, outcome, now, 0.0);
        }
    }
}

#[test]
fn issue29_three_roles_one_device_plan_one_mfa_session() {
    let e = engine();
    let names: Vec<&str> = e.sessions.keys().map(String::as_str).collect();
    assert_eq!(names, ["dev", MFA, "prod", "staging"]);
    let mfa = &e.sessions[MFA].spec;
    assert_eq!(mfa.home, Home::EnvFile("/run/credd/mfa-sessions/base.env".into()), "never a profile");
    let m = mfa.managed().unwrap();
    assert_eq!(m.settings.method, crate::config::Method::SessionToken);
    assert_eq!(m.settings.duration, Duration::from_secs(12 * 3600));
    assert_eq!(m.settings.mfa_serial.as_deref(), Some(SERIAL));
    let dev = e.sessions["dev"].spec.managed().unwrap();
    assert!(dev.chained && dev.settings.mfa_serial.is_none());
    assert_eq!(dev.settings.source_profile, MFA);
    assert_eq!(dev.source_file, Some("/run/credd/mfa-sessions/base.env".into()));
    assert_eq!(e.mfa_target("dev"), MFA, "a code given for a role feeds the MFA session");
    let st = e.status(t0());
    let note = |n: &str| st.iter().find(|s| s.name == n).and_then(|s| s.note.clone()).unwrap_or_default();
    assert!(note(MFA).contains("dev, prod, staging"), "{}", note(MFA));
    assert!(note("dev").contains("assumed from MFA session mfa,base"), "{}", note("dev"));
}

#[test]
fn issue29_one_code_renews_three_roles_and_one_notification_asks_for_it() {
    let mut e = engine();
    // Only the MFA session starts: the roles wait for it.
    assert_eq!(e.due(t0()), [MFA]);
    assert!(step(&mut e, t0(), false).is_empty());
    for name in ["dev", "prod", "staging"] {
        let r = e.result(name, t0());
        assert_eq!(r.state, State::NeedsMfa, "{name}");
        let err = r.error.unwrap();
        assert_eq!(err.fix.as_deref(), Some("credd mfa mfa,base CODE"), "{name}");
        assert!(!err.message.contains("no longer exists") && err.message.contains(SERIAL), "{}", err.message);
    }
    assert_eq!(e.next_wake(), None, "no retries while the code is awaited");
    assert!(e.due(t0() + mins(30)).is_empty(), "no storm while the code is awaited");
    let mut alerts = Alerts::default();
    let out = alerts.evaluate(&e.alert_views(), t0(), WARN, false);
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(out[0].event, "needs-mfa");
    assert_eq!(out[0].fix.as_deref(), Some("credd mfa mfa,base CODE"));
    assert_eq!(out[0].summary, "mfa,base needs an MFA code");
    assert!(
        out[0]
            .body
            .ends_with("Run `credd mfa mfa,base CODE`; that one code renews dev, prod and staging too."),
        "{}",
        out[0].body
    );
    // The code, given for any role, goes to the MFA session; then all three refresh.
    let target = e.mfa_target("prod");
    assert!(matches!(e.begin(&target, true), Ok(Begin::Start(_))));
    e.finish(&target, issued(t0() + mins(12 * 60)), t0(), 0.0);
    assert_eq!(step(&mut e, t0(), false), ["dev", "prod", "staging"]);
    for name in ["dev", "prod", "staging", MFA] {
        assert_eq!(e.result(name, t0()).state, State::Fresh, "{name}");
    }
    assert!(alerts.evaluate(&e.alert_views(), t0(), WARN, false).is_empty());
}

#[test]
fn issue29_a_day_takes_one_code_and_no_storm() {
    let mut e = engine();
    // Morning: the one code.
    assert!(step(&mut e, t0(), false).is_empty());
    e.begin(MFA, true).unwrap();
    e.finish(MFA, issued(t0() + mins(12 * 60)), t0(), 0.0);
    let mut calls: BTreeMap<String, usize> = BTreeMap::new();
    let mut asked = None;
    let mut now = t0();
    while now < t0() + mins(16 * 60) {
        for n in step(&mut e, now, false) {
            *calls.entry(n).or_default() += 1;
        }
        if asked.is_none() && e.sessions[MFA].track.phase() == Phase::NeedsMfa {
            asked = Some(now);
        }
        now += mins(1);
    }
    // The MFA session asks for its next code once, 15 min ahead of its end, not before.
    assert_eq!(asked, Some(t0() + mins(12 * 60 - 15)));
    assert!(!calls.contains_key(MFA), "{calls:?}");
    // Each role refreshes every 45 min while the MFA session lasts (at 0:00, 0:45 … 11:15),
    // then waits for the next code. Nothing more (a storm would be hundreds).
    for name in ["dev", "prod", "staging"] {
        assert_eq!(calls.get(name), Some(&16), "{name}: {calls:?}");
        assert_eq!(e.result(name, now).state, State::Expired, "{name}");
    }
    assert_eq!(e.mfa_target("dev"), MFA);
}

#[test]
fn issue29_long_roles_and_the_switch_keep_direct_mfa() {
    let e = engine_with("", "duration = \"2h\"\n");
    let prod = e.sessions["prod"].spec.managed().unwrap();
    assert!(!prod.chained && prod.settings.mfa_serial.as_deref() == Some(SERIAL));
    assert!(matches!(&prod.mfa, Some(Mfa::Direct(why)) if why.contains("over the 1h")), "{:?}", prod.mfa);
    assert_eq!(e.mfa_target("prod"), "prod");
    let e = engine_with("", "direct_mfa = true\n");
    let prod = e.sessions["prod"].spec.managed().unwrap();
    assert!(matches!(&prod.mfa, Some(Mfa::Direct(why)) if why.contains("direct_mfa")), "{:?}", prod.mfa);
    let note = e.status(t0()).into_iter().find(|s| s.name == "prod").unwrap().note.unwrap();
    assert!(note.starts_with("takes its own MFA code at each refresh"), "{note}");
    // The others still share one.
    assert_eq!(e.mfa_target("dev"), MFA);
    let mut e = e;
    let mut due = e.due(t0());
    due.sort();
    assert_eq!(due, [MFA, "prod"]);
}

#[test]
fn issue29_a_session_token_session_with_the_device_is_the_mfa_session() {
    let top = format!(
        "mfa_session_duration = \"8h\"\n[[session]]\nname = \"mfa\"\nmethod = \"session-token\"\nsource_profile = \"base\"\nmfa_serial = \"{SERIAL}\"\n"
    );
    let e = engine_with(&top, "");
    assert!(!e.sessions.contains_key(MFA), "no second GetSessionToken session");
    let dev = e.sessions["dev"].spec.managed().unwrap();
    assert_eq!((dev.settings.source_profile.as_str(), dev.chained, &dev.source_file), ("mfa", true, &None));
    assert_eq!(e.mfa_target("staging"), "mfa");
    // Its own duration stands (12h, the session-token default), not mfa_session_duration.
    let m = e.sessions["mfa"].spec.managed().unwrap();
    assert_eq!(m.settings.duration, Duration::from_secs(12 * 3600));
    assert!(matches!(&m.mfa, Some(Mfa::Shared { dependents, .. }) if dependents.len() == 3));
}

#[test]
fn issue29_the_mfa_sessions_end_is_announced_warn_before_ahead_with_the_one_command() {
    // refresh_before 5m < warn_before 10m: the announcement comes before the refresh asks.
    let mut e = engine_with("refresh_before = \"5m\"\n", "");
    e.begin(MFA, true).unwrap();
    e.finish(MFA, issued(t0() + mins(12 * 60)), t0(), 0.0);
    step(&mut e, t0(), false);
    let mut alerts = Alerts::default();
    let end = t0() + mins(12 * 60);
    assert!(alerts.evaluate(&e.alert_views(), end - mins(11), WARN, false).is_empty());
    let ahead = end - mins(10);
    assert_eq!(alerts.next_deadline(&e.alert_views(), end - mins(11), WARN), Some(ahead));
    // The roles run on: a role due then refreshes from the MFA session, which still works.
    assert!(e.due(ahead).iter().all(|n| n != MFA), "not yet due itself");
    let out = alerts.evaluate(&e.alert_views(), ahead, WARN, false);
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!((out[0].event, out[0].sessions.as_slice()), ("needs-mfa", [MFA.to_string()].as_slice()));
    assert_eq!(out[0].fix.as_deref(), Some("credd mfa mfa,base CODE"));
    assert!(
        out[0].body.contains("ends in 10 min") && out[0].body.contains("dev, prod and staging"),
        "{}",
        out[0].body
    );
    // When the refresh then asks for the code, that is the same incident: nothing new. The
    // roles, long expired here, refresh from the MFA session meanwhile: it still works.
    assert_eq!(step(&mut e, end - mins(5), false), ["dev", "prod", "staging"]);
    assert_eq!(e.sessions[MFA].track.phase(), Phase::NeedsMfa);
    assert!(alerts.evaluate(&e.alert_views(), end - mins(5), WARN, false).is_empty());
}

#[test]
fn issue29_an_mfa_command_renews_the_mfa_session_and_keeps_it_quiet() {
    let mut e = engine_with("", "mfa_command = \"ykman oath accounts code -s aws\"\n");
    let m = e.sessions[MFA].spec.managed().unwrap();
    assert_eq!(m.settings.mfa_command.as_deref(), Some("ykman oath accounts code -s aws"));
    assert!(e.sessions["prod"].spec.managed().unwrap().settings.mfa_command.is_none());
    step(&mut e, t0(), true);
    let end = t0() + mins(12 * 60);
    let mut alerts = Alerts::default();
    assert!(alerts.evaluate(&e.alert_views(), end - mins(10), WARN, false).is_empty(), "no code to ask for");
}

#[test]
fn issue29_a_role_alone_on_its_device_keeps_its_own_code() {
    let config =
        Config::parse(&format!("jitter = \"0s\"\n{}", role("dev", "")), Path::new("/c.toml")).unwrap();
    let creds = "[base]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s\n";
    let loaded = Loaded::of(
        None,
        Some(Document::parse(creds, FileKind::Credentials, Path::new("/k")).unwrap()),
        vec![],
    );
    let e = Engine::from_files(config, crate::sessions::Host::test(), &loaded, t0());
    assert_eq!(e.sessions.keys().collect::<Vec<_>>(), ["dev"]);
    let dev = e.sessions["dev"].spec.managed().unwrap();
    assert!(!dev.chained && dev.mfa.is_none() && dev.settings.mfa_serial.is_some());
}
