//! Env-sourced sessions end to end: managed and watched dotenv files, `credd export`,
//! `credential_process` used by the real aws CLI and boto3, one STS call for 100 concurrent
//! callers, and the prompt hooks in real bash, zsh and fish under tmux.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::Utc;
use common::daemon::Home;
use common::fixtures::{self, BASE, at};
use common::moto::Moto;
use common::proxy::{Fault, Proxy};

const WAIT: Duration = Duration::from_secs(20);
const CANARY: &str = "CANARYenvSECRETneverLOGGED0123456789abcd";
const BIN: &str = env!("CARGO_BIN_EXE_credd");

fn session(name: &str, mins: i64) -> String {
    fixtures::session(name, mins, CANARY)
}

fn managed(name: &str, extra: &str) -> String {
    fixtures::managed(name, &format!("region = \"eu-west-1\"\n{extra}"))
}

fn status_json(home: &Home) -> serde_json::Value {
    let out = home.run(&["status", "--json"]);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn a_managed_env_file_is_rewritten_keeping_its_other_lines() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    home.write_credentials(BASE);
    let env = home.path().join("proj/.env");
    std::fs::create_dir_all(env.parent().unwrap()).unwrap();
    let original = format!(
        "# my app\nDATABASE_URL=postgres://localhost/app\nexport AWS_SESSION_TOKEN=\"{CANARY}\"\nAWS_CREDENTIAL_EXPIRATION={}\n",
        at(2)
    );
    std::fs::write(&env, &original).unwrap();
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o600)).unwrap();
    let created = home.path().join("proj/new.env");
    home.write_config(&format!(
        "{}{}",
        managed("dev", &format!("env_file = \"{}\"\nwrite_profile = false\n", env.display())),
        managed("other", &format!("env_file = \"{}\"\n", created.display()))
    ));
    let d = home.daemon();
    d.wait_for("dev: refreshed", 1, WAIT);
    d.wait_for("other: refreshed", 1, WAIT);
    let text = std::fs::read_to_string(&env).unwrap();
    assert!(
        text.starts_with("# my app\nDATABASE_URL=postgres://localhost/app\nexport AWS_SESSION_TOKEN=\""),
        "{text}"
    );
    assert!(!text.contains(CANARY));
    let file = credd::envfile::read(&env).unwrap().unwrap();
    assert!(file.get("AWS_ACCESS_KEY_ID").unwrap().starts_with("ASIA"));
    assert_eq!(file.get("AWS_REGION").as_deref(), Some("eu-west-1"));
    assert!(file.expiry().unwrap() > Utc::now() + chrono::Duration::minutes(30));
    assert_eq!(std::fs::metadata(&env).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(
        std::fs::metadata(&created).unwrap().permissions().mode() & 0o777,
        0o600,
        "new env files are 0600"
    );
    // write_profile = false: the credentials file has no [dev]; `other` went to both.
    let creds = std::fs::read_to_string(home.credentials()).unwrap();
    assert!(!creds.contains("[dev]") && creds.contains("[other]"), "{creds}");
    let st = status_json(&home);
    let dev = st["sessions"].as_array().unwrap().iter().find(|s| s["name"] == "dev").unwrap();
    assert_eq!((dev["origin"].as_str(), dev["state"].as_str()), (Some("env-file"), Some("fresh")));
    // export reads the env file the daemon names.
    let out = home.run(&["export", "dev", "--format", "dotenv"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("AWS_ACCESS_KEY_ID={}", file.get("AWS_ACCESS_KEY_ID").unwrap()))
            && text.contains("CREDD_SESSION=dev"),
        "{text}"
    );
}

