//! Issue 25, found by a new user's trial of the merged work: the daemon emptied a `[[watch]]`
//! env file whenever another program wrote it. The watch had no `name`, so it was named by its
//! path, and the shell-hook stamp for that name was written at that very path.

mod common;

use std::time::{Duration, Instant};

use common::daemon::Home;

#[test]
fn issue25_a_watched_env_file_named_by_its_path_is_never_truncated() {
    let home = Home::new("http://127.0.0.1:9");
    let env = home.path().join("proj/watch.env");
    std::fs::create_dir_all(env.parent().unwrap()).unwrap();
    let first = "AWS_ACCESS_KEY_ID=ASIAWATCH\nAWS_CREDENTIAL_EXPIRATION=2030-01-01T00:00:00Z\n";
    std::fs::write(&env, first).unwrap();
    home.write_config(&format!("[[watch]]\nenv_file = \"{}\"\n", env.display()));
    let d = home.daemon();
    d.wait_for("listening on", 1, Duration::from_secs(20));
    // Another program writes the file in place, as `printf > .env` and python-dotenv do.
    let second = "AWS_ACCESS_KEY_ID=ASIAWATCH2\nAWS_CREDENTIAL_EXPIRATION=2031-06-01T00:00:00Z\n";
    std::fs::write(&env, second).unwrap();
    d.wait_for("adopted a session written by another program", 1, Duration::from_secs(20));
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        assert_eq!(
            std::fs::read_to_string(&env).unwrap(),
            second,
            "the watched file changed under its writer"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = home.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["sessions"].as_array().unwrap()[0];
    assert_eq!(s["expires_at"], "2031-06-01T00:00:00Z", "{v:#}");
}
