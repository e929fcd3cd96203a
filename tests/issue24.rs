//! Issue 24: a new user, in one hour with settings the README documents, lost long-term keys and
//! set off an STS storm. Each test here replays one of those hours against the real binary, a
//! real moto behind a counting proxy, and real files in a temp HOME, and asserts what the user
//! feels: the keys survive byte for byte, and the calls to STS are the ones a reason asks for.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::DateTime;
use common::daemon::{Daemon, Home};
use common::moto::Moto;
use common::proxy::Proxy;

const WAIT: Duration = Duration::from_secs(20);
const DEFAULT_KEYS: &str = "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
const WORK_KEYS: &str = "[work]\naws_access_key_id = AKIAWORKWORKWORK0001\naws_secret_access_key = workworkworkworkworkworkworkworkworkwork\n";
const ROLE: &str = "arn:aws:iam::123456789012:role/dev";

fn session(name: &str, extra: &str) -> String {
    format!(
        "[[session]]\nname = \"{name}\"\nmethod = \"assume-role\"\nsource_profile = \"default\"\nrole_arn = \"{ROLE}\"\n{extra}"
    )
}

fn status_json(home: &Home) -> serde_json::Value {
    let out = home.run(&["status", "--json"]);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("status --json: {e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn session_status(home: &Home, name: &str) -> serde_json::Value {
    let s = status_json(home);
    s["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no session {name} in {s:#}"))
}

/// Waits (bounded) until `name`'s status satisfies `ok`; returns it.
fn wait_status(home: &Home, name: &str, ok: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let s = session_status(home, name);
        if ok(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "timed out; last status of {name}: {s:#}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_socket(home: &Home, d: &Daemon) {
    d.wait_for("listening on", 1, WAIT);
    let _ = home;
}

fn text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn issue24_a_session_named_after_a_key_holding_profile_keeps_its_keys() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    let original = format!("{DEFAULT_KEYS}{WORK_KEYS}");
    home.write_credentials(&original);
    home.write_config(&session("work", ""));

    // `config check` refuses it, naming the profile and the fix.
    let check = home.run(&["config", "check"]);
    let out = format!("{}{}", String::from_utf8_lossy(&check.stdout), String::from_utf8_lossy(&check.stderr));
    assert!(!check.status.success(), "config check accepted it: {out}");
    assert!(out.contains("\"work\"") && out.contains("long-term"), "{out}");

    // The in-process refresh refuses before calling STS.
    let r = home.run(&["refresh", "work"]);
    let err = String::from_utf8_lossy(&r.stderr).to_string();
    assert!(!r.status.success(), "refresh succeeded: {err}");
    assert!(err.contains("long-term-key-in-session-profile") || err.contains("long-term keys"), "{err}");
    assert_eq!(text(&home.credentials()), original, "the refresh touched the file");
    assert_eq!(proxy.count(), 0, "an STS call for a session that cannot be written");

    // The daemon tracks it as failing with the finding, calls nothing, and keeps the keys.
    let d = home.daemon();
    wait_socket(&home, &d);
    let s = wait_status(&home, "work", |s| s["state"] == "failing");
    assert_eq!(s["last_error"]["finding"], "long-term-key-in-session-profile", "{s:#}");
    let fix = s["last_error"]["fix"].as_str().unwrap_or_default();
    assert!(fix.contains("name"), "the fix should say to rename the session: {s:#}");
    let r = home.run(&["refresh", "work"]);
    assert!(!r.status.success());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(text(&home.credentials()), original, "the daemon touched the file");
    assert_eq!(proxy.count(), 0);
}

