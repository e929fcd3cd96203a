//! STS fault soak: the real daemon refreshes sessions continuously through the fault proxy, which
//! mixes 5xx, throttling, resets, stalls, garbage bodies and `ExpiredToken` into half the calls.
//! Throughout, every session keeps complete, unexpired credentials in the file (the last good
//! ones when a refresh fails); the daemon's own retries stay within its backoff; it never sends
//! more notifications than there were incidents; its memory stays flat; and once STS behaves, every
//! session comes back fresh.
//!
//! `CREDD_SOAK_SECS` sets the length (20 s in CI; `docs/reliability.md` has the 10-minute run).

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use common::daemon::Home;
use common::fixtures::{self, BASE};
use common::moto::Moto;
use common::proxy::{Fault, Proxy};
use credd::profile::{self, Edit, FileKind};

const SESSIONS: usize = 5;

fn soak_secs() -> u64 {
    std::env::var("CREDD_SOAK_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(20)
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Every session has a complete set of keys and an expiry in the future.
fn check_file(home: &Home) {
    let doc = profile::read_document(&home.credentials(), FileKind::Credentials).unwrap().unwrap();
    let sections = doc.sections();
    for i in 0..SESSIONS {
        let name = format!("s{i}");
        let p = sections.profile(&name).unwrap_or_else(|| panic!("[{name}] lost"));
        for key in ["aws_access_key_id", "aws_secret_access_key", "aws_session_token"] {
            assert!(p.get(key).is_some_and(|v| !v.is_empty()), "[{name}] lost {key}");
        }
        let profile::ExpiryRead::Found(e) = profile::meta::expiry(p) else {
            panic!("[{name}] has no expiry")
        };
        assert!(e.at > Utc::now(), "[{name}] holds expired credentials: the last good ones were not kept");
    }
}

#[test]
fn sts_faults_for_a_while_lose_nothing_and_storm_nothing() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    let mut creds = BASE.to_string();
    let mut config = "sts_timeout = \"2s\"\n".to_string();
    for i in 0..SESSIONS {
        // Twelve minutes left: due now (inside the 15-minute lead), but outside the 10-minute
        // warning, so a transient failure has no reason to bother anyone.
        creds += &fixtures::session(&format!("s{i}"), 12, "LASTGOODsecret");
        config += &fixtures::managed(&format!("s{i}"), "region = \"us-east-1\"\n");
    }
    home.write_credentials(&creds);
    home.write_config(&config);
    proxy.set_default(Fault::Chaos);
    let d = home.daemon_with_log("info");
    d.wait_for("listening on", 1, Duration::from_secs(20));

    let started = Instant::now();
    let soak = Duration::from_secs(soak_secs());
    let mut edits = 0;
    let mut rss = Vec::new();
    while started.elapsed() < soak {
        // Another tool (or time passing) makes one session due again, every second.
        let name = format!("s{}", edits % SESSIONS);
        let soon = (Utc::now() + chrono::Duration::minutes(12)).to_rfc3339();
        profile::update(&home.credentials(), FileKind::Credentials, |doc| {
            doc.edit_profile(&name, &[Edit::set("x_security_token_expires", &soon)])
        })
        .unwrap();
        edits += 1;
        std::thread::sleep(Duration::from_millis(500));
        check_file(&home);
        std::thread::sleep(Duration::from_millis(500));
        rss.push(rss_kb(d.pid()));
    }
    let elapsed = started.elapsed().as_secs();
    let calls = proxy.count();

    // STS recovers: every session comes back fresh. A refresh already in flight when STS
    // recovered may still end in its fault, so the daemon gets a second round.
    proxy.set_default(Fault::Pass);
    let mut states = Vec::new();
    for _round in 0..2 {
        let _ = home.run(&["refresh", "--all"]);
        let st: serde_json::Value = serde_json::from_slice(&home.run(&["status", "--json"]).stdout).unwrap();
        states = st["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["state"].as_str().unwrap().to_string())
            .collect();
        if states.len() == SESSIONS && states.iter().all(|s| s == "fresh") {
            break;
        }
    }
    assert!(
        states.len() == SESSIONS && states.iter().all(|s| s == "fresh"),
        "not all fresh after recovery: {states:?}\n{}",
        d.log_text()
    );
    check_file(&home);

    let log = d.log_text();
    assert!(!log.contains("panicked"), "the daemon panicked:\n{log}");
    let refreshed = log.matches(": refreshed (").count();
    let retryable = log.matches("refresh failed, will retry").count();
    let fatal = log.matches("retrying will not help").count();
    let notified = log.matches("notify: ").count();
    // Each edit makes one session due once; beyond that only backoff (5 s and up, per session)
    // may add calls. A retry storm would blow through this by orders of magnitude.
    let bound = edits + SESSIONS * (elapsed as usize / 5 + 2);
    assert!(
        calls <= bound,
        "{calls} STS calls in {elapsed}s with {edits} edits: more than backoff allows ({bound})"
    );
    assert!(notified <= fatal, "{notified} notifications for {fatal} fatal failures");
    // Memory: flat once warm (the first samples include start-up).
    let warm = rss[rss.len().min(3) - 1];
    let last = *rss.last().unwrap();
    let peak = *rss.iter().max().unwrap();
    assert!(last <= warm + warm / 4 + 2048, "RSS grew from {warm} kB to {last} kB");
    eprintln!(
        "soak: {elapsed}s, {edits} outside edits, {calls} STS calls: {refreshed} refreshed, {retryable} retryable \
         failures, {fatal} fatal, {notified} notifications; RSS {warm} kB warm, {last} kB at the end, {peak} kB peak"
    );
    assert!(refreshed > 0 && retryable > 0, "the soak exercised nothing");
}
