//! `credd exec` (issue 28) end to end: the real binary runs a real long-lived boto3 process, the
//! aws CLI and the Rust SDK's own ECS provider against its endpoint, with moto behind the
//! counting proxy; the guards are tried with raw requests; signals, exit statuses and clean-up
//! are checked on the real processes.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::daemon::Home;
use common::fixtures::{self, BASE};
use common::moto::Moto;
use common::proxy::Proxy;
use credd::profile::{self, Edit, FileKind};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);
const DEFAULT_KEYS: &str = "[default]\naws_access_key_id = AKIADEFAULTDEFAULT00\naws_secret_access_key = DEFAULTsecretDEFAULTsecret\n";

fn child_script() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tools/exec_child.py").to_string()
}

/// `dev`, assume-role from `base`, region eu-west-2, whose session has `mins` left; a `[default]`
/// with long-term keys in the credentials file, and one with credential_process in the config:
/// either would win over the endpoint if the child could see them.
fn setup(home: &Home, mins: i64, extra: &str) {
    home.write_credentials(&format!(
        "{DEFAULT_KEYS}{BASE}{}",
        fixtures::session("dev", mins, "CANARYsecret")
    ));
    home.write_config(&fixtures::managed("dev", &format!("region = \"eu-west-2\"\n{extra}")));
    std::fs::write(
        home.path().join(".aws/config"),
        "[default]\nregion = eu-central-1\ncredential_process = /bin/false\noutput = json\n",
    )
    .unwrap();
}

/// The session `name` as the credentials file holds it now: (key id, secret, token).
fn file_keys(home: &Home, name: &str) -> (String, String, String) {
    let text = std::fs::read_to_string(home.credentials()).unwrap();
    let doc = credd::profile::Document::parse(&text, FileKind::Credentials, &home.credentials()).unwrap();
    let s = doc.sections();
    let p = s.profile(name).unwrap();
    let get = |k| p.get(k).unwrap().to_string();
    (get("aws_access_key_id"), get("aws_secret_access_key"), get("aws_session_token"))
}

/// The AssumeRole calls the proxy saw (the child's own STS calls go through it too).
fn refreshes(proxy: &Proxy) -> usize {
    proxy.requests.lock().unwrap().iter().filter(|r| r.body.contains("Action=AssumeRole")).count()
}

fn expire_in(home: &Home, name: &str, mins: i64) {
    profile::update(&home.credentials(), FileKind::Credentials, |doc| {
        doc.edit_profile(name, &[Edit::set("x_security_token_expires", &fixtures::at(mins))])
    })
    .unwrap();
}

/// `credd exec NAME -- python exec_child.py`, talked to line by line.
struct Driven {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    stderr: PathBuf,
}

