//! `credd doctor` against real broken setups: a temp HOME, environment variables, a real
//! moto_server (with IAM auth for InvalidClientTokenId and SignatureDoesNotMatch), and the fault
//! proxy for what moto cannot do (a skewed Date header, ExpiredToken).

mod common;

use std::collections::BTreeSet;
use std::process::Output;

use chrono::Utc;
use common::daemon::Home;
use common::moto::Moto;
use common::proxy::{Fault, Proxy};
use serde_json::Value;

const KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn doctor(home: &Home, args: &[&str], env: &[(&str, &str)]) -> (Output, Value) {
    let mut cmd = home.command(&[&["doctor", "--json"][..], args].concat());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out, v)
}

/// `(profile or "-", code)` for every finding.
fn codes(v: &Value) -> BTreeSet<(String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["profile"].as_str().unwrap_or("-").to_string(), f["code"].as_str().unwrap().to_string()))
        .collect()
}

fn has(v: &Value, profile: &str, code: &str) -> bool {
    codes(v).contains(&(profile.to_string(), code.to_string()))
}

#[test]
fn a_healthy_setup_yields_no_error_and_names_the_identity() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    home.write_credentials(&format!(
        "[default]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n"
    ));
    std::fs::write(home.path().join(".aws/config"), "[default]\nregion = eu-west-1\n").unwrap();
    let (out, v) = doctor(&home, &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert!(codes(&v).is_empty(), "{v:#}");
    let id = &v["identities"][0];
    assert_eq!((id["profile"].as_str(), id["account"].as_str()), (Some("default"), Some("123456789012")));
    // The human form says so too.
    let human = home.run(&["doctor"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("default (selected)\n  ✔ credentials work: arn:aws:")
            && text.contains("✔ no problems found"),
        "{text}"
    );
}

#[test]
fn deleted_keys_and_mistyped_secrets_are_told_apart() {
    let (moto, key, secret) = Moto::start_with_iam_user();
    let home = Home::new(&moto.url());
    let wrong = format!("{}X", &secret[..39]);
    home.write_credentials(&format!(
        "[default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n\
         [typo]\naws_access_key_id = {key}\naws_secret_access_key = {wrong}\n\
         [deleted]\naws_access_key_id = AKIAZZZZZZZZZZZZZZZZ\naws_secret_access_key = {SECRET}\n"
    ));
    std::fs::write(home.path().join(".aws/config"), "[default]\nregion = us-east-1\n").unwrap();
    let (out, v) = doctor(&home, &[], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(has(&v, "deleted", "key-unknown"), "{v:#}");
    assert!(has(&v, "typo", "secret-mismatch"), "{v:#}");
    assert_eq!(codes(&v).len(), 2, "{v:#}");
    assert_eq!(v["identities"][0]["profile"].as_str(), Some("default"));
    let text = serde_json::to_string(&v).unwrap();
    assert!(!text.contains(&secret) && !text.contains(&wrong), "a secret reached doctor's output");
    let fix = v["findings"].as_array().unwrap().iter().find(|f| f["code"] == "key-unknown").unwrap()["fix"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(fix.contains("AKIA…ZZZZ") && fix.contains("aws configure --profile deleted"), "{fix}");
}

#[test]
fn clock_skew_is_measured_from_the_date_header() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    proxy.set_default(Fault::SkewDate(-600));
    let home = Home::new(&proxy.url());
    home.write_credentials(&format!(
        "[default]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n"
    ));
    std::fs::write(home.path().join(".aws/config"), "[default]\nregion = us-east-1\n").unwrap();
    let (out, v) = doctor(&home, &[], &[]);
    assert_eq!(out.status.code(), Some(1));
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "clock-skew")
        .expect("clock-skew")
        .clone();
    assert_eq!(f["severity"], "error");
    assert!(f["message"].as_str().unwrap().contains("ahead of"), "{f}");
    assert!(f["fix"].as_str().unwrap().contains("timedatectl"), "{f}");
    // Two minutes off is a warning, not an error.
    proxy.set_default(Fault::SkewDate(120));
    let (out, v) = doctor(&home, &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert_eq!(v["findings"][0]["severity"], "warn");
}

#[test]
fn an_expired_token_is_named() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    proxy.set_default(Fault::Error(
        400,
        "ExpiredToken",
        "The security token included in the request is expired",
    ));
    let home = Home::new(&proxy.url());
    home.write_credentials(&format!("[default]\naws_access_key_id = ASIAIOSFODNN7EXAMPLE\naws_secret_access_key = {SECRET}\naws_session_token = t\n"));
    std::fs::write(home.path().join(".aws/config"), "[default]\nregion = us-east-1\n").unwrap();
    let (_, v) = doctor(&home, &[], &[]);
    assert!(has(&v, "default", "token-expired"), "{v:#}");
}

#[test]
fn several_faults_at_once_are_all_named_and_offline_calls_nothing() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    let past = (Utc::now() - chrono::Duration::hours(2)).to_rfc3339();
    home.write_credentials(&format!(
        "[default]\naws_access_key_id = {KEY}\u{a0}\naws_secret_access_key = {SECRET}\n\
         [dev]\naws_access_key_id = ASIAIOSFODNN7EXAMPLE\naws_secret_access_key = {SECRET}\naws_session_token = t\nx_security_token_expires = {past}\n\
         [profile broken]\naws_access_key_id = {KEY}\n"
    ));
    std::fs::write(
        home.path().join(".aws/config"),
        "[profile dev]\nregion = us-east1\n[orphan]\nregion = eu-west-1\n",
    )
    .unwrap();
    let env = [
        ("AWS_PROFILE", "dev"),
        ("AWS_ACCESS_KEY_ID", KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
        ("AWS_REGION", ""),
    ];
    let (out, v) = doctor(&home, &["--offline"], &env);
    assert_eq!(out.status.code(), Some(1));
    for (profile, code) in [
        ("dev", "env-shadows-profile"),
        ("default", "key-whitespace"),
        ("dev", "session-expired"),
        ("dev", "region-invalid"),
        ("-", "profile-prefix-in-credentials"),
        ("-", "missing-profile-prefix-in-config"),
    ] {
        assert!(has(&v, profile, code), "missing {profile}/{code}: {:?}", codes(&v));
    }
    assert_eq!(proxy.count(), 0, "--offline called STS");
    assert!(
        v["findings"].as_array().unwrap().iter().any(|f| f["message"].as_str().unwrap().contains("us-east1"))
            && v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["fix"].as_str().unwrap().contains("did you mean \"us-east-1\""))
    );
    let human = String::from_utf8_lossy(
        &home.command(&["doctor", "--offline"]).env("AWS_PROFILE", "dev").output().unwrap().stdout,
    )
    .to_string();
    assert!(human.contains("dev (selected)") && human.contains("✖ session-expired"), "{human}");
}

