//! Benchmark: whole-process time of `credd status` with 50 sessions, next to `aws configure list`
//! (the aws CLI from the test venv) on the same machine in the same run. Run it with:
//!
//!     cargo nextest run --run-ignored only bench_status_latency --no-capture

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use chrono::Utc;
use common::daemon::Home;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(mut cmd: impl FnMut() -> Command, runs: usize) -> Duration {
    let samples = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let out = cmd().output().unwrap();
            assert!(
                out.status.success() || out.status.code() == Some(1),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            start.elapsed()
        })
        .collect();
    median(samples)
}

#[test]
#[ignore = "a benchmark; see the file's doc"]
fn bench_status_latency() {
    let home = Home::new("http://127.0.0.1:9");
    let exp = (Utc::now() + chrono::Duration::hours(6)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut creds =
        String::from("[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n");
    for i in 0..50 {
        creds.push_str(&format!(
            "[s{i}]\naws_access_key_id = ASIA{i:016}\naws_secret_access_key = x\naws_session_token = t\nx_security_token_expires = {exp}\n"
        ));
    }
    home.write_credentials(&creds);
    let d = home.daemon_with_log("info");
    d.wait_for("50 fresh", 1, Duration::from_secs(20));
    let runs = 31;
    let credd = time(|| home.command(&["status"]), runs);
    let credd_json = time(|| home.command(&["status", "--json"]), runs);
    let aws_bin = common::venv_bin("aws");
    let aws = time(
        || {
            let mut c = Command::new(&aws_bin);
            c.args(["configure", "list"]).env_clear().envs(home.env());
            c
        },
        runs,
    );
    eprintln!(
        "status latency (median of {runs}, 50 sessions): credd status {credd:?}, credd status --json {credd_json:?}, aws configure list {aws:?}"
    );
    assert!(credd < aws, "credd status should beat the aws CLI's start-up");
}
