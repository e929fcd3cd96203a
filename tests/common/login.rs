//! The fake AWS Sign-In token endpoint (`tests/tools/login_fake.py`: CreateOAuth2Token with
//! DPoP, from botocore's `signin` model) on a free loopback port, and the `aws login` HOMEs the
//! tests start from: a config with a `login_session` profile and a token cache file holding a
//! fresh P-256 key, as `aws login` writes it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

pub struct LoginFake {
    child: Child,
    pub port: u16,
}

impl LoginFake {
    pub fn start() -> LoginFake {
        let (child, port) = super::start_fake("login_fake.py", "sign-in fake");
        LoginFake { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn http(&self, method: &str, path: &str, body: &str) -> String {
        super::fake_http(self.port, method, path, body)
    }

    /// Merges `json` into the fake's settings (`grants`, `faults`, `write_on_request`, ...).
    pub fn configure(&self, json: &serde_json::Value) {
        self.http("POST", "/_fake/config", &json.to_string());
    }

    /// Every token request the fake received, oldest first, with its verdict on the proof.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.http("GET", "/_fake/requests", "")).unwrap()
    }
}

impl Drop for LoginFake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `~/.aws/login/cache/<sha256(session)>.json` under `home`, computed by Python's hashlib.
pub fn cache_file(home: &Path, session: &str) -> PathBuf {
    let out = Command::new(super::venv_bin("python"))
        .args(["-c", "import hashlib, sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())", session])
        .output()
        .unwrap();
    let hex = String::from_utf8(out.stdout).unwrap();
    home.join(".aws/login/cache").join(format!("{}.json", hex.trim()))
}

/// A fresh P-256 private key as `aws login` stores it: SEC1 PEM (`EC PRIVATE KEY`).
pub fn p256_pem() -> String {
    let script = "from cryptography.hazmat.primitives.asymmetric import ec\n\
                  from cryptography.hazmat.primitives import serialization as s\n\
                  k = ec.generate_private_key(ec.SECP256R1())\n\
                  print(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.TraditionalOpenSSL, s.NoEncryption()).decode(), end='')";
    let out = Command::new(super::venv_bin("python")).args(["-c", script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// `json.dumps(v)`: the bytes botocore writes.
pub fn python_dumps(v: &serde_json::Value) -> String {
    let out = Command::new(super::venv_bin("python"))
        .args(["-c", "import json, sys; print(json.dumps(json.loads(sys.argv[1])), end='')", &v.to_string()])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}