impl Driven {
    fn start(home: &Home, args: &[&str], script_args: &[&str], tweak: impl FnOnce(&mut Command)) -> Driven {
        let python = common::venv_bin("python").display().to_string();
        let script = child_script();
        let mut all: Vec<&str> = vec!["exec"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--", &python, &script]);
        all.extend_from_slice(script_args);
        let stderr = home.path().join(format!("exec-{}.stderr", fastrand::u32(..)));
        let mut cmd = home.command(&all);
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(std::fs::File::create(&stderr).unwrap());
        tweak(&mut cmd);
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut d = Driven { child, stdin, lines, stderr };
        let ready = d.next();
        assert_eq!(ready["ready"], true, "{ready}");
        d
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The next JSON line, within WAIT.
    fn next(&mut self) -> Value {
        match self.lines.recv_timeout(WAIT) {
            Ok(line) => serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}")),
            Err(e) => panic!("no answer from the child ({e}); credd's stderr:\n{}", self.stderr()),
        }
    }

    fn ask(&mut self, command: &str) -> Value {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{command}").unwrap();
        stdin.flush().unwrap();
        self.next()
    }

    fn env(&mut self, key: &str) -> Option<String> {
        self.ask(&format!("env {key}"))[key].as_str().map(str::to_string)
    }

    /// Waits (bounded) for `credd exec` to end and returns its exit code.
    fn wait(&mut self) -> i32 {
        drop(self.stdin.take());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().expect("credd exec itself ends by exiting, not by a signal");
            }
            assert!(Instant::now() < deadline, "credd exec did not end; stderr:\n{}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, sig: i32) {
        // SAFETY: a signal to our own child.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }
}

impl Drop for Driven {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One raw request to the endpoint: (status, body).
fn raw_get(port: u16, host: &str, auth: Option<&str>) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let auth = auth.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    write!(s, "GET /credentials HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    (status, out.split_once("\r\n\r\n").unwrap().1.to_string())
}

fn port_of(url: &str) -> u16 {
    let rest = url.strip_prefix("http://127.0.0.1:").unwrap();
    rest.split('/').next().unwrap().parse().unwrap()
}

#[test]
fn boto3_in_a_long_running_child_gets_the_session_across_refresh_and_expiry() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    setup(&home, 50, "");
    let mut d = Driven::start(&home, &["dev"], &[], |_| {});

    // The container provider answers, with the session's keys, although [default] has keys.
    let (key, secret, token) = file_keys(&home, "dev");
    let got = d.ask("fetch");
    assert_eq!(got["method"], "container-role", "{got}");
    assert_eq!((got["key"].as_str(), got["secret"].as_str()), (Some(key.as_str()), Some(secret.as_str())));
    assert_eq!(got["token"].as_str(), Some(token.as_str()));
    assert_eq!(refreshes(&proxy), 0, "a fresh session is served without an STS call");
    let call = d.ask("call");
    assert_eq!(call["method"], "container-role", "{call}");

    // The variables that would shadow the endpoint are gone; the session and its files are set.
    assert_eq!(d.env("CREDD_SESSION").as_deref(), Some("dev"));
    for k in ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN"] {
        assert_eq!(d.env(k), None, "{k}");
    }
    let config = d.env("AWS_CONFIG_FILE").unwrap();
    let text = std::fs::read_to_string(&config).unwrap();
    assert_eq!(
        text, "[default]\nregion = eu-central-1\noutput = json\n",
        "the copy keeps all but credentials"
    );
    let creds_file = d.env("AWS_SHARED_CREDENTIALS_FILE").unwrap();
    assert_eq!(std::fs::read(&creds_file).unwrap(), b"");
    let token_file = d.env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").unwrap();
    use std::os::unix::fs::PermissionsExt;
    for f in [&token_file, &config, &creds_file] {
        assert_eq!(std::fs::metadata(f).unwrap().permissions().mode() & 0o777, 0o600, "{f}");
    }

    // After `credd refresh`, a new fetch in the same child gets the new keys.
    let out = home.run(&["refresh", "dev"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (new_key, _, _) = file_keys(&home, "dev");
    assert_ne!(new_key, key);
    let got = d.ask("fetch");
    assert_eq!(got["key"].as_str(), Some(new_key.as_str()), "{got}");
    // The long-lived client keeps working across the refresh.
    assert!(d.ask("call")["arn"].is_string());

    // The session expires (an outside write says so); the long-lived client's own copy expires
    // too. Its next call makes it ask the endpoint, which refreshes first.
    expire_in(&home, "dev", -1);
    let before = refreshes(&proxy);
    assert_eq!(d.ask("expire")["expired"], true);
    let call = d.ask("call");
    assert!(call["arn"].is_string(), "{call}");
    assert_eq!(refreshes(&proxy), before + 1, "exactly one refresh for the expiry");
    let (third, _, _) = file_keys(&home, "dev");
    assert_ne!(third, new_key);
    assert_eq!(call["key"].as_str(), Some(third.as_str()), "{call}");

    // Guards, with raw requests.
    let url = d.env("AWS_CONTAINER_CREDENTIALS_FULL_URI").unwrap();
    let port = port_of(&url);
    let tok = std::fs::read_to_string(&token_file).unwrap();
    assert_eq!(tok.len(), 64, "256 bits as hex");
    let host = format!("127.0.0.1:{port}");
    assert_eq!(raw_get(port, &host, None).0, 401);
    let wrong = format!("{}{}", &tok[..63], if tok.ends_with('0') { "1" } else { "0" });
    assert_eq!(raw_get(port, &host, Some(&wrong)).0, 403);
    let (status, body) = raw_get(port, &format!("attacker.example:{port}"), Some(&tok));
    assert_eq!(status, 403);
    assert!(!body.contains(&third), "{body}");
    for _ in 0..200 {
        assert_eq!(raw_get(port, &host, Some(&tok)).0, 200, "a request in a row failed");
    }
    let (status, body) = raw_get(port, &format!("localhost:{port}"), Some(&tok));
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["AccessKeyId"].as_str(), Some(third.as_str()));
    assert!(v["Expiration"].as_str().unwrap().ends_with('Z'));

    // The command's status is credd's; the endpoint and the files are gone after it.
    let run_dir = Path::new(&token_file).parent().unwrap().to_path_buf();
    d.ask_exit(3);
    assert_eq!(d.wait(), 3);
    assert!(!Path::new(&token_file).exists() && !run_dir.exists(), "the run directory is removed");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "the endpoint stopped");
    let stderr = d.stderr();
    for secret in ["CANARYsecret", &tok] {
        assert!(!stderr.contains(secret), "a secret reached credd's stderr:\n{stderr}");
    }
}

impl Driven {
    fn ask_exit(&mut self, code: i32) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "exit {code}").unwrap();
        stdin.flush().unwrap();
    }
}

