//! Running as a service: the systemd unit (checked in and rendered) passes `systemd-analyze
//! verify`, the launchd plist has what launchd needs, readiness over a real NOTIFY_SOCKET, and
//! SIGTERM in the middle of a refresh leaves the credentials file whole.

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::Utc;
use common::daemon::Home;
use common::moto::Moto;
use common::proxy::{Fault, Proxy};

const WAIT: Duration = Duration::from_secs(20);
const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn verify(unit: &Path, home: &Path) {
    let run = home.join("run");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["--user", "verify"])
        .arg(unit)
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", &run)
        .output()
        .expect("systemd-analyze is installed (scripts/test.sh installs systemd)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify {}: {stderr}", unit.display());
    let complaints: Vec<&str> = stderr.lines().filter(|l| l.contains("credd.service")).collect();
    assert!(complaints.is_empty(), "{complaints:?}");
}

#[test]
fn the_checked_in_unit_verifies() {
    let home = tempfile::tempdir().unwrap();
    // The file is also the Debian package's unit, so it runs /usr/bin/credd, which verify wants
    // to exist; pointed at this build, it is otherwise byte for byte what the package installs.
    // scripts/package-test.sh verifies the installed one as it is.
    let unit = home.path().join("credd.service");
    let template = std::fs::read_to_string(Path::new(REPO).join("systemd/credd.service")).unwrap();
    assert!(template.lines().any(|l| l == "ExecStart=/usr/bin/credd daemon"), "{template}");
    let exec = format!("ExecStart={} daemon", env!("CARGO_BIN_EXE_credd"));
    std::fs::write(&unit, template.replace("ExecStart=/usr/bin/credd daemon", &exec)).unwrap();
    verify(&unit, home.path());
    let text = std::fs::read_to_string(&unit).unwrap();
    for line in [
        "Type=notify",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        "ProtectKernelTunables=yes",
        "LockPersonality=yes",
        "MemoryDenyWriteExecute=yes",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        "SystemCallFilter=@system-service",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line}");
    }
    assert!(text.lines().any(|l| l.starts_with("ReadWritePaths=") && l.contains("%h/.aws")));
}

