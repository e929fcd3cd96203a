//! `aws login` sessions, the room on its own (issue 27): credd's refresh of a cached login
//! session through a faithful fake of the sign-in service's token endpoint
//! (tests/tools/login_fake.py), with the real botocore proving both sides: botocore's own
//! refresh passes the fake's DPoP checks and is refused by its error shapes exactly where
//! credd's is, and botocore reads the file credd wrote without refreshing again.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use common::login::{LoginFake, cache_file, p256_pem, python_dumps};
use credd::classify::RefreshError;
use credd::login::{LoginSpec, Refreshed};
use credd::profile::{Document, FileKind};

const ARN: &str = "arn:aws:iam::111122223333:user/dev";
const CONFIG: &str =
    "[profile dev]\nlogin_session = arn:aws:iam::111122223333:user/dev\nregion = us-east-1\n";

struct Setup {
    fake: LoginFake,
    home: tempfile::TempDir,
    cache: PathBuf,
}

fn at(mins: i64) -> String {
    (Utc::now() + chrono::Duration::minutes(mins)).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A cache file as botocore's `aws login` leaves it, expiring in `mins`, refreshable with
/// `rt-1`.
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
        "zSomethingNewer": {"kept": [1, 2, 3]},
    })
}

fn setup(token: &serde_json::Value) -> Setup {
    let fake = LoginFake::start();
    fake.configure(&serde_json::json!({"grants": [["arn:aws:signin:::devtools/same-device", "rt-1"]]}));
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(home.path().join(".aws/config"), CONFIG).unwrap();
    let cache = cache_file(home.path(), ARN);
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    std::fs::write(&cache, python_dumps(token)).unwrap();
    Setup { fake, home, cache }
}

fn spec(s: &Setup) -> LoginSpec {
    let doc = Document::parse(CONFIG, FileKind::Config, Path::new("config")).unwrap();
    let specs = credd::login::discover(&doc.sections(), &s.home.path().join(".aws/login/cache"));
    assert_eq!(specs.len(), 1);
    assert_eq!(specs[0].cache, s.cache, "credd and botocore hash the session to the same file");
    specs.into_iter().next().unwrap()
}

async fn refresh(s: &Setup) -> Result<Refreshed, RefreshError> {
    credd::login::refresh(&spec(s), Some(s.fake.url()), Duration::from_secs(10)).await
}

/// What the real botocore gets for profile `dev`: its keys and the method, or the class of the
/// error it raised.
fn botocore(s: &Setup) -> serde_json::Value {
    let script = "import boto3, json\n\
                  try:\n    c = boto3.Session(profile_name='dev').get_credentials()\n    f = c.get_frozen_credentials()\n    out = {'key': f.access_key, 'token': f.token, 'method': c.method}\n\
                  except Exception as e:\n    out = {'error': type(e).__name__}\n\
                  print(json.dumps(out))";
    let out = std::process::Command::new(common::venv_bin("python"))
        .args(["-c", script])
        .env_clear()
        .envs(common::isolated_env(s.home.path()))
        .env("AWS_ENDPOINT_URL_SIGNIN", s.fake.url())
        // One attempt, so an injected fault is botocore's answer rather than a retry's.
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "botocore: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn file(s: &Setup) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(&s.cache).unwrap()).unwrap()
}

fn finding(e: &RefreshError) -> Option<String> {
    e.finding.map(|c| c.to_string())
}

/// The object's keys, recursively, in order.
fn shape(v: &serde_json::Value) -> Vec<String> {
    match v.as_object() {
        Some(m) => m
            .iter()
            .flat_map(|(k, v)| {
                std::iter::once(k.clone()).chain(shape(v).into_iter().map(move |s| format!("{k}.{s}")))
            })
            .collect(),
        None => Vec::new(),
    }
}

