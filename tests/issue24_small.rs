//! Issue 24, "Trust, again": the smaller faults a new user found, each through the real binary
//! in a temp HOME. An uninstall that claimed to stop and remove what was never there; a man page
//! pointing at pages nothing wrote; errors that said their cause twice; and a second daemon,
//! started with another XDG_RUNTIME_DIR, managing the same credentials file as the first.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::daemon::{Daemon, Home};

const WAIT: Duration = Duration::from_secs(20);

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

/// Every `credd-…(N)` page reference in a roff page, as a file name (`credd-status.1`).
fn page_refs(roff: &str) -> Vec<String> {
    let plain = roff.replace("\\fB", "").replace("\\fR", "").replace("\\fI", "").replace("\\-", "-");
    let mut refs = Vec::new();
    let mut rest = plain.as_str();
    while let Some(at) = rest.find("credd-") {
        let tail = &rest[at..];
        let name_len = tail.find(|c: char| !(c.is_ascii_lowercase() || c == '-')).unwrap_or(tail.len());
        let after = &tail[name_len..];
        if let Some(section) = after.strip_prefix('(').and_then(|s| s.split_once(')')).map(|(n, _)| n)
            && !section.is_empty()
            && section.chars().all(|c| c.is_ascii_digit())
        {
            refs.push(format!("{}.{section}", &tail[..name_len]));
        }
        rest = &tail[name_len..];
    }
    refs
}

#[test]
fn issue24_the_man_page_refers_to_no_page_that_is_not_there() {
    let home = Home::new("http://127.0.0.1:9");

    // Printed alone, credd.1 points at no other page: there is none beside it.
    let out = home.run(&["man"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page = text(&out.stdout);
    assert_eq!(page_refs(&page), Vec::<String>::new(), "credd.1 refers to pages `credd man` does not write");
    assert!(page.contains("credd keyring import"), "each command is described by name in credd.1");

    // Written as a set, every page any of them refers to is there.
    let dir = home.path().join("share/man/man1");
    let out = home.run(&["man", "--dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut written: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert!(text(&out.stdout).contains(&format!("wrote {} man pages to {}", written.len(), dir.display())));
    for page in
        ["credd.1", "credd-status.1", "credd-keyring.1", "credd-keyring-import.1", "credd-config-check.1"]
    {
        assert!(written.iter().any(|w| w == page), "{page} is missing from {written:?}");
    }
    assert!(!written.iter().any(|w| w.contains("register-shell")), "hidden commands get no page");
    let mut referred = Vec::new();
    for name in &written {
        let roff = std::fs::read_to_string(dir.join(name)).unwrap();
        assert!(roff.contains(".TH "), "{name} is not roff");
        for r in page_refs(&roff) {
            assert!(written.contains(&r), "{name} refers to {r}, which was not written: {written:?}");
            referred.push(r);
        }
    }
    let main = std::fs::read_to_string(dir.join("credd.1")).unwrap();
    assert!(main.contains(".SH \"SEE ALSO\""));
    assert!(page_refs(&main).contains(&"credd-status.1".to_string()), "credd.1 leads to the others");
}

/// stderr of `credd ARGS`, which must fail.
fn failure(home: &Home, args: &[&str]) -> String {
    let out = home.run(args);
    assert!(!out.status.success(), "{args:?} succeeded");
    text(&out.stderr)
}

#[test]
fn issue24_an_error_says_its_cause_once() {
    let home = Home::new("http://127.0.0.1:9");
    std::fs::create_dir(home.credentials()).unwrap();
    for args in [&["refresh", "dev"][..], &["list"], &["export", "dev"]] {
        let err = failure(&home, args);
        assert_eq!(err.matches("is a directory").count(), 1, "{args:?}: {err}");
        assert!(err.contains(&format!("{} is a directory", home.credentials().display())), "{err}");
    }

    std::fs::remove_dir(home.credentials()).unwrap();
    home.write_credentials("[dev\naws_access_key_id = AKIAEXAMPLE\n");
    for args in [&["refresh", "dev"][..], &["list"], &["export", "dev"]] {
        let err = failure(&home, args);
        assert_eq!(err.matches("section header has no closing").count(), 1, "{args:?}: {err}");
        assert!(err.contains(&format!("{}:1:", home.credentials().display())), "{err}");
    }
}

/// `credd daemon` in `home` with its own runtime directory; the log goes to `log_name`.
fn daemon_in_runtime_dir(home: &Home, runtime: &Path, log_name: &str) -> std::process::Child {
    std::fs::create_dir_all(runtime).unwrap();
    std::fs::set_permissions(runtime, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let log = std::fs::File::create(home.path().join(log_name)).unwrap();
    home.command(&["daemon"])
        .env("XDG_RUNTIME_DIR", runtime)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// Waits (bounded) for `child` to exit; a child still running then is killed and reported.
fn exit_of(mut child: std::process::Child) -> Result<std::process::ExitStatus, &'static str> {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Ok(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err("still running");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn issue24_a_second_daemon_with_another_runtime_dir_is_refused() {
    let home = Home::new("http://127.0.0.1:9");
    let mut first = home.daemon();
    first.wait_for("no sessions", 1, WAIT);

    let second = daemon_in_runtime_dir(&home, &home.path().join("run2"), "second.log");
    let status = exit_of(second).expect("a second daemon on the same credentials file must not run");
    let err = std::fs::read_to_string(home.path().join("second.log")).unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("another credd daemon is already running (pid {})", first.pid())), "{err}");
    assert!(err.contains(".credentials.credd-daemon.lock"), "the message names the lock: {err}");

    // The same file through a symlinked directory is the same file.
    let alias = home.path().join("aws-alias");
    std::os::unix::fs::symlink(home.path().join(".aws"), &alias).unwrap();
    let mut aliased = home.command(&["daemon"]);
    aliased
        .env("XDG_RUNTIME_DIR", home.path().join("run3"))
        .env("AWS_SHARED_CREDENTIALS_FILE", alias.join("credentials"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    std::fs::create_dir_all(home.path().join("run3")).unwrap();
    let status = exit_of(aliased.spawn().unwrap()).expect("the aliased daemon must be refused too");
    assert_eq!(status.code(), Some(2));

    // The lock dies with the process, even one killed outright.
    first.signal(libc::SIGKILL);
    first.stop();
    let next = daemon_in_runtime_dir(&home, &home.path().join("run2"), "next.log");
    let next = Daemon::adopt(next, home.path().join("next.log"));
    next.wait_for("no sessions", 1, WAIT);
}

#[test]
fn daemons_on_different_credentials_files_both_run() {
    let home = Home::new("http://127.0.0.1:9");
    let first = home.daemon();
    first.wait_for("no sessions", 1, WAIT);
    let other = home.path().join("other/credentials");
    let log = home.path().join("other.log");
    std::fs::create_dir_all(home.path().join("run2")).unwrap();
    let child = home
        .command(&["daemon"])
        .env("XDG_RUNTIME_DIR", home.path().join("run2"))
        .env("AWS_SHARED_CREDENTIALS_FILE", &other)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let second = Daemon::adopt(child, log);
    second.wait_for("no sessions", 1, WAIT);
    // Its directory was created private, as a first write would have.
    let mode = std::fs::metadata(other.parent().unwrap()).unwrap();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777, 0o700);
}
