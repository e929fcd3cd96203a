//! IAM Identity Center tokens, end to end: credd refreshes a cached SSO token through a faithful
//! fake of sso-oidc (tests/tools/sso_fake.py), and the real botocore proves both sides: it sends
//! the fake the same CreateToken request credd sends, and it signs in to the portal with the
//! token credd wrote. A token that cannot be refreshed shows `expiring` near its end (then
//! `needs-login`) and makes exactly one desktop notification (real dunst).

mod common;

use std::process::Output;
use std::time::Duration;

use chrono::Utc;
use common::daemon::{Daemon, Home};
use common::desktop::Desktop;
use common::moto::Moto;
use common::sso::{SsoFake, cache_file};

const WAIT: Duration = Duration::from_secs(20);
const CONFIG: &str = "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n\n[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Dev\nregion = us-east-1\n";

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn at(mins: i64) -> String {
    (Utc::now() + chrono::Duration::minutes(mins)).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

struct Setup {
    _moto: Moto,
    fake: SsoFake,
    home: Home,
}

/// A HOME whose config has `[sso-session corp]` and `[profile dev]`, and whose cache holds
/// `token` (JSON) for `corp`.
fn setup(token: &serde_json::Value) -> Setup {
    let (moto, fake) = (Moto::start(), SsoFake::start());
    let home = Home::new(&moto.url());
    write_home(&home, token);
    Setup { _moto: moto, fake, home }
}

fn write_home(home: &Home, token: &serde_json::Value) {
    std::fs::write(home.path().join(".aws/config"), CONFIG).unwrap();
    let cache = cache_file(home.path(), "corp");
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    // What botocore writes: json.dumps, one line.
    std::fs::write(&cache, python_dumps(token)).unwrap();
}

fn python_dumps(v: &serde_json::Value) -> String {
    let out = std::process::Command::new(common::venv_bin("python"))
        .args(["-c", "import json, sys; print(json.dumps(json.loads(sys.argv[1])), end='')", &v.to_string()])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

fn env(s: &Setup) -> Vec<(String, String)> {
    let mut env = s.home.env();
    env.push(("AWS_ENDPOINT_URL_SSO_OIDC".into(), s.fake.url()));
    env.push(("AWS_ENDPOINT_URL_SSO".into(), s.fake.url()));
    env
}

fn daemon(s: &Setup, extra: &[(String, String)]) -> Daemon {
    let log = s.home.path().join("daemon.log");
    let child = s
        .home
        .command(&["daemon"])
        .envs(env(s))
        .envs(extra.iter().cloned())
        .env("CREDD_LOG", "debug")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    Daemon::adopt(child, log)
}

/// What the real botocore gets for profile `dev`, through the SSO provider.
fn botocore_credentials(home: &Home, env: &[(String, String)]) -> serde_json::Value {
    let script = "import boto3, json; c = boto3.Session(profile_name='dev').get_credentials().get_frozen_credentials(); print(json.dumps({'AccessKeyId': c.access_key, 'SessionToken': c.token}))";
    let out = std::process::Command::new(common::venv_bin("python"))
        .args(["-c", script])
        .env_clear()
        .envs(env.iter().cloned())
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "botocore: {}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn session_status(s: &Setup) -> serde_json::Value {
    let out = s.home.command(&["status", "--json"]).envs(env(s)).output().unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
    v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "sso-session corp")
        .cloned()
        .unwrap_or_else(|| panic!("{v}"))
}

fn refreshable_token(expires_in_mins: i64) -> serde_json::Value {
    serde_json::json!({
        "startUrl": "https://corp.awsapps.com/start",
        "region": "us-east-1",
        "accessToken": "the-old-access-token",
        "expiresAt": at(expires_in_mins),
        "clientId": "cid-1",
        "clientSecret": "csecret-1",
        "registrationExpiresAt": at(60 * 24 * 30),
        "refreshToken": "rt-1",
        "zSomethingNewer": {"kept": [1, 2, 3]},
    })
}

#[test]
fn a_token_near_expiry_is_refreshed_as_botocore_would_and_botocore_uses_it() {
    let token = refreshable_token(5);
    let s = setup(&token);
    s.fake.configure(&serde_json::json!({"grants": [["cid-1", "csecret-1", "rt-1"]]}));

    // botocore's own refresh of the same token, from a HOME of its own, is the reference.
    let reference = Home::new("http://127.0.0.1:1");
    write_home(&reference, &token);
    let env_ref: Vec<(String, String)> = env(&s)
        .into_iter()
        .filter(|(k, _)| k != "HOME" && k != "AWS_CONFIG_FILE" && k != "AWS_SHARED_CREDENTIALS_FILE")
        .chain([("AWS_CONFIG_FILE".to_string(), reference.path().join(".aws/config").display().to_string())])
        .collect();
    botocore_credentials(&reference, &env_ref);
    let botocore_sent = s.fake.requests_to("/token");
    assert_eq!(botocore_sent.len(), 1, "botocore refreshed the token once: {botocore_sent:?}");

    // credd refreshes at start (5 minutes left is inside its 15-minute lead, as in botocore).
    let d = daemon(&s, &[]);
    d.wait_for("sso-session corp: SSO token refreshed", 1, WAIT);
    let sent = s.fake.requests_to("/token");
    assert_eq!(sent.len(), 2, "{sent:?}");
    let (theirs, ours) = (&sent[0], &sent[1]);
    for field in ["method", "path", "content_type", "body", "authorization"] {
        assert_eq!(ours[field], theirs[field], "credd's CreateToken differs from botocore's in {field}");
    }
    assert!(ours["authorization"].is_null(), "CreateToken is unsigned");

    // The cache file: a new token, every other field kept in order (the refresh token too,
    // though none came back), in botocore's exact format, 0600.
    let cache = cache_file(s.home.path(), "corp");
    let written = std::fs::read_to_string(&cache).unwrap();
    let v: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(v["accessToken"], "fake-access-token-2");
    let expires = chrono::DateTime::parse_from_rfc3339(v["expiresAt"].as_str().unwrap()).unwrap();
    let left = expires.with_timezone(&Utc) - Utc::now();
    assert!(left > chrono::Duration::minutes(58) && left <= chrono::Duration::minutes(60), "{left}");
    assert!(v["expiresAt"].as_str().unwrap().ends_with('Z') && v["expiresAt"].as_str().unwrap().len() == 20);
    let mut expected = token.clone();
    expected["accessToken"] = v["accessToken"].clone();
    expected["expiresAt"] = v["expiresAt"].clone();
    assert_eq!(
        written,
        python_dumps(&expected),
        "field order, spacing and escapes as json.dumps writes them"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&cache).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);

    // botocore, with the cache credd wrote, signs in to the portal with credd's token and does
    // not refresh it again.
    let creds = botocore_credentials(&s.home, &env(&s));
    assert!(creds["AccessKeyId"].as_str().unwrap().starts_with("ASIAFAKESSO"), "{creds}");
    let portal = s.fake.requests_to("/federation/credentials");
    let last = portal.last().unwrap();
    assert_eq!(last["bearer"], "fake-access-token-2");
    assert_eq!(
        (last["query"]["role_name"][0].as_str(), last["query"]["account_id"][0].as_str()),
        (Some("Dev"), Some("111122223333"))
    );
    assert_eq!(s.fake.requests_to("/token").len(), 2);

    // Status: origin sso-cache, fresh, refreshable until the registration ends.
    let st = session_status(&s);
    assert_eq!(
        (st["origin"].as_str(), st["state"].as_str(), st["managed"].as_bool()),
        (Some("sso-cache"), Some("fresh"), Some(true)),
        "{st}"
    );
    assert_eq!(st["identity"], "profiles dev");
    let until = chrono::DateTime::parse_from_rfc3339(st["refreshable_until"].as_str().unwrap()).unwrap();
    assert_eq!(
        until.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        token["registrationExpiresAt"].as_str().unwrap()
    );

    // `refresh --all` takes in the token credd can refresh.
    let out = s.home.command(&["refresh", "--all"]).envs(env(&s)).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("sso-session corp"), "{}", text(&out));
    assert_eq!(s.fake.requests_to("/token").len(), 3);
    assert!(
        !d.log_text().contains("fake-access-token") && !d.log_text().contains("csecret-1"),
        "a token was logged"
    );
}

