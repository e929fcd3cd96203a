//! Desktop notifications through a real notification server (dunst on a private D-Bus session
//! under Xvfb), asserted on the `Notify` calls dbus-monitor saw: summary, body, urgency hint and
//! actions. Plus the command hook, the headless fallback, and canary secrets.

mod common;

use std::time::Duration;

use common::daemon::Home;
use common::desktop::Desktop;
use common::fixtures::{self, BASE, managed};
use common::moto::Moto;
use common::proxy::{Fault, Proxy};

const WAIT: Duration = Duration::from_secs(20);
const MFA: &str = "arn:aws:iam::123456789012:mfa/alice";
const CANARY: &str = "CANARYtokenNEVERshownANYWHERE0123456789";

fn session(name: &str, mins: i64) -> String {
    fixtures::session(name, mins, CANARY)
}

fn daemon(home: &Home, desktop: &Desktop) -> common::daemon::Daemon {
    let log = std::fs::File::create(home.path().join("daemon.log")).unwrap();
    let child =
        home.command(&["daemon"]).env("CREDD_LOG", "debug").envs(desktop.env()).stderr(log).spawn().unwrap();
    common::daemon::Daemon::adopt(child, home.path().join("daemon.log"))
}

#[test]
fn an_mfa_code_needed_is_said_once_with_the_command_that_fixes_it() {
    let desktop = Desktop::start();
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    home.write_credentials(&format!("{BASE}{}", session("dev", 1)));
    home.write_config(&managed("dev", &format!("mfa_serial = \"{MFA}\"\n")));
    let d = daemon(&home, &desktop);
    let got = desktop.wait_for(1);
    let n = &got[0];
    assert_eq!((n.app.as_str(), n.summary.as_str()), ("credd", "dev needs an MFA code"));
    assert!(n.body.contains(MFA) && n.body.contains("`credd mfa dev CODE`"), "{}", n.body);
    assert_eq!(n.urgency, Some(1), "normal urgency for a warning");
    assert!(n.actions.is_empty(), "a refresh without a code cannot help: {:?}", n.actions);
    d.wait_for("notify: dev needs an MFA code", 1, WAIT);
}

#[test]
fn three_sessions_sharing_an_mfa_device_make_one_notification() {
    let desktop = Desktop::start();
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    home.write_credentials(&format!(
        "{BASE}{}{}{}",
        session("dev", 1),
        session("staging", 1),
        session("prod", 1)
    ));
    let extra = format!("mfa_serial = \"{MFA}\"\n");
    home.write_config(&format!(
        "{}{}{}",
        managed("dev", &extra),
        managed("staging", &extra),
        managed("prod", &extra)
    ));
    let d = daemon(&home, &desktop);
    // Issue 29: they share one MFA session, which asks for the one code they all need.
    d.wait_for("mfa,base: due, but needs an MFA code", 1, WAIT);
    d.wait_for("needs an MFA code first; run `credd mfa mfa,base CODE`", 3, WAIT);
    let got = desktop.wait_for(1);
    std::thread::sleep(Duration::from_millis(300)); // nothing more may follow
    let got_after = desktop.received();
    assert_eq!(got_after.len(), 1, "{got_after:#?}");
    assert_eq!(got[0].summary, "mfa,base needs an MFA code");
    assert!(
        got[0].body.contains("Run `credd mfa mfa,base CODE`; that one code renews dev, prod and staging too"),
        "{}",
        got[0].body
    );
}

#[test]
fn a_fatal_error_names_the_shortened_key_and_the_fix_once() {
    let desktop = Desktop::start();
    let moto = Moto::start_with_auth();
    let home = Home::new(&moto.url());
    home.write_credentials(&format!("{BASE}{}", session("dev", 2)));
    home.write_config(&managed("dev", ""));
    let d = daemon(&home, &desktop);
    let n = desktop.wait_for(1)[0].clone();
    assert_eq!(n.summary, "dev: refresh failed: InvalidClientTokenId");
    assert!(n.body.contains("AKIA…MPLE") && n.body.contains("aws configure --profile base"), "{}", n.body);
    assert!(!n.body.contains("AKIAIOSFODNN7EXAMPLE"), "key IDs are shortened");
    assert_eq!(n.urgency, Some(1));
    assert_eq!(n.actions, ["refresh", "Refresh now"]);
    // Refresh now, again and again: the same incident stays one notification.
    for _ in 0..3 {
        assert_eq!(home.run(&["refresh", "dev"]).status.code(), Some(1));
    }
    d.wait_for("retrying will not help", 4, WAIT);
    assert_eq!(desktop.received().len(), 1, "{:#?}", desktop.received());
}

#[test]
fn a_watch_only_session_warns_before_it_expires() {
    let desktop = Desktop::start();
    let home = Home::new("http://127.0.0.1:9");
    home.write_credentials(&session("saml", 5));
    let _d = daemon(&home, &desktop);
    let n = desktop.wait_for(1)[0].clone();
    assert!(n.summary == "saml expires in 4 min" || n.summary == "saml expires in 5 min", "{}", n.summary);
    assert!(n.body.contains("the tool that wrote it"), "{}", n.body);
    assert_eq!(n.urgency, Some(1));
    // Expiry is critical: rewrite it as already expired.
    home.write_credentials(&session("saml", -1));
    let got = desktop.wait_for(2);
    assert_eq!(got[1].summary, "saml has expired");
    assert_eq!(got[1].urgency, Some(2), "critical urgency for an expiry");
}

