//! The refresh engine end to end: the real `credd` binary, a temp HOME, a real moto_server (with
//! a fault-injecting proxy in front where moto cannot produce the fault), and the real aws CLI
//! reading back what credd wrote.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::daemon::Home;
use common::moto::Moto;
use common::proxy::{Fault, Proxy};
use credd::profile::{self, Edit, FileKind};

const WAIT: Duration = Duration::from_secs(20);
const BASE: &str = "[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
const ROLE: &str = "arn:aws:iam::123456789012:role/dev";

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn session_block(name: &str, key: &str, expires: DateTime<Utc>) -> String {
    format!(
        "[{name}]\naws_access_key_id = {key}\naws_secret_access_key = oldsecret\naws_session_token = oldtoken\nx_security_token_expires = {}\n",
        rfc3339(expires)
    )
}

/// `[base]` with long-term keys and `[dev]` holding an old session that expires in `mins`.
fn write_dev_session(home: &Home, mins: i64) {
    let expires = Utc::now() + chrono::Duration::minutes(mins);
    home.write_credentials(&format!("{BASE}{}", session_block("dev", "ASIAOLD0000000000000", expires)));
}

fn assume_role_config(extra: &str) -> String {
    format!(
        "backoff_min = \"100ms\"\nbackoff_max = \"400ms\"\nsts_timeout = \"2s\"\n[[session]]\nname = \"dev\"\nmethod = \"assume-role\"\nsource_profile = \"base\"\nrole_arn = \"{ROLE}\"\n{extra}"
    )
}

fn profile_value(home: &Home, name: &str, key: &str) -> Option<String> {
    let doc = profile::read_document(&home.credentials(), FileKind::Credentials).unwrap().unwrap();
    doc.sections().profile(name).and_then(|p| p.get(key)).map(str::to_string)
}

#[test]
fn a_session_expiring_in_two_minutes_is_refreshed_at_start() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    let old_expiry = Utc::now() + chrono::Duration::minutes(2);
    let original = format!(
        "# hand-written, keep me\n{BASE}\n{}",
        session_block("dev", "ASIAOLDKEY0000000000", old_expiry)
    );
    home.write_credentials(&original);
    home.write_config(&assume_role_config(""));
    let mut d = home.daemon();
    d.wait_for("dev: refreshed (assume-role)", 1, WAIT);

    let key = profile_value(&home, "dev", "aws_access_key_id").unwrap();
    assert!(key.starts_with("ASIA") && key != "ASIAOLDKEY0000000000", "{key}");
    let expires = profile_value(&home, "dev", "x_security_token_expires").unwrap();
    let expires = DateTime::parse_from_rfc3339(&expires).unwrap();
    assert!(expires > old_expiry + chrono::Duration::minutes(30), "{expires}");
    // The real aws CLI sees the new session.
    assert_eq!(home.aws(&["configure", "get", "aws_access_key_id", "--profile", "dev"]), key);
    assert_eq!(
        home.aws(&["configure", "get", "aws_session_token", "--profile", "dev"]),
        profile_value(&home, "dev", "aws_session_token").unwrap()
    );
    // Everything outside the managed keys is as it was.
    let text = std::fs::read_to_string(home.credentials()).unwrap();
    assert!(text.starts_with(&format!("# hand-written, keep me\n{BASE}\n[dev]\n")), "{text}");
    // The decision was logged with its reason, and no secret was.
    let log = d.log_text();
    assert!(log.contains("dev: refresh now, within 15m of expiry"), "{log}");
    let secret = profile_value(&home, "dev", "aws_secret_access_key").unwrap();
    assert!(!log.contains(&secret) && !log.contains("wJalrXUtnFEMI"), "a secret reached the log");
    assert!(d.stop().success());
}

