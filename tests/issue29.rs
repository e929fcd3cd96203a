//! Issue 29, one MFA code a day: three roles from one source and one MFA device take one code,
//! given to any of them. The real binary against moto behind the counting proxy, in a temp HOME.
//!
//! moto accepts any serial and code and does not evaluate `aws:MultiFactorAuthPresent`, so the
//! test proves the design by what goes over the wire instead: one GetSessionToken carries the
//! code and is signed with the long-term key; the three AssumeRole calls carry no code and are
//! signed with the key of the MFA session credd keeps in the runtime directory.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::daemon::Home;
use common::fixtures::{BASE, managed};
use common::moto::Moto;
use common::proxy::Proxy;

const WAIT: Duration = Duration::from_secs(20);
const SERIAL: &str = "arn:aws:iam::123456789012:mfa/alice";
const MFA: &str = "mfa,base";

fn status(home: &Home) -> serde_json::Value {
    let out = home.run(&["status", "--json"]);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("status --json: {e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn session(home: &Home, name: &str) -> serde_json::Value {
    let s = status(home);
    s["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no {name} in {s:#}"))
}

fn wait_state(home: &Home, name: &str, state: &str) -> serde_json::Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let s = session(home, name);
        if s["state"] == state {
            return s;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {name} to be {state}: {s:#}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn issue29_three_roles_from_one_device_take_one_code() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    home.write_credentials(BASE);
    let mfa = format!("mfa_serial = \"{SERIAL}\"\nregion = \"us-east-1\"\n");
    // `long` lasts 2h: more than AWS allows a role assumed from a session, so it keeps its own code.
    home.write_config(&format!(
        "{}{}{}{}",
        managed("dev", &mfa),
        managed("staging", &mfa),
        managed("prod", &mfa),
        managed("long", &format!("{mfa}duration = \"2h\"\n"))
    ));

    // `config check` says how each gets its code: notes, not errors.
    let check = home.run(&["config", "check"]);
    let out = text(&check);
    assert!(check.status.success(), "{out}");
    assert!(out.contains(&format!("{MFA:<20} managed (session-token, source base)")), "{out}");
    assert!(out.contains("note: assumed from MFA session mfa,base with no code of its own"), "{out}");
    assert!(
        out.contains("note: takes its own MFA code at each refresh: its duration (2h) is over the 1h"),
        "{out}"
    );

    let d = home.daemon();
    d.wait_for("listening on", 1, WAIT);
    for name in ["dev", "staging", "prod", MFA] {
        let s = wait_state(&home, name, "needs-mfa");
        assert_eq!(s["last_error"]["fix"], "credd mfa mfa,base CODE", "{name}: {s:#}");
        assert!(s["last_error"]["message"].as_str().unwrap().contains(SERIAL), "{s:#}");
    }
    assert_eq!(wait_state(&home, "long", "needs-mfa")["last_error"]["fix"], "credd mfa long CODE");
    assert!(!d.log_text().contains("no longer exists"), "{}", d.log_text());
    assert_eq!(proxy.count(), 0, "an STS call before the code came");

    // One code, given to any one of the three.
    let r = home.run(&["mfa", "staging", "123456"]);
    assert!(r.status.success(), "{}", text(&r));
    for name in ["dev", "staging", "prod", MFA] {
        wait_state(&home, name, "fresh");
    }
    std::thread::sleep(Duration::from_secs(1));
    let requests = proxy.requests.lock().unwrap().clone();
    let log = d.log_text();
    assert_eq!(requests.len(), 4, "GetSessionToken once, then AssumeRole three times:\n{log}");
    let (tokens, roles): (Vec<_>, Vec<_>) =
        requests.iter().partition(|r| r.body.contains("Action=GetSessionToken"));
    assert_eq!(tokens.len(), 1, "{requests:#?}");
    assert!(
        tokens[0].body.contains("TokenCode=123456") && tokens[0].body.contains("SerialNumber="),
        "{}",
        tokens[0].body
    );
    assert!(tokens[0].body.contains("DurationSeconds=43200"), "12h by default: {}", tokens[0].body);
    assert_eq!(tokens[0].key_id.as_deref(), Some("AKIAIOSFODNN7EXAMPLE"), "signed with base's key");

    // The MFA session lives in the runtime directory, 0600, and nowhere SDKs read profiles.
    let file: PathBuf = home.path().join("run/credd/mfa-sessions/base.env");
    let env = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let key =
        env.lines().find_map(|l| l.strip_prefix("AWS_ACCESS_KEY_ID=")).unwrap().trim_matches('"').to_string();
    assert!(key.starts_with("ASIA"), "{key}");
    for r in &roles {
        assert!(r.body.contains("Action=AssumeRole"), "{}", r.body);
        assert!(
            !r.body.contains("TokenCode") && !r.body.contains("SerialNumber"),
            "a role sent a code: {}",
            r.body
        );
        assert_eq!(r.key_id.as_deref(), Some(key.as_str()), "a role not signed with the MFA session's key");
    }
    let creds = std::fs::read_to_string(home.credentials()).unwrap();
    assert!(
        !creds.contains(&key) && !creds.contains("mfa,"),
        "the MFA session leaked into the credentials file:\n{creds}"
    );
    for name in ["[dev]", "[staging]", "[prod]"] {
        assert!(creds.contains(name), "{creds}");
    }

    // Status shows the MFA session, with its expiry, and what it serves.
    let s = session(&home, MFA);
    assert_eq!(s["origin"], "env-file", "{s:#}");
    let left = chrono::DateTime::parse_from_rfc3339(s["expires_at"].as_str().unwrap()).unwrap().to_utc()
        - chrono::Utc::now();
    assert!(left > chrono::Duration::hours(11), "{s:#}");
    assert_eq!(
        s["note"], "MFA session: one code renews it, and dev, prod, staging are assumed from it",
        "{s:#}"
    );
    let table = text(&home.run(&["status"]));
    assert!(table.contains("mfa,base") && table.contains("long: takes its own MFA code"), "{table}");
    // `long` still waits for a code of its own; nothing else was called.
    assert_eq!(session(&home, "long")["state"], "needs-mfa");
    assert_eq!(proxy.count(), 4, "{}", d.log_text());

    // A restart reads the MFA session back from the runtime directory: no code, no call.
    let mut d = d;
    d.stop();
    let d = home.daemon();
    d.wait_for("listening on", 1, WAIT);
    std::thread::sleep(Duration::from_secs(1));
    for name in ["dev", "staging", "prod", MFA] {
        assert_eq!(session(&home, name)["state"], "fresh", "{name}: {}", d.log_text());
    }
    assert_eq!(proxy.count(), 4, "{}", d.log_text());
}

/// Without a daemon, `credd refresh ROLE --code CODE` gives the code to the MFA session, then
/// refreshes the role from it: two calls, the role's without a code.
#[test]
fn issue29_without_a_daemon_a_code_for_a_role_renews_its_mfa_session_then_the_role() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    home.write_credentials(BASE);
    let mfa = format!("mfa_serial = \"{SERIAL}\"\nregion = \"us-east-1\"\n");
    home.write_config(&format!("{}{}", managed("dev", &mfa), managed("prod", &mfa)));
    let out = home.run(&["refresh", "dev", "--code", "123456"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("mfa,base: refreshed") && said.contains("dev: refreshed"), "{said}");
    let requests = proxy.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert!(
        requests[0].body.contains("Action=GetSessionToken") && requests[0].body.contains("TokenCode=123456")
    );
    assert!(requests[1].body.contains("Action=AssumeRole") && !requests[1].body.contains("TokenCode"));
    assert!(std::fs::read_to_string(home.credentials()).unwrap().contains("[dev]"));
}
