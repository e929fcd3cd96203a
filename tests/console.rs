//! `credd console` (issue 29) end to end: the real binary gets sessions from moto (through the
//! counting proxy), trades them at the fake federation endpoint (`tests/tools/federation_fake.py`,
//! which checks the documented request and says which keys each token was issued for), and
//! prints the login URL or hands it to a fake `xdg-open` on PATH.

mod common;

use std::collections::HashMap;
use std::process::Output;
use std::time::Duration;

use common::daemon::Home;
use common::federation::FederationFake;
use common::fixtures::{self, BASE};
use common::moto::Moto;
use common::proxy::Proxy;
use credd::profile::FileKind;

const WAIT: Duration = Duration::from_secs(30);
const ENDPOINT_VAR: &str = "CREDD_FEDERATION_ENDPOINT";

/// `credd ARGS` with the fake as the federation endpoint.
fn console(home: &Home, fake: &FederationFake, args: &[&str]) -> Output {
    home.command(args).env(ENDPOINT_VAR, fake.url()).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `dev`, assume-role from `base` (region eu-west-2), whose session has `mins` left.
fn setup(home: &Home, mins: i64, extra: &str) {
    home.write_credentials(&format!("{BASE}{}", fixtures::session("dev", mins, "CANARYsecret")));
    home.write_config(&fixtures::managed("dev", &format!("region = \"eu-west-2\"\n{extra}")));
}

/// The session `name` as the credentials file holds it now: (key id, secret).
fn file_keys(home: &Home, name: &str) -> (String, String) {
    let text = std::fs::read_to_string(home.credentials()).unwrap();
    let doc = credd::profile::Document::parse(&text, FileKind::Credentials, &home.credentials()).unwrap();
    let s = doc.sections();
    let p = s.profile(name).unwrap();
    (p.get("aws_access_key_id").unwrap().to_string(), p.get("aws_secret_access_key").unwrap().to_string())
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// A URL's base and its query's parameters, decoded.
fn split(url: &str) -> (String, HashMap<String, String>) {
    let (base, query) = url.split_once('?').unwrap_or_else(|| panic!("no query: {url}"));
    let params = query
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (decode(k), decode(v))
        })
        .collect();
    (base.to_string(), params)
}

/// The one line `--print` wrote, checked as a login URL of `fake`: its parameters.
fn login_url(fake: &FederationFake, out: &Output) -> (String, HashMap<String, String>) {
    assert!(out.status.success(), "credd console failed: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let url = lines[0].to_string();
    let (base, q) = split(&url);
    assert_eq!(base, fake.url());
    assert_eq!(q.get("Action").map(String::as_str), Some("login"), "{url}");
    assert_eq!(q.get("Issuer").map(String::as_str), Some("credd"));
    assert_eq!(fake.follow(&url), 200, "a browser following it is signed in");
    (url, q)
}

#[test]
fn an_assume_role_session_prints_a_login_url_for_its_current_keys() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    // Expired: credd must refresh it first (no daemon: in-process), and sign in with the new keys.
    setup(&home, -5, "");
    let fake = FederationFake::start();

    let out =
        console(&home, &fake, &["console", "dev", "--print", "--service", "ec2", "--region", "eu-west-1"]);
    let (_, q) = login_url(&fake, &out);
    let (key, secret) = file_keys(&home, "dev");
    assert_ne!(key, "ASIAOLD0000000000000", "the expired session was refreshed");
    assert_eq!(q["Destination"], "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1");
    let issued = fake.issued(&q["SigninToken"]).expect("a token the endpoint issued");
    assert_eq!(issued["sessionId"], key.as_str(), "the token is for the session's current keys");
    assert_eq!(issued["sessionKey"], secret.as_str());
    assert!(issued["SessionDuration"].is_null(), "no --duration, no SessionDuration");
    assert!(text(&out.stderr).contains("is a credential"), "stdout is a pipe: {}", text(&out.stderr));

    // --duration is the console session's length; without --region, the console's own home.
    let out = console(&home, &fake, &["console", "dev", "--print", "--duration", "2h"]);
    let (_, q) = login_url(&fake, &out);
    assert_eq!(q["Destination"], "https://console.aws.amazon.com/");
    let issued = fake.issued(&q["SigninToken"]).unwrap();
    assert_eq!(issued["SessionDuration"], 7200);
    assert_eq!(issued["sessionId"], key.as_str(), "still fresh: the same keys, no second AssumeRole");

    // GovCloud and China land on their own consoles.
    let out = console(&home, &fake, &["console", "dev", "--print", "--region", "us-gov-west-1"]);
    let (_, q) = login_url(&fake, &out);
    assert_eq!(
        q["Destination"],
        "https://us-gov-west-1.console.amazonaws-us-gov.com/console/home?region=us-gov-west-1"
    );
    let out =
        console(&home, &fake, &["console", "dev", "--print", "--region", "cn-north-1", "--service", "s3"]);
    let (_, q) = login_url(&fake, &out);
    assert_eq!(q["Destination"], "https://cn-north-1.console.amazonaws.cn/s3/home?region=cn-north-1");
    let assumed =
        proxy.requests.lock().unwrap().iter().filter(|r| r.body.contains("Action=AssumeRole")).count();
    assert_eq!(assumed, 1);
}