#[test]
fn a_missing_profile_gets_a_suggestion() {
    let home = Home::new("http://127.0.0.1:9");
    home.write_credentials(&format!(
        "[staging]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n"
    ));
    let (out, v) = doctor(&home, &["--offline", "--profile", "stagign"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let f = &v["findings"][0];
    assert_eq!(f["code"], "profile-not-found");
    assert!(f["fix"].as_str().unwrap().contains("did you mean \"staging\"?"), "{f}");
}

#[test]
fn world_readable_credentials_and_unparseable_files_are_reported() {
    let home = Home::new("http://127.0.0.1:9");
    home.write_credentials("[default]\naws_access_key_id = AKIA\nnot a property\n");
    std::fs::set_permissions(home.credentials(), std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .unwrap();
    let (_, v) = doctor(&home, &["--offline"], &[]);
    assert!(has(&v, "-", "file-permissions") && has(&v, "-", "file-unparseable"), "{v:#}");
    let f =
        v["findings"].as_array().unwrap().iter().find(|f| f["code"] == "file-unparseable").unwrap().clone();
    assert!(f["message"].as_str().unwrap().contains("credentials:3:"), "{f}");
}

/// Issue 16: keys only under `[profile work]` in the credentials file and a region only under a
/// bare `[work]` in the config: every SDK fails for `work`, so doctor must fail too. The same
/// sections while another, healthy profile is in use are only worth a warning.
#[test]
fn regression_issue_16_the_verdict_matches_what_the_sdks_will_do() {
    let home = Home::new("http://127.0.0.1:9");
    home.write_credentials(&format!(
        "[default]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n[profile work]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n"
    ));
    std::fs::write(
        home.path().join(".aws/config"),
        "[default]\nregion = eu-west-1\n[work]\nregion = eu-west-1\n[profile work]\noutput = json\n",
    )
    .unwrap();
    let severity = |v: &Value, code: &str| {
        let f = v["findings"].as_array().unwrap().iter().find(|f| f["code"] == code).cloned();
        f.unwrap_or_else(|| panic!("no {code}: {v}"))["severity"].as_str().unwrap().to_string()
    };
    // Selected: no credentials and no region for it, so errors and exit 1.
    let (out, v) = doctor(&home, &["--offline", "--profile", "work"], &[("AWS_REGION", "")]);
    assert_eq!(out.status.code(), Some(1), "{v}");
    for code in ["profile-prefix-in-credentials", "missing-profile-prefix-in-config", "region-missing"] {
        assert!(has(&v, "work", code), "{code} not attached to work: {:?}", codes(&v));
        assert_eq!(severity(&v, code), "error", "{code}");
    }
    // Not selected (the default profile is in use and healthy): warnings, exit 0.
    let (out, v) = doctor(&home, &["--offline"], &[]);
    assert_eq!(out.status.code(), Some(0), "{v}");
    for code in ["profile-prefix-in-credentials", "missing-profile-prefix-in-config"] {
        assert!(has(&v, "-", code), "{code}: {:?}", codes(&v));
        assert_eq!(severity(&v, code), "warn", "{code}");
    }
}