#[tokio::test]
async fn login_refresh_sends_what_botocore_sends_and_writes_what_botocore_writes() {
    // botocore's own refresh of the same session, from a HOME of its own, is the reference.
    let reference = setup(&token(2));
    let before = file(&reference);
    assert_eq!(botocore(&reference)["method"], "login");
    let sent = reference.fake.requests();
    assert_eq!(sent.len(), 1, "botocore refreshed once: {sent:?}");
    assert_eq!(sent[0]["dpop_ok"], true, "the fake accepts botocore's proof: {}", sent[0]);
    let botocore_wrote = file(&reference);
    assert_ne!(botocore_wrote["refreshToken"], before["refreshToken"]);

    let original = token(2);
    let s = setup(&original);
    let started = Utc::now().timestamp();
    let done = refresh(&s).await.unwrap();
    assert!(!done.kept_newer);
    let ours = s.fake.requests();
    assert_eq!(ours.len(), 1, "{ours:?}");
    let (r, b) = (&ours[0], &sent[0]);
    assert_eq!(r["dpop_ok"], true, "{r}");
    for k in ["method", "path", "query", "content_type", "authorization", "body"] {
        assert_eq!(r[k], b[k], "{k}: credd sent {}, botocore {}", r[k], b[k]);
    }
    assert_eq!(r["dpop_payload"]["htu"], format!("{}/v1/token", s.fake.url()));
    assert_eq!(r["dpop_payload"]["htm"], "POST");
    let iat = r["dpop_payload"]["iat"].as_i64().unwrap();
    assert!((started - 1..=Utc::now().timestamp()).contains(&iat), "iat {iat}");

    // The file: the new keys and refresh token, accountId, idToken and every other field kept,
    // in botocore's order and bytes, 0600.
    let wrote = file(&s);
    assert_eq!(shape(&wrote), shape(&botocore_wrote));
    assert_eq!(std::fs::read_to_string(&s.cache).unwrap(), python_dumps(&wrote));
    assert_eq!(wrote["accessToken"]["accessKeyId"], "ASIAFAKELOGIN0000001");
    assert_eq!(wrote["accessToken"]["accountId"], "111122223333");
    assert_eq!(wrote["refreshToken"], "fake-login-refresh-token-1");
    for k in ["idToken", "clientId", "dpopKey", "signInRegion", "tokenType", "zSomethingNewer"] {
        assert_eq!(wrote[k], original[k], "{k}");
    }
    let expires = wrote["accessToken"]["expiresAt"].as_str().unwrap();
    assert_eq!(expires, done.expires_at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    let left = done.expires_at.timestamp() - started;
    assert!((895..=905).contains(&left), "expiresIn 900 from now, got {left}s");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&s.cache).unwrap().permissions().mode() & 0o777, 0o600);

    // botocore reads it as it is: the new keys, and no call of its own.
    let got = botocore(&s);
    assert_eq!(
        (got["key"].as_str(), got["token"].as_str()),
        (Some("ASIAFAKELOGIN0000001"), Some("fakeLoginSession1"))
    );
    assert_eq!(s.fake.requests().len(), 1, "botocore refreshed again: {:?}", s.fake.requests());

    // The rotated refresh token refreshes again, with the same key.
    refresh(&s).await.unwrap();
    assert_eq!(file(&s)["refreshToken"], "fake-login-refresh-token-2");
}

/// An injected answer (status, type, `error`), whether credd calls it fatal and its finding, and
/// the exception botocore raises.
type Refusal = (u16, &'static str, &'static str, bool, Option<&'static str>, &'static str);

