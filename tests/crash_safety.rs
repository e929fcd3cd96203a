//! A writer killed with SIGKILL at any moment leaves a file that parses and holds every profile,
//! each entirely from one generation: never half a file, never a mix.
//!
//! The child is this test binary itself, re-run with `--ignored --exact crash_child`, so it uses
//! credd's real writer without adding anything to the product's command line.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use credd::profile::{self, Edit, FileKind};

const PROFILES: usize = 12;
/// SIGKILLs per run: 150 in CI; `CREDD_CRASH_KILLS=1000` for the long run in docs/reliability.md.
fn kills() -> u32 {
    std::env::var("CREDD_CRASH_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(150)
}

fn header() -> String {
    // Hand-written content that must survive every kill, byte for byte.
    "# my credentials, do not lose this comment\r\n[default]\r\nregion = us-east-1 ; mine\r\n".to_string()
}

/// The generation every profile holds; panics if the file is torn or mixed.
fn generation(path: &Path) -> u64 {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.starts_with(&header()), "hand-written header damaged");
    let doc = credd::profile::Document::parse(&text, FileKind::Credentials, path)
        .unwrap_or_else(|e| panic!("torn file: {e}"));
    let sections = doc.sections();
    let mut gens = std::collections::BTreeSet::new();
    for p in 0..PROFILES {
        let s = sections.profile(&format!("p{p}")).unwrap_or_else(|| panic!("p{p} lost"));
        for key in ["aws_access_key_id", "aws_secret_access_key", "aws_session_token"] {
            let v = s.get(key).unwrap_or_else(|| panic!("p{p} lost {key}"));
            gens.insert(v.rsplit('-').next().unwrap().parse::<u64>().unwrap());
        }
    }
    assert_eq!(gens.len(), 1, "profiles from different generations: {gens:?}");
    gens.into_iter().next().unwrap()
}

fn write_generation(path: &Path, g: u64) {
    profile::update(path, FileKind::Credentials, |doc| {
        for p in 0..PROFILES {
            doc.edit_profile(
                &format!("p{p}"),
                &[
                    Edit::set("aws_access_key_id", &format!("ASIAKEY-{g}")),
                    Edit::set("aws_secret_access_key", &format!("secret/{p}-{g}")),
                    Edit::set("aws_session_token", &format!("token+{p}-{g}")),
                ],
            )?;
        }
        Ok(())
    })
    .unwrap();
}

/// The child: rewrite the file in a tight loop until killed.
#[test]
#[ignore = "run by sigkill_at_random_moments_never_tears_the_file"]
fn crash_child() {
    let path = std::env::var("CREDD_CRASH_FILE").expect("only run by the crash test");
    let path = Path::new(&path);
    let mut g = generation(path);
    loop {
        g += 1;
        write_generation(path, g);
    }
}

#[test]
fn sigkill_at_random_moments_never_tears_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials");
    fs::write(&path, header()).unwrap();
    write_generation(&path, 0);
    let exe = std::env::current_exe().unwrap();
    let mut last = 0;
    let mut advanced = 0;
    let mut temps_seen = 0;
    let kills = kills();
    for _ in 0..kills {
        let mut child = Command::new(&exe)
            .args(["crash_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env("CREDD_CRASH_FILE", &path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // A random moment: process start-up takes a few ms, after which each write takes about
        // one fsync; the spread covers every phase of the write many times over.
        std::thread::sleep(Duration::from_micros(fastrand::u64(2_000..40_000)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let g = generation(&path);
        assert!(g >= last, "went back in time: {g} after {last}");
        if g > last {
            advanced += 1;
        }
        last = g;
        temps_seen += fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains("credd-tmp"))
            .count();
    }
    // The next write cleans up what the killed writers left behind.
    write_generation(&path, last + 1);
    let leftovers = fs::read_dir(dir.path()).unwrap().count();
    eprintln!(
        "crash safety: {kills} SIGKILLs survived; {advanced} landed after at least one write, \
         {temps_seen} interrupted mid-write (temp file left); final generation {last}"
    );
    assert!(advanced > kills / 3, "most kills came before the first write: test proves little");
    assert_eq!(leftovers, 1, "temp files not cleaned up");
}