#[test]
fn a_watched_env_file_is_tracked_and_warned_about() {
    let home = Home::new("http://127.0.0.1:9");
    let env = home.path().join("awsume.env");
    std::fs::write(
        &env,
        format!(
            "AWS_ACCESS_KEY_ID=ASIAWATCH00000000000\nAWS_SECRET_ACCESS_KEY={CANARY}\nAWSUME_EXPIRATION={}\n",
            at(5)
        ),
    )
    .unwrap();
    home.write_config(&format!("[[watch]]\nname = \"awsume\"\nenv_file = \"{}\"\n", env.display()));
    let d = home.daemon();
    d.wait_for("notify: awsume expires in", 1, WAIT);
    let st = status_json(&home);
    let s = &st["sessions"][0];
    assert_eq!(
        (s["name"].as_str(), s["origin"].as_str(), s["state"].as_str()),
        (Some("awsume"), Some("env-file"), Some("expiring"))
    );
    assert_eq!(s["managed"], false);
    assert!(!d.log_text().contains(CANARY));
    // Another tool renews it: credd adopts the new expiry.
    std::fs::write(
        &env,
        format!(
            "AWS_ACCESS_KEY_ID=ASIAWATCH00000000001\nAWS_SECRET_ACCESS_KEY=x\nAWSUME_EXPIRATION={}\n",
            at(120)
        ),
    )
    .unwrap();
    d.wait_for("awsume: adopted a session written by another program", 1, WAIT);
}

/// Issue 11: a `[[watch]] env_file` added by a reload used to be read with the old config, so it
/// showed as missing until a second reload.
#[test]
fn regression_issue_11_a_watch_added_by_one_reload_is_read_at_once() {
    let home = Home::new("http://127.0.0.1:9");
    let env = home.path().join("later.env");
    std::fs::write(
        &env,
        format!(
            "AWS_ACCESS_KEY_ID=ASIAWATCH00000000000\nAWS_SECRET_ACCESS_KEY={CANARY}\nAWSUME_EXPIRATION={}\n",
            at(90)
        ),
    )
    .unwrap();
    home.write_config("");
    let d = home.daemon();
    d.wait_for("listening on", 1, WAIT);
    home.write_config(&format!("[[watch]]\nname = \"later\"\nenv_file = \"{}\"\n", env.display()));
    // The daemon sees its config change and reloads once; nothing else changes after that.
    d.wait_for("configuration reloaded", 1, WAIT);
    let st = status_json(&home);
    let s = st["sessions"].as_array().unwrap().iter().find(|s| s["name"] == "later").cloned();
    let s = s.unwrap_or_else(|| panic!("not tracked after one reload: {st}"));
    assert_eq!((s["origin"].as_str(), s["state"].as_str()), (Some("env-file"), Some("fresh")), "{st}");
}

#[test]
fn the_aws_cli_and_boto3_use_credd_as_credential_process() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    home.write_credentials(&format!("{BASE}{}", session("dev", 60)));
    home.write_config(&managed("dev", ""));
    std::fs::write(
        home.path().join(".aws/config"),
        format!(
            "[profile viacredd]\ncredential_process = {BIN} credential-process dev\nregion = us-east-1\n"
        ),
    )
    .unwrap();
    let d = home.daemon();
    d.wait_for("listening on", 1, WAIT);
    let arn = home.aws(&[
        "sts",
        "get-caller-identity",
        "--profile",
        "viacredd",
        "--query",
        "Arn",
        "--output",
        "text",
    ]);
    assert!(arn.starts_with("arn:aws:"), "{arn}");
    let script = "import boto3, os\ns = boto3.Session(profile_name='viacredd')\nc = s.get_credentials().get_frozen_credentials()\nprint(c.access_key)\nprint(s.client('sts', endpoint_url=os.environ['AWS_ENDPOINT_URL_STS']).get_caller_identity()['Arn'])\n";
    let out = Command::new(common::venv_bin("python"))
        .args(["-c", script])
        .env_clear()
        .envs(home.env())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("ASIAOLD0000000000000\narn:aws:"), "{text}");
}

