//! A real `moto_server` on a free loopback port, killed when dropped. It runs through
//! `tests/tools/moto_server.py`, which only renames the fixed AKIA key moto hands out for
//! GetSessionToken to the ASIA key real STS would (credd never overwrites an AKIA key).

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
            // moto's own server, with temporary keys named ASIA… as real STS names them.
            let launcher = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tools/moto_server.py");
            let mut cmd = Command::new(super::venv_bin("python"));
            cmd.args([launcher, "-H", "127.0.0.1", "-p", &port.to_string()])
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

    /// moto with IAM auth, plus one real IAM user with an access key and an allow-all policy.
    /// Returns the server and the key pair.
    pub fn start_with_iam_user() -> (Moto, String, String) {
        // Three unauthenticated calls create the user, its key and its policy; then auth is on.
        let moto = Self::spawn(Some(3));
        let script = r#"
import boto3, json, sys
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x" * 40)
iam.create_user(UserName="alice")
k = iam.create_access_key(UserName="alice")["AccessKey"]
iam.put_user_policy(UserName="alice", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
print(k["AccessKeyId"], k["SecretAccessKey"])
"#;
        let out = Command::new(super::venv_bin("python"))
            .args(["-c", script, &moto.url()])
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap();
        assert!(out.status.success(), "creating the IAM user: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        let mut parts = text.split_whitespace();
        let key = parts.next().unwrap().to_string();
        let secret = parts.next().unwrap().to_string();
        (moto, key, secret)
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
