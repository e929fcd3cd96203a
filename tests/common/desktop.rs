//! A real desktop notification stack on a private bus: `dbus-daemon --session`, `Xvfb`, `dunst`
//! as the notification server, and `dbus-monitor` recording every `Notify` call, whose summary,
//! body, actions and urgency hint the tests assert on.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static NEXT_DISPLAY: AtomicU32 = AtomicU32::new(0);

pub struct Desktop {
    children: Vec<Child>,
    pub address: String,
    pub display: String,
    log: PathBuf,
    /// Calls before this index were the readiness probe.
    skip: usize,
    _dir: tempfile::TempDir,
}

/// One `Notify` call as the server received it.
#[derive(Debug, Clone, Default)]
pub struct Notify {
    pub app: String,
    pub summary: String,
    pub body: String,
    pub actions: Vec<String>,
    pub urgency: Option<u8>,
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

impl Desktop {
    pub fn start() -> Desktop {
        let dir = tempfile::tempdir().unwrap();
        let mut children = Vec::new();
        let address = format!("unix:path={}", dir.path().join("bus").display());
        let bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .arg(format!("--address={address}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (apt: dbus) is installed by scripts/test.sh");
        let mut bus = bus;
        let mut line = String::new();
        BufReader::new(bus.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let address = line.trim().to_string();
        children.push(bus);

        // A display of our own: one whose lock file no X server holds, and whose socket appears
        // while our Xvfb runs. A display another test's Xvfb already serves made ours exit while
        // the socket was there, and dunst then died with that other test's server.
        let mut n = 150 + (std::process::id() % 500) * 4 + NEXT_DISPLAY.fetch_add(1, Ordering::SeqCst);
        let display = loop {
            let lock = PathBuf::from(format!("/tmp/.X{n}-lock"));
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
            if lock.exists() || socket.exists() {
                n += 2000;
                continue;
            }
            let display = format!(":{n}");
            let mut xvfb = Command::new("Xvfb")
                .args([display.as_str(), "-nolisten", "tcp", "-screen", "0", "640x480x24"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb (apt: xvfb) is installed by scripts/test.sh");
            let mut exited = false;
            wait_until("Xvfb", || {
                exited = xvfb.try_wait().ok().flatten().is_some();
                exited || socket.exists()
            });
            if exited {
                n += 2000;
                continue;
            }
            children.push(xvfb);
            break display;
        };

        let rc = dir.path().join("dunstrc");
        std::fs::write(&rc, "[global]\n    timeout = 0\n").unwrap();
        // Under a loaded CI machine dunst can lose the race with Xvfb and exit before it owns the
        // name; start it again (up to three times) rather than fail the test on the harness.
        let owns_name = || {
            let out = Command::new("dbus-send")
                .args([
                    &format!("--bus={address}"),
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                ])
                .args(["org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.Notifications"])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).contains("boolean true")
        };
        let mut owned = false;
        for _attempt in 0..3 {
            let mut dunst = Command::new("dunst")
                .arg("-config")
                .arg(&rc)
                .env("DISPLAY", &display)
                .env("DBUS_SESSION_BUS_ADDRESS", &address)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("dunst (apt: dunst) is installed by scripts/test.sh");
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline && !owned {
                if dunst.try_wait().ok().flatten().is_some() {
                    break; // exited: start it again
                }
                owned = owns_name();
                if !owned {
                    std::thread::sleep(Duration::from_millis(25));
                }
            }
            children.push(dunst);
            if owned {
                break;
            }
        }
        assert!(owned, "timed out waiting for dunst to own org.freedesktop.Notifications");

        let log = dir.path().join("monitor.log");
        let monitor = Command::new("dbus-monitor")
            .args([
                "--address",
                &address,
                "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
            ])
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        children.push(monitor);
        let mut desktop = Desktop { children, address, display, log, skip: 0, _dir: dir };
        // The monitor is listening once it has seen a probe.
        let mut probes = 0;
        wait_until("dbus-monitor to see a probe", || {
            probes += 1;
            let _ = Command::new("notify-send").arg("probe").envs(desktop.env()).status();
            !desktop.all().is_empty()
        });
        desktop.skip = desktop.all().len();
        desktop
    }

    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.address.clone()),
            ("DISPLAY".into(), self.display.clone()),
        ]
    }

    fn all(&self) -> Vec<Notify> {
        parse(&std::fs::read_to_string(&self.log).unwrap_or_default())
    }

    /// Notify calls made since start-up (excluding the probe).
    pub fn received(&self) -> Vec<Notify> {
        self.all().into_iter().skip(self.skip).collect()
    }

    /// Waits (bounded) until at least `n` notifications arrived, and returns them all.
    pub fn wait_for(&self, n: usize) -> Vec<Notify> {
        wait_until(&format!("{n} notification(s)"), || self.received().len() >= n);
        self.received()
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        for c in self.children.iter_mut().rev() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Parses dbus-monitor's text output into Notify calls.
pub fn parse(text: &str) -> Vec<Notify> {
    let mut out = Vec::new();
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    for line in text.lines() {
        let header = ["method call", "method return", "signal", "error"].iter().any(|h| line.starts_with(h));
        if header {
            blocks.push(vec![line]);
        } else if let Some(b) = blocks.last_mut() {
            b.push(line);
        }
    }
    for b in blocks {
        if !b[0].contains("member=Notify") {
            continue;
        }
        // Collect (depth, string) tokens; strings may span lines.
        let mut strings: Vec<(i32, String)> = Vec::new();
        let mut actions = Vec::new();
        let mut arrays = 0;
        let mut depth = 0;
        let mut pending: Option<String> = None;
        let mut urgency = None;
        let mut last_string = String::new();
        for line in &b[1..] {
            if let Some(p) = pending.as_mut() {
                p.push('\n');
                if let Some(end) = line.strip_suffix('"') {
                    p.push_str(end);
                    strings.push((depth, pending.take().unwrap()));
                } else {
                    p.push_str(line);
                }
                continue;
            }
            let t = line.trim();
            if t.starts_with("array [") {
                if depth == 0 {
                    arrays += 1;
                }
                depth += 1;
            } else if t == "]" {
                depth -= 1;
            } else if let Some(rest) = t.strip_prefix("string \"") {
                match rest.strip_suffix('"') {
                    Some(s) => {
                        last_string = s.to_string();
                        if depth == 1 && arrays == 1 {
                            actions.push(s.to_string());
                        }
                        strings.push((depth, s.to_string()));
                    }
                    None => pending = Some(rest.to_string()),
                }
            } else if let Some(rest) = t.strip_prefix("variant")
                && last_string == "urgency"
            {
                urgency = rest.trim().strip_prefix("byte ").and_then(|v| v.trim().parse().ok());
            }
        }
        let top: Vec<&String> = strings.iter().filter(|(d, _)| *d == 0).map(|(_, s)| s).collect();
        let mut n = Notify { urgency, ..Default::default() };
        if top.len() >= 4 {
            n.app = top[0].clone();
            n.summary = top[2].clone();
            n.body = top[3].clone();
        }
        // The first array holds the actions: id, label, id, label…
        n.actions = actions;
        out.push(n);
    }
    out
}
