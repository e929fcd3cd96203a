//! `aws login` sessions through credd's own verbs, end to end (issue 27): the daemon tracks a
//! login session as `login-cache`, refreshes it at half its 15 minutes through the fake sign-in
//! service (tests/tools/login_fake.py, proven against botocore in tests/login.rs) and no
//! sooner again; a refusal that needs a new sign-in is `needs-login` with one notification;
//! `credd export` and `credential-process` serve a login profile; a `method = "login"` session
//! lands in the credentials file for the aws CLI; and a login profile sources an assume-role
//! session against moto.

mod common;

use std::process::Output;
use std::time::Duration;

use chrono::Utc;
use common::daemon::{Daemon, Home};
use common::login::{LoginFake, cache_file, p256_pem, python_dumps};
use common::moto::Moto;

const WAIT: Duration = Duration::from_secs(20);
const ARN: &str = "arn:aws:iam::111122223333:user/dev";
const CONFIG: &str =
    "[profile dev]\nlogin_session = arn:aws:iam::111122223333:user/dev\nregion = us-east-1\n";

struct Setup {
    _moto: Moto,
    fake: LoginFake,
    home: Home,
}

fn at(mins: i64) -> String {
    (Utc::now() + chrono::Duration::minutes(mins)).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A cache file as `aws login` leaves it, expiring in `mins`, refreshable with `rt-1`.
fn token(mins: i64) -> serde_json::Value {
    serde_json::json!({
        "accessToken": {
            "accessKeyId": "ASIAOLDLOGINKEY00001",
            "secretAccessKey": "old-login-secret",
            "sessionToken": "old-login-session",
            "accountId": "111122223333",
            "expiresAt": at(mins),
        },
        "tokenType": "aws_sigv4",
        "refreshToken": "rt-1",
        "idToken": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkZXYifQ.c2ln",
        "clientId": "arn:aws:signin:::devtools/same-device",
        "dpopKey": p256_pem(),
        "signInRegion": "us-east-1",
    })
}

fn setup(mins: i64) -> Setup {
    let (moto, fake) = (Moto::start(), LoginFake::start());
    fake.configure(&serde_json::json!({"grants": [["arn:aws:signin:::devtools/same-device", "rt-1"]]}));
    let home = Home::new(&moto.url());
    std::fs::write(home.path().join(".aws/config"), CONFIG).unwrap();
    let cache = cache_file(home.path(), ARN);
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    std::fs::write(&cache, python_dumps(&token(mins))).unwrap();
    Setup { _moto: moto, fake, home }
}

fn env(s: &Setup) -> Vec<(String, String)> {
    let mut env = s.home.env();
    env.push(("AWS_ENDPOINT_URL_SIGNIN".into(), s.fake.url()));
    env
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn daemon(s: &Setup, extra: &[(&str, &str)]) -> Daemon {
    let log = s.home.path().join("daemon.log");
    let child = s
        .home
        .command(&["daemon"])
        .envs(env(s))
        .envs(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .env("CREDD_LOG", "debug")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    Daemon::adopt(child, log)
}

fn status(s: &Setup) -> serde_json::Value {
    let out = s.home.command(&["status", "--json"]).envs(env(s)).output().unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
    let name = format!("login-session {ARN}");
    v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{v}"))
}

fn cache(s: &Setup) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(cache_file(s.home.path(), ARN)).unwrap()).unwrap()
}

/// Six minutes left of fifteen is less than half: the daemon refreshes at once, once, and the
/// new 15-minute credentials are not due again for another 7.5 minutes (no storm).
#[test]
fn the_daemon_tracks_a_login_session_and_refreshes_it_at_half_its_life_once() {
    let s = setup(6);
    let d = daemon(&s, &[]);
    d.wait_for("login session refreshed", 1, WAIT);
    let st = status(&s);
    assert_eq!((st["origin"].as_str(), st["state"].as_str()), (Some("login-cache"), Some("fresh")), "{st}");
    assert_eq!(st["identity"], "profiles dev", "{st}");
    let file = cache(&s);
    assert_ne!(file["accessToken"]["accessKeyId"], "ASIAOLDLOGINKEY00001", "{file}");
    assert_eq!(file["accessToken"]["accountId"], "111122223333", "{file}");
    // Two more seconds of the daemon: still exactly one call.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(s.fake.requests().len(), 1, "{:?}", s.fake.requests());
    // botocore reads credd's file and does not refresh it itself.
    let out = std::process::Command::new(common::venv_bin("python"))
        .args(["-c", "import boto3; c = boto3.Session(profile_name='dev').get_credentials().get_frozen_credentials(); print(c.access_key)"])
        .env_clear()
        .envs(env(&s))
        .output()
        .unwrap();
    assert!(text(&out).trim() == file["accessToken"]["accessKeyId"].as_str().unwrap(), "{}", text(&out));
    assert_eq!(s.fake.requests().len(), 1, "botocore refreshed again");
    // `aws logout` removes the file: the session goes from status.
    std::fs::remove_file(cache_file(s.home.path(), ARN)).unwrap();
    d.wait_for("login-session arn:aws:iam::111122223333:user/dev: no longer tracked", 1, WAIT);
}

/// The sign-in service says the refresh token expired: the session waits for a sign-in, with the
/// one command, and one notification however often the daemon looks again.
#[test]
fn a_refused_login_session_needs_a_sign_in_and_says_so_once() {
    let s = setup(6);
    s.fake.configure(
        &serde_json::json!({"faults": [[400, "AccessDeniedException", "TOKEN_EXPIRED", "expired"]]}),
    );
    let notes = s.home.path().join("notes");
    let hook = s.home.path().join("hook.sh");
    std::fs::write(&hook, format!("#!/bin/sh\necho \"$CREDD_EVENT|$CREDD_FIX\" >> {}\n", notes.display()))
        .unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    s.home.write_config(&format!("[notify]\ncommand = \"{}\"\n", hook.display()));
    let d = daemon(&s, &[]);
    d.wait_for("needs `aws login --profile dev`", 1, WAIT);
    // As for an SSO token: its credentials still work for six minutes, so it is `expiring` (then
    // `needs-login` once they end), not refreshed, with the finding and the one command.
    let st = status(&s);
    assert_eq!((st["state"].as_str(), st["managed"].as_bool()), (Some("expiring"), Some(false)), "{st}");
    assert_eq!(st["last_error"]["finding"], "login-token-expired", "{st}");
    assert_eq!(st["last_error"]["fix"], "aws login --profile dev", "{st}");
    // doctor learns the refusal from the running daemon (the file cannot say it).
    let out = s
        .home
        .command(&["doctor", "--offline", "--json", "--profile", "dev"])
        .envs(env(&s))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"login-token-expired\""), "{}", text(&out));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(s.fake.requests().len(), 1, "a refused refresh token is not tried again");
    let said = std::fs::read_to_string(&notes).unwrap_or_default();
    let lines: Vec<&str> = said.lines().filter(|l| l.contains("aws login --profile dev")).collect();
    assert_eq!(lines.len(), 1, "{said}");
}