#[test]
fn an_outside_edit_is_adopted_not_overwritten() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    let fresh = Utc::now() + chrono::Duration::hours(1);
    home.write_credentials(&format!("{BASE}{}", session_block("dev", "ASIAFRESH00000000000", fresh)));
    home.write_config(&assume_role_config(""));
    let d = home.daemon();
    d.wait_for("dev: tracking", 1, WAIT);
    // saml2aws (say) writes a longer session into the profile.
    let later = (Utc::now() + chrono::Duration::hours(5)).with_nanosecond_zero();
    profile::update(&home.credentials(), FileKind::Credentials, |doc| {
        doc.edit_profile(
            "dev",
            &[
                Edit::set("aws_access_key_id", "ASIAOUTSIDE000000000"),
                Edit::set("x_security_token_expires", &rfc3339(later)),
            ],
        )
    })
    .unwrap();
    d.wait_for(
        &format!("dev: adopted a session written by another program; expires at {}", rfc3339(later)),
        1,
        WAIT,
    );
    assert_eq!(profile_value(&home, "dev", "aws_access_key_id").as_deref(), Some("ASIAOUTSIDE000000000"));
    assert!(!d.log_text().contains("dev: refreshed"));
}

trait NoNanos {
    fn with_nanosecond_zero(self) -> Self;
}
impl NoNanos for DateTime<Utc> {
    fn with_nanosecond_zero(self) -> Self {
        DateTime::from_timestamp(self.timestamp(), 0).unwrap()
    }
}

#[test]
fn a_fatal_error_stops_retries_until_the_keys_change() {
    // moto with IAM auth knows none of our keys: InvalidClientTokenId, in the body shape for which
    // the SDK's code() is None.
    let moto = Moto::start_with_auth();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    write_dev_session(&home, 2);
    home.write_config(&assume_role_config(""));
    let d = home.daemon();
    let log = d.wait_for("retrying will not help", 1, WAIT);
    assert!(log.contains("InvalidClientTokenId") && log.contains("[key-unknown]"), "{log}");
    // With a 100ms backoff, a retryable error would have been retried many times by now.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(proxy.count(), 1, "a fatal error was retried");
    // The user fixes the source keys: credd tries again at once.
    profile::update(&home.credentials(), FileKind::Credentials, |doc| {
        doc.edit_profile("base", &[Edit::set("aws_access_key_id", "AKIANEWKEY0000000000")])
    })
    .unwrap();
    d.wait_for("source profile's keys changed; trying again now", 1, WAIT);
    d.wait_for("retrying will not help", 2, WAIT);
    assert_eq!(proxy.count(), 2);
    // The last good credentials were never blanked.
    assert_eq!(profile_value(&home, "dev", "aws_access_key_id").as_deref(), Some("ASIAOLD0000000000000"));
}

#[test]
fn retryable_errors_back_off_and_recover() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    proxy.push(&[
        Fault::Error(503, "ServiceUnavailable", "try later"),
        Fault::Error(400, "Throttling", "Rate exceeded"),
        Fault::Stall(Duration::from_secs(4)), // longer than sts_timeout
    ]);
    let home = Home::new(&proxy.url());
    write_dev_session(&home, 2);
    home.write_config(&assume_role_config(""));
    let d = home.daemon();
    let log = d.wait_for("dev: refreshed (assume-role)", 1, WAIT);
    assert_eq!(log.matches("dev: refresh failed, will retry at").count(), 3, "{log}");
    assert!(
        log.contains("ServiceUnavailable")
            && log.contains("Throttling")
            && log.contains("did not answer in time"),
        "{log}"
    );
    assert!(!log.contains("retrying will not help"));
    assert_eq!(proxy.count(), 4);
}

#[test]
fn mfa_command_supplies_a_one_time_code() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    write_dev_session(&home, 1);
    home.write_config(&assume_role_config(
        "mfa_serial = \"arn:aws:iam::123456789012:mfa/alice\"\nmfa_command = \"echo 'code: 123456'\"\n",
    ));
    let d = home.daemon();
    d.wait_for("dev: refreshed (assume-role)", 1, WAIT);
    let body = proxy.requests.lock().unwrap()[0].body.clone();
    assert!(body.contains("TokenCode=123456"), "{body}");
    assert!(body.contains("SerialNumber=arn%3Aaws%3Aiam%3A%3A123456789012%3Amfa%2Falice"), "{body}");
    assert!(!d.log_text().contains("123456"), "the MFA code reached the log");
}

