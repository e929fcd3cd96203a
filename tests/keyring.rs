//! Long-term keys in the OS keyring, end to end against a real gnome-keyring-daemon on a private
//! bus and a real moto: `credd keyring import|list|export|remove`, refreshes sourced from the
//! keyring, `credential_process` through the real aws CLI, and what a locked or absent keyring
//! does. One test drives the keyring from start to end, so keyring steps never run in parallel.

mod common;

use std::process::Output;

use common::daemon::{Daemon, Home};
use common::keyring::KeyringBus;
use common::moto::Moto;

const CANARY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYCANARYKEY";
const KEY_ID: &str = "AKIAWORKKEY000000001";

/// `cargo test` runs a binary's tests on threads; nextest's `keyring` group covers its processes.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn original() -> String {
    format!(
        "# my keys; hand-edited\n[work]\nregion = us-east-1   # keep\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {CANARY}\n\n; plain source\n[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    )
}

/// What the real botocore gets for `profile` (through credential_process when configured).
fn boto3_credentials(env: &[(String, String)], profile: &str) -> serde_json::Value {
    let script = format!(
        "import boto3, json; c = boto3.Session(profile_name='{profile}').get_credentials().get_frozen_credentials(); print(json.dumps({{'AccessKeyId': c.access_key, 'SecretAccessKey': c.secret_key, 'SessionToken': c.token}}))"
    );
    let out = std::process::Command::new(common::venv_bin("python"))
        .args(["-c", &script])
        .env_clear()
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// moto, a temp HOME as `fill` leaves it, and a real keyring on a private bus. Holds the
/// serial lock for the test's whole run.
struct Fixture {
    home: Home,
    ring: KeyringBus,
    _moto: Moto,
    _serial: std::sync::MutexGuard<'static, ()>,
}

impl Fixture {
    fn start(fill: impl FnOnce(&Home)) -> Fixture {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let moto = Moto::start();
        let home = Home::new(&moto.url());
        fill(&home);
        let ring = KeyringBus::start(home.path());
        Fixture { home, ring, _moto: moto, _serial: serial }
    }

    /// credd with the keyring's bus.
    fn run(&self, args: &[&str]) -> Output {
        self.home.command(args).env("DBUS_SESSION_BUS_ADDRESS", &self.ring.address).output().unwrap()
    }
}

fn setup(home: &Home) {
    home.write_credentials(&original());
    std::fs::write(home.path().join(".aws/config"), "[default]\nregion = us-east-1\n").unwrap();
    home.write_config(
        "[[session]]\nname = \"dev\"\nmethod = \"session-token\"\nsource_profile = \"work\"\nregion = \"us-east-1\"\n\
         [[session]]\nname = \"other\"\nmethod = \"session-token\"\nsource_profile = \"base\"\nregion = \"us-east-1\"\n",
    );
}

#[test]
fn keys_move_into_the_keyring_and_sessions_come_from_there() {
    let f = Fixture::start(setup);
    let (home, ring, run) = (&f.home, &f.ring, |args: &[&str]| f.run(args));

    // Import: the secret leaves the file; every other byte stays, each key line a comment.
    let out = run(&["keyring", "import", "work"]);
    assert!(out.status.success(), "{}", text(&out));
    let after = std::fs::read_to_string(home.credentials()).unwrap();
    assert!(!after.contains(CANARY) && !after.contains(KEY_ID), "{after}");
    let expected = original().replace(
        &format!("aws_access_key_id = {KEY_ID}\naws_secret_access_key = {CANARY}\n"),
        "# credd-keyring: in the OS keyring; `credd keyring export work` puts this line back: aws_access_key_id = …\n# credd-keyring: in the OS keyring; `credd keyring export work` puts this line back: aws_secret_access_key = …\n",
    );
    assert_eq!(after, expected);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(home.credentials()).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let aws_config = std::fs::read_to_string(home.path().join(".aws/config")).unwrap();
    assert!(aws_config.contains("credential-process work"), "{aws_config}");

    // The real keyring holds it, as secret-tool sees it; `list` shows the key ID, never the secret.
    let found = ring.secret_tool_search(home.path());
    assert!(
        found.contains(&format!("attribute.access_key_id = {KEY_ID}"))
            && found.contains("attribute.profile = work"),
        "{found}"
    );
    let list = run(&["keyring", "list"]);
    assert!(text(&list).contains(KEY_ID) && !text(&list).contains(CANARY), "{}", text(&list));

    // A session sourced from the keyring refreshes.
    let out = run(&["refresh", "dev"]);
    assert!(out.status.success(), "{}", text(&out));
    let creds = std::fs::read_to_string(home.credentials()).unwrap();
    assert!(creds.contains("[dev]") && creds.contains("aws_session_token"), "{creds}");

    // Every SDK, through credential_process: the aws CLI gets a session, never the long-term key.
    let mut env = home.env();
    env.push(("DBUS_SESSION_BUS_ADDRESS".into(), ring.address.clone()));
    let v = boto3_credentials(&env, "work");
    assert_ne!(v["AccessKeyId"], KEY_ID);
    assert_ne!(v["SecretAccessKey"], CANARY);
    assert!(v["SessionToken"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
    // And the aws CLI makes a real call with it.
    let aws = std::process::Command::new(common::venv_bin("aws"))
        .args(["sts", "get-caller-identity", "--profile", "work"])
        .env_clear()
        .envs(env)
        .output()
        .unwrap();
    assert!(aws.status.success() && text(&aws).contains("Account"), "{}", text(&aws));
    // The session is cached in the private runtime directory, not in the AWS files.
    let cached = home.path().join("run/credd/keyring-sessions/work.env");
    let cache_mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&cached).unwrap().permissions());
    assert_eq!(cache_mode & 0o777, 0o600);
    assert!(!std::fs::read_to_string(home.credentials()).unwrap().contains(CANARY));

    // Doctor knows the source: no key-incomplete, no keyring finding.
    let doctor = run(&["doctor", "--offline", "--profile", "work", "--json"]);
    let report = text(&doctor);
    assert!(!report.contains("key-incomplete") && !report.contains("keyring-"), "{report}");

    // Locked: the session fails with the documented finding; the plaintext session still works.
    ring.lock();
    let out = run(&["refresh", "dev"]);
    assert!(!out.status.success() && text(&out).contains("locked"), "{}", text(&out));
    let doctor = text(&run(&["doctor", "--offline", "--profile", "work", "--json"]));
    assert!(doctor.contains("keyring-locked"), "{doctor}");
    let out = run(&["refresh", "other"]);
    assert!(out.status.success(), "{}", text(&out));

    // No bus at all: the documented finding, and nothing else breaks.
    let nobus = |args: &[&str]| {
        home.command(args).env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus").output().unwrap()
    };
    let doctor = text(&nobus(&["doctor", "--offline", "--profile", "work", "--json"]));
    assert!(
        doctor.contains("keyring-unavailable") && doctor.contains("DBUS_SESSION_BUS_ADDRESS"),
        "{doctor}"
    );
    let out = nobus(&["refresh", "dev"]);
    assert!(!out.status.success() && text(&out).contains("no OS keyring"), "{}", text(&out));
    assert!(nobus(&["refresh", "other"]).status.success());
}

#[test]
fn export_puts_the_keys_back_and_remove_refuses_to_delete_the_only_copy() {
    let f = Fixture::start(setup);
    let (home, ring, run) = (&f.home, &f.ring, |args: &[&str]| f.run(args));
    assert!(run(&["keyring", "import", "work"]).status.success());
    let refused = run(&["keyring", "remove", "work"]);
    assert!(!refused.status.success() && text(&refused).contains("only copy"), "{}", text(&refused));
    assert!(ring.secret_tool_search(home.path()).contains("attribute.profile = work"));

    let out = run(&["keyring", "export", "work"]);
    assert!(out.status.success(), "{}", text(&out));
    let back = std::fs::read_to_string(home.credentials()).unwrap();
    assert!(back.contains(CANARY) && back.contains(KEY_ID) && !back.contains("credd-keyring"), "{back}");
    // Import then export gives back the file byte for byte.
    assert_eq!(back, original());
    let aws_config = std::fs::read_to_string(home.path().join(".aws/config")).unwrap();
    assert!(!aws_config.contains("credential_process"), "{aws_config}");

    let out = run(&["keyring", "remove", "work"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!ring.secret_tool_search(home.path()).contains("attribute.profile = work"));
}

#[test]
fn through_the_daemon_the_keyring_session_starts_on_demand_and_stays_fresh() {
    let f = Fixture::start(setup);
    let (home, ring, run) = (&f.home, &f.ring, |args: &[&str]| f.run(args));
    assert!(run(&["keyring", "import", "work"]).status.success());
    let log = home.path().join("daemon.log");
    let child = home
        .command(&["daemon"])
        .env("DBUS_SESSION_BUS_ADDRESS", &ring.address)
        .env("CREDD_LOG", "debug")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let d = Daemon::adopt(child, log);
    d.wait_for("dev: refreshed (session-token)", 1, std::time::Duration::from_secs(20));
    // Held, but not yet asked for: tracked, managed, no STS call, nothing to attend to.
    let status = |want_ok: bool| {
        let out = run(&["status", "--json"]);
        assert_eq!(out.status.success(), want_ok, "{}", text(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["sessions"].as_array().unwrap().iter().find(|s| s["name"] == "work").cloned().unwrap()
    };
    let work = status(true);
    assert_eq!((work["managed"].as_bool(), work["state"].as_str()), (Some(true), Some("unknown")), "{work}");
    assert!(!d.log_text().contains("work: refreshed"));

    // First use through credential_process: the daemon refreshes it, and keeps it.
    let mut env = home.env();
    env.push(("DBUS_SESSION_BUS_ADDRESS".into(), ring.address.clone()));
    let v = boto3_credentials(&env, "work");
    assert_ne!(v["AccessKeyId"], KEY_ID);
    assert!(v["SessionToken"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
    d.wait_for("work: refreshed (session-token)", 1, std::time::Duration::from_secs(20));
    let work = status(true);
    assert_eq!(work["state"], "fresh", "{work}");
    assert!(work["next_refresh_at"].is_string(), "{work}");

    // Locked: the keyring session fails with the finding; the plaintext one refreshes.
    ring.lock();
    let out = run(&["refresh", "work"]);
    assert!(!out.status.success(), "{}", text(&out));
    let work = status(false);
    assert_eq!(work["last_error"]["finding"], "keyring-locked", "{work}");
    assert!(run(&["refresh", "other"]).status.success());
    // Its cached session removed by hand while the daemon holds it fresh, with the keyring
    // locked: credential-process says the keyring is locked, not "holds no credentials"
    // (issue 26's trial).
    let cached = home.path().join("run/credd/keyring-sessions/work.env");
    std::fs::write(&cached, "").unwrap();
    let out = run(&["credential-process", "work"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("locked") && !text(&out).contains("no complete"), "{}", text(&out));
    let logged = d.log_text();
    assert!(!logged.contains(CANARY), "the daemon logged the secret");
}

#[test]
fn the_aws_mfa_layout_works_with_its_long_term_keys_in_the_keyring() {
    let f = Fixture::start(|home| {
        home.write_credentials(&format!(
            "[ops-long-term]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {CANARY}\naws_mfa_device = arn:aws:iam::123456789012:mfa/alice\n"
        ))
    });
    let (home, run) = (&f.home, |args: &[&str]| f.run(args));
    let out = run(&["keyring", "import", "ops-long-term", "--no-credential-process"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!home.path().join(".aws/config").exists(), "--no-credential-process leaves the config alone");
    // No config at all: aws-mfa's layout is found, and its source comes from the keyring.
    let out = run(&["refresh", "ops", "--code", "123456"]);
    assert!(out.status.success(), "{}", text(&out));
    let creds = std::fs::read_to_string(home.credentials()).unwrap();
    assert!(!creds.contains(CANARY), "{creds}");
    assert!(creds.contains("[ops]") && creds.contains("aws_session_token"), "{creds}");
    assert!(creds.contains("aws_mfa_device = arn:aws:iam::123456789012:mfa/alice"), "{creds}");
}
