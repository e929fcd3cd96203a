//! The control socket end to end: `credd status` (table, JSON, prompt, exit codes), `refresh`,
//! `mfa` and `reload` through a real daemon; canary secrets never leaving the daemon; 1,000
//! concurrent clients next to hostile ones; other users refused; version mismatches explained;
//! stale sockets cleaned and live ones never stolen.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::Utc;
use common::daemon::Home;
use common::moto::Moto;

const WAIT: Duration = Duration::from_secs(20);
const CANARY_SECRET: &str = "CANARYsecretKEYzz0123456789abcdefghijklmn";
const CANARY_TOKEN: &str = "CANARYsessionTOKEN//////////wEaDEXAMPLE";
const CANARY_WATCH: &str = "CANARYwatchONLYtokenXYZ";

fn at(mins: i64) -> String {
    (Utc::now() + chrono::Duration::minutes(mins)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn setup(home: &Home, dev_expires_in: i64, watch_expires_in: i64) {
    home.write_credentials(&format!(
        "[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {CANARY_SECRET}\n\
         [dev]\naws_access_key_id = ASIADEV0000000000000\naws_secret_access_key = {CANARY_SECRET}\naws_session_token = {CANARY_TOKEN}\nx_security_token_expires = {}\n\
         [saml]\naws_access_key_id = ASIASAML000000000000\naws_secret_access_key = {CANARY_SECRET}\naws_session_token = {CANARY_WATCH}\nx_security_token_expires = {}\n",
        at(dev_expires_in),
        at(watch_expires_in)
    ));
    home.write_config(
        "[[session]]\nname = \"dev\"\nmethod = \"assume-role\"\nsource_profile = \"base\"\nrole_arn = \"arn:aws:iam::123456789012:role/dev\"\n",
    );
}

fn socket(home: &Home) -> PathBuf {
    home.path().join("run/credd/credd.sock")
}

fn raw(socket: &Path, line: &str) -> String {
    let mut s = UnixStream::connect(socket).unwrap();
    s.write_all(line.as_bytes()).unwrap();
    let mut reply = String::new();
    BufReader::new(s).read_line(&mut reply).unwrap();
    reply
}

fn out(o: &std::process::Output) -> (Option<i32>, String, String) {
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

#[test]
fn status_shows_every_session_in_each_format_with_exit_codes() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    setup(&home, 60, 120);
    let d = home.daemon();
    d.wait_for("listening on", 1, WAIT);

    let (code, table, _) = out(&home.run(&["status"]));
    assert_eq!(code, Some(0), "{table}");
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("ORIGIN") && lines[0].contains("NEXT REFRESH"),
        "{table}"
    );
    assert!(
        lines[1].starts_with("dev") && lines[1].contains("credentials-file") && lines[1].contains("fresh"),
        "{table}"
    );
    assert!(lines[2].starts_with("saml") && lines[2].contains("watch-only"), "{table}");
    assert!(!table.contains('\x1b'), "no colour when not a TTY");

    let (code, prompt, _) = out(&home.run(&["status", "--prompt"]));
    assert_eq!((code, prompt.as_str()), (Some(0), ""), "quiet when all is well");

    let (_, json, _) = out(&home.run(&["status", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json, serde_json::to_string_pretty(&v).unwrap() + "\n", "indented as serde_json does");
    for key in ["protocol", "version", "pid", "started_at", "config_path", "files", "sessions"] {
        assert!(v.get(key).is_some(), "missing {key}: {json}");
    }
    assert_eq!(v["pid"], d.pid());
    let dev = &v["sessions"][0];
    for key in [
        "name",
        "origin",
        "profile",
        "managed",
        "method",
        "state",
        "expires_at",
        "next_refresh_at",
        "last_refresh_at",
        "identity",
        "last_error",
    ] {
        assert!(dev.get(key).is_some(), "missing session.{key}: {json}");
    }
    assert_eq!(
        (dev["managed"].as_bool(), dev["method"].as_str(), dev["state"].as_str()),
        (Some(true), Some("assume-role"), Some("fresh"))
    );
    assert!(v["sessions"][1]["method"].is_null());

    // A watch-only session about to expire needs attention: exit 1 and a prompt.
    setup(&home, 60, 4);
    d.wait_for("saml: adopted", 1, WAIT);
    let (code, prompt, _) = out(&home.run(&["status", "--prompt"]));
    assert_eq!(code, Some(1));
    assert!(prompt.trim() == "saml 3m" || prompt.trim() == "saml 4m", "{prompt:?}");
}

#[test]
fn canary_secrets_never_leave_the_daemon() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    setup(&home, 2, 120); // dev is due: the daemon refreshes it and holds new secrets too
    let d = home.daemon_with_log("trace");
    d.wait_for("dev: refreshed", 1, WAIT);
    let sock = socket(&home);
    let mut seen = String::new();
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["status", "--prompt"],
        &["refresh", "dev"],
        &["refresh", "--all"],
        &["reload"],
        &["mfa", "dev", "123456"],
    ] {
        let (_, o, e) = out(&home.run(args));
        seen.push_str(&o);
        seen.push_str(&e);
    }
    for line in [
        r#"{"protocol":1,"request":"status"}"#,
        r#"{"protocol":1,"request":"refresh","name":"dev"}"#,
        r#"{"protocol":1,"request":"mfa","name":"saml","code":"123456"}"#,
        r#"{"protocol":1,"request":"nonsense"}"#,
    ] {
        seen.push_str(&raw(&sock, &format!("{line}\n")));
    }
    let log = d.log_text();
    let doc = credd::profile::read_document(&home.credentials(), credd::profile::FileKind::Credentials)
        .unwrap()
        .unwrap();
    let dev = doc.sections().profile("dev").unwrap().clone();
    let new_secret = dev.get("aws_secret_access_key").unwrap().to_string();
    let new_token = dev.get("aws_session_token").unwrap().to_string();
    assert_ne!(new_token, CANARY_TOKEN, "dev was refreshed");
    for canary in [CANARY_SECRET, CANARY_TOKEN, CANARY_WATCH, new_secret.as_str(), new_token.as_str()] {
        assert!(!seen.contains(canary), "a secret reached the CLI output or the socket");
        assert!(!log.contains(canary), "a secret reached the trace-level log");
    }
    assert!(log.contains("TRACE") || log.contains("DEBUG"), "the log really was verbose");
    assert!(seen.contains("\"sessions\""));
}

#[test]
fn a_thousand_clients_are_answered_while_hostile_ones_are_cut_off() {
    let home = Home::new("http://127.0.0.1:9");
    setup(&home, 60, 120);
    let d = home.daemon_with_log("info");
    d.wait_for("listening on", 1, WAIT);
    let sock = socket(&home);
    // A client that sends nothing, and one that streams megabytes without a newline.
    let _silent = UnixStream::connect(&sock).unwrap();
    let streamer = {
        let sock = sock.clone();
        std::thread::spawn(move || {
            let mut s = UnixStream::connect(&sock).unwrap();
            let chunk = vec![b'x'; 64 * 1024];
            let mut sent = 0usize;
            while sent < 16 * 1024 * 1024 {
                if s.write_all(&chunk).is_err() {
                    return (sent, true); // the daemon hung up on us
                }
                sent += chunk.len();
            }
            let mut reply = String::new();
            let _ = BufReader::new(&s).read_line(&mut reply);
            (sent, reply.contains("too-large"))
        })
    };
    let start = Instant::now();
    let handles: Vec<_> = (0..1000)
        .map(|_| {
            let sock = sock.clone();
            std::thread::spawn(move || raw(&sock, "{\"protocol\":1,\"request\":\"status\"}\n"))
        })
        .collect();
    let answered =
        handles.into_iter().map(|h| h.join().unwrap()).filter(|r| r.contains("\"reply\":\"status\"")).count();
    let elapsed = start.elapsed();
    assert_eq!(answered, 1000);
    let (sent, cut_off) = streamer.join().unwrap();
    assert!(cut_off, "the streaming client was neither refused nor disconnected");
    assert!(sent < 16 * 1024 * 1024, "the daemon kept reading {sent} bytes");
    eprintln!(
        "control socket: 1000 concurrent status clients answered in {elapsed:?} beside a silent and a streaming client"
    );
    // The silent client is answered with a timeout error once its 5 s are up, not before.
    let (code, _, _) = out(&home.run(&["status"]));
    assert_eq!(code, Some(0));
}

#[test]
fn another_user_is_refused() {
    // SAFETY: getuid cannot fail.
    assert_eq!(unsafe { libc::getuid() }, 0, "this test switches to `nobody` and must run as root (CI does)");
    let home = Home::new("http://127.0.0.1:9");
    setup(&home, 60, 120);
    // Put the socket where `nobody` can reach it, to test the daemon's own uid check rather than
    // the directory permissions (which would refuse first).
    let open_dir = tempfile::Builder::new().prefix("credd-open").tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(open_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let sock = open_dir.path().join("sock/credd.sock");
    let mut cmd = home.command(&["daemon"]);
    let log = home.path().join("daemon.log");
    let child = cmd.arg("--socket").arg(&sock).stderr(std::fs::File::create(&log).unwrap()).spawn().unwrap();
    let mut child = scopeguard(child);
    let deadline = Instant::now() + WAIT;
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("listening on") {
        assert!(Instant::now() < deadline, "daemon did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(std::fs::metadata(sock.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777, 0o600);
    std::fs::set_permissions(sock.parent().unwrap(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o666)).unwrap();
    let o = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_credd"))
        .args(["status", "--socket"])
        .arg(&sock)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    let (code, stdout, stderr) = out(&o);
    assert_ne!(code, Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("dev"), "another user saw the sessions: {stdout}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("refused a control connection from uid 65534"), "{text}");
    child.0.kill().unwrap();
}

struct Guard(std::process::Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
fn scopeguard(c: std::process::Child) -> Guard {
    Guard(c)
}

#[test]
fn version_mismatches_are_explained_both_ways() {
    let home = Home::new("http://127.0.0.1:9");
    setup(&home, 60, 120);
    let d = home.daemon_with_log("info");
    d.wait_for("listening on", 1, WAIT);
    let reply = raw(&socket(&home), "{\"protocol\":99,\"request\":\"status\"}\n");
    assert!(
        reply.contains("\"code\":\"protocol-mismatch\"")
            && reply.contains("speaks protocol 1, the client sent 99"),
        "{reply}"
    );
    assert!(reply.contains("\"protocol\":1"));

    // A daemon from the future: the client says so instead of misreading it.
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake.sock");
    let listener = UnixListener::bind(&fake).unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut line = String::new();
            let mut r = BufReader::new(&conn);
            let _ = r.read_line(&mut line);
            let _ = (&conn).write_all(
                b"{\"protocol\":2,\"version\":\"9.0.0\",\"pid\":1,\"reply\":\"status\",\"whatever\":true}\n",
            );
        }
    });
    let (code, _, err) = out(&home.run(&["status", "--socket", fake.to_str().unwrap()]));
    assert_eq!(code, Some(2));
    assert!(err.contains("the daemon (credd 9.0.0) speaks protocol 2, this credd speaks 1"), "{err}");
}

/// A daemon that predates `form` ignores it and sends its one-line `status`: `status --json`
/// still prints it indented and `--prompt` still prints the line, and both still exit 1 when
/// something needs attention.
#[test]
fn status_from_a_daemon_without_forms_is_rendered_by_the_client() {
    let home = Home::new("http://127.0.0.1:9");
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("old.sock");
    let listener = UnixListener::bind(&fake).unwrap();
    let compact = r#"{"protocol":1,"version":"0.0.9","pid":1,"reply":"status","started_at":"2026-01-01T00:00:00Z","config_path":"/c","files":[],"sessions":[{"name":"saml","origin":"credentials-file","profile":"saml","managed":false,"method":null,"state":"expired","expires_at":"2026-01-01T00:00:00Z","next_refresh_at":null,"last_refresh_at":null,"identity":null,"last_error":null}]}"#;
    let (seen_tx, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut line = String::new();
            let _ = BufReader::new(&conn).read_line(&mut line);
            let _ = seen_tx.send(line);
            let _ = (&conn).write_all(format!("{compact}\n").as_bytes());
        }
    });
    let socket = fake.to_str().unwrap();
    let (code, json, err) = out(&home.run(&["status", "--json", "--socket", socket]));
    assert!(seen.recv().unwrap().contains(r#""form":"document""#));
    let v: serde_json::Value = serde_json::from_str(compact).unwrap();
    assert_eq!(json, serde_json::to_string_pretty(&v).unwrap() + "\n", "{err}");
    assert_eq!(code, Some(1), "an expired watch-only session needs attention");

    let (code, prompt, err) = out(&home.run(&["status", "--prompt", "--socket", socket]));
    assert!(seen.recv().unwrap().contains(r#""form":"prompt""#));
    assert_eq!((code, prompt.as_str()), (Some(1), "saml EXP\n"), "{err}");
}

#[test]
fn a_stale_socket_is_replaced_and_a_live_one_never_stolen() {
    let home = Home::new("http://127.0.0.1:9");
    setup(&home, 60, 120);
    let sock = socket(&home);
    std::fs::create_dir_all(sock.parent().unwrap()).unwrap();
    std::fs::set_permissions(sock.parent().unwrap(), std::fs::Permissions::from_mode(0o700)).unwrap();
    // What a SIGKILLed daemon leaves: a socket file nobody listens on.
    drop(UnixListener::bind(&sock).unwrap());
    assert!(sock.exists());
    let d = home.daemon_with_log("info");
    d.wait_for("listening on", 1, WAIT);
    assert!(d.log_text().contains("removing a stale control socket"));
    assert_eq!(out(&home.run(&["status"])).0, Some(0));

    // A live socket (another daemon, say with another runtime dir) is left alone.
    let other = Home::new("http://127.0.0.1:9");
    let o = other.command(&["daemon", "--socket", sock.to_str().unwrap()]).output().unwrap();
    let (code, _, err) = out(&o);
    assert_eq!(code, Some(2));
    assert!(err.contains("already answers on"), "{err}");
    assert_eq!(out(&home.run(&["status"])).0, Some(0), "the first daemon still answers");
}

#[test]
fn without_a_daemon_status_says_how_to_start_one() {
    let home = Home::new("http://127.0.0.1:9");
    let (code, stdout, err) = out(&home.run(&["status"]));
    assert_eq!(code, Some(3));
    assert!(stdout.is_empty());
    for hint in ["credd daemon", "systemctl --user start credd", "launchctl kickstart"] {
        assert!(err.contains(hint), "{err}");
    }
    let (code, stdout, err) = out(&home.run(&["status", "--prompt"]));
    assert_eq!((code, stdout.as_str(), err.as_str()), (Some(3), "", ""), "a prompt stays quiet");
}

#[test]
fn refresh_goes_through_the_daemon_and_falls_back_in_process() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    setup(&home, 60, 120);
    // No daemon: in-process, and it says so.
    let (code, stdout, err) = out(&home.run(&["refresh", "dev"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("no daemon is running; refreshing in-process")
            && stdout.starts_with("dev: refreshed; key ASIA"),
        "{stdout}{err}"
    );
    let d = home.daemon();
    d.wait_for("listening on", 1, WAIT);
    let (code, stdout, err) = out(&home.run(&["refresh", "dev"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(stdout.starts_with("dev: refreshed; expires ") && !err.contains("in-process"), "{stdout}{err}");
    let (code, _, err) = out(&home.run(&["refresh", "saml"]));
    assert_eq!(code, Some(2));
    assert!(err.contains("watch-only"), "{err}");
    let (code, _, err) = out(&home.run(&["refresh", "dve"]));
    assert_eq!(code, Some(2));
    assert!(err.contains("did you mean \"dev\"?"), "{err}");
    let (code, stdout, _) = out(&home.run(&["reload"]));
    assert_eq!((code, stdout.trim()), (Some(0), "reloaded"));
    home.write_config("jitter = \"nope\"\n");
    let (code, _, err) = out(&home.run(&["reload"]));
    assert_eq!(code, Some(2));
    assert!(
        err.contains("config.toml:1:10: `jitter`") && err.contains("kept its previous configuration"),
        "{err}"
    );
}