#[test]
fn a_token_without_a_refresh_token_needs_login_and_says_so_once() {
    let desktop = Desktop::start();
    let s = setup(&serde_json::json!({
        "startUrl": "https://corp.awsapps.com/start",
        "region": "us-east-1",
        "accessToken": "the-only-access-token",
        "expiresAt": at(5),
    }));
    let d = daemon(&s, &desktop.env());
    let got = desktop.wait_for(1);
    let n = &got[0];
    assert!(n.summary.starts_with("sso-session corp needs a new sign-in within"), "{}", n.summary);
    assert!(
        n.body.contains("`aws sso login --sso-session corp`") && n.body.contains("Profiles that use it: dev"),
        "{}",
        n.body
    );
    assert!(n.actions.is_empty(), "a refresh cannot help: {:?}", n.actions);
    let st = session_status(&s);
    // It still works for its last 5 minutes: expiring, with the reason it cannot be renewed.
    assert_eq!(st["state"], "expiring", "{st}");
    assert_eq!(st["last_error"]["finding"], "sso-token-unrefreshable", "{st}");
    assert_eq!(st["last_error"]["fix"], "aws sso login --sso-session corp", "{st}");
    assert!(st["refreshable_until"].is_null(), "{st}");
    // Nothing more follows, and credd never asked sso-oidc.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(desktop.received().len(), 1, "{:#?}", desktop.received());
    assert!(s.fake.requests_to("/token").is_empty());
    d.wait_for("cannot be refreshed", 1, WAIT);
}

