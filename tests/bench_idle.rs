//! Benchmark: an idle daemon with 50 sessions and nothing due costs nothing. Counts voluntary
//! context switches summed over every thread in /proc/PID/task/*/status across a window (60 s by
//! default, `CREDD_IDLE_SECS` to change it). Run it with:
//!
//!     cargo nextest run --run-ignored only bench_idle_wakeups --no-capture
//!
//! It is ignored in the normal run because it takes a minute by design.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::daemon::Home;

fn switches(pid: u32) -> (u64, usize) {
    let mut total = 0;
    let mut threads = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        threads += 1;
        for line in status.lines() {
            if let Some(v) = line.strip_prefix("voluntary_ctxt_switches:") {
                total += v.trim().parse::<u64>().unwrap();
            }
        }
    }
    (total, threads)
}

#[test]
#[ignore = "a one-minute benchmark; see the file's doc"]
fn bench_idle_wakeups() {
    let home = Home::new("http://127.0.0.1:9");
    let exp = (Utc::now() + chrono::Duration::hours(6)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut creds =
        String::from("[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n");
    let mut config = String::new();
    for i in 0..50 {
        creds.push_str(&format!(
            "[s{i}]\naws_access_key_id = ASIA{i:016}\naws_secret_access_key = x\naws_session_token = t\nx_security_token_expires = {exp}\n"
        ));
        if i < 25 {
            config.push_str(&format!(
                "[[session]]\nname = \"s{i}\"\nmethod = \"assume-role\"\nsource_profile = \"base\"\nrole_arn = \"arn:aws:iam::123456789012:role/r{i}\"\n"
            ));
        }
    }
    home.write_credentials(&creds);
    home.write_config(&config);
    let d = home.daemon_with_log("info");
    d.wait_for("50 fresh", 1, Duration::from_secs(20));
    // Let start-up settle (tokio's blocking threads retire after 10 s idle).
    std::thread::sleep(Duration::from_secs(12));
    let secs: u64 = std::env::var("CREDD_IDLE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let (before, threads) = switches(d.pid());
    std::thread::sleep(Duration::from_secs(secs));
    let (after, threads_after) = switches(d.pid());
    let wakeups = after.saturating_sub(before);
    eprintln!(
        "idle: {wakeups} voluntary context switches in {secs} s across {threads_after} threads \
         ({threads} at start), 50 sessions (25 managed, 25 watch-only)"
    );
    assert!(wakeups <= secs.div_ceil(60), "idle daemon woke {wakeups} times in {secs} s");
}
