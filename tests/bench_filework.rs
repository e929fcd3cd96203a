//! Benchmark: where a refresh's file work goes in a large credentials file, step by step (parse,
//! resolve, clone, edit, render, the whole `store`). Run it with:
//!
//!     cargo nextest run --cargo-profile release --run-ignored only bench_file_work --no-capture

use std::time::{Duration, Instant};

use credd::profile::{Document, FileKind};

fn generated(n: usize) -> String {
    let mut s = String::from("[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n");
    for i in 0..n {
        s.push_str(&format!(
            "# generated for account {i:012}\n[acct-{i:05}]\naws_access_key_id = ASIA{i:016}\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\naws_session_token = {}\nx_security_token_expires = 2030-01-01T00:00:00Z\n",
            "T".repeat(300)
        ));
    }
    s
}

fn median(mut f: impl FnMut()) -> Duration {
    let mut v: Vec<Duration> = (0..9)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    v.sort();
    v[4]
}

#[test]
#[ignore = "a benchmark; see the file's doc"]
fn bench_file_work() {
    for n in [50, 1000, 5000] {
        let text = generated(n);
        let path = std::path::Path::new("/tmp/c");
        let doc = Document::parse(&text, FileKind::Credentials, path).unwrap();
        let parse = median(|| drop(Document::parse(&text, FileKind::Credentials, path).unwrap()));
        let sections = median(|| drop(doc.sections()));
        let clone = median(|| drop(doc.clone()));
        let render = median(|| drop(doc.render()));
        let edits = credd::profile::meta::session_edits(
            "acct-00007",
            &credd::profile::SessionCredentials {
                access_key_id: "ASIANEWKEY0000000000".into(),
                secret_access_key: credd::secret::Secret::new("s"),
                session_token: credd::secret::Secret::new("t"),
                expiration: chrono::Utc::now(),
            },
            doc.sections().profile("acct-00007"),
        )
        .unwrap();
        let edit = median(|| {
            let mut d = doc.clone();
            d.edit_profile("acct-00007", &edits).unwrap();
        });
        eprintln!(
            "{n:>5} profiles ({:>5} KB): parse {parse:?}, sections {sections:?}, clone {clone:?}, render {render:?}, edit_profile {edit:?}",
            text.len() / 1024
        );
    }
}