#[test]
fn many_retries_of_one_incident_make_exactly_one_notification() {
    let desktop = Desktop::start();
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    proxy.set_default(Fault::Error(503, "ServiceUnavailable", "try later"));
    let home = Home::new(&proxy.url());
    home.write_credentials(&format!("{BASE}{}", session("dev", 5)));
    home.write_config(&format!("backoff_min = \"50ms\"\nbackoff_max = \"100ms\"\n{}", managed("dev", "")));
    let d = daemon(&home, &desktop);
    d.wait_for("will retry at", 10, WAIT);
    let got = desktop.received();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].summary.starts_with("dev expires in ") && got[0].body.contains("keeps failing"),
        "{:?}",
        got[0]
    );
    assert_eq!(got[0].actions, ["refresh", "Refresh now"]);
}

#[test]
fn a_transient_error_that_recovers_says_nothing() {
    let desktop = Desktop::start();
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    proxy.push(&[
        Fault::Error(503, "ServiceUnavailable", "try later"),
        Fault::Error(400, "Throttling", "Rate exceeded"),
    ]);
    let home = Home::new(&proxy.url());
    home.write_credentials(&format!("{BASE}{}", session("dev", 20)));
    home.write_config(&format!(
        "refresh_before = \"30m\"\nbackoff_min = \"50ms\"\nbackoff_max = \"100ms\"\n{}",
        managed("dev", "")
    ));
    let d = daemon(&home, &desktop);
    d.wait_for("dev: refreshed", 1, WAIT);
    // A probe after the fact proves the monitor is still listening, so zero means zero.
    let _ = std::process::Command::new("notify-send").arg("after").envs(desktop.env()).status();
    let got = desktop.wait_for(1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].summary, "after", "credd notified about a transient error: {got:#?}");
}

#[test]
fn without_a_notification_server_credd_warns_once_and_carries_on() {
    let home = Home::new("http://127.0.0.1:9");
    home.write_credentials(&format!("{}{}", session("saml", 5), session("other", 6)));
    let log = std::fs::File::create(home.path().join("daemon.log")).unwrap();
    let child = home
        .command(&["daemon"])
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .stderr(log)
        .spawn()
        .unwrap();
    let d = common::daemon::Daemon::adopt(child, home.path().join("daemon.log"));
    let log = d.wait_for("desktop notifications are unavailable", 1, WAIT);
    d.wait_for("notify: other and saml expire in", 1, WAIT);
    assert_eq!(log.matches("desktop notifications are unavailable").count(), 1);
    // The daemon is fine and status shows everything.
    let out = home.run(&["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("saml"));
    // A second incident later: still no second warning.
    home.write_credentials(&format!("{}{}", session("saml", -1), session("other", 6)));
    d.wait_for("notify: saml has expired", 1, WAIT);
    assert_eq!(d.log_text().matches("desktop notifications are unavailable").count(), 1);
}

#[test]
fn the_command_hook_gets_the_event_and_no_secret() {
    let desktop = Desktop::start();
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    home.write_credentials(&format!("{BASE}{}", session("dev", 1)));
    let out = home.path().join("hook.out");
    home.write_config(&format!(
        "[notify]\ncommand = \"env | grep ^CREDD_ | sort > {}\"\n{}",
        out.display(),
        managed("dev", &format!("mfa_serial = \"{MFA}\"\n"))
    ));
    let _d = daemon(&home, &desktop);
    let deadline = std::time::Instant::now() + WAIT;
    while !out.exists() || std::fs::read_to_string(&out).unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the hook never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    let env = std::fs::read_to_string(&out).unwrap();
    for line in [
        "CREDD_EVENT=needs-mfa",
        "CREDD_SESSIONS=dev",
        "CREDD_SUMMARY=dev needs an MFA code",
        "CREDD_FIX=credd mfa dev CODE",
        "CREDD_URGENCY=normal",
    ] {
        assert!(env.lines().any(|l| l == line), "missing {line}: {env}");
    }
    assert!(env.contains("CREDD_BODY=credd needs a one-time code from"));
    assert!(!env.contains(CANARY));
    // And the desktop got it too, without the canary.
    let got = desktop.wait_for(1);
    assert!(got.iter().all(|n| !n.body.contains(CANARY) && !n.summary.contains(CANARY)));
}

#[test]
fn the_dbus_monitor_parser_reads_multi_line_bodies_actions_and_urgency() {
    let text = "method call time=1.0 sender=:1.5 -> destination=org.freedesktop.Notifications serial=7 path=/org/freedesktop/Notifications; interface=org.freedesktop.Notifications; member=Notify\n   string \"credd\"\n   uint32 0\n   string \"\"\n   string \"dev needs an MFA code\"\n   string \"line one\nline two.\"\n   array [\n      string \"refresh\"\n      string \"Refresh now\"\n   ]\n   array [\n      dict entry(\n         string \"urgency\"\n         variant             byte 2\n      )\n   ]\n   int32 -1\n";
    let n = &common::desktop::parse(text)[0];
    assert_eq!((n.app.as_str(), n.summary.as_str()), ("credd", "dev needs an MFA code"));
    assert_eq!(n.body, "line one\nline two.");
    assert_eq!(n.actions, ["refresh", "Refresh now"]);
    assert_eq!(n.urgency, Some(2));
}
