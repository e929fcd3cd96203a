//! Issue 24, "Trust, again": the smaller faults a new user found, each through the real binary
//! in a temp HOME. An uninstall that claimed to stop and remove what was never there.

mod common;

use std::path::PathBuf;
use std::process::Output;

use common::daemon::Home;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A `systemctl` that succeeds at everything and logs each call, first on `PATH`.
fn fake_systemctl(home: &Home) -> (String, PathBuf) {
    let bin = home.path().join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = home.path().join("systemctl.log");
    let script = bin.join("systemctl");
    std::fs::write(&script, format!("#!/bin/sh\necho \"$*\" >> '{}'\n", log.display())).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    (path, log)
}

fn uninstall(home: &Home, path_var: &str, extra: &[&str]) -> Output {
    let mut args = vec!["uninstall-service", "--kind", "systemd"];
    args.extend_from_slice(extra);
    home.command(&args).env("PATH", path_var).output().unwrap()
}

#[test]
fn issue24_uninstall_service_when_nothing_is_installed() {
    let home = Home::new("http://127.0.0.1:9");
    let (path_var, calls) = fake_systemctl(&home);
    let unit = home.path().join(".config/systemd/user/credd.service");
    let said =
        format!("credd's service is not installed ({} does not exist); nothing to do\n", unit.display());

    let out = uninstall(&home, &path_var, &[]);
    assert_eq!(out.status.code(), Some(0), "uninstalling twice is no error: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), said, "it says only that nothing was installed");
    assert_eq!(text(&out.stderr), "", "no notes about what it did not do");
    assert!(
        !calls.exists(),
        "nothing to stop, so systemctl is not run: {:?}",
        std::fs::read_to_string(&calls)
    );

    let out = uninstall(&home, &path_var, &["--print"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), format!("# {said}"), "--print has nothing it would remove or run");
    assert_eq!(text(&out.stderr), "");

    // Installed: stopped, disabled, removed, and said so, once.
    std::fs::create_dir_all(unit.parent().unwrap()).unwrap();
    std::fs::write(&unit, "[Service]\n").unwrap();
    let out = uninstall(&home, &path_var, &["--print"]);
    let printed = text(&out.stdout);
    assert!(printed.starts_with(&format!("# would remove {}\n", unit.display())), "{printed}");
    assert!(unit.exists(), "--print changed something");
    let out = uninstall(&home, &path_var, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("stopped credd and removed {}; config and credentials are untouched\n", unit.display())
    );
    assert_eq!(text(&out.stderr), "");
    assert!(!unit.exists());
    assert_eq!(
        std::fs::read_to_string(&calls).unwrap(),
        "--user show-environment\n--user disable --now credd\n--user daemon-reload\n"
    );
}