#[tokio::test]
async fn login_refusals_are_judged_as_botocore_judges_them() {
    // [status, type, error], what credd makes of it, and what botocore raises.
    let cases: [Refusal; 6] = [
        (
            400,
            "AccessDeniedException",
            "TOKEN_EXPIRED",
            true,
            Some("login-token-expired"),
            "LoginRefreshRequired",
        ),
        (
            400,
            "AccessDeniedException",
            "USER_CREDENTIALS_CHANGED",
            true,
            Some("login-token-expired"),
            "LoginRefreshRequired",
        ),
        (
            400,
            "AccessDeniedException",
            "INSUFFICIENT_PERMISSIONS",
            true,
            Some("login-permissions"),
            "LoginInsufficientPermissions",
        ),
        (500, "InternalServerException", "server_error", false, None, "InternalServerException"),
        (429, "TooManyRequestsError", "rate_exceeded", false, None, "TooManyRequestsError"),
        // The type decides, not the status.
        (
            503,
            "AccessDeniedException",
            "TOKEN_EXPIRED",
            true,
            Some("login-token-expired"),
            "LoginRefreshRequired",
        ),
    ];
    for (status, kind, error, fatal, code, botocore_raises) in cases {
        let s = setup(&token(2));
        let before = std::fs::read(&s.cache).unwrap();
        let faults = serde_json::json!({"faults": [[status, kind, error, "injected"], [status, kind, error, "injected"]]});
        // One for credd, one for botocore (which makes one attempt: AWS_MAX_ATTEMPTS=1).
        s.fake.configure(&faults);
        let e = refresh(&s).await.unwrap_err();
        assert_eq!((e.is_fatal(), finding(&e).as_deref()), (fatal, code), "{kind} {error}: {e:?}");
        assert_eq!(e.code.as_deref(), Some(kind), "the type, cut at ':'");
        assert_eq!(std::fs::read(&s.cache).unwrap(), before, "a refusal leaves the file alone");
        match code {
            Some("login-token-expired") => {
                assert_eq!(e.fix.as_deref(), Some("run `aws login --profile dev`"))
            }
            Some("login-permissions") => {
                let fix = e.fix.as_deref().unwrap();
                assert!(
                    fix.contains("SignInLocalDevelopmentAccess") && fix.contains("aws login --profile dev"),
                    "{fix}"
                );
            }
            _ => {}
        }
        // botocore, against the same answer: the same distinction.
        let got = botocore(&s);
        assert_eq!(got["error"], botocore_raises, "{kind} {error}: {got}");
        let shown = format!("{e:?} {e}");
        assert!(!shown.contains("rt-1") && !shown.contains("PRIVATE KEY"), "{shown}");
    }
}

#[tokio::test]
async fn login_cache_changed_during_the_refresh_is_not_clobbered() {
    let s = setup(&token(2));
    // `aws login` runs again while credd's request is in flight.
    let mut theirs = token(60);
    theirs["refreshToken"] = "rt-from-a-new-login".into();
    let theirs = python_dumps(&theirs);
    s.fake.configure(&serde_json::json!({"write_on_request": {"path": s.cache, "content": theirs}}));
    let done = refresh(&s).await.unwrap();
    assert!(done.kept_newer, "{done:?}");
    assert_eq!(std::fs::read_to_string(&s.cache).unwrap(), theirs);
    assert!((done.expires_at - Utc::now()).num_minutes() >= 58, "their expiry: {done:?}");
}

#[tokio::test]
async fn login_cache_written_by_the_js_sdk_refreshes_and_botocore_reads_the_result() {
    // Pretty-printed, milliseconds in expiresAt, no signInRegion (the profile's region is used).
    let mut js = token(2);
    let millis = (Utc::now() + chrono::Duration::minutes(2)).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    js["accessToken"]["expiresAt"] = millis.clone().into();
    js.as_object_mut().unwrap().remove("signInRegion");
    let s = setup(&js);
    std::fs::write(&s.cache, serde_json::to_string_pretty(&js).unwrap()).unwrap();
    let parsed = credd::login::cache::read(&s.cache).unwrap().unwrap();
    assert_eq!(parsed.expires_at(), chrono::DateTime::parse_from_rfc3339(&millis).unwrap());
    refresh(&s).await.unwrap();
    assert_eq!(s.fake.requests()[0]["dpop_ok"], true);
    assert_eq!(botocore(&s)["key"], "ASIAFAKELOGIN0000001");
    assert_eq!(s.fake.requests().len(), 1);
}

#[tokio::test]
async fn login_proof_outside_the_fakes_iat_window_is_refused() {
    // The fake holds iat to a window; with none at all, every proof is refused, as a clock far
    // off would be. credd reports it as a request the service will not take.
    let s = setup(&token(2));
    s.fake.configure(&serde_json::json!({"iat_window": -1}));
    let e = refresh(&s).await.unwrap_err();
    assert!(s.fake.requests()[0]["dpop_error"].as_str().unwrap().contains("iat"), "{:?}", s.fake.requests());
    assert_eq!(
        (e.is_fatal(), finding(&e).as_deref(), e.code.as_deref()),
        (true, Some("invalid-request"), Some("ValidationException"))
    );
}