/// An IAM user's keys, of a profile or behind a `session-token` session, cannot sign in: credd
/// trades them for a GetFederationToken session (moto checks the signature: only the user's
/// real long-term keys get one) and signs in with that.
#[test]
fn an_iam_users_keys_sign_in_through_get_federation_token() {
    let (moto, key, secret) = Moto::start_with_iam_user();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    home.write_credentials(&format!(
        "[alice]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
    ));
    home.write_config(
        "[[session]]\nname = \"alice-session\"\nmethod = \"session-token\"\nsource_profile = \"alice\"\n",
    );
    let fake = FederationFake::start();
    for (name, duration) in [("alice", None), ("alice-session", Some("20h"))] {
        let mut args = vec!["console", name, "--print"];
        if let Some(d) = duration {
            args.extend(["--duration", d]);
        }
        let out = console(&home, &fake, &args);
        let (_, q) = login_url(&fake, &out);
        let stderr = text(&out.stderr);
        assert!(stderr.contains("GetFederationToken"), "{name}: says so on stderr: {stderr}");
        let issued = fake.issued(&q["SigninToken"]).unwrap();
        let id = issued["sessionId"].as_str().unwrap();
        assert_ne!(id, key, "{name}: not the long-term key");
        // moto's GetFederationToken key (tests/tools/moto_server.py names it ASIA…).
        assert_eq!(id, "ASIAIOSFODNN7EXAMPLE", "{name}: the federation token's key");
        assert!(issued["SessionDuration"].is_null(), "{name}: a federation token's length is its own");
    }
    let bodies: Vec<String> = proxy.requests.lock().unwrap().iter().map(|r| r.body.clone()).collect();
    let federations: Vec<&String> =
        bodies.iter().filter(|b| b.contains("Action=GetFederationToken")).collect();
    assert_eq!(federations.len(), 2, "{bodies:?}");
    assert!(federations[0].contains("DurationSeconds=3600"), "{}", federations[0]);
    assert!(federations[1].contains("DurationSeconds=72000"), "{}", federations[1]);
    assert!(federations.iter().all(|b| b.contains("Name=credd-tester") && b.contains("Policy=")));
    assert!(!bodies.iter().any(|b| b.contains("GetSessionToken")), "the session-token session is not used");
}

/// Neither the URL, the token nor a secret reaches a log, at debug level, with a daemon (its log)
/// and without one (credd's own stderr).
#[test]
fn the_url_never_reaches_a_log() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    setup(&home, -5, "");
    home.write_credentials(&format!(
        "{}[alice]\naws_access_key_id = AKIAALICEALICEALICE0\naws_secret_access_key = ALICEsecretALICEsecret\n",
        std::fs::read_to_string(home.credentials()).unwrap()
    ));
    let fake = FederationFake::start();
    let check = |out: &Output, log: &str, what: &str| {
        let (url, q) = login_url(&fake, out);
        let issued = fake.issued(&q["SigninToken"]).unwrap();
        let stderr = text(&out.stderr);
        assert!(stderr.contains("sign-in token"), "{what}: debug logging was on: {stderr}");
        for (secret, name) in [
            (url.as_str(), "the URL"),
            (q["SigninToken"].as_str(), "the token"),
            ("SigninToken", "the token's parameter"),
            (issued["sessionKey"].as_str().unwrap(), "the secret key"),
            (issued["sessionToken"].as_str().unwrap(), "the session token"),
            ("CANARYsecret", "the old secret"),
            ("ALICEsecret", "the long-term secret"),
        ] {
            assert!(!log.contains(secret), "{what}: {name} in the log:\n{log}");
            assert!(!stderr.contains(secret), "{what}: {name} on stderr:\n{stderr}");
        }
    };
    let debug = |args: &[&str]| {
        home.command(args)
            .env(ENDPOINT_VAR, fake.url())
            .env("CREDD_LOG", "debug")
            .env("RUST_LOG", "debug")
            .output()
            .unwrap()
    };
    check(&debug(&["console", "dev", "--print"]), "", "no daemon");
    check(&debug(&["console", "alice", "--print"]), "", "no daemon, GetFederationToken");

    let d = home.daemon();
    d.wait_for("listening on", 1, WAIT);
    let out = debug(&["console", "dev", "--print"]);
    let log = d.log_text();
    assert!(log.contains("dev"), "the daemon took part:\n{log}");
    check(&out, &log, "with a daemon");
}