#[test]
fn a_session_needing_mfa_without_a_command_says_how_to_fix_it() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    write_dev_session(&home, 1);
    home.write_config(&assume_role_config("mfa_serial = \"arn:aws:iam::123456789012:mfa/alice\"\n"));
    let d = home.daemon();
    d.wait_for("dev: due, but needs an MFA code for arn:aws:iam::123456789012:mfa/alice", 1, WAIT);
    // `credd mfa` hands the daemon a code; the reply says whether the refresh then worked.
    let out = home.run(&["mfa", "dev", "123456"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("dev: refreshed; expires "));
    d.wait_for("dev: MFA code received from the control socket", 1, WAIT);
    d.wait_for("dev: refreshed (assume-role)", 1, WAIT);
    // The same code is refused the second time: codes are used once.
    let out = home.run(&["mfa", "dev", "123456"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already used"), "{err}");
}

#[test]
fn zero_config_manages_aws_mfa_layout_and_watches_the_rest() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    home.write_credentials(&format!(
        "[dev-long-term]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\naws_mfa_device = arn:aws:iam::123456789012:mfa/alice\n\n{}\n{}",
        session_block("dev", "ASIAOLD0000000000000", Utc::now() + chrono::Duration::minutes(1)),
        session_block("saml", "ASIASAML000000000000", Utc::now() + chrono::Duration::hours(1)),
    ));
    // No config file at all.
    let d = home.daemon();
    let log = d.wait_for("dev: due, but needs an MFA code", 1, WAIT);
    assert!(log.contains("started with no config file"), "{log}");
    assert!(
        log.contains("dev: tracking, managed (session-token, found in aws-mfa layout, source dev-long-term)"),
        "{log}"
    );
    assert!(log.contains("saml: tracking, watch-only"), "{log}");
}

#[test]
fn a_bad_config_names_the_file_and_line() {
    let home = Home::new("http://127.0.0.1:9");
    home.write_config(
        "jitter = \"30s\"\n[[session]]\nname = \"dev\"\nmethod = \"assume-role\"\nsorce_profile = \"base\"\n",
    );
    let out = home.run(&["daemon"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!(
        "{}:5:1: `sorce_profile`: unknown key; did you mean `source_profile`?",
        home.config().display()
    );
    assert!(err.contains(&want), "{err}");
    let out = home.run(&["config", "check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&want));
}

#[test]
fn config_check_reports_source_problems_with_positions() {
    let home = Home::new("http://127.0.0.1:9");
    home.write_credentials(BASE);
    home.write_config("[[session]]\nname = \"dev\"\nmethod = \"session-token\"\nsource_profile = \"bsae\"\n");
    let out = home.run(&["config", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(":4:18: `source_profile`") && err.contains("did you mean \"base\"?"), "{err}");
    home.write_config("[[session]]\nname = \"dev\"\nmethod = \"session-token\"\nsource_profile = \"base\"\n");
    let out = home.run(&["config", "check"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("dev                  managed (session-token, source base)")
    );
}

#[test]
fn only_one_daemon_runs_per_user() {
    let home = Home::new("http://127.0.0.1:9");
    let d = home.daemon();
    d.wait_for("no sessions", 1, WAIT);
    let out = home.run(&["daemon"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("another credd daemon is already running (pid {})", d.pid())), "{err}");
}

#[test]
fn sighup_reloads_the_config_and_a_broken_one_is_kept_out() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    home.write_credentials(&format!(
        "{BASE}{}",
        session_block("dev", "ASIAOLD0000000000000", Utc::now() + chrono::Duration::hours(1))
    ));
    let mut d = home.daemon();
    d.wait_for("dev: tracking, watch-only", 1, WAIT);
    // A broken config is reported with its position; the daemon carries on.
    home.write_config("refresh_before = \"soon\"\n");
    d.wait_for("keeping the previous configuration", 1, WAIT);
    home.write_config(&assume_role_config(""));
    d.signal(libc::SIGHUP);
    d.wait_for("SIGHUP: reloading the configuration", 1, WAIT);
    d.wait_for("dev: configuration changed; rescheduling", 1, WAIT);
    let log = d.log_text();
    assert!(log.contains("config.toml:1:18: `refresh_before`"), "{log}");
    assert!(d.stop().success());
    assert!(d.log_text().contains("stopped"));
}