#[test]
fn through_the_daemon_a_refresh_reaches_the_child() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    setup(&home, 50, "");
    let daemon = home.daemon();
    daemon.wait_for("listening on", 1, WAIT);
    let mut d = Driven::start(&home, &["dev"], &[], |_| {});
    let (key, _, _) = file_keys(&home, "dev");
    assert_eq!(d.ask("fetch")["key"].as_str(), Some(key.as_str()));
    let out = home.run(&["refresh", "dev"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    daemon.wait_for("dev: refreshed", 1, WAIT);
    let (new_key, _, _) = file_keys(&home, "dev");
    assert_ne!(new_key, key);
    assert_eq!(d.ask("fetch")["key"].as_str(), Some(new_key.as_str()));
    d.ask_exit(0);
    assert_eq!(d.wait(), 0);
    assert!(!daemon.log_text().contains("CANARYsecret"));
}

#[test]
fn a_session_that_cannot_be_refreshed_answers_with_its_fix() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    setup(&home, 50, "mfa_serial = \"arn:aws:iam::123456789012:mfa/alice\"\n");
    let mut d = Driven::start(&home, &["dev"], &[], |_| {});
    assert_eq!(d.ask("fetch")["method"], "container-role");
    expire_in(&home, "dev", -1);
    let got = d.ask("fetch");
    let error = got["error"].as_str().unwrap_or_else(|| panic!("served an expired session: {got}"));
    assert!(error.contains("503") && error.contains("MFA"), "{error}");
    assert!(error.contains("credd mfa dev") || error.contains("--code"), "the body says the fix: {error}");
    assert_eq!(refreshes(&proxy), 0, "an MFA session is never refreshed without a code");
    d.ask_exit(0);
    assert_eq!(d.wait(), 0);
    assert!(d.stderr().contains("MFA"), "credd said it too:\n{}", d.stderr());

    // Expired and unrefreshable at the start: refused before the command runs.
    let marker = home.path().join("ran");
    let out = home.run(&["exec", "dev", "--", "touch", &marker.display().to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("MFA") && !marker.exists(), "{stderr}");
}

#[test]
fn the_region_is_set_only_when_none_is() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    setup(&home, 50, "");
    let mut d = Driven::start(&home, &["dev"], &[], |c| {
        c.env_remove("AWS_REGION").env_remove("AWS_DEFAULT_REGION");
    });
    assert_eq!(d.env("AWS_REGION").as_deref(), Some("eu-west-2"));
    assert_eq!(d.env("AWS_DEFAULT_REGION").as_deref(), Some("eu-west-2"));
    d.ask_exit(0);
    assert_eq!(d.wait(), 0);
    let mut d = Driven::start(&home, &["dev"], &[], |c| {
        c.env("AWS_REGION", "ap-south-1").env_remove("AWS_DEFAULT_REGION");
    });
    assert_eq!(d.env("AWS_REGION").as_deref(), Some("ap-south-1"));
    assert_eq!(d.env("AWS_DEFAULT_REGION"), None);
}

#[test]
fn shadowing_variables_are_removed_and_the_rest_pass_through() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    setup(&home, 50, "");
    let mut d = Driven::start(&home, &["dev"], &[], |c| {
        for k in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_SECURITY_TOKEN",
            "AWS_CREDENTIAL_EXPIRATION",
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
        ] {
            c.env(k, "shadow");
        }
        c.env("MY_OWN_SETTING", "kept");
    });
    for k in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"] {
        assert_eq!(d.env(k), None, "{k}");
    }
    for k in ["AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"] {
        assert_eq!(d.env(k), None, "{k}");
    }
    assert_eq!(d.env("MY_OWN_SETTING").as_deref(), Some("kept"));
    assert_eq!(d.ask("fetch")["method"], "container-role");
}