/// Without `--print`, the URL goes to `xdg-open` as found on PATH, and only there; when it fails,
/// credd says so (without the URL) and suggests `--print`.
#[test]
fn opening_hands_the_url_to_xdg_open() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    setup(&home, 50, "");
    let fake = FederationFake::start();
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let got = home.path().join("opened");
    let script = |body: &str| {
        let p = bin.join("xdg-open");
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    };
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let open = |path: &str| {
        home.command(&["console", "dev"]).env(ENDPOINT_VAR, fake.url()).env("PATH", path).output().unwrap()
    };

    script(&format!("printf '%s' \"$#:$1\" > '{}'", got.display()));
    let out = open(&path);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "nothing on stdout: {}", text(&out.stdout));
    let arg = std::fs::read_to_string(&got).unwrap();
    let url = arg.strip_prefix("1:").expect("one argument");
    let (_, q) = split(url);
    assert_eq!(q["Action"], "login");
    let issued = fake.issued(&q["SigninToken"]).unwrap();
    assert_eq!(issued["sessionId"], "ASIAOLD0000000000000", "the fresh session's keys");
    assert!(!text(&out.stderr).contains(&q["SigninToken"]));

    // An opener that fails, repeating the URL as xdg-open does.
    script("echo \"xdg-open: no method available for opening '$1'\" >&2; exit 3");
    let out = open(&path);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--print") && stderr.contains("xdg-open"), "{stderr}");
    assert!(!stderr.contains("SigninToken") && !stderr.contains("fake-signin"), "{stderr}");

    // No opener on PATH at all.
    let empty = home.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = open(&empty.display().to_string());
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("not on PATH") && stderr.contains("credd console dev --print"), "{stderr}");
}

/// An unknown name and impossible flags are usage errors (exit 2) that say what was meant,
/// before any call.
#[test]
fn usage_errors_exit_2_with_did_you_mean() {
    let home = Home::new("http://127.0.0.1:9");
    setup(&home, 50, "");
    let mut config = std::fs::read_to_string(home.config()).unwrap();
    config.push_str(
        "[[session]]\nname = \"chain\"\nmethod = \"assume-role\"\nsource_profile = \"dev\"\nrole_arn = \"arn:aws:iam::123456789012:role/chain\"\n",
    );
    home.write_config(&config);
    let endpoint = "http://127.0.0.1:9/federation";
    for (args, want) in [
        (&["console", "dve"][..], "did you mean \"dev\"?"),
        (&["console", "bsae"], "did you mean \"base\"?"),
        (&["console", "nothing-like-it"], "credd list"),
        (&["console", "dev", "--region", "eu-wset-1"], "did you mean \"eu-west-1\"?"),
        (&["console", "dev", "--service", "ec2?x=1"], "--service"),
        (&["console", "dev", "--duration", "13h"], "15m to 12h"),
        (&["console", "chain", "--duration", "1h"], "role chaining"),
        (&["console", "base", "--duration", "40h"], "15m to 1day 12h"),
    ] {
        let out = home.command(args).env(ENDPOINT_VAR, endpoint).output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
}

/// `federation_endpoint` in config.toml points credd elsewhere; `CREDD_FEDERATION_ENDPOINT` wins.
#[test]
fn the_endpoint_comes_from_the_environment_then_the_config() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    let fake = FederationFake::start();
    setup(&home, 50, &format!("federation_endpoint = \"{}\"\n", fake.url()));
    // The key is top-level: it must come before the [[session]] table.
    let config = std::fs::read_to_string(home.config()).unwrap();
    let (session, top) = config.split_once("federation_endpoint").unwrap();
    home.write_config(&format!("federation_endpoint{top}{session}"));

    let out = home.run(&["console", "dev", "--print"]);
    login_url(&fake, &out);
    let out = home
        .command(&["console", "dev", "--print"])
        .env(ENDPOINT_VAR, "http://127.0.0.1:9/federation")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("http://127.0.0.1:9/federation") && stderr.contains(ENDPOINT_VAR), "{stderr}");
}
