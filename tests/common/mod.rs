//! Helpers shared by the integration tests: the Python venv with the real aws CLI and moto, the
//! profile-file generator, and aws-config as the reference reader.
#![allow(dead_code)] // each test binary uses a different subset

pub mod daemon;
pub mod desktop;
pub mod federation;
pub mod filegen;
pub mod fixtures;
pub mod keyring;
pub mod login;
pub mod moto;
pub mod proxy;
pub mod reference;
pub mod sso;

use std::path::PathBuf;

/// A tool from the test venv (`scripts/test.sh` creates it). Fails loudly rather than skipping:
/// a test that quietly does nothing is worse than a red one.
pub fn venv_bin(name: &str) -> PathBuf {
    let venv = std::env::var_os("CREDD_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv"));
    let bin = venv.join("bin").join(name);
    assert!(
        bin.exists(),
        "{} is missing: run `scripts/test.sh` once to create the test venv (or set CREDD_TEST_VENV)",
        bin.display()
    );
    bin
}

/// Starts `tests/tools/<script>` (a fake service; it takes its port as its one argument) on a
/// free loopback port, and waits until it listens: its process and port. `what` names it when
/// it does not start.
pub fn start_fake(script: &str, what: &str) -> (std::process::Child, u16) {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tools").join(script);
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(venv_bin("python"))
            .arg(&script)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the fake starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return (child, port);
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("the {what} did not start");
}

/// One HTTP request to a fake on `port` (its `/_fake/...` controls): the response's body.
pub fn fake_http(port: u16, method: &str, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()
}

/// An environment for child processes that can reach nothing but loopback and the temp HOME.
pub fn isolated_env(home: &std::path::Path) -> Vec<(String, String)> {
    vec![
        ("HOME".into(), home.display().to_string()),
        ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ("AWS_REGION".into(), "us-east-1".into()),
        ("AWS_DEFAULT_REGION".into(), "us-east-1".into()),
        ("AWS_CONFIG_FILE".into(), home.join(".aws/config").display().to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE".into(), home.join(".aws/credentials").display().to_string()),
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
    ]
}
