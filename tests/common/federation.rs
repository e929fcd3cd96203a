//! The fake federation endpoint (`tests/tools/federation_fake.py`: getSigninToken and login, as
//! the IAM User Guide documents them) on a free loopback port, and what it issued.

use std::io::{Read, Write};
use std::net::TcpStream;

use std::process::Child;

pub struct FederationFake {
    child: Child,
    pub port: u16,
}

impl FederationFake {
    pub fn start() -> FederationFake {
        let (child, port) = super::start_fake("federation_fake.py", "federation fake");
        FederationFake { child, port }
    }

    /// The base URL, up to and including `/federation`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/federation", self.port)
    }

    fn get(&self, path: &str) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let status = out[9..12].parse().unwrap();
        (status, out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
    }

    /// `{"issued": [{token, sessionId, sessionKey, sessionToken, SessionDuration}], "rejected": [why]}`.
    pub fn record(&self) -> serde_json::Value {
        serde_json::from_str(&self.get("/_fake/issued").1).unwrap()
    }

    /// The session a sign-in token was issued for.
    pub fn issued(&self, token: &str) -> Option<serde_json::Value> {
        self.record()["issued"].as_array().unwrap().iter().find(|i| i["token"] == token).cloned()
    }

    /// Follows a login URL as a browser would: 200 when the fake issued its token.
    pub fn follow(&self, login_url: &str) -> u16 {
        let path =
            login_url.strip_prefix(&format!("http://127.0.0.1:{}", self.port)).expect("a URL of this fake");
        self.get(path).0
    }
}

impl Drop for FederationFake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
