//! A real Secret Service for the keyring tests: `gnome-keyring-daemon --unlock` on a private
//! D-Bus session bus, with HOME and XDG_DATA_HOME in the test's temp HOME so that the `login`
//! collection is created and unlocked there and no real keyring is ever touched. The bus has no
//! service activation, so nothing can start a keyring against the real HOME either.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct KeyringBus {
    children: Vec<Child>,
    pub address: String,
    _dir: tempfile::TempDir,
}

impl KeyringBus {
    pub fn start(home: &Path) -> KeyringBus {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("bus.conf");
        std::fs::write(
            &conf,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path={}</listen>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>"#,
                dir.path().join("bus").display()
            ),
        )
        .unwrap();
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", conf.display()))
            .args(["--nofork", "--nopidfile", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (apt: dbus) is installed by scripts/test.sh");
        let mut line = String::new();
        BufReader::new(bus.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let address = line.trim().to_string();
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets", "--foreground"])
            .env_clear()
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_RUNTIME_DIR", home.join("run-keyring"))
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (apt: gnome-keyring) is installed by scripts/test.sh");
        std::fs::create_dir_all(home.join("run-keyring")).unwrap();
        // The password that creates and unlocks the `login` collection, then end of input.
        keyring.stdin.take().unwrap().write_all(b"test-password").unwrap();
        let kb = KeyringBus { children: vec![bus, keyring], address, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !kb.has_login_collection() {
            assert!(Instant::now() < deadline, "gnome-keyring-daemon did not create the login collection");
            std::thread::sleep(Duration::from_millis(50));
        }
        kb
    }

    fn dbus_send(&self, args: &[&str]) -> String {
        let out = Command::new("dbus-send")
            .arg(format!("--bus={}", self.address))
            .args(["--print-reply", "--dest=org.freedesktop.secrets"])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn has_login_collection(&self) -> bool {
        self.dbus_send(&[
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.ReadAlias",
            "string:default",
        ])
        .contains("/collection/login")
    }

    /// Locks the login collection (no prompt is needed to lock).
    pub fn lock(&self) {
        self.dbus_send(&[
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ]);
    }

    /// `secret-tool search --all` for credd's items: labels and attributes, secrets included.
    pub fn secret_tool_search(&self, home: &Path) -> String {
        let out = Command::new("secret-tool")
            .args(["search", "--all", "service", "credd"])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("HOME", home)
            .output()
            .expect("secret-tool (apt: libsecret-tools) is installed by scripts/test.sh");
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    }
}

impl Drop for KeyringBus {
    fn drop(&mut self) {
        for c in self.children.iter_mut().rev() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