#[test]
fn the_rendered_unit_verifies_and_points_at_this_binary() {
    let home = Home::new("http://127.0.0.1:9");
    let out = home.run(&["install-service", "--print", "--kind", "systemd"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(printed.starts_with(&format!(
        "# would write {}/.config/systemd/user/credd.service:",
        home.path().display()
    )));
    assert!(printed.contains(
        "# would run: systemctl --user daemon-reload\n# would run: systemctl --user enable --now credd"
    ));
    let bin = Path::new(env!("CARGO_BIN_EXE_credd")).canonicalize().unwrap();
    assert!(printed.contains(&format!("\nExecStart={} daemon\n", bin.display())), "{printed}");
    // The printed text is itself a valid unit (the extra lines are comments).
    let unit = home.path().join("credd.service");
    std::fs::write(&unit, &printed).unwrap();
    verify(&unit, home.path());
    assert!(!home.path().join(".config/systemd").exists(), "--print changed something");
}

/// Issue 30: with the Debian package's unit installed for every user, install-service enables it
/// instead of writing a second copy, uninstall-service disables it and leaves the file, and
/// `--print` says which.
#[test]
fn issue30_install_service_enables_a_packaged_unit() {
    let home = Home::new("http://127.0.0.1:9");
    let packaged = home.path().join("usr/lib/systemd/user");
    std::fs::create_dir_all(&packaged).unwrap();
    std::fs::copy(Path::new(REPO).join("systemd/credd.service"), packaged.join("credd.service")).unwrap();
    let dirs = format!("{}:{}", home.path().join("etc/systemd/user").display(), packaged.display());
    let run = |args: &[&str]| {
        let out = home.command(args).env("CREDD_PACKAGED_UNIT_DIRS", &dirs).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let unit = packaged.join("credd.service");
    let printed = run(&["install-service", "--print", "--kind", "systemd"]);
    assert_eq!(
        printed,
        format!(
            "# {} is installed for every user: would enable it for you, not write a copy\n\
             # would run: systemctl --user daemon-reload\n\
             # would run: systemctl --user enable --now credd\n",
            unit.display()
        )
    );
    let printed = run(&["uninstall-service", "--print", "--kind", "systemd"]);
    assert!(
        printed.starts_with(&format!(
            "# {} is installed for every user: would disable it for you and leave the file\n\
             # would run: systemctl --user disable --now credd\n",
            unit.display()
        )),
        "{printed}"
    );

    // Without a user manager, the real install stops before changing anything.
    let out = home
        .command(&["install-service", "--kind", "systemd"])
        .env("CREDD_PACKAGED_UNIT_DIRS", &dirs)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .env("XDG_RUNTIME_DIR", "/nonexistent")
        .output()
        .unwrap();
    assert!(!out.status.success(), "a systemd user manager answered; this test expects none");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no systemd user instance is reachable"));
    assert!(!home.path().join(".config/systemd").exists(), "a copy of the unit was written");

    // Without the package, the same command writes the user's own unit, as before.
    let printed = home.run(&["install-service", "--print", "--kind", "systemd"]);
    let printed = String::from_utf8_lossy(&printed.stdout);
    assert!(printed.starts_with(&format!(
        "# would write {}/.config/systemd/user/credd.service:",
        home.path().display()
    )));
}

/// Issue 30, for real rather than `--print`, with a `systemctl` that only records its calls:
/// installing runs only systemctl and writes no copy; uninstalling disables and removes nothing,
/// so the package's file stays.
#[test]
fn issue30_a_packaged_unit_is_enabled_and_disabled_never_written_or_removed() {
    let home = Home::new("http://127.0.0.1:9");
    let packaged = home.path().join("usr/lib/systemd/user");
    std::fs::create_dir_all(&packaged).unwrap();
    let unit = packaged.join("credd.service");
    std::fs::copy(Path::new(REPO).join("systemd/credd.service"), &unit).unwrap();
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let calls = home.path().join("systemctl.calls");
    std::fs::write(bin.join("systemctl"), format!("#!/bin/sh\necho \"$*\" >> '{}'\n", calls.display()))
        .unwrap();
    std::fs::set_permissions(bin.join("systemctl"), std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let run = |args: &[&str]| {
        let out = home
            .command(args)
            .env("CREDD_PACKAGED_UNIT_DIRS", &packaged)
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };

    let said = run(&["install-service", "--kind", "systemd"]);
    assert_eq!(said, format!("enabled {} for you and started credd\n", unit.display()));
    assert_eq!(
        std::fs::read_to_string(&calls).unwrap(),
        "--user show-environment\n--user daemon-reload\n--user enable --now credd\n"
    );
    assert!(!home.path().join(".config/systemd").exists(), "a copy of the unit was written");

    std::fs::remove_file(&calls).unwrap();
    let said = run(&["uninstall-service", "--kind", "systemd"]);
    assert!(said.starts_with("stopped credd and disabled it for you;"), "{said}");
    assert_eq!(
        std::fs::read_to_string(&calls).unwrap(),
        "--user show-environment\n--user disable --now credd\n--user daemon-reload\n"
    );
    assert!(unit.exists(), "uninstall-service removed the package's unit");
}

fn plist_keys(v: &plist::Value) -> Vec<(String, String)> {
    let dict = v.as_dictionary().expect("a dict at the top");
    dict.iter()
        .map(|(k, v)| {
            let kind = match v {
                plist::Value::Array(_) => "array",
                plist::Value::Dictionary(_) => "dict",
                plist::Value::Boolean(_) => "bool",
                plist::Value::String(_) => "string",
                plist::Value::Integer(_) => "integer",
                _ => "other",
            };
            (k.clone(), kind.to_string())
        })
        .collect()
}

#[test]
fn the_launchd_plist_has_what_launchd_needs() {
    let template = plist::Value::from_file(Path::new(REPO).join("launchd/io.github.credd.plist")).unwrap();
    let d = template.as_dictionary().unwrap();
    assert_eq!(d["Label"].as_string(), Some("io.github.credd"));
    let args = d["ProgramArguments"].as_array().unwrap();
    assert_eq!(args[1].as_string(), Some("daemon"));
    assert_eq!(d["RunAtLoad"].as_boolean(), Some(true));
    assert_eq!(d["KeepAlive"].as_dictionary().unwrap()["SuccessfulExit"].as_boolean(), Some(false));
    assert_eq!(d["ProcessType"].as_string(), Some("Background"));
    assert!(d["StandardErrorPath"].as_string().unwrap().ends_with("/Library/Logs/credd/credd.log"));

    let home = Home::new("http://127.0.0.1:9");
    let out = home.run(&["install-service", "--print", "--kind", "launchd"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout);
    let xml: String = printed.lines().filter(|l| !l.starts_with("# ")).map(|l| format!("{l}\n")).collect();
    let rendered = plist::Value::from_reader_xml(xml.as_bytes()).unwrap();
    assert_eq!(
        plist_keys(&rendered),
        plist_keys(&template),
        "the rendered plist's structure differs from the template"
    );
    let r = rendered.as_dictionary().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_credd")).canonicalize().unwrap();
    assert_eq!(r["ProgramArguments"].as_array().unwrap()[0].as_string(), Some(bin.to_str().unwrap()));
    assert_eq!(
        r["StandardErrorPath"].as_string().unwrap(),
        format!("{}/Library/Logs/credd/credd.log", home.path().display())
    );
    assert!(printed.contains("# would run: launchctl bootstrap gui/"));
}

#[test]
fn install_refuses_a_temp_binary_and_a_missing_systemd() {
    let home = Home::new("http://127.0.0.1:9");
    let tmp = tempfile::Builder::new().prefix("credd-bin").tempdir_in("/tmp").unwrap();
    let copy = tmp.path().join("credd");
    std::fs::copy(env!("CARGO_BIN_EXE_credd"), &copy).unwrap();
    let out = Command::new(&copy)
        .args(["install-service", "--kind", "systemd"])
        .env_clear()
        .envs(home.env())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("inside a temporary directory"));
    // A dry run only warns.
    let out = Command::new(&copy)
        .args(["install-service", "--print"])
        .env_clear()
        .envs(home.env())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning:"));

    // No systemd user manager reachable: a clear error, and nothing written. The binary must live
    // outside any temp dir for the install to get that far, wherever this checkout lives.
    let permanent = std::path::PathBuf::from(format!("/var/lib/credd-tests/{}", std::process::id()));
    std::fs::create_dir_all(&permanent).unwrap();
    let bin = permanent.join("credd");
    std::fs::copy(env!("CARGO_BIN_EXE_credd"), &bin).unwrap();
    let out = Command::new(&bin)
        .args(["install-service", "--kind", "systemd"])
        .env_clear()
        .envs(home.env())
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .env("XDG_RUNTIME_DIR", "/nonexistent")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&permanent);
    assert!(!out.status.success(), "a systemd user manager answered; this test expects none");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no systemd user instance is reachable") && err.contains("Nothing was written"),
        "{err}"
    );
    assert!(!home.path().join(".config/systemd/user/credd.service").exists());
}

#[test]
fn ready_only_after_the_socket_answers_then_status_lines() {
    let home = Home::new("http://127.0.0.1:9");
    let exp = (Utc::now() + chrono::Duration::hours(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    home.write_credentials(&format!("[saml]\naws_access_key_id = ASIAX\naws_secret_access_key = s\naws_session_token = t\nx_security_token_expires = {exp}\n"));
    let notify = home.path().join("notify.sock");
    let rx = UnixDatagram::bind(&notify).unwrap();
    rx.set_read_timeout(Some(WAIT)).unwrap();
    let log = std::fs::File::create(home.path().join("daemon.log")).unwrap();
    let mut child = home.command(&["daemon"]).env("NOTIFY_SOCKET", &notify).stderr(log).spawn().unwrap();
    let mut buf = [0u8; 512];
    let n = rx.recv(&mut buf).expect("READY=1 within the timeout");
    let first = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(first.starts_with("READY=1\nSTATUS=1 fresh"), "{first:?}");
    // READY means the control socket answers right now.
    let out = home.run(&["status"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // A change of state produces a new STATUS= line.
    let soon = (Utc::now() + chrono::Duration::minutes(3)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    home.write_credentials(&format!("[saml]\naws_access_key_id = ASIAX\naws_secret_access_key = s\naws_session_token = t\nx_security_token_expires = {soon}\n"));
    let n = rx.recv(&mut buf).unwrap();
    assert_eq!(String::from_utf8_lossy(&buf[..n]), "STATUS=1 expiring");
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let n = rx.recv(&mut buf).unwrap();
    assert_eq!(String::from_utf8_lossy(&buf[..n]), "STOPPING=1");
    assert!(child.wait().unwrap().success());
}

fn sigterm_mid_refresh(fault: Fault) -> (Duration, String, String) {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    proxy.push(&[fault]);
    let home = Home::new(&proxy.url());
    let exp = (Utc::now() + chrono::Duration::minutes(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    home.write_credentials(&format!(
        "# keep\n[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n[dev]\naws_access_key_id = ASIAOLD0000000000000\naws_secret_access_key = s\naws_session_token = t\nx_security_token_expires = {exp}\n"
    ));
    home.write_config("sts_timeout = \"10s\"\n[[session]]\nname = \"dev\"\nmethod = \"assume-role\"\nsource_profile = \"base\"\nrole_arn = \"arn:aws:iam::123456789012:role/dev\"\n");
    let mut d = home.daemon();
    let deadline = Instant::now() + WAIT;
    while proxy.count() == 0 {
        assert!(Instant::now() < deadline, "no STS call");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100)); // the call is now in flight at the proxy
    let start = Instant::now();
    let status = d.stop();
    let took = start.elapsed();
    assert!(status.success(), "{status:?}");
    let doc = credd::profile::read_document(&home.credentials(), credd::profile::FileKind::Credentials)
        .expect("the file parses")
        .unwrap();
    let text = std::fs::read_to_string(home.credentials()).unwrap();
    assert!(text.starts_with("# keep\n[base]\n"));
    let key = doc.sections().profile("dev").unwrap().get("aws_access_key_id").unwrap().to_string();
    (took, key, d.log_text())
}

#[test]
fn sigterm_during_a_refresh_finishes_the_write_and_exits_within_two_seconds() {
    let (took, key, log) = sigterm_mid_refresh(Fault::Delay(Duration::from_millis(600)));
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert!(
        key.starts_with("ASIA") && key != "ASIAOLD0000000000000",
        "the in-flight refresh was dropped: {log}"
    );
    assert!(log.contains("waiting for 1 refresh(es) in flight"), "{log}");
}

#[test]
fn sigterm_during_a_stalled_refresh_exits_within_two_seconds_leaving_the_file_whole() {
    let (took, key, _) = sigterm_mid_refresh(Fault::Stall(Duration::from_secs(8)));
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(key, "ASIAOLD0000000000000");
}