#[test]
fn a_hundred_concurrent_callers_share_one_refresh() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    // The daemon's own refresh of the expired session is slow, so every caller arrives while it
    // is in flight and must join it.
    proxy.push(&[Fault::Delay(Duration::from_millis(1500))]);
    let home = Home::new(&proxy.url());
    home.write_credentials(&format!("{BASE}{}", session("dev", -5)));
    home.write_config(&managed("dev", ""));
    let d = home.daemon();
    let deadline = Instant::now() + WAIT;
    while proxy.count() == 0 {
        assert!(Instant::now() < deadline, "no refresh started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let handles: Vec<_> = (0..100)
        .map(|_| {
            let mut cmd = home.command(&["credential-process", "dev"]);
            std::thread::spawn(move || cmd.output().unwrap())
        })
        .collect();
    let outputs: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let mut keys = std::collections::BTreeSet::new();
    for o in &outputs {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["Version"], 1);
        keys.insert(v["AccessKeyId"].as_str().unwrap().to_string());
    }
    assert_eq!(keys.len(), 1, "everyone got the same fresh session");
    assert!(!keys.contains("ASIAOLD0000000000000"));
    assert_eq!(proxy.count(), 1, "100 callers caused more than one STS call");
    // A fresh answer costs a few milliseconds.
    let mut times: Vec<Duration> = (0..21)
        .map(|_| {
            let start = Instant::now();
            assert!(home.command(&["credential-process", "dev"]).output().unwrap().status.success());
            start.elapsed()
        })
        .collect();
    times.sort();
    eprintln!(
        "credential-process: 100 concurrent callers, {} STS call; a fresh answer takes {:?} (median of 21)",
        proxy.count(),
        times[10]
    );
    assert!(!d.log_text().contains(CANARY));
}

