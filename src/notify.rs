//! Delivering [`Notification`]s: to the desktop (notify-rust: D-Bus on Linux, the notification
//! center on macOS), to an optional command hook, and always to the log.
//!
//! Sending never blocks the daemon's loop: each notification goes out in its own task with a
//! timeout. A machine with no session bus or no notification server (a headless box, an SSH
//! session) gets one warning in the log and nothing else; `credd status` still shows everything.
//! Where the server supports actions, "Refresh now" asks the daemon to refresh the sessions.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::alerts::{Notification, Urgency};
use crate::config::NotifyConfig;
use crate::inbox::Control;

/// How long the desktop may take to accept a notification.
const DESKTOP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the command hook may run.
const HOOK_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a "Refresh now" button stays useful.
const ACTION_WAIT: Duration = Duration::from_secs(3600);

pub struct Notifier {
    config: NotifyConfig,
    /// Where "Refresh now" sends its request.
    control: mpsc::Sender<Control>,
    warned_headless: Arc<AtomicBool>,
}

impl Notifier {
    pub fn new(config: NotifyConfig, control: mpsc::Sender<Control>) -> Notifier {
        Notifier { config, control, warned_headless: Arc::new(AtomicBool::new(false)) }
    }

    pub fn set_config(&mut self, config: NotifyConfig) {
        self.config = config;
    }

    /// Sends `n` everywhere it should go, without waiting.
    pub fn send(&self, n: Notification) {
        let level = if n.urgency == Urgency::Critical { "critical" } else { "normal" };
        tracing::warn!(event = n.event, urgency = level, "notify: {}: {}", n.summary, n.body);
        if !self.config.enabled {
            return;
        }
        if let Some(cmd) = self.config.command.clone() {
            let n = n.clone();
            tokio::spawn(async move { run_hook(&cmd, &n).await });
        }
        let warned = self.warned_headless.clone();
        let control = self.control.clone();
        tokio::spawn(async move { desktop(n, warned, control).await });
    }
}

async fn run_hook(cmd: &str, n: &Notification) {
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .env("CREDD_EVENT", n.event)
        // One per line: a name may hold a comma (the shared MFA session, `mfa,SOURCE`) or a
        // space (`login-session ARN`), never a line end.
        .env("CREDD_SESSIONS", n.sessions.join("\n"))
        .env("CREDD_SUMMARY", &n.summary)
        .env("CREDD_BODY", &n.body)
        .env("CREDD_FIX", n.fix.as_deref().unwrap_or(""))
        .env("CREDD_URGENCY", if n.urgency == Urgency::Critical { "critical" } else { "normal" })
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(HOOK_TIMEOUT, child).await {
        Ok(Ok(out)) if out.status.success() => tracing::debug!("notify command ran for {}", n.event),
        Ok(Ok(out)) => tracing::warn!(
            "notify command failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim().chars().take(200).collect::<String>()
        ),
        Ok(Err(e)) => tracing::warn!("notify command could not run: {e}"),
        Err(_) => tracing::warn!("notify command did not finish within {}s; killed", HOOK_TIMEOUT.as_secs()),
    }
}

#[cfg(any(target_os = "linux", target_os = "macos"))]
async fn desktop(n: Notification, warned: Arc<AtomicBool>, control: mpsc::Sender<Control>) {
    let mut d = notify_rust::Notification::new();
    d.appname("credd").summary(&n.summary).body(&n.body);
    #[cfg(target_os = "linux")]
    {
        d.urgency(match n.urgency {
            Urgency::Critical => notify_rust::Urgency::Critical,
            Urgency::Normal => notify_rust::Urgency::Normal,
        });
        if n.refresh_action {
            d.action("refresh", "Refresh now");
        }
    }
    let handle = match tokio::time::timeout(DESKTOP_TIMEOUT, d.show_async()).await {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => return headless(&warned, &e.to_string()),
        Err(_) => return headless(&warned, "the notification server did not answer in time"),
    };
    #[cfg(target_os = "linux")]
    if n.refresh_action {
        let wait = handle.wait_for_action_async(|response| {
            if let notify_rust::NotificationResponse::Action(a) = response
                && a == "refresh"
            {
                tracing::info!("\"Refresh now\" clicked for {}", n.sessions.join(", "));
                for name in &n.sessions {
                    let (reply, _) = tokio::sync::oneshot::channel();
                    let _ = control.try_send(Control::Refresh { name: Some(name.clone()), reply });
                }
            }
        });
        let _ = tokio::time::timeout(ACTION_WAIT, wait).await;
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (handle, control);
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
async fn desktop(_: Notification, warned: Arc<AtomicBool>, _: mpsc::Sender<Control>) {
    headless(&warned, "no desktop notifications on this platform");
}

/// One warning per daemon, then quiet: a headless machine is a normal place to run credd.
fn headless(warned: &AtomicBool, why: &str) {
    if !warned.swap(true, Ordering::SeqCst) {
        tracing::warn!(
            "desktop notifications are unavailable ({why}); credd carries on, logs every alert, and `credd status` shows everything. Set [notify] command to forward alerts elsewhere"
        );
    } else {
        tracing::debug!("desktop notification not shown: {why}");
    }
}
