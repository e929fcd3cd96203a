//! A real `moto_server` on a free loopback port, killed when dropped.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    /// moto without IAM auth: every request succeeds.
    pub fn start() -> Moto {
        Self::spawn(None)
    }

    /// moto with IAM auth enforced from the first request: unknown keys get
    /// InvalidClientTokenId, wrong secrets SignatureDoesNotMatch.
    pub fn start_with_auth() -> Moto {
        Self::spawn(Some(0))
    }

    fn spawn(no_auth_count: Option<u32>) -> Moto {
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let mut cmd = Command::new(super::venv_bin("moto_server"));
            cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Some(n) = no_auth_count {
                cmd.env("INITIAL_NO_AUTH_ACTION_COUNT", n.to_string());
            }
            let mut child = cmd.spawn().expect("moto_server starts");
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Moto { child, port };
                }
                if child.try_wait().unwrap().is_some() {
                    break; // lost the port race; try another
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("moto_server did not start");
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