#[test]
fn export_without_a_daemon_reads_the_files_and_refuses_expired_sessions() {
    let home = Home::new("http://127.0.0.1:9");
    home.write_credentials(&format!("{}{}", session("saml", 30), session("old", -5)));
    let out = home.run(&["export", "saml", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["AccessKeyId"], "ASIAOLD0000000000000");
    let out = home.run(&["export", "old"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("old expired at"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A shell under tmux, driven by send-keys and read with capture-pane.
struct Tmux {
    socket: std::path::PathBuf,
}

impl Tmux {
    fn start(home: &Home, shell: &str) -> Tmux {
        let socket = home.path().join("tmux.sock");
        let mut env: Vec<String> = home.env().into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        env.push("TERM=xterm".into());
        env.push("PS1=$ ".into());
        let argv: Vec<&str> = match shell {
            "bash" => vec!["bash", "--norc", "--noprofile", "-i"],
            "zsh" => vec!["zsh", "-f", "-i"],
            _ => vec!["fish", "--no-config", "-i"],
        };
        let status = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args(["new-session", "-d", "-x", "250", "-y", "50", "env", "-i"])
            .args(&env)
            .args(&argv)
            .status()
            .unwrap();
        assert!(status.success());
        Tmux { socket }
    }

    fn send(&self, line: &str) {
        let ok = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["send-keys", "-l", line])
            .status()
            .unwrap();
        assert!(ok.success());
        Command::new("tmux").arg("-S").arg(&self.socket).args(["send-keys", "Enter"]).status().unwrap();
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["capture-pane", "-p", "-J", "-S", "-200"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// Waits for `marker=` to print a value and returns it.
    fn value(&self, marker: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen();
            if let Some(v) = screen.lines().filter_map(|l| l.strip_prefix(&format!("{marker}="))).next_back()
                && !v.is_empty()
            {
                return v.trim().to_string();
            }
            assert!(Instant::now() < deadline, "no {marker}= on screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn pane_pid(&self) -> u32 {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["display-message", "-p", "#{pane_pid}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").arg("-S").arg(&self.socket).arg("kill-server").status();
    }
}

fn shell_hook_round_trip(shell: &str) {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    home.write_credentials(&format!("{BASE}{}", session("dev", 60)));
    home.write_config(&managed("dev", ""));
    let d = home.daemon();
    d.wait_for("listening on", 1, WAIT);
    let tmux = Tmux::start(&home, shell);
    let (hook, export) = match shell {
        "fish" => (format!("{BIN} hook fish | source"), format!("{BIN} export dev --format fish | source")),
        _ => (format!("eval \"$({BIN} hook {shell})\""), format!("eval \"$({BIN} export dev)\"")),
    };
    tmux.send(&hook);
    tmux.send(&export);
    tmux.send("echo K1=$AWS_ACCESS_KEY_ID");
    assert_eq!(tmux.value("K1"), "ASIAOLD0000000000000");
    // The prompt after the export registered the shell (key ID and expiry only).
    let pid = tmux.pane_pid();
    d.wait_for(&format!("shell {pid} registered a session: key ASIA…0000"), 1, WAIT);
    let st = status_json(&home);
    assert!(
        st["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["origin"] == "shell" && s["name"] == format!("shell:{pid}")),
        "{st:#}"
    );
    // The daemon refreshes; the next prompt re-exports.
    let out = home.run(&["refresh", "dev"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let new_key = credd::profile::read_document(&home.credentials(), credd::profile::FileKind::Credentials)
        .unwrap()
        .unwrap()
        .sections()
        .profile("dev")
        .unwrap()
        .get("aws_access_key_id")
        .unwrap()
        .to_string();
    tmux.send("");
    tmux.send("echo K2=$AWS_ACCESS_KEY_ID");
    assert_eq!(tmux.value("K2"), new_key, "{shell} did not pick up the refreshed key");
    // The shell exits: it leaves the status.
    drop(tmux);
    let deadline = Instant::now() + WAIT;
    loop {
        let st = status_json(&home);
        if !st["sessions"].as_array().unwrap().iter().any(|s| s["origin"] == "shell") {
            break;
        }
        assert!(Instant::now() < deadline, "the exited shell is still listed: {st:#}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!d.log_text().contains(CANARY));
}

#[test]
fn the_bash_hook_reexports_refreshed_credentials() {
    shell_hook_round_trip("bash");
}

#[test]
fn the_zsh_hook_reexports_refreshed_credentials() {
    shell_hook_round_trip("zsh");
}

#[test]
fn the_fish_hook_reexports_refreshed_credentials() {
    shell_hook_round_trip("fish");
}

/// The prompt hook runs at every prompt, so when nothing changed it must cost almost nothing:
/// no subprocess and no socket (a fork alone costs about a millisecond). Counted, not timed:
/// strace sees every fork, clone and exec, and a thousand prompts must start no more processes
/// than none (loading the hook creates its runtime directory once). The time per prompt is
/// printed for the record only; timing asserts nothing here.
#[test]
fn the_hook_costs_almost_nothing_when_nothing_changed() {
    let home = Home::new("http://127.0.0.1:9");
    let hook = home.run(&["hook", "bash"]);
    let log = home.path().join("strace.log");
    // The processes a script starts, bash itself aside, and what it printed.
    let spawned = |body: &str| {
        let script = format!(
            "{}\nexport CREDD_SESSION=dev AWS_ACCESS_KEY_ID=ASIAX AWS_CREDENTIAL_EXPIRATION=2030-01-01T00:00:00Z\n_credd_registered=\"ASIAX|2030-01-01T00:00:00Z\"\n{body}\n",
            String::from_utf8_lossy(&hook.stdout)
        );
        let out = Command::new("strace")
            .args(["-f", "-qq", "-e", "trace=fork,vfork,clone,clone3,execve", "-o"])
            .arg(&log)
            .args(["bash", "--norc", "-c", &script])
            .env_clear()
            .envs(home.env())
            .output()
            .expect("strace runs (scripts/test.sh installs it)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let calls = std::fs::read_to_string(&log).unwrap();
        let started: Vec<String> = calls
            .lines()
            .filter(|l| ["fork(", "vfork(", "clone(", "clone3(", "execve("].iter().any(|c| l.contains(c)))
            .filter(|l| !l.contains("execve(\"/usr/bin/bash\"") && !l.contains("execve(\"/bin/bash\""))
            // The call and its first argument (`execve("/usr/bin/mkdir"`): pids, addresses and
            // return values differ from run to run.
            .map(|l| {
                let call = l.split_once(' ').map_or(l, |(_, call)| call);
                call.split(',').next().unwrap_or(call).to_string()
            })
            .collect();
        (started, String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let timed = "start=$EPOCHREALTIME\nfor ((i = 0; i < 1000; i++)); do _credd_hook; done\necho \"$(( (${EPOCHREALTIME/./} - ${start/./}) / 1000 ))\"";
    let (loaded, _) = spawned("true");
    let (prompts, micros) = spawned(timed);
    eprintln!("shell hook, under strace: {micros} µs per prompt when nothing changed (bash, mean of 1000)");
    assert_eq!(prompts, loaded, "a thousand prompts started processes when nothing changed");
    // The check can fail: the same loop with one command substitution forks a thousand times.
    let (forking, _) = spawned(&timed.replace("_credd_hook; done", "_credd_hook; x=$(:); done"));
    assert!(
        forking.len() >= loaded.len() + 1000,
        "strace saw {} calls of a loop that forks 1000 times",
        forking.len()
    );
}

/// The session's line `name` in `credd status --json`.
fn status_of(home: &Home, name: &str) -> serde_json::Value {
    let st = status_json(home);
    let s = st["sessions"].as_array().unwrap().iter().find(|s| s["name"] == name).cloned();
    s.unwrap_or_else(|| panic!("{name} is not in {st}"))
}

/// Issue 25 (faults 4–7): an `export`-style 0644 env file with the user's own region and comments
/// on credd's lines, refreshed for a session that names no region. The new lines are exported
/// (so `source .env` gives all of the credentials), the user's region and every comment stay,
/// and the file is made 0600 with a line in the log.
#[test]
fn issue25_an_env_file_is_edited_in_its_own_style_and_made_private() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    home.write_credentials(BASE);
    let env = home.path().join("proj/.env");
    std::fs::create_dir_all(env.parent().unwrap()).unwrap();
    std::fs::write(
        &env,
        "export AWS_ACCESS_KEY_ID=ASIAOLD0000000000000 # old\nAWS_REGION='eu-central-1'\nexport APP=1\n",
    )
    .unwrap();
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o644)).unwrap();
    home.write_config(&fixtures::managed(
        "dev",
        &format!("env_file = \"{}\"\nwrite_profile = false\n", env.display()),
    ));
    let d = home.daemon();
    d.wait_for("dev: refreshed", 1, WAIT);
    let text = std::fs::read_to_string(&env).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("export AWS_ACCESS_KEY_ID=ASIA") && lines[0].ends_with(" # old"), "{text}");
    assert!(!lines[0].contains("ASIAOLD"), "{text}");
    assert_eq!(lines[1..3], ["AWS_REGION='eu-central-1'", "export APP=1"], "{text}");
    assert!(lines[3..].iter().all(|l| l.starts_with("export AWS_")), "{text}");
    assert!(!text.contains("us-east-1"), "{text}");
    assert_eq!(std::fs::metadata(&env).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(d.log_text().contains("made the file private (mode 0644 → 0600)"), "{}", d.log_text());
    // What a shell gets from `source .env`: every variable credd wrote, exported.
    let out = Command::new("bash")
        .args(["-c", "source \"$1\" && env", "bash", env.to_str().unwrap()])
        .env_clear()
        .output()
        .unwrap();
    let exported = String::from_utf8_lossy(&out.stdout);
    for key in [
        "AWS_ACCESS_KEY_ID=ASIA",
        "AWS_SECRET_ACCESS_KEY=",
        "AWS_SESSION_TOKEN=",
        "AWS_CREDENTIAL_EXPIRATION=",
    ] {
        assert!(exported.lines().any(|l| l.starts_with(key)), "{key} not exported by `source`");
    }
}

/// Issue 25 (fault 8): an env file credd refused to write (a multi-line value) is written as
/// soon as the user fixes it, by a refresh then; its old session is not "adopted".
#[test]
fn issue25_a_fixed_env_file_is_written_at_once() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    home.write_credentials(BASE);
    let env = home.path().join("proj/.env");
    std::fs::create_dir_all(env.parent().unwrap()).unwrap();
    std::fs::write(&env, "APP=1\n").unwrap();
    home.write_config(&managed("dev", &format!("env_file = \"{}\"\nwrite_profile = false\n", env.display())));
    let d = home.daemon();
    d.wait_for("dev: refreshed", 1, WAIT);
    let first = credd::envfile::read(&env).unwrap().unwrap().get("AWS_ACCESS_KEY_ID").unwrap();
    let good = std::fs::read_to_string(&env).unwrap();
    std::fs::write(&env, format!("{good}CERT=\"line one\nline two\"\n")).unwrap();
    let out = home.run(&["refresh", "dev"]);
    assert!(!out.status.success(), "a refresh into a file credd cannot parse must fail");
    let s = status_of(&home, "dev");
    assert_eq!(s["last_error"]["finding"], "file-unparseable", "{s} {:?} {}", out, d.log_text());
    std::fs::write(&env, format!("{good}CERT=\"line one line two\"\n")).unwrap();
    d.wait_for("dev: refreshed", 2, WAIT);
    let file = credd::envfile::read(&env).unwrap().unwrap();
    assert_ne!(file.get("AWS_ACCESS_KEY_ID").unwrap(), first);
    assert_eq!(file.get("CERT").as_deref(), Some("line one line two"));
    assert!(!d.log_text().contains("dev: adopted a session"), "{}", d.log_text());
    let s = status_of(&home, "dev");
    assert_eq!((s["state"].as_str(), &s["last_error"]), (Some("fresh"), &serde_json::Value::Null), "{s}");
}

/// Issue 25 (fault 9): a watched file's expiry is read as python-dotenv and bash read it, a
/// trailing comment included; one credd cannot read is named in status, not taken for none.
#[test]
fn issue25_a_watched_expiry_is_read_like_dotenv_or_named_in_status() {
    let home = Home::new("http://127.0.0.1:9");
    let commented = home.path().join("commented.env");
    let expiry = at(90);
    std::fs::write(
        &commented,
        format!("AWS_ACCESS_KEY_ID=ASIAWATCH00000000000\nAWS_CREDENTIAL_EXPIRATION=\"{expiry}\" # c\n"),
    )
    .unwrap();
    let broken = home.path().join("broken.env");
    std::fs::write(&broken, "AWS_ACCESS_KEY_ID=ASIAWATCH00000000001\nAWS_CREDENTIAL_EXPIRATION=tomorrow\n")
        .unwrap();
    home.write_config(&format!(
        "[[watch]]\nname = \"commented\"\nenv_file = \"{}\"\n[[watch]]\nname = \"broken\"\nenv_file = \"{}\"\n",
        commented.display(),
        broken.display()
    ));
    // python-dotenv's reading, the oracle.
    let script = "import sys\nfrom dotenv import dotenv_values\nprint(dotenv_values(sys.argv[1])['AWS_CREDENTIAL_EXPIRATION'])";
    let out = Command::new(common::venv_bin("python")).args(["-c", script]).arg(&commented).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), expiry);
    let d = home.daemon();
    d.wait_for("listening on", 1, WAIT);
    let s = status_of(&home, "commented");
    let read: chrono::DateTime<Utc> =
        s["expires_at"].as_str().unwrap_or_else(|| panic!("{s}")).parse().unwrap();
    assert_eq!(read, expiry.parse::<chrono::DateTime<Utc>>().unwrap(), "{s}");
    assert_eq!(s["last_error"], serde_json::Value::Null, "{s}");
    let s = status_of(&home, "broken");
    assert_eq!(s["last_error"]["finding"], "expiry-unreadable", "{s}");
    let message = s["last_error"]["message"].as_str().unwrap();
    assert!(message.contains("broken.env:2") && message.contains("AWS_CREDENTIAL_EXPIRATION"), "{message}");
}

/// Issue 25 (fault 5): the user's `AWS_REGION` stays when the session names no region of its
/// own; credd used to write the us-east-1 it falls back to for STS.
#[test]
fn issue25_the_users_region_stays_when_the_session_names_none() {
    let moto = Moto::start();
    let home = Home::new(&moto.url());
    home.write_credentials(BASE);
    let env = home.path().join("proj/.env");
    std::fs::create_dir_all(env.parent().unwrap()).unwrap();
    std::fs::write(&env, "AWS_REGION='eu-central-1'\n").unwrap();
    let session = |region: &str| {
        fixtures::managed(
            "dev",
            &format!("{region}env_file = \"{}\"\nwrite_profile = false\n", env.display()),
        )
    };
    home.write_config(&session(""));
    let d = home.daemon();
    d.wait_for("dev: refreshed", 1, WAIT);
    let file = credd::envfile::read(&env).unwrap().unwrap();
    assert_eq!(file.get("AWS_REGION").as_deref(), Some("eu-central-1"));
    assert!(std::fs::read_to_string(&env).unwrap().starts_with("AWS_REGION='eu-central-1'\n"));
    // A region the session names is the session's, and written.
    home.write_config(&session("region = \"eu-west-1\"\n"));
    d.wait_for("configuration reloaded", 1, WAIT);
    assert!(home.run(&["refresh", "dev"]).status.success());
    let file = credd::envfile::read(&env).unwrap().unwrap();
    assert_eq!(file.get("AWS_REGION").as_deref(), Some("eu-west-1"));
}