/// `credd export` and `credential-process` serve a login profile, refreshing first when its
/// credentials are inside the lead; the aws CLI reads a `method = "login"` session's profile.
#[test]
fn export_credential_process_and_method_login_serve_a_login_profile() {
    let s = setup(30);
    let out = s.home.command(&["credential-process", "dev"]).envs(env(&s)).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["Version"].as_i64(), v["AccessKeyId"].as_str()),
        (Some(1), Some("ASIAOLDLOGINKEY00001")),
        "{v}"
    );
    assert!(s.fake.requests().is_empty(), "30 minutes left needs no refresh");
    // Inside the lead: export refreshes first (no daemon: in this process).
    std::fs::write(cache_file(s.home.path(), ARN), python_dumps(&token(3))).unwrap();
    let out = s.home.command(&["export", "dev"]).envs(env(&s)).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let key = cache(&s)["accessToken"]["accessKeyId"].as_str().unwrap().to_string();
    assert_ne!(key, "ASIAOLDLOGINKEY00001");
    assert!(text(&out).contains(&key), "{}", text(&out));
    assert_eq!(s.fake.requests().len(), 1);

    s.home.write_config("[[session]]\nname = \"dev-keys\"\nmethod = \"login\"\nsource_profile = \"dev\"\n");
    let out = s.home.command(&["refresh", "dev-keys"]).envs(env(&s)).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let got = s.home.aws(&["configure", "get", "aws_access_key_id", "--profile", "dev-keys"]);
    assert_eq!(got.trim(), key);
    // A login profile as the source of an assume-role session (moto answers).
    s.home.write_config(
        "[[session]]\nname = \"admin\"\nmethod = \"assume-role\"\nsource_profile = \"dev\"\nrole_arn = \"arn:aws:iam::123456789012:role/admin\"\n",
    );
    let out = s.home.command(&["refresh", "admin"]).envs(env(&s)).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let creds = std::fs::read_to_string(s.home.credentials()).unwrap();
    assert!(creds.contains("[admin]") && creds.contains("aws_session_token"), "{creds}");
}

/// The trial of issue 27: `credd exec dev` (the login profile, not the session's name) spent a
/// refresh token at every start, because the default `--min-ttl` of 15 minutes was not capped
/// at half of the session's 15; `credential-process --min-ttl 15m` did the same and then failed.
/// Now the profile's verbs work on its session: capped, no call while half its life is left;
/// an impossible `--min-ttl` is refused before any call; `console` and `refresh` take the name.
#[test]
fn the_login_profiles_verbs_work_on_its_session_without_spending_refresh_tokens() {
    let s = setup(14);
    let d = daemon(&s, &[]);
    d.wait_for("tracking", 1, WAIT);
    for _ in 0..3 {
        let out = s.home.command(&["exec", "dev", "--", "true"]).envs(env(&s)).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    assert!(s.fake.requests().is_empty(), "{:?}", s.fake.requests());
    for _ in 0..2 {
        let out = s
            .home
            .command(&["credential-process", "dev", "--min-ttl", "15m"])
            .envs(env(&s))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(text(&out).contains("cannot last 15m"), "{}", text(&out));
    }
    assert!(s.fake.requests().is_empty(), "{:?}", s.fake.requests());
    let out = s.home.command(&["refresh", "dev"]).envs(env(&s)).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(s.fake.requests().len(), 1);
    // Refused from now on: export still serves what is there while it lasts.
    s.fake.configure(
        &serde_json::json!({"faults": [[400, "AccessDeniedException", "TOKEN_EXPIRED", "expired"]]}),
    );
    std::fs::write(cache_file(s.home.path(), ARN), python_dumps(&token(5))).unwrap();
    d.wait_for("needs `aws login --profile dev`", 1, WAIT);
    let out = s.home.command(&["exec", "dev", "--", "true"]).envs(env(&s)).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(s.fake.requests().len(), 2, "{:?}", s.fake.requests());
}