#[test]
fn issue24_long_term_keys_typed_into_a_managed_profile_are_never_overwritten() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    home.write_credentials(DEFAULT_KEYS);
    home.write_config(&session("dev", ""));
    let d = home.daemon();
    d.wait_for("dev: refreshed (assume-role)", 1, WAIT);

    // `aws configure` writes in place, as the user did; the leftover token goes by hand.
    home.aws(&["configure", "set", "aws_access_key_id", "AKIADEVDEVDEVDEV0002", "--profile", "dev"]);
    home.aws(&[
        "configure",
        "set",
        "aws_secret_access_key",
        "devsecretdevsecretdevsecret",
        "--profile",
        "dev",
    ]);
    let doc = text(&home.credentials());
    let cleaned: String = doc
        .lines()
        .filter(|l| !l.starts_with("aws_session_token") && !l.starts_with("x_security_token_expires"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(home.credentials(), &cleaned).unwrap();
    let s = wait_status(&home, "dev", |s| s["state"] == "failing");
    assert_eq!(s["last_error"]["finding"], "long-term-key-in-session-profile", "{s:#}");

    let calls = proxy.count();
    let r = home.run(&["refresh", "dev"]);
    assert!(!r.status.success(), "{}", String::from_utf8_lossy(&r.stdout));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(text(&home.credentials()), cleaned, "the typed keys were touched");
    assert_eq!(proxy.count(), calls, "an STS call for a session that cannot be written");
    let log = d.log_text();
    assert!(!log.contains("devsecretdevsecret"), "a secret reached the log");
}

/// The storm: two 15-minute sessions (the documented minimum) and the default `refresh_before`.
/// One `credd refresh a` made 80–570 AssumeRole calls before the fix; now it makes one.
#[test]
fn issue24_two_fifteen_minute_sessions_make_one_call_for_one_refresh() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    home.write_credentials(DEFAULT_KEYS);
    let fifteen = "duration = \"15m\"\n";
    home.write_config(&format!("{}{}", session("a", fifteen), session("b", fifteen)));
    let d = home.daemon();
    // Each has no session yet: one call each at start.
    d.wait_for("a: refreshed", 1, WAIT);
    d.wait_for("b: refreshed", 1, WAIT);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(proxy.count(), 2, "start-up:\n{}", d.log_text());

    let r = home.run(&["refresh", "a"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    std::thread::sleep(Duration::from_secs(5));
    let log = d.log_text();
    assert_eq!(proxy.count(), 3, "one refresh of a made {} calls:\n{log}", proxy.count() - 2);
    assert!(
        !log.contains("adopted a session written by another program"),
        "credd adopted its own write:\n{log}"
    );
    // Each session keeps its half-life schedule: due 7.5 min before expiry (less the jitter).
    for name in ["a", "b"] {
        let s = session_status(&home, name);
        let at = |k: &str| DateTime::parse_from_rfc3339(s[k].as_str().unwrap()).unwrap().to_utc();
        let lead = at("expires_at") - at("next_refresh_at");
        assert!(
            // Half the lifetime, plus at most 30 s of jitter: not the 15 m that made it due at once.
            lead <= chrono::Duration::seconds(480) && lead > chrono::Duration::seconds(420),
            "{name}: refresh {lead} before expiry: {s:#}"
        );
    }
}

/// An env file whose directory cannot be written is a local error retrying cannot fix: no STS
/// call until the path changes, a finding and a fix naming the path, and nothing half-written.
#[test]
fn issue24_an_env_file_that_cannot_be_written_is_not_retried_until_it_can() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    home.write_credentials(DEFAULT_KEYS);
    let blocker = home.path().join("project");
    std::fs::write(&blocker, "a file where a directory should be\n").unwrap();
    let env = blocker.join(".env");
    home.write_config(&format!(
        "backoff_min = \"100ms\"\nbackoff_max = \"400ms\"\n{}",
        session("dev", &format!("env_file = \"{}\"\n", env.display()))
    ));

    // In-process: it fails before any STS call, names the directory, and writes no profile.
    let r = home.run(&["refresh", "dev"]);
    let err = String::from_utf8_lossy(&r.stderr).to_string();
    assert!(!r.status.success(), "{err}");
    assert!(err.contains(&blocker.display().to_string()) && !err.contains(".credd-tmp-"), "{err}");
    assert!(!text(&home.credentials()).contains("[dev]"), "the profile was written anyway");
    assert_eq!(proxy.count(), 0);

    let d = home.daemon();
    wait_socket(&home, &d);
    let s = wait_status(&home, "dev", |s| s["state"] == "failing");
    assert_eq!(s["last_error"]["finding"], "file-not-writable", "{s:#}");
    assert!(
        s["last_error"]["fix"].as_str().unwrap_or_default().contains(&blocker.display().to_string()),
        "{s:#}"
    );
    assert_eq!(s["next_refresh_at"], serde_json::Value::Null, "{s:#}");
    // Backoff is 100–400 ms here: a retry loop would show within two seconds.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(proxy.count(), 0, "retried a write that cannot succeed:\n{}", d.log_text());
    assert_eq!(session_status(&home, "dev")["state"], "failing");
    let doctor = home.run(&["doctor", "--offline"]);
    let out = String::from_utf8_lossy(&doctor.stdout).to_string();
    assert!(!doctor.status.success() && out.contains("file-not-writable"), "{out}");

    // The user fixes the path: credd sees it and refreshes once, writing both homes.
    std::fs::remove_file(&blocker).unwrap();
    std::fs::create_dir(&blocker).unwrap();
    wait_status(&home, "dev", |s| s["state"] == "fresh");
    assert_eq!(proxy.count(), 1, "{}", d.log_text());
    assert!(text(&env).contains("AWS_SESSION_TOKEN"));
    assert!(text(&home.credentials()).contains("[dev]"));
}

/// The aws-vault pattern the README suggests: roles assumed from one `session-token` session
/// with MFA. While that session waits for its code, the roles wait too and say whose code it is
/// (not "source profile no longer exists"); one code, given to any of them, refreshes them all.
#[test]
fn issue24_roles_from_an_mfa_session_wait_for_its_code_and_name_it() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    home.write_credentials(DEFAULT_KEYS);
    home.write_config(&format!(
        "[[session]]\nname = \"mfa\"\nmethod = \"session-token\"\nsource_profile = \"default\"\nmfa_serial = \"arn:aws:iam::123456789012:mfa/alice\"\n\
         [[session]]\nname = \"dev\"\nmethod = \"assume-role\"\nsource_profile = \"mfa\"\nrole_arn = \"{ROLE}\"\nduration = \"1h\"\n"
    ));
    let d = home.daemon();
    wait_socket(&home, &d);
    let s = wait_status(&home, "dev", |s| s["state"] == "needs-mfa");
    assert_eq!(s["last_error"]["fix"], "credd mfa mfa CODE", "{s:#}");
    assert!(!d.log_text().contains("no longer exists"), "{}", d.log_text());
    assert_eq!(proxy.count(), 0, "a call before the code came");

    // The code, given to the role, is its source's.
    let r = home.run(&["mfa", "dev", "123456"]);
    assert!(
        r.status.success(),
        "{}{}",
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
    wait_status(&home, "dev", |s| s["state"] == "fresh");
    assert_eq!(session_status(&home, "mfa")["state"], "fresh");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(proxy.count(), 2, "GetSessionToken once, then AssumeRole once:\n{}", d.log_text());
}
