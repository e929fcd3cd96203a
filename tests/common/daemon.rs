//! Running the real `credd` binary in a temp HOME: one-shot commands and the daemon, whose log is
//! captured to a file the test can wait on.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A temp HOME with `.aws/` and `.config/credd/`, and an STS endpoint for credd to use.
pub struct Home {
    pub dir: tempfile::TempDir,
    pub sts_url: String,
}

impl Home {
    pub fn new(sts_url: &str) -> Home {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(".aws")).unwrap();
        fs::create_dir_all(dir.path().join(".config/credd")).unwrap();
        Home { dir, sts_url: sts_url.to_string() }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn credentials(&self) -> PathBuf {
        self.path().join(".aws/credentials")
    }

    pub fn config(&self) -> PathBuf {
        self.path().join(".config/credd/config.toml")
    }

    /// Writes the credentials file 0600, as `aws configure` does.
    pub fn write_credentials(&self, text: &str) {
        fs::write(self.credentials(), text).unwrap();
        fs::set_permissions(self.credentials(), std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    }

    pub fn write_config(&self, text: &str) {
        fs::write(self.config(), text).unwrap();
    }

    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = super::isolated_env(self.path());
        env.push(("XDG_RUNTIME_DIR".into(), self.path().join("run").display().to_string()));
        env.push(("XDG_CONFIG_HOME".into(), self.path().join(".config").display().to_string()));
        env.push(("AWS_ENDPOINT_URL_STS".into(), self.sts_url.clone()));
        env.push(("NO_COLOR".into(), "1".into()));
        env.push(("USER".into(), "tester".into()));
        // No packaged unit, whatever this machine has installed: install-service writes its own
        // (src/service/mod.rs, PACKAGED_UNIT_DIRS_VAR).
        env.push(("CREDD_PACKAGED_UNIT_DIRS".into(), self.path().join("no-package").display().to_string()));
        env
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_credd"));
        c.args(args).env_clear().envs(self.env()).stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Starts `credd daemon` with the log at `CREDD_LOG` (default debug) in `daemon.log`.
    pub fn daemon(&self) -> Daemon {
        self.daemon_with_log("debug")
    }

    pub fn daemon_with_log(&self, level: &str) -> Daemon {
        let log = self.path().join("daemon.log");
        let file = fs::File::create(&log).unwrap();
        let child = self
            .command(&["daemon"])
            .env("CREDD_LOG", level)
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        Daemon { child: Some(child), log }
    }

    pub fn aws(&self, args: &[&str]) -> String {
        let out =
            Command::new(super::venv_bin("aws")).args(args).env_clear().envs(self.env()).output().unwrap();
        assert!(out.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

pub struct Daemon {
    child: Option<Child>,
    pub log: PathBuf,
}

impl Daemon {
    /// Wraps a daemon started with custom settings, logging to `log`.
    pub fn adopt(child: Child, log: PathBuf) -> Daemon {
        Daemon { child: Some(child), log }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (bounded) until the log contains `needle` at least `times` times; panics with the log.
    pub fn wait_for(&self, needle: &str, times: usize, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.log_text();
            if text.matches(needle).count() >= times {
                return text;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {times}× {needle:?} in the daemon log:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then wait for exit; returns the exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        // SAFETY: sending a signal to our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        child.wait().unwrap()
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: sending a signal to our own child.
        unsafe { libc::kill(self.pid() as i32, sig) };
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
