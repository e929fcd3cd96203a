//! The prompt recipes in README.md, run exactly as written (each is the fenced block after a
//! `<!-- recipe: NAME -->` marker) in the real bash, zsh and fish, against a real daemon with a
//! session that needs attention. starship and powerlevel10k are not installable here: their
//! recipes' commands run in the shells those tools would use, with p10k's `segment` recorded.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::daemon::Home;
use common::fixtures;

fn recipe(name: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let marker = format!("<!-- recipe: {name} -->");
    let after = readme.split_once(&marker).unwrap_or_else(|| panic!("README has no {marker}")).1;
    let block = after.split_once("```").unwrap().1;
    let body = block.split_once('\n').unwrap().1;
    body.split_once("```").unwrap().0.to_string()
}

/// Runs `script` in `shell` with credd on the PATH and the test HOME's environment. Prompt code
/// may end on a false test; it must never print an error.
fn run(home: &Home, shell: &[&str], script: &str) -> String {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_credd")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new(shell[0])
        .args(&shell[1..])
        .arg(script)
        .env_clear()
        .envs(home.env())
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(out.stderr.is_empty(), "{shell:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A daemon tracking `dev`, which another tool wrote and which expires in 5 minutes.
fn expiring_session() -> (Home, common::daemon::Daemon) {
    let home = Home::new("http://127.0.0.1:9");
    home.write_credentials(&fixtures::session("dev", 5, "CANARYsecret"));
    home.write_config("");
    let d = home.daemon();
    d.wait_for("listening on", 1, Duration::from_secs(20));
    (home, d)
}

/// What `credd status --prompt` says for that session: `dev 5m` or `dev 4m`.
fn shows_dev(text: &str) -> bool {
    text.contains("[dev 5m]") || text.contains("[dev 4m]")
}

#[test]
fn bash_and_zsh_and_fish_recipes_show_the_session_and_stay_quiet_without_cause() {
    let quiet = Home::new("http://127.0.0.1:9");
    let bash = format!("PS1='$ '\n{}\necho \"${{PS1@P}}\"", recipe("bash"));
    // No daemon (and nothing to say): the prompt is unchanged.
    assert_eq!(run(&quiet, &["bash", "-c"], &bash), "$ \n");

    let (home, _d) = expiring_session();
    let shown = run(&home, &["bash", "-c"], &bash);
    assert!(shows_dev(&shown) && shown.ends_with("] $ \n"), "bash: {shown:?}");

    let zsh = format!("PROMPT='%% '\n{}\nprint -P -- \"$PROMPT\"", recipe("zsh"));
    let shown = run(&home, &["zsh", "-f", "-c"], &zsh);
    assert!(shows_dev(&shown) && shown.ends_with("] % \n"), "zsh: {shown:?}");
    assert_eq!(run(&quiet, &["zsh", "-f", "-c"], &zsh), "% \n");

    let fish = format!("{}\nfish_right_prompt", recipe("fish"));
    let shown = run(&home, &["fish", "--no-config", "-c"], &fish);
    assert!(shows_dev(&shown), "fish: {shown:?}");
    assert_eq!(run(&quiet, &["fish", "--no-config", "-c"], &fish), "");
}

#[test]
fn starship_and_powerlevel10k_recipes_run_what_they_promise() {
    let (home, _d) = expiring_session();

    let starship: toml::Table = recipe("starship").parse().expect("the starship recipe is valid TOML");
    let module = starship["custom"]["credd"].as_table().unwrap();
    let shell = module["shell"].as_array().unwrap()[0].as_str().unwrap();
    let command = module["command"].as_str().unwrap();
    let out = run(&home, &[shell, "-c"], command);
    assert!(out.starts_with("dev 5m") || out.starts_with("dev 4m"), "starship's command printed {out:?}");
    // A conditional group: starship renders nothing when the command prints nothing.
    let format = module["format"].as_str().unwrap();
    assert!(format.starts_with('(') && format.contains("$output"), "{format}");

    let p10k = format!("p10k() {{ print -r -- \"p10k $*\" }}\n{}\nprompt_credd", recipe("p10k"));
    let out = run(&home, &["zsh", "-f", "-c"], &p10k);
    assert!(
        out.starts_with("p10k segment -f 208 -t dev 5m") || out.starts_with("p10k segment -f 208 -t dev 4m"),
        "p10k: {out:?}"
    );
}