#[test]
fn an_invalid_grant_means_a_new_sign_in_and_a_new_login_is_adopted() {
    let s = setup(&refreshable_token(5));
    // The fake knows the client but not this refresh token: InvalidGrantException.
    s.fake.configure(&serde_json::json!({"grants": [["cid-1", "csecret-1", "another-rt"]]}));
    let d = daemon(&s, &[]);
    d.wait_for("needs `aws sso login --sso-session corp`", 1, WAIT);
    let st = session_status(&s);
    // Refused, but the access token still works for 5 minutes.
    assert_eq!(st["state"], "expiring", "{st}");
    assert_eq!(st["last_error"]["code"], "InvalidGrantException", "{st}");
    // `aws sso login` writes a new token: credd adopts it and can refresh again.
    s.fake.configure(&serde_json::json!({"grants": [["cid-1", "csecret-1", "rt-2"]]}));
    let mut fresh = refreshable_token(60);
    fresh["refreshToken"] = "rt-2".into();
    fresh["accessToken"] = "signed-in-again".into();
    std::fs::write(cache_file(s.home.path(), "corp"), python_dumps(&fresh)).unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let st = session_status(&s);
        if st["state"] == "fresh" {
            assert!(st["last_error"].is_null(), "{st}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the new sign-in was not adopted: {st}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = s.home.command(&["refresh", "sso-session corp"]).envs(env(&s)).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cache_file(s.home.path(), "corp")).unwrap()).unwrap();
    assert_eq!(v["refreshToken"], "rt-2");
    assert_ne!(v["accessToken"], "signed-in-again");
}

/// A signed-in token the fake's portal accepts, good for an hour.
fn signed_in(s: &Setup) {
    s.fake.configure(&serde_json::json!({"tokens": ["the-valid-access-token"]}));
    let mut token = refreshable_token(60);
    token["accessToken"] = "the-valid-access-token".into();
    write_home(&s.home, &token);
}

#[test]
fn an_sso_profile_sources_an_assume_role_chain_against_moto() {
    let s = setup(&refreshable_token(60));
    signed_in(&s);
    s.home.write_config(
        "[[session]]\nname = \"admin\"\nmethod = \"assume-role\"\nsource_profile = \"dev\"\nrole_arn = \"arn:aws:iam::123456789012:role/admin\"\nregion = \"us-east-1\"\n",
    );
    let out = s.home.command(&["refresh", "admin"]).envs(env(&s)).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let portal = s.fake.requests_to("/federation/credentials");
    assert_eq!(portal.len(), 1, "{portal:?}");
    assert_eq!(portal[0]["bearer"], "the-valid-access-token");
    let creds = std::fs::read_to_string(s.home.credentials()).unwrap();
    assert!(creds.contains("[admin]") && creds.contains("aws_session_token"), "{creds}");
    assert!(!creds.contains("ASIAFAKESSO"), "the SSO role's own credentials stay out of the file: {creds}");
    // A chained role lasts 1 h at most: asking for more is refused before any call.
    s.home.write_config(
        "[[session]]\nname = \"admin\"\nmethod = \"assume-role\"\nsource_profile = \"dev\"\nrole_arn = \"arn:aws:iam::123456789012:role/admin\"\nduration = \"2h\"\n",
    );
    let out = s.home.command(&["config", "check"]).envs(env(&s)).output().unwrap();
    assert!(!out.status.success() && text(&out).contains("1h at most"), "{}", text(&out));
}

#[test]
fn a_method_sso_session_lands_in_the_credentials_file_for_tools_that_cannot_read_sso() {
    let s = setup(&refreshable_token(60));
    signed_in(&s);
    s.home.write_config("[[session]]\nname = \"dev-keys\"\nmethod = \"sso\"\nsource_profile = \"dev\"\n");
    let d = daemon(&s, &[]);
    d.wait_for("dev-keys: refreshed (sso)", 1, WAIT);
    let creds = std::fs::read_to_string(s.home.credentials()).unwrap();
    assert!(creds.contains("[dev-keys]") && creds.contains("aws_access_key_id = ASIAFAKESSO"), "{creds}");
    // The aws CLI reads it like any profile (and moto accepts the call).
    let out = std::process::Command::new(common::venv_bin("aws"))
        .args(["sts", "get-caller-identity", "--profile", "dev-keys"])
        .env_clear()
        .envs(env(&s))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let key = std::process::Command::new(common::venv_bin("aws"))
        .args(["configure", "get", "aws_access_key_id", "--profile", "dev-keys"])
        .env_clear()
        .envs(env(&s))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&key.stdout).starts_with("ASIAFAKESSO"), "{}", text(&key));
    // credential-process and export serve it like the others.
    let out = s.home.command(&["credential-process", "dev-keys"]).envs(env(&s)).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["AccessKeyId"].as_str().unwrap().starts_with("ASIAFAKESSO") && v["Expiration"].is_string(),
        "{v}"
    );
    let st = s.home.command(&["status", "--json"]).envs(env(&s)).output().unwrap();
    let st: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    let keys = st["sessions"].as_array().unwrap().iter().find(|x| x["name"] == "dev-keys").unwrap();
    assert_eq!((keys["method"].as_str(), keys["state"].as_str()), (Some("sso"), Some("fresh")), "{keys}");
    assert!(!d.log_text().contains("fakeSsoSecret"), "a secret was logged");
}

