//! Every engine decision, driven with a manual clock: the files and config go in as text, time is
//! a value, and a refresh's outcome is handed in as the daemon would hand it.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};

use super::*;
use crate::finding::Code;
use crate::profile::{Document, FileKind, SessionCredentials};
use crate::protocol::{ErrorCode, Origin, RefreshResult};
use crate::refresh::Issued;
use crate::refresh::run::Outcome;
use crate::refresh::store::Stored;
use crate::secret::Secret;

const CREDS: &str = "/home/u/.aws/credentials";
const LONG: &str = "aws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s\n";

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-05-01T12:00:00Z").unwrap().to_utc()
}

fn mins(m: i64) -> chrono::Duration {
    chrono::Duration::minutes(m)
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A session profile expiring at `exp`.
fn session(name: &str, exp: DateTime<Utc>, key: &str) -> String {
    format!(
        "[{name}]\naws_access_key_id = {key}\naws_secret_access_key = s\naws_session_token = t\nexpiration = {}\n",
        stamp(exp)
    )
}

fn loaded(creds: &str) -> Loaded {
    Loaded::of(
        None,
        Some(Document::parse(creds, FileKind::Credentials, Path::new(CREDS)).unwrap()),
        Vec::new(),
    )
}

/// `dev` is managed (session-token from `base`, MFA when `mfa`), `saml` is watch-only.
fn config(mfa: bool) -> Config {
    let serial = if mfa { "mfa_serial = \"arn:aws:iam::123456789012:mfa/alice\"\n" } else { "" };
    let text = format!(
        "refresh_before = \"15m\"\njitter = \"0s\"\n[[session]]\nname = \"dev\"\nmethod = \"session-token\"\nsource_profile = \"base\"\nduration = \"1h\"\n{serial}"
    );
    Config::parse(&text, Path::new("/credd.toml")).unwrap()
}

fn files(dev_exp: DateTime<Utc>, saml_exp: DateTime<Utc>) -> Loaded {
    loaded(&format!(
        "[base]\n{LONG}{}{}",
        session("dev", dev_exp, "ASIADEV"),
        session("saml", saml_exp, "ASIASAML")
    ))
}

fn engine(mfa: bool, dev_exp: DateTime<Utc>) -> Engine {
    Engine::from_files(config(mfa), crate::sessions::Host::test(), &files(dev_exp, t0() + mins(60)), t0())
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

fn state(e: &Engine, name: &str, now: DateTime<Utc>) -> State {
    e.result(name, now).state
}

#[test]
fn a_session_falls_due_inside_its_lead_window_and_not_before() {
    let mut e = engine(false, t0() + mins(60));
    assert_eq!(e.due(t0()), Vec::<String>::new());
    assert_eq!(e.due(t0() + mins(44)), Vec::<String>::new());
    // Watch-only `saml` expires at the same time and is never due.
    assert_eq!(e.due(t0() + mins(45)), ["dev"]);
    assert_eq!(e.next_wake(), Some(t0() + mins(45)));
    assert_eq!(state(&e, "dev", t0() + mins(45)), State::Expiring);
    assert_eq!(state(&e, "saml", t0() + mins(61)), State::Expired);
}

#[test]
fn a_managed_session_with_no_recorded_expiry_is_due_at_once() {
    let mut e = Engine::new(config(false), crate::sessions::Host::test());
    e.reconcile(&loaded(&format!("[base]\n{LONG}")), t0());
    assert_eq!(e.due(t0()), ["dev"]);
    assert_eq!(state(&e, "dev", t0()), State::Unknown);
}

#[test]
fn a_refresh_starts_once_and_later_callers_join_it() {
    let mut e = engine(false, t0() + mins(10));
    let Ok(Begin::Start(spec)) = e.begin("dev", false) else { panic!("should start") };
    assert_eq!(spec.name, "dev");
    assert_eq!(e.begin("dev", false), Ok(Begin::Join));
    // While it runs it is not due again, and a code cannot ride on it.
    assert!(e.due(t0()).is_empty());
    assert_eq!(state(&e, "dev", t0()), State::Refreshing);
}

#[test]
fn requests_the_engine_cannot_serve_are_refused_with_one_wording() {
    let mut e = engine(false, t0() + mins(60));
    let unknown = e.begin("dve", false).unwrap_err();
    assert_eq!(unknown.code(), ErrorCode::UnknownSession);
    assert_eq!(unknown.to_string(), "no session named \"dve\"; did you mean \"dev\"?");
    assert_eq!(e.export("dve", None, t0(), Path::new(CREDS)).unwrap_err(), unknown);
    let far = e.begin("zzzzzz", false).unwrap_err();
    assert_eq!(far.to_string(), "no session named \"zzzzzz\"");
    let watch = e.begin("saml", false).unwrap_err();
    assert_eq!((watch.code(), watch.to_string().contains("watch-only")), (ErrorCode::NotManaged, true));
    assert_eq!(e.begin("dev", true), Err(Refusal::NoMfaSerial("dev".into())));
    let mut e = engine(true, t0() + mins(60));
    assert!(matches!(e.begin("dev", false), Ok(Begin::Start(_))));
    assert_eq!(e.begin("dev", true), Err(Refusal::Busy("dev".into())));
}

#[test]
fn a_successful_refresh_schedules_the_next_from_the_new_lifetime() {
    let mut e = engine(false, t0() + mins(10));
    e.begin("dev", false).unwrap();
    e.finish("dev", issued(t0() + mins(60)), t0(), 0.5);
    let r = e.result("dev", t0());
    assert!(r.ok && r.error.is_none(), "{r:?}");
    assert_eq!((r.state, r.expires_at), (State::Fresh, Some(t0() + mins(60))));
    // Lead is min(refresh_before 15m, lifetime/2 = 30m).
    assert_eq!(e.next_wake(), Some(t0() + mins(45)));
    let st = e.status(t0()).into_iter().find(|s| s.name == "dev").unwrap();
    assert_eq!((st.last_refresh_at, st.next_refresh_at), (Some(t0()), Some(t0() + mins(45))));
}

#[test]
fn a_kept_newer_session_is_adopted_without_a_lifetime() {
    let mut e = engine(false, t0() + mins(10));
    e.begin("dev", false).unwrap();
    let Outcome::Refreshed { issued, .. } = issued(t0() + mins(60)) else { unreachable!() };
    e.finish("dev", Outcome::Refreshed { issued, stored: Stored::KeptNewer(t0() + mins(120)) }, t0(), 0.0);
    assert_eq!(e.result("dev", t0()).expires_at, Some(t0() + mins(120)));
    assert_eq!(e.next_wake(), Some(t0() + mins(105)));
}

#[test]
fn a_transient_failure_backs_off_and_a_fatal_one_waits_for_a_change() {
    let mut e = engine(false, t0() + mins(10));
    e.begin("dev", false).unwrap();
    e.finish("dev", Outcome::Failed(RefreshError::transient("503")), t0(), 0.0);
    // backoff_min is 5s; a sample of 0 draws exactly that.
    assert_eq!(e.next_wake(), Some(t0() + chrono::Duration::seconds(5)));
    assert_eq!(state(&e, "dev", t0()), State::Failing);
    assert!(e.due(t0() + chrono::Duration::seconds(5)).contains(&"dev".to_string()));
    e.begin("dev", false).unwrap();
    let fatal = RefreshError::local(Code::SourceProfileMissing, "gone".into());
    e.finish("dev", Outcome::Failed(fatal), t0(), 0.0);
    assert_eq!(e.next_wake(), None);
    let r = e.result("dev", t0());
    assert_eq!((r.ok, r.error.unwrap().finding), (false, Some(Code::SourceProfileMissing)));
}

#[test]
fn a_session_waiting_for_a_code_says_how_to_give_it_and_takes_one() {
    let mut e = engine(true, t0() + mins(10));
    e.begin("dev", false).unwrap();
    let serial = "arn:aws:iam::123456789012:mfa/alice".to_string();
    e.finish("dev", Outcome::NeedsMfa { serial, why: "no mfa_command".into() }, t0(), 0.0);
    let r = e.result("dev", t0());
    assert_eq!((r.ok, r.state), (false, State::NeedsMfa));
    let err = r.error.unwrap();
    assert_eq!((err.finding, err.fix.as_deref()), (Some(Code::MfaCodeNeeded), Some("credd mfa dev CODE")));
    assert_eq!(e.next_wake(), None, "it waits for the code, not for a timer");
    assert!(matches!(e.begin("dev", true), Ok(Begin::Start(_))));
    // Once expired, waiting for a code shows as expired.
    let mut e = engine(true, t0() + mins(10));
    e.begin("dev", false).unwrap();
    e.finish("dev", Outcome::NeedsMfa { serial: "x".into(), why: "y".into() }, t0(), 0.0);
    assert_eq!(state(&e, "dev", t0() + mins(11)), State::Expired);
}

#[test]
fn an_outside_write_is_adopted_and_clears_what_the_session_was_stuck_on() {
    let mut e = engine(false, t0() + mins(10));
    e.begin("dev", false).unwrap();
    e.finish("dev", Outcome::Failed(RefreshError::local(Code::KeyUnknown, "bad key".into())), t0(), 0.0);
    // aws-mfa (or a second credd) wrote a new session.
    e.reconcile(&files(t0() + mins(120), t0() + mins(60)), t0() + mins(1));
    let r = e.result("dev", t0() + mins(1));
    assert!(r.ok && r.error.is_none(), "{r:?}");
    assert_eq!(r.expires_at, Some(t0() + mins(120)));
    assert_eq!(e.next_wake(), Some(t0() + mins(105)), "no lifetime known: the full refresh_before");
}

#[test]
fn an_outside_write_during_a_refresh_waits_for_the_refresh() {
    let mut e = engine(false, t0() + mins(10));
    e.begin("dev", false).unwrap();
    e.reconcile(&files(t0() + mins(120), t0() + mins(60)), t0());
    assert_eq!(state(&e, "dev", t0()), State::Refreshing);
    assert_eq!(e.result("dev", t0()).expires_at, Some(t0() + mins(10)));
}

#[test]
fn fixed_source_keys_retry_a_stuck_session_at_once() {
    let mut e = engine(false, t0() + mins(10));
    e.begin("dev", false).unwrap();
    e.finish("dev", Outcome::Failed(RefreshError::local(Code::KeyUnknown, "bad".into())), t0(), 0.0);
    assert!(e.due(t0() + mins(1)).is_empty());
    let fixed = loaded(&format!(
        "[base]\naws_access_key_id = AKIAFIXED\naws_secret_access_key = s2\n{}{}",
        session("dev", t0() + mins(10), "ASIADEV"),
        session("saml", t0() + mins(60), "ASIASAML")
    ));
    e.reconcile(&fixed, t0() + mins(1));
    assert_eq!(e.due(t0() + mins(1)), ["dev"]);
    // Unchanged keys leave it waiting.
    let mut e = engine(false, t0() + mins(10));
    e.begin("dev", false).unwrap();
    e.finish("dev", Outcome::Failed(RefreshError::local(Code::KeyUnknown, "bad".into())), t0(), 0.0);
    e.reconcile(&files(t0() + mins(10), t0() + mins(60)), t0() + mins(1));
    assert!(e.due(t0() + mins(1)).is_empty());
}

#[test]
fn a_changed_config_reschedules_and_a_removed_session_is_dropped() {
    let mut e = engine(false, t0() + mins(10));
    e.begin("dev", false).unwrap();
    e.finish("dev", Outcome::Failed(RefreshError::local(Code::KeyUnknown, "bad".into())), t0(), 0.0);
    e.set_config(config(true), &files(t0() + mins(10), t0() + mins(60)), t0());
    assert!(e.result("dev", t0()).error.is_none());
    assert_eq!(e.due(t0()), ["dev"]);
    e.set_config(Config::default(), &loaded(&format!("[base]\n{LONG}")), t0());
    assert_eq!(e.status(t0()).len(), 0);
    assert_eq!(e.result("dev", t0()).error.unwrap().message, "no longer tracked");
}

#[test]
fn export_refreshes_first_only_when_the_session_would_not_do() {
    let creds = Path::new(CREDS);
    let e = engine(false, t0() + mins(60));
    let Ok(Export::Ready(loc)) = e.export("dev", None, t0(), creds) else { panic!("fresh: ready") };
    assert_eq!(
        (loc.origin, loc.path.as_str(), loc.profile.as_deref()),
        (Origin::CredentialsFile, CREDS, Some("dev"))
    );
    assert!(matches!(e.export("dev", None, t0() + mins(46), creds), Ok(Export::RefreshFirst(_))));
    // --min-ttl: 50 minutes left is short of 55, and a 1h session can give 55.
    let ttl = Some(Duration::from_secs(55 * 60));
    assert!(matches!(e.export("dev", ttl, t0() + mins(10), creds), Ok(Export::RefreshFirst(_))));
    // A 1h session cannot give 2h: refused before any STS call.
    let r = e.export("dev", Some(Duration::from_secs(7200)), t0(), creds).unwrap_err();
    assert_eq!(r.code(), ErrorCode::TtlUnreachable);
    assert!(r.to_string().contains("raise `duration`"), "{r}");
    // A watch-only session is handed over as it is, even expired: the caller judges.
    let Ok(Export::Ready(loc)) = e.export("saml", ttl, t0() + mins(70), creds) else { panic!("watch-only") };
    assert_eq!(loc.state, State::Expired);
}

#[test]
fn an_export_that_waited_gets_the_new_expiry_or_the_reason() {
    let e = engine(false, t0() + mins(5));
    let Ok(Export::RefreshFirst(loc)) = e.export("dev", None, t0(), Path::new(CREDS)) else { panic!() };
    let ok = RefreshResult {
        name: "dev".into(),
        ok: true,
        state: State::Fresh,
        expires_at: Some(t0() + mins(60)),
        error: None,
    };
    assert_eq!(Engine::exported(loc.clone(), ok.clone(), t0()).unwrap().expires_at, Some(t0() + mins(60)));
    // Failed, but the old session still has 5 minutes: hand it over.
    let failed = RefreshResult { ok: false, expires_at: Some(t0() + mins(5)), ..ok };
    assert!(Engine::exported(loc.clone(), failed.clone(), t0()).is_ok());
    let gone = Engine::exported(loc, failed, t0() + mins(6)).unwrap_err();
    assert!(
        matches!(gone, Refusal::Unrefreshable { .. }) && gone.to_string().contains("has expired"),
        "{gone}"
    );
}

#[test]
fn live_shells_show_in_status_and_alerts_until_their_process_exits() {
    let mut e = engine(false, t0() + mins(60));
    let shell = ShellSession {
        pid: 4242,
        tty: Some("/dev/pts/3".into()),
        key_id: "ASIASHELLKEY0000".into(),
        expires_at: t0() + mins(5),
        session: Some("dev".into()),
    };
    assert!(e.register_shell(shell.clone()));
    assert!(!e.register_shell(shell), "the same registration again is not news");
    let st = e.status(t0());
    let s = st.iter().find(|s| s.name == "shell:4242").unwrap();
    assert_eq!((s.origin, s.state, s.profile.as_str()), (Origin::Shell, State::Expiring, "dev"));
    assert!(e.alert_views().iter().any(|v| v.name == "shell:4242"));
    e.prune_shells(|pid| pid != 4242);
    assert!(e.status(t0()).iter().all(|s| s.name != "shell:4242"));
}

#[test]
fn generations_change_only_when_a_sessions_credentials_do() {
    let mut e = engine(false, t0() + mins(10));
    assert!(e.changed_generations().is_empty(), "first sight is not a change");
    assert!(e.changed_generations().is_empty());
    e.begin("dev", false).unwrap();
    e.finish("dev", issued(t0() + mins(60)), t0(), 0.0);
    assert_eq!(e.changed_generations(), ["dev"]);
    assert!(e.changed_generations().is_empty());
}

#[test]
fn the_summary_counts_sessions_by_state() {
    let e = engine(false, t0() + mins(60));
    assert_eq!(e.summary(t0()), "2 fresh");
    assert_eq!(e.summary(t0() + mins(50)), "2 expiring");
    let empty = Engine::new(Config::default(), crate::sessions::Host::test());
    assert_eq!(empty.summary(t0()), "no sessions");
}

/// Issue 24: credd's own write, seen again through the watcher, is no outside write, even when
/// STS stamps milliseconds the file does not keep; and it makes no other session due.
#[test]
fn issue24_credds_own_write_is_not_adopted_and_wakes_nobody() {
    let mut e = engine(false, t0() + mins(10));
    e.begin("dev", false).unwrap();
    let exp = t0() + mins(60) + chrono::Duration::milliseconds(734);
    e.finish("dev", issued(exp), t0(), 0.0);
    let wake = e.next_wake();
    // The file records whole seconds, as credd wrote it.
    e.reconcile(&files(t0() + mins(60), t0() + mins(60)), t0() + chrono::Duration::seconds(1));
    assert_eq!(e.next_wake(), wake, "the schedule moved after credd's own write");
    assert_eq!(e.result("dev", t0()).expires_at, Some(t0() + mins(60)));
    assert!(e.due(t0() + mins(1)).is_empty());
}

/// Issue 24: a session of the documented minimum, adopted from another program, keeps the
/// half-life lead of its own `duration` instead of the full `refresh_before`, which made a
/// 15-minute session due the moment it was adopted.
#[test]
fn issue24_an_adopted_short_session_is_not_due_at_once() {
    let text = "refresh_before = \"15m\"\njitter = \"0s\"\n[[session]]\nname = \"dev\"\nmethod = \"session-token\"\nsource_profile = \"base\"\nduration = \"15m\"\n";
    let config = Config::parse(text, Path::new("/credd.toml")).unwrap();
    let mut e =
        Engine::from_files(config, crate::sessions::Host::test(), &files(t0() + mins(15), t0()), t0());
    assert!(e.due(t0()).is_empty(), "a fresh 15-minute session was due at once");
    assert_eq!(e.next_wake(), Some(t0() + chrono::Duration::seconds(450)));
}

/// Issue 24: long-term keys where a session lives: failing at once with the finding and no
/// refresh; carrying on once they are gone.
#[test]
fn issue24_long_term_keys_in_a_session_profile_stop_it_until_they_go() {
    let mut e = engine(false, t0() + mins(10));
    let typed = loaded(&format!(
        "[base]\n{LONG}[dev]\naws_access_key_id = AKIATYPED\naws_secret_access_key = s\naws_session_token = leftover\n{}",
        session("saml", t0() + mins(60), "ASIASAML")
    ));
    e.reconcile(&typed, t0());
    let r = e.result("dev", t0());
    assert_eq!(
        (r.state, r.error.unwrap().finding),
        (State::Failing, Some(Code::LongTermKeyInSessionProfile))
    );
    assert!(e.due(t0() + mins(30)).is_empty());
    assert_eq!(e.next_wake(), None);
    e.reconcile(&files(t0() + mins(10), t0() + mins(60)), t0() + mins(1));
    assert!(e.result("dev", t0() + mins(1)).error.is_none());
}

/// Issue 24: a local error retrying cannot fix waits for its path, and only its path.
#[test]
fn issue24_a_blocked_write_waits_for_its_path() {
    let mut e = engine(false, t0() + mins(10));
    e.begin("dev", false).unwrap();
    let blocked = RefreshError {
        blocked_at: Some(Path::new("/home/u/project").into()),
        ..RefreshError::local(Code::FileNotWritable, "not a directory".into())
    };
    e.finish("dev", Outcome::Failed(blocked), t0(), 0.0);
    assert_eq!((e.next_wake(), e.blocked_paths()), (None, vec![std::path::PathBuf::from("/home/u/project")]));
    e.reconcile(&files(t0() + mins(10), t0() + mins(60)), t0() + mins(1));
    assert!(e.due(t0() + mins(1)).is_empty(), "a reading alone retried it");
    e.unblock(Path::new("/home/u/other"), t0() + mins(1));
    assert!(e.due(t0() + mins(1)).is_empty());
    e.unblock(Path::new("/home/u/project"), t0() + mins(2));
    assert_eq!(e.due(t0() + mins(2)), ["dev"]);
}

/// Issue 24: a partial store keeps the profile's new session as credd's own write, and fails.
#[test]
fn issue24_a_partial_store_fails_without_adopting_its_own_profile_write() {
    let mut e = engine(false, t0() + mins(10));
    e.begin("dev", false).unwrap();
    let error = RefreshError {
        blocked_at: Some(Path::new("/p").into()),
        ..RefreshError::local(Code::FileNotWritable, "env file".into())
    };
    e.finish("dev", Outcome::PartlyStored { expires_at: t0() + mins(60), error }, t0(), 0.0);
    e.reconcile(&files(t0() + mins(60), t0() + mins(60)), t0() + mins(1));
    let r = e.result("dev", t0() + mins(1));
    assert_eq!((r.state, r.expires_at), (State::Failing, Some(t0() + mins(60))));
}

/// Issue 24: roles assumed from a session-token session with MFA wait for that session's code,
/// and say whose code it is.
#[test]
fn issue24_roles_wait_for_their_mfa_source_and_name_it() {
    let text = "jitter = \"0s\"\n[[session]]\nname = \"mfa\"\nmethod = \"session-token\"\nsource_profile = \"base\"\nmfa_serial = \"arn:aws:iam::123456789012:mfa/alice\"\n\
                [[session]]\nname = \"dev\"\nmethod = \"assume-role\"\nsource_profile = \"mfa\"\nrole_arn = \"arn:aws:iam::123456789012:role/dev\"\nduration = \"1h\"\n";
    let config = Config::parse(text, Path::new("/credd.toml")).unwrap();
    let mut e =
        Engine::from_files(config, crate::sessions::Host::test(), &loaded(&format!("[base]\n{LONG}")), t0());
    // Both are due; the role waits for its source, which starts first.
    assert_eq!(e.due(t0()), ["mfa"]);
    e.begin("mfa", false).unwrap();
    assert!(e.due(t0()).is_empty());
    let serial = "arn:aws:iam::123456789012:mfa/alice".to_string();
    e.finish("mfa", Outcome::NeedsMfa { serial, why: "no mfa_command".into() }, t0(), 0.0);
    assert!(e.due(t0()).is_empty());
    let r = e.result("dev", t0());
    assert_eq!(r.state, State::NeedsMfa);
    assert_eq!(r.error.unwrap().fix.as_deref(), Some("credd mfa mfa CODE"));
    assert_eq!(e.mfa_target("dev"), "mfa");
    assert_eq!(e.next_wake(), None, "nothing to wake for until a code comes");
}

#[test]
fn issue25_a_keyring_held_profiles_session_has_the_keyring_origin() {
    use crate::config::{Home, Method, Settings};
    use crate::sessions::{HELD_LAYOUT, Kind, Managed, SessionSpec};
    let spec = |discovered| SessionSpec {
        name: "work".into(),
        home: Home::EnvFile("/run/credd/keyring-sessions/work.env".into()),
        kind: Kind::Renewed(Box::new(Managed {
            settings: Settings::new(Method::SessionToken, "work"),
            chained: false,
            discovered,
            on_demand: true,
            source_file: None,
            mfa: None,
        })),
    };
    assert_eq!(view::origin(&spec(Some(HELD_LAYOUT))), Origin::Keyring);
    assert_eq!(view::origin(&spec(None)), Origin::EnvFile);
    assert_eq!(serde_json::to_string(&Origin::Keyring).unwrap(), "\"keyring\"");
}

#[test]
fn issue25_an_unknown_state_carries_its_reason() {
    let creds = format!(
        "[base]\n{LONG}[saml]\naws_access_key_id = ASIASAML\naws_secret_access_key = s\n\
         aws_session_token = t\nexpiration = next tuesday\n"
    );
    let e = Engine::from_files(Config::default(), crate::sessions::Host::test(), &loaded(&creds), t0());
    let st = e.status(t0()).into_iter().find(|s| s.name == "saml").expect("saml is tracked");
    assert_eq!(st.state, State::Unknown);
    let err = st.last_error.expect("an unknown state without a reason");
    assert_eq!(err.finding, Some(Code::ExpiryUnreadable));
    assert!(err.message.contains(&format!("{CREDS}:8: `expiration`")), "{}", err.message);
    assert!(err.fix.is_some_and(|f| f.contains("fix or remove")));
}

/// A locked keyring is a transient failure: each retry begins a refresh again, and the backoff
/// must still grow from 5 s to 5 min instead of starting over at every attempt.
#[test]
fn issue25_a_locked_keyring_is_retried_with_growing_backoff() {
    let mut e = engine(false, t0() + mins(5));
    let mut now = t0();
    let mut delays = Vec::new();
    for _ in 0..8 {
        assert!(matches!(e.begin("dev", false), Ok(Begin::Start(_))));
        let locked = RefreshError {
            finding: Some(Code::KeyringLocked),
            ..RefreshError::transient("the keys of \"base\" are in the OS keyring, but it is locked")
        };
        e.finish("dev", Outcome::Failed(locked), now, 1.0);
        let st = e.status(now).into_iter().find(|s| s.name == "dev").unwrap();
        let retry = st.next_refresh_at.expect("a transient failure is retried");
        delays.push((retry - now).num_seconds());
        now = retry;
    }
    assert_eq!(delays, [5, 10, 20, 40, 80, 160, 300, 300]);
    // A success starts the count again.
    assert!(matches!(e.begin("dev", false), Ok(Begin::Start(_))));
    e.finish("dev", issued(now + mins(60)), now, 1.0);
    assert!(matches!(e.begin("dev", false), Ok(Begin::Start(_))));
    e.finish("dev", Outcome::Failed(RefreshError::transient("throttled")), now, 1.0);
    let st = e.status(now).into_iter().find(|s| s.name == "dev").unwrap();
    assert_eq!((st.next_refresh_at.unwrap() - now).num_seconds(), 5);
}

/// `credential-process` with no daemon and a locked keyring, for a session never issued: the
/// refusal names the keyring, and never says the session expired.
#[test]
fn issue25_a_session_never_issued_is_not_said_to_have_expired() {
    let loc = crate::protocol::ExportLocation {
        name: "dev".into(),
        origin: Origin::CredentialsFile,
        path: CREDS.into(),
        profile: Some("dev".into()),
        expires_at: None,
        state: State::Unknown,
        region: None,
    };
    let failed = RefreshResult {
        name: "dev".into(),
        ok: false,
        state: State::Failing,
        expires_at: None,
        error: Some(crate::protocol::LastError {
            code: None,
            finding: Some(Code::KeyringLocked),
            message: "the keys of \"base\" are in the OS keyring, but it is locked".into(),
            fix: Some("unlock the login keyring".into()),
        }),
    };
    let refused = Engine::exported(loc, failed, t0()).unwrap_err().to_string();
    assert!(!refused.contains("expired"), "{refused}");
    assert!(refused.contains("no session yet") && refused.contains("it is locked; fix: unlock"), "{refused}");
}

/// A legacy SSO profile's token (no `[sso-session]`, so no refresh token) right after a sign-in:
/// it works for its whole 8 hours, so it is fresh, then expiring; only once it ends does it need
/// a sign-in.
#[test]
fn issue25_a_legacy_sso_token_is_fresh_until_its_end() {
    let url = "https://old.awsapps.com/start";
    let config = format!(
        "[profile legacy]\nsso_start_url = {url}\nsso_region = us-east-1\nsso_account_id = 111122223333\nsso_role_name = Dev\n"
    );
    let config = Document::parse(&config, FileKind::Config, Path::new("/home/u/.aws/config")).unwrap();
    let path = crate::sso::cache_file(Path::new("/sso"), url);
    let json = format!(
        r#"{{"startUrl": "{url}", "region": "us-east-1", "accessToken": "a", "expiresAt": "{}"}}"#,
        stamp(t0() + mins(8 * 60))
    );
    let token = crate::sso::cache::CachedToken::parse(json.as_bytes(), &path).unwrap();
    let files = loaded("").with_config(config).with_token_cache(path, Box::new(token));
    let e = Engine::from_files(Config::default(), crate::sessions::Host::test(), &files, t0());
    let state = |at: DateTime<Utc>| {
        e.status(at).into_iter().find(|s| s.origin == Origin::SsoCache).expect("the token is tracked").state
    };
    assert_eq!(state(t0()), State::Fresh);
    assert_eq!(state(t0() + mins(8 * 60 - 5)), State::Expiring);
    assert_eq!(state(t0() + mins(8 * 60 + 1)), State::NeedsLogin);
    // It asks for attention only near its end.
    let attention = |at| e.status(at).iter().any(|s| s.needs_attention());
    assert!(!attention(t0()));
}

#[test]
fn issue25_an_unknown_state_without_an_expiry_says_why_too() {
    let creds = format!(
        "[base]\n{LONG}[saml]\naws_access_key_id = ASIASAML\naws_secret_access_key = s\naws_session_token = t\n"
    );
    let e = Engine::from_files(Config::default(), crate::sessions::Host::test(), &loaded(&creds), t0());
    let unknown: Vec<_> = e.status(t0()).into_iter().filter(|s| s.state == State::Unknown).collect();
    assert!(unknown.iter().any(|s| s.name == "saml"), "{unknown:?}");
    for st in unknown {
        let err = st.last_error.unwrap_or_else(|| panic!("{} is unknown without a reason", st.name));
        assert!(!err.message.is_empty() && err.fix.is_some(), "{err:?}");
    }
}

/// Issue 27 on issue 24's simulated day: an `aws login` session's 15-minute credentials are
/// refreshed when half is left, so over a day about 24 h / 7.5 min of calls, never two within
/// half a lifetime less the jitter, and never one right after credd's own refresh.
#[test]
fn issue27_a_login_session_costs_one_call_per_half_lifetime_over_a_day() {
    let arn = "arn:aws:iam::111122223333:user/dev";
    let config = format!("[profile dev]\nlogin_session = {arn}\nregion = us-east-1\n");
    let config = Document::parse(&config, FileKind::Config, Path::new("/home/u/.aws/config")).unwrap();
    let path = crate::login::cache_file(Path::new("/login"), arn);
    let json = format!(
        r#"{{"accessToken": {{"accessKeyId": "ASIA1", "secretAccessKey": "s", "sessionToken": "t", "accountId": "111122223333", "expiresAt": "{}"}}, "refreshToken": "r", "clientId": "c", "dpopKey": "k"}}"#,
        stamp(t0() + mins(15))
    );
    let token = crate::login::cache::LoginCache::parse(json.as_bytes(), &path).unwrap();
    let files = loaded("").with_config(config).with_token_cache(path, Box::new(token));
    let mut e = Engine::from_files(Config::default(), crate::sessions::Host::test(), &files, t0());
    let name = format!("login-session {arn}");
    assert_eq!(e.status(t0()).iter().find(|s| s.name == name).map(|s| s.origin), Some(Origin::LoginCache));
    let mut calls = Vec::new();
    let mut t = t0();
    while t < t0() + mins(24 * 60) {
        for due in e.due(t) {
            assert_eq!(due, name);
            assert!(matches!(e.begin(&due, false), Ok(Begin::Start(_))));
            calls.push(t);
            let outcome = Outcome::TokenRefreshed { expires_at: t + mins(15), kept_newer: false };
            e.finish(&due, outcome, t, 0.5);
        }
        t += chrono::Duration::seconds(10);
    }
    let n = calls.len();
    assert!((170..=200).contains(&n), "{n} calls in a day");
    let closest = calls.windows(2).map(|w| w[1] - w[0]).min().unwrap();
    assert!(closest >= mins(6), "two refreshes {closest} apart");
    assert!(
        calls[0] >= t0() + mins(6),
        "the first refresh comes at half its life, not at once: {}",
        calls[0]
    );
}