#[test]
fn signals_are_passed_on_and_the_status_kept() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    setup(&home, 50, "");
    let mut d = Driven::start(&home, &["dev"], &["trap"], |_| {});
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        d.signal(sig);
        assert_eq!(d.next()["signal"], sig, "signal {sig} reached the command");
    }
    d.ask_exit(0);
    assert_eq!(d.wait(), 0);

    // A command that dies of SIGTERM: 128 + 15.
    let mut d = Driven::start(&home, &["dev"], &[], |_| {});
    let token_file = d.env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").unwrap();
    d.signal(libc::SIGTERM);
    assert_eq!(d.wait(), 143);
    assert!(!Path::new(&token_file).exists(), "removed after a signal too");

    // Through a shell: the command's own status, and 128+N when it kills itself.
    for (script, want) in [("exit 42", 42), ("kill -HUP $$", 129), ("true", 0)] {
        let out = home.run(&["exec", "dev", "--", "sh", "-c", script]);
        assert_eq!(out.status.code(), Some(want), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = home.run(&["exec", "dev", "--", "/nonexistent/command"]);
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot run /nonexistent/command"));
}

/// A signal while the first refresh is still waiting for STS ends `credd exec` at once with
/// 128+N, and the command never starts.
#[test]
fn a_signal_before_the_command_starts_ends_credd_exec() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    setup(&home, -5, "");
    proxy.set_default(common::proxy::Fault::Stall(Duration::from_secs(60)));
    let marker = home.path().join("ran");
    let mut child = home
        .command(&["exec", "dev", "--", "touch", &marker.display().to_string()])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + WAIT;
    while refreshes(&proxy) == 0 {
        assert!(Instant::now() < deadline, "credd exec never asked STS");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "credd exec kept waiting for STS after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(143));
    assert!(!marker.exists(), "the command ran");
}

#[test]
fn an_unknown_name_is_refused_before_the_command_starts() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    setup(&home, 50, "");
    let marker = home.path().join("ran");
    let out = home.run(&["exec", "dve", "--", "touch", &marker.display().to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("did you mean \"dev\""), "{stderr}");
    assert!(!marker.exists(), "the command ran");
    // The same with a daemon answering (issue 28's trial: it exited 1 then).
    let daemon = home.daemon();
    daemon.wait_for("listening on", 1, WAIT);
    let out = home.run(&["exec", "dve", "--", "touch", &marker.display().to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("did you mean \"dev\""), "{stderr}");
    assert!(!marker.exists(), "the command ran");
}

#[test]
fn the_aws_cli_uses_the_endpoint() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    setup(&home, 50, "");
    let out = home.run(&["refresh", "dev"]);
    assert!(out.status.success());
    let (key, _, _) = file_keys(&home, "dev");
    let aws = common::venv_bin("aws").display().to_string();
    let out = home.run(&["exec", "dev", "--", &aws, "configure", "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let access = text.lines().find(|l| l.trim_start().starts_with("access_key")).unwrap();
    assert!(access.contains("container-role"), "{text}");
    assert!(access.contains(&key[key.len() - 4..]), "{text}");
    let out = home.run(&["exec", "dev", "--", &aws, "sts", "get-caller-identity", "--output", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["Arn"].as_str().unwrap().contains("dev"), "{v}");
}

/// The Rust SDK's own ECS provider, and its default chain, inside `credd exec`: this test binary
/// runs itself as the command (the `rust_sdk_child` test below) and prints what it got.
#[test]
fn the_rust_sdk_ecs_provider_uses_the_endpoint() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    setup(&home, 50, "");
    let me = std::env::current_exe().unwrap().display().to_string();
    let out = home.run(&["exec", "dev", "--", &me, "--exact", "rust_sdk_child", "--ignored", "--nocapture"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let line = stdout.lines().find_map(|l| l.strip_prefix("RUST_SDK ")).unwrap_or_else(|| panic!("{stdout}"));
    let v: Value = serde_json::from_str(line).unwrap();
    let (key, secret, token) = file_keys(&home, "dev");
    for which in ["ecs", "chain"] {
        assert_eq!(v[which]["key"].as_str(), Some(key.as_str()), "{v}");
        assert_eq!(v[which]["secret"].as_str(), Some(secret.as_str()), "{v}");
        assert_eq!(v[which]["token"].as_str(), Some(token.as_str()), "{v}");
        assert!(v[which]["expires"].as_u64().is_some(), "{v}");
    }
}

#[tokio::test]
#[ignore = "the command of the_rust_sdk_ecs_provider_uses_the_endpoint"]
async fn rust_sdk_child() {
    use aws_credential_types::provider::ProvideCredentials;
    assert!(std::env::var("CREDD_SESSION").is_ok(), "run by the_rust_sdk_ecs_provider_uses_the_endpoint");
    let shape = |c: aws_credential_types::Credentials| {
        let expires = c.expiry().map(|e| e.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs());
        serde_json::json!({
            "key": c.access_key_id(), "secret": c.secret_access_key(),
            "token": c.session_token(), "expires": expires,
        })
    };
    let ecs = aws_config::ecs::EcsCredentialsProvider::builder().build();
    let from_ecs = ecs.provide_credentials().await.expect("the ECS provider");
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    let chain = config.credentials_provider().expect("a chain");
    let from_chain = chain.provide_credentials().await.expect("the default chain");
    println!("RUST_SDK {}", serde_json::json!({ "ecs": shape(from_ecs), "chain": shape(from_chain) }));
}

/// A terminal's Ctrl-C reaches the whole foreground process group: the command gets it, and
/// `credd exec` lives on to serve a command that handles it. (Whether credd passed it on a second
/// time cannot be seen from here: two SIGINTs pending together arrive as one.)
#[test]
fn a_terminal_ctrl_c_reaches_the_command_and_credd_exec_lives_on() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    setup(&home, 50, "");
    let socket = home.path().join("tmux.sock");
    let tmux = |args: &[&str]| Command::new("tmux").arg("-S").arg(&socket).args(args).output().unwrap();
    let mut env: Vec<String> = home.env().into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    env.push("TERM=xterm".into());
    let python = common::venv_bin("python").display().to_string();
    let script = child_script();
    let mut args = vec!["new-session", "-d", "-x", "200", "-y", "50", "env", "-i"];
    args.extend(env.iter().map(String::as_str));
    args.extend([env!("CARGO_BIN_EXE_credd"), "exec", "dev", "--", &python, &script, "trap"]);
    assert!(tmux(&args).status.success());
    struct Kill<'a>(&'a dyn Fn(&[&str]) -> std::process::Output);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            (self.0)(&["kill-server"]);
        }
    }
    let _kill = Kill(&tmux);
    let screen =
        || String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-J", "-S", "-200"]).stdout).to_string();
    let wait_for = |needle: &str| {
        let deadline = Instant::now() + WAIT;
        loop {
            let s = screen();
            if s.contains(needle) {
                return s;
            }
            assert!(Instant::now() < deadline, "no {needle:?} on screen:\n{s}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_for(r#"{"ready": true}"#);
    tmux(&["send-keys", "C-c"]);
    wait_for(r#"{"signal": 2}"#);
    tmux(&["send-keys", "-l", "fetch"]);
    tmux(&["send-keys", "Enter"]);
    wait_for(r#"{"method": "container-role""#);
}

/// The new user's setting, from issue 28's trial: the shortest session, 15 minutes, under the
/// default `--min-ttl` of 15 minutes. A fresh session never has 15 minutes left once used, so
/// every request renewed it: 7 AssumeRole calls for 8 requests after one `credd refresh`. Now
/// `credd exec` renews it when half its life is left, as the daemon does; and
/// `credential-process --min-ttl 15m`, which no 15-minute session can meet, is refused before
/// any STS call instead of calling STS and then saying it "could not renew it".
#[test]
fn issue28_a_fifteen_minute_session_is_not_renewed_at_every_request() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    setup(&home, 14, "duration = \"15m\"\n");
    let mut d = Driven::start(&home, &["dev"], &[], |_| {});
    assert_eq!(d.ask("fetch")["method"], "container-role");
    let out = home.run(&["refresh", "dev"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (key, _, _) = file_keys(&home, "dev");
    let before = refreshes(&proxy);
    let port = port_of(&d.env("AWS_CONTAINER_CREDENTIALS_FULL_URI").unwrap());
    let tok = std::fs::read_to_string(d.env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").unwrap()).unwrap();
    let host = format!("127.0.0.1:{port}");
    for i in 0..20 {
        let (status, body) = raw_get(port, &host, Some(&tok));
        assert_eq!(status, 200, "request {i}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["AccessKeyId"].as_str(), Some(key.as_str()), "request {i} got another session");
    }
    assert_eq!(refreshes(&proxy), before, "20 requests for a session refreshed a moment ago called STS");
    d.ask_exit(0);
    assert_eq!(d.wait(), 0);
    assert!(d.stderr().contains("renewing when less than 7m 30s is left"), "{}", d.stderr());

    let before = refreshes(&proxy);
    let out = home.run(&["credential-process", "dev", "--min-ttl", "15m"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("ask for 14m or less"), "{stderr}");
    assert_eq!(refreshes(&proxy), before, "a --min-ttl no session can meet called STS");
    let out = home.run(&["credential-process", "dev", "--min-ttl", "14m"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
