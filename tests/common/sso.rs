//! The fake IAM Identity Center (`tests/tools/sso_fake.py`: sso-oidc CreateToken and the sso
//! portal's GetRoleCredentials, from botocore's service models) on a free loopback port, with
//! the token cache files the tests start from.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

pub struct SsoFake {
    child: Child,
    pub port: u16,
}

impl SsoFake {
    pub fn start() -> SsoFake {
        let (child, port) = super::start_fake("sso_fake.py", "SSO fake");
        SsoFake { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn http(&self, method: &str, path: &str, body: &str) -> String {
        super::fake_http(self.port, method, path, body)
    }

    /// Merges `json` into the fake's settings (`grants`, `tokens`, `expires_in`, ...).
    pub fn configure(&self, json: &serde_json::Value) {
        self.http("POST", "/_fake/config", &json.to_string());
    }

    /// Every request the fake received, oldest first.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.http("GET", "/_fake/requests", "")).unwrap()
    }

    /// The requests to `path`.
    pub fn requests_to(&self, path: &str) -> Vec<serde_json::Value> {
        self.requests().into_iter().filter(|r| r["path"] == path).collect()
    }
}

impl Drop for SsoFake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `~/.aws/sso/cache/<sha1(key)>.json` under `home`.
pub fn cache_file(home: &Path, key: &str) -> PathBuf {
    let out = Command::new(super::venv_bin("python"))
        .args(["-c", "import hashlib, sys; print(hashlib.sha1(sys.argv[1].encode()).hexdigest())", key])
        .output()
        .unwrap();
    let hex = String::from_utf8(out.stdout).unwrap();
    home.join(".aws/sso/cache").join(format!("{}.json", hex.trim()))
}