/// IAM Identity Center refused the refresh (`InvalidGrantException`) and the token has expired:
/// the aws CLI fails with "Token has expired and refresh failed", and doctor, online or offline,
/// says so as the daemon does.
#[test]
fn issue25_doctor_names_a_refused_and_expired_token() {
    let s = setup(&refreshable_token(-1));
    s.fake.configure(&serde_json::json!({"grants": [["cid-1", "csecret-1", "another-rt"]]}));
    let _d = daemon(&s, &[]);
    _d.wait_for("needs `aws sso login --sso-session corp`", 1, WAIT);
    assert_eq!(session_status(&s)["state"], "needs-login");
    for args in [
        &["doctor", "--json", "--offline", "--profile", "dev"][..],
        &["doctor", "--json", "--profile", "dev"],
    ] {
        let out = s.home.command(args).envs(env(&s)).output().unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
        let found = v["findings"].as_array().unwrap().iter().any(|f| {
            f["code"] == "sso-token-expired"
                && f["severity"] == "error"
                && f["profile"] == "dev"
                && f["message"].as_str().unwrap().contains("InvalidGrantException")
        });
        assert!(found && out.status.code() == Some(1), "{args:?}: {v:#}");
    }
}

/// A new user's combination (issue 26's trial): a `[[session]]` named after the SSO profile.
/// credd writes `[dev]` in the credentials file, but every SDK takes `[profile dev]`'s SSO
/// settings first, so `config check` warns, and still accepts the config.
#[test]
fn a_session_named_after_an_sso_profile_is_said_to_be_shadowed() {
    let s = setup(&refreshable_token(60));
    s.home.write_credentials("[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = s\n");
    s.home.write_config(
        "[[session]]\nname = \"dev\"\nmethod = \"assume-role\"\nsource_profile = \"base\"\nrole_arn = \"arn:aws:iam::123456789012:role/admin\"\n",
    );
    let out = s.home.command(&["config", "check"]).envs(env(&s)).output().unwrap();
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("warning: session \"dev\"") && said.contains("[session-shadowed]"), "{said}");
    assert!(said.contains("remove `sso_session` from [profile dev]"), "{said}");
    let out = s.home.command(&["doctor", "--offline", "--json"]).envs(env(&s)).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"session-shadowed\""), "{}", text(&out));
}

/// issue 26's trial: an HTML page from a proxy (no error code) put the SDK's multi-kilobyte
/// dump of the response into status, the log and notifications. Now it is its HTTP status.
#[test]
fn an_html_error_page_is_reported_by_its_status_not_dumped() {
    let s = setup(&refreshable_token(5));
    s.fake.configure(
        &serde_json::json!({"grants": [["cid-1", "csecret-1", "rt-1"]], "token_faults": [[502, "html"]]}),
    );
    let out = s.home.command(&["refresh", "sso-session corp"]).envs(env(&s)).output().unwrap();
    let said = text(&out);
    assert!(said.contains("answered HTTP 502 without an error code"), "{said}");
    assert!(!said.contains("doctype") && !said.contains("SdkBody") && said.len() < 600, "{said}");
}

/// issue 26's trial: `credd export` of an SSO profile (not a session credd keeps) said only "no
/// session named"; it now says what to do instead, still as a usage error.
#[test]
fn exporting_an_sso_profile_says_how_to_serve_it() {
    let s = setup(&refreshable_token(60));
    let out = s.home.command(&["export", "dev"]).envs(env(&s)).output().unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("no session named \"dev\"")
            && said.contains("method = \"sso\" and source_profile = \"dev\""),
        "{said}"
    );
}
