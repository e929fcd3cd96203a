//! Everyday use: `credd ensure --min-ttl` (and the same flag on `export` / `credential-process`),
//! through the daemon and without one, against moto behind the counting proxy; the completion
//! scripts, checked by the real shells; the man page.

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use common::daemon::Home;
use common::fixtures::{self, BASE};
use common::moto::Moto;
use common::proxy::Proxy;
use credd::profile::{self, Edit, FileKind};

const WAIT: Duration = Duration::from_secs(20);

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// `dev` (assume-role, 1 h sessions) whose current session has `mins` left, and `chain`, a role
/// assumed from `dev`'s session.
fn setup(home: &Home, mins: i64) {
    home.write_credentials(&format!("{BASE}{}", fixtures::session("dev", mins, "CANARYsecret")));
    home.write_config(&format!(
        "{}{}",
        fixtures::managed("dev", "region = \"us-east-1\"\n"),
        "[[session]]\nname = \"chain\"\nmethod = \"assume-role\"\nsource_profile = \"dev\"\nrole_arn = \"arn:aws:iam::123456789012:role/chain\"\nregion = \"us-east-1\"\n"
    ));
}

fn expire_in(home: &Home, name: &str, mins: i64) {
    profile::update(&home.credentials(), FileKind::Credentials, |doc| {
        doc.edit_profile(name, &[Edit::set("x_security_token_expires", &fixtures::at(mins))])
    })
    .unwrap();
}

/// The same checks with and without a daemon: the answers must not depend on which path ran.
/// `adopted` waits until whoever answers (the daemon) has seen an outside edit.
fn ensure_cases(home: &Home, proxy: &Proxy, adopted: &dyn Fn()) {
    // Enough left: no STS call, exit 0, what is left on stdout.
    let before = proxy.count();
    let out = home.run(&["ensure", "dev", "--min-ttl", "30m"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.starts_with("dev: ") && stdout.contains("left") && stdout.contains("at least the 30m"),
        "{stdout}"
    );
    assert_eq!(proxy.count(), before, "refreshed although enough was left");

    // More than a session can ever last: refused before any STS call, with the reason.
    let out = home.run(&["ensure", "dev", "--min-ttl", "2h"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("cannot last 2h") && stderr.contains("duration"), "{stderr}");
    let out = home.run(&["ensure", "chain", "--min-ttl", "90m"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("chained role at 1h"), "{stderr}");
    let out = home.run(&["credential-process", "dev", "--min-ttl", "3h"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "credential-process printed keys although it failed");
    assert_eq!(proxy.count(), before, "called STS for a TTL that could never be met");

    // Less left than asked, but a refresh can give it: one STS call, then exit 0.
    expire_in(home, "dev", 40);
    adopted();
    let out = home.run(&["ensure", "dev", "--min-ttl", "50m"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("left"), "{stdout}");
    assert_eq!(proxy.count(), before + 1, "expected exactly one refresh");
    let out = home.run(&["credential-process", "dev", "--min-ttl", "45m"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["Version"], 1);
    assert_eq!(proxy.count(), before + 1, "the fresh session was refreshed again");
}

#[test]
fn ensure_min_ttl_without_a_daemon() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    setup(&home, 50);
    ensure_cases(&home, &proxy, &|| {});
}

#[test]
fn ensure_min_ttl_through_the_daemon() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port);
    let home = Home::new(&proxy.url());
    setup(&home, 50);
    let d = home.daemon();
    d.wait_for("listening on", 1, WAIT);
    // `chain` has no session yet, so the daemon assumes it at start: let that call land first.
    let deadline = std::time::Instant::now() + WAIT;
    while !d.log_text().contains("chain: refreshed (") && !d.log_text().contains("chain: refresh failed") {
        assert!(std::time::Instant::now() < deadline, "chain never refreshed:\n{}", d.log_text());
        std::thread::sleep(Duration::from_millis(20));
    }
    ensure_cases(&home, &proxy, &|| {
        d.wait_for("dev: adopted a session written by another program", 1, WAIT);
    });
    assert!(d.log_text().contains("dev: refreshed"), "the daemon did not do the refresh");
    assert!(!d.log_text().contains("CANARYsecret"));
}

#[test]
fn completion_scripts_parse_in_the_real_shells() {
    let home = Home::new("http://127.0.0.1:9");
    for (shell, check) in [("bash", ["bash", "-n"]), ("zsh", ["zsh", "-n"]), ("fish", ["fish", "-n"])] {
        let out = home.run(&["completions", shell]);
        assert!(out.status.success());
        let script = home.path().join(format!("credd.{shell}"));
        std::fs::write(&script, &out.stdout).unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("ensure") && text.contains("min-ttl"), "{shell}: verbs missing");
        let parsed = Command::new(check[0]).arg(check[1]).arg(&script).output().unwrap();
        assert!(parsed.status.success(), "{shell} -n: {}", String::from_utf8_lossy(&parsed.stderr));
    }
    // bash actually completes a verb from the script.
    let script = home.path().join("credd.bash");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(credd ens); COMP_CWORD=1; COMP_LINE='credd ens'; COMP_POINT=9; _credd credd ens credd; echo \"${{COMPREPLY[@]}}\"",
            script.display()
        ))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("ensure"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Issue 30: fish runs a completion file as it loads it. A value's help text with `"$(…)"` in
    // it once made clap's fish script run `credd export dev` right there; loading runs nothing.
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let ran = home.path().join("ran");
    std::fs::write(bin.join("credd"), format!("#!/bin/sh\ntouch '{}'\n", ran.display())).unwrap();
    std::fs::set_permissions(bin.join("credd"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("fish")
        .arg("-c")
        .arg(format!(
            "source '{}'; complete -C 'credd export --format '",
            home.path().join("credd.fish").display()
        ))
        .env_clear()
        .envs(home.env())
        .env("PATH", path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty() && !ran.exists(), "loading the fish completions ran something: {stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).lines().any(|l| l.starts_with("env\t")));
    for shell in ["powershell", "elvish"] {
        let out = home.run(&["completions", shell]);
        assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("ensure"), "{shell}");
    }
}

/// `credd list | head` and the like: when the reader goes away, credd ends quietly by SIGPIPE, as
/// `cat` does, and never panics with a backtrace.
#[test]
fn output_to_a_reader_that_goes_away_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let home = Home::new("http://127.0.0.1:9");
    // Far more listing than a pipe holds, so credd is still writing when the reader is gone.
    let creds: String = (0..5000)
        .map(|i| format!("[p{i}]\naws_access_key_id = AKIA{i:016}\naws_secret_access_key = x\n"))
        .collect();
    home.write_credentials(&creds);
    for args in [&["list"][..], &["list", "--json"]] {
        let mut child = home
            .command(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{args:?}: {:?} {stderr}", out.status);
    }
}

#[test]
fn the_man_page_covers_every_verb() {
    let home = Home::new("http://127.0.0.1:9");
    let out = home.run(&["man"]);
    assert!(out.status.success());
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH credd"),
        "not roff: {}",
        &page[..page.len().min(200)]
    );
    for verb in ["daemon", "status", "ensure", "doctor", "completions", "credential\\-process"] {
        assert!(page.contains(verb), "the man page does not mention {verb}");
    }
}
