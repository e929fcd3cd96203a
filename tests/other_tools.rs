//! Other tools' formats, tested against the tools themselves (from the test venv): credd reads
//! what awsume and aws-mfa write, manages their profiles, and each tool accepts what credd wrote
//! back.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::{DateTime, Duration, Utc};
use common::daemon::Home;
use common::fixtures::BASE;
use common::moto::Moto;

/// UTC+9: a local time read as UTC would put the expiry 9 hours late, and a UTC time read by
/// awsume as local would look 9 hours expired.
const TOKYO: &str = "Asia/Tokyo";

fn tool(home: &Home, name: &str, args: &[&str], tz: &str, stdin: &str) -> std::process::Output {
    let mut child = Command::new(common::venv_bin(name))
        .args(args)
        .env_clear()
        .envs(home.env())
        .env("TZ", tz)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{name} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn credd(home: &Home, args: &[&str], tz: &str) -> std::process::Output {
    let out = home.command(args).env("TZ", tz).output().unwrap();
    assert!(out.status.success(), "credd {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn profile_value(home: &Home, name: &str, key: &str) -> Option<String> {
    let doc = credd::profile::read_document(&home.credentials(), credd::profile::FileKind::Credentials)
        .unwrap()
        .unwrap();
    doc.sections().profile(name).and_then(|p| p.get(key)).map(str::to_string)
}

/// The expiry `credd list --json` reports for `name`.
fn listed_expiry(home: &Home, name: &str, tz: &str) -> DateTime<Utc> {
    let out = credd(home, &["list", "--json"], tz);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entry = v.as_array().and_then(|a| a.iter().find(|p| p["name"] == name)).cloned();
    let entry = entry.unwrap_or_else(|| panic!("{name} not listed: {v}"));
    let raw = entry["expires_at"].as_str().unwrap_or_else(|| panic!("no expiry for {name}: {entry}"));
    DateTime::parse_from_rfc3339(raw).unwrap().with_timezone(&Utc)
}

fn about_an_hour_from_now(at: DateTime<Utc>) -> bool {
    let left = at - Utc::now();
    left > Duration::minutes(50) && left < Duration::minutes(70)
}

#[test]
fn awsume_output_profiles_are_local_time_and_awsume_accepts_credd_refreshes() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    home.write_credentials(BASE);
    std::fs::write(
        home.path().join(".aws/config"),
        "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\nregion = us-east-1\n",
    )
    .unwrap();
    // `awsume role -o awsumed`: manager = awsume, expiration in local time, no source_expiration.
    tool(&home, "awsumepy", &["role", "-o", "awsumed"], TOKYO, "");
    assert_eq!(profile_value(&home, "awsumed", "manager").as_deref(), Some("awsume"));
    assert!(profile_value(&home, "awsumed", "source_expiration").is_none());
    let at = listed_expiry(&home, "awsumed", TOKYO);
    assert!(about_an_hour_from_now(at), "a one-hour awsume session read as expiring at {at}");

    // credd manages it and writes the expiration back in local time, keeping awsume's marker.
    home.write_config(
        "[[session]]\nname = \"awsumed\"\nmethod = \"assume-role\"\nsource_profile = \"base\"\nrole_arn = \"arn:aws:iam::123456789012:role/r\"\nregion = \"us-east-1\"\n",
    );
    let before = profile_value(&home, "awsumed", "aws_access_key_id");
    credd(&home, &["refresh", "awsumed"], TOKYO);
    assert_ne!(profile_value(&home, "awsumed", "aws_access_key_id"), before, "credd did not refresh it");
    assert_eq!(profile_value(&home, "awsumed", "manager").as_deref(), Some("awsume"));
    let at = listed_expiry(&home, "awsumed", TOKYO);
    assert!(about_an_hour_from_now(at), "credd's refresh reads back as expiring at {at}");
    // awsume's own check (`--clean` drops awsume profiles it thinks expired) keeps it.
    tool(&home, "awsumepy", &["--clean"], TOKYO, "");
    assert!(profile_value(&home, "awsumed", "aws_session_token").is_some(), "awsume dropped credd's session");
}

#[test]
fn aws_mfa_layout_is_managed_and_aws_mfa_calls_credds_session_still_valid() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    let device = "arn:aws:iam::123456789012:mfa/me";
    home.write_credentials(&format!(
        "[dev-long-term]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\naws_mfa_device = {device}\n"
    ));
    // aws-mfa asks for a code on stdin, calls GetSessionToken and writes [dev].
    tool(&home, "aws-mfa", &["--profile", "dev", "--duration", "3600"], TOKYO, "123456\n");
    for key in ["assumed_role", "aws_security_token", "expiration"] {
        assert!(profile_value(&home, "dev", key).is_some(), "aws-mfa wrote no {key}");
    }
    // aws-mfa's expiration is UTC: read as such even in Tokyo.
    let at = listed_expiry(&home, "dev", TOKYO);
    assert!(about_an_hour_from_now(at), "aws-mfa's one-hour session read as expiring at {at}");

    home.write_config(&format!(
        "[[session]]\nname = \"dev\"\nmethod = \"session-token\"\nsource_profile = \"dev-long-term\"\nmfa_serial = \"{device}\"\nmfa_command = \"echo 654321\"\nduration = \"2h\"\nregion = \"us-east-1\"\n"
    ));
    credd(&home, &["refresh", "dev"], TOKYO);
    let written = profile_value(&home, "dev", "x_security_token_expires").expect("credd did not write");
    let written = DateTime::parse_from_rfc3339(&written).unwrap().with_timezone(&Utc);
    // Every key aws-mfa reads moved in step, in aws-mfa's own format (UTC).
    assert_eq!(
        profile_value(&home, "dev", "expiration"),
        Some(written.format("%Y-%m-%d %H:%M:%S").to_string())
    );
    assert_eq!(
        profile_value(&home, "dev", "aws_security_token"),
        profile_value(&home, "dev", "aws_session_token")
    );
    // aws-mfa, run again, finds credd's session valid and asks for nothing.
    let out = tool(&home, "aws-mfa", &["--profile", "dev", "--duration", "3600"], TOKYO, "");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("still valid"), "aws-mfa did not accept credd's session:\n{said}");
}
