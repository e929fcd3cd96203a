//! Writing real files: modes, owners, symlinks, refusals, outside edits and concurrent writers,
//! and the real aws CLI reading back what credd wrote.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use credd::profile::{self, Edit, FileKind, Outcome};

fn set(path: &Path, profile: &str, kv: &[(&str, &str)]) -> Result<Outcome, profile::WriteError> {
    let edits: Vec<Edit> = kv.iter().map(|(k, v)| Edit::set(k, v)).collect();
    profile::update(path, FileKind::Credentials, |doc| doc.edit_profile(profile, &edits))
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap()
}

#[test]
fn new_file_is_0600_in_a_0700_directory() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join(".aws/credentials");
    set(&path, "dev", &[("aws_access_key_id", "AKIAEXAMPLE")]).unwrap();
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(read(&path), "[dev]\naws_access_key_id = AKIAEXAMPLE\n");
}

#[test]
fn mode_and_owner_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials");
    fs::write(&path, "[dev]\nk = 1\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let before = fs::metadata(&path).unwrap();
    set(&path, "dev", &[("k", "2")]).unwrap();
    let after = fs::metadata(&path).unwrap();
    assert_eq!(after.permissions().mode() & 0o777, 0o640);
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    assert_ne!(after.ino(), before.ino(), "written through a new inode, not in place");
}

#[test]
fn a_symlinked_file_stays_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("dotfiles")).unwrap();
    let real = dir.path().join("dotfiles/aws-credentials");
    fs::write(&real, "# mine\n[dev]\nk = 1\n").unwrap();
    let link = dir.path().join("credentials");
    std::os::unix::fs::symlink("dotfiles/aws-credentials", &link).unwrap();
    set(&link, "dev", &[("k", "2")]).unwrap();
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(read(&real), "# mine\n[dev]\nk = 2\n");
}

#[test]
fn an_unparseable_file_is_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials");
    let text = "[dev]\naws_access_key_id = AKIA\nthis line is broken\n[prod]\n";
    fs::write(&path, text).unwrap();
    let before = fs::metadata(&path).unwrap();
    let err = set(&path, "dev", &[("k", "2")]).unwrap_err().to_string();
    assert!(err.contains(&format!("{}:3:", path.display())), "{err}");
    assert!(err.contains("untouched"), "{err}");
    assert_eq!(read(&path), text);
    let after = fs::metadata(&path).unwrap();
    assert_eq!((after.ino(), after.mtime_nsec()), (before.ino(), before.mtime_nsec()));
}

#[test]
fn an_edit_that_changes_nothing_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials");
    fs::write(&path, "[dev]\nk = 1\n").unwrap();
    let ino = fs::metadata(&path).unwrap().ino();
    assert_eq!(set(&path, "dev", &[("k", "1")]).unwrap(), Outcome::Unchanged);
    assert_eq!(fs::metadata(&path).unwrap().ino(), ino);
}

#[test]
fn an_outside_edit_during_the_write_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials");
    fs::write(&path, "[dev]\nk = 1\n").unwrap();
    let mut raced = false;
    let outcome = profile::update_observed(
        &path,
        FileKind::Credentials,
        |doc| doc.edit_profile("dev", &[Edit::set("k", "2")]),
        &mut |target| {
            if !raced {
                // Another tool (say `aws configure`) replaces the file by rename at the worst moment.
                raced = true;
                let tmp = target.with_extension("other-tool");
                fs::write(&tmp, "[dev]\nk = 1\n[saml]\naws_access_key_id = AKIAOTHER\n").unwrap();
                fs::rename(&tmp, target).unwrap();
            }
        },
    )
    .unwrap();
    assert_eq!(outcome, Outcome::Written { merged_outside_edits: 1 });
    assert_eq!(read(&path), "[dev]\nk = 2\n[saml]\naws_access_key_id = AKIAOTHER\n");
}

#[test]
fn an_in_place_outside_edit_during_the_write_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials");
    fs::write(&path, "[dev]\nk = 1\n").unwrap();
    let ino = fs::metadata(&path).unwrap().ino();
    let mut writer = None;
    let outcome = profile::update_observed(
        &path,
        FileKind::Credentials,
        |doc| doc.edit_profile("dev", &[Edit::set("k", "2")]),
        &mut |target| {
            if writer.is_none() {
                // An editor that truncates and rewrites in place, at the worst moment: just
                // before the swap. It waits in `open` until credd lets go of the file.
                let target = target.to_path_buf();
                writer = Some(std::thread::spawn(move || {
                    fs::write(target, "[dev]\nk = 1\nregion = eu-west-1\n").unwrap();
                }));
                wait_for_lease_break(ino);
            }
        },
    )
    .unwrap();
    writer.unwrap().join().unwrap();
    assert_eq!(outcome, Outcome::Written { merged_outside_edits: 1 });
    assert_eq!(read(&path), "[dev]\nk = 2\nregion = eu-west-1\n");
}

/// An in-place writer's `open` finds the file by name, and reaches credd's lease only later in the
/// same system call. One that found the name just before credd's exchange and reaches the lease
/// just after credd's checks wrote into the file credd had displaced, and the write was lost (the
/// likeliest cause of outside_writers' rare losses under load). Here the name is found with
/// an `O_PATH` descriptor before the exchange, and the file opened through it for writing the
/// moment the exchange is seen: credd waits for such a writer, puts its file back and re-applies.
#[test]
fn a_writer_that_found_the_file_before_the_swap_and_opens_it_after_is_kept() {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials");
    fs::write(&path, "[dev]\nk = 1\n").unwrap();
    let ino = fs::metadata(&path).unwrap().ino();
    let mut writer = None;
    let outcome = profile::update_observed(
        &path,
        FileKind::Credentials,
        |doc| doc.edit_profile("dev", &[Edit::set("k", "2")]),
        &mut |target| {
            if writer.is_none() {
                let found =
                    fs::OpenOptions::new().read(true).custom_flags(libc::O_PATH).open(target).unwrap();
                let target = target.to_path_buf();
                writer = Some(std::thread::spawn(move || {
                    while fs::metadata(&target).unwrap().ino() == ino {
                        std::hint::spin_loop();
                    }
                    let reopen = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&found));
                    let mut f = fs::OpenOptions::new().write(true).truncate(true).open(reopen).unwrap();
                    f.write_all(b"[dev]\nk = 1\nregion = eu-west-1\n").unwrap();
                }));
            }
        },
    )
    .unwrap();
    writer.unwrap().join().unwrap();
    assert_eq!(read(&path), "[dev]\nk = 2\nregion = eu-west-1\n");
    assert_eq!(outcome, Outcome::Written { merged_outside_edits: 1 });
}

/// Issue 11: an in-place writer caught half-way (the file truncated, half a line written) must
/// be waited for, not read: half a line does not parse, and a torn file that does parse would
/// be built on.
#[test]
fn regression_issue_11_a_half_written_file_is_waited_for() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials");
    fs::write(&path, "[dev]\nk = 1\n[keep]\nmine = yes\n").unwrap();
    let (started_tx, started) = std::sync::mpsc::channel();
    let writer = {
        let path = path.clone();
        std::thread::spawn(move || {
            let mut f = fs::OpenOptions::new().write(true).truncate(true).open(&path).unwrap();
            f.write_all(b"[dev]\nk = 1\n[keep]\nmi").unwrap();
            started_tx.send(()).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
            f.write_all(b"ne = yes\n[theirs]\nx = 1\n").unwrap();
        })
    };
    started.recv().unwrap();
    set(&path, "dev", &[("k", "2")]).expect("a half-written file is waited for, not refused");
    writer.join().unwrap();
    assert_eq!(read(&path), "[dev]\nk = 2\n[keep]\nmine = yes\n[theirs]\nx = 1\n");
}

/// Waits until the kernel shows a writer waiting on credd's lease on inode `ino`.
fn wait_for_lease_break(ino: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let needle = format!(":{ino} ");
    loop {
        let locks = fs::read_to_string("/proc/locks").unwrap();
        if locks.lines().any(|l| l.contains("LEASE  BREAKING") && l.contains(&needle)) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "no writer ever waited on the lease:\n{locks}");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

#[test]
fn concurrent_credd_writers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials");
    fs::write(&path, "# shared\n").unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let path = &path;
            s.spawn(move || {
                for i in 0..50 {
                    let key = format!("k{i}");
                    set(path, &format!("p{t}"), &[(key.as_str(), "v")]).unwrap();
                }
            });
        }
    });
    let doc = profile::read_document(&path, FileKind::Credentials).unwrap().unwrap();
    let sections = doc.sections();
    for t in 0..4 {
        let p = sections.profile(&format!("p{t}")).unwrap();
        assert_eq!(p.props.len(), 50, "p{t} lost keys");
    }
    assert!(read(&path).starts_with("# shared\n"));
}

#[test]
fn temp_files_of_dead_writers_are_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials");
    fs::write(&path, "[dev]\nk = 1\n").unwrap();
    // pid 2^22+1 is above Linux's pid_max default and cannot be alive.
    let stale = dir.path().join(".credentials.credd-tmp-4194305-deadbeef");
    fs::write(&stale, "half a file").unwrap();
    let unrelated = dir.path().join(".credentials.bak");
    fs::write(&unrelated, "keep").unwrap();
    set(&path, "dev", &[("k", "2")]).unwrap();
    assert!(!stale.exists());
    assert!(unrelated.exists());
}

#[test]
fn the_aws_cli_reads_back_what_credd_wrote() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join(".aws/credentials");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, "; hand-written\r\n[default]\r\nregion = us-east-1\r\n").unwrap();
    let session = profile::SessionCredentials {
        access_key_id: "ASIAEXAMPLEKEY123456".into(),
        secret_access_key: "secret/with+chars=".into(),
        session_token: "FwoGZXIvYXdzEXAMPLETOKEN//////////wEa==".into(),
        expiration: chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z").unwrap().into(),
    };
    profile::update(&path, FileKind::Credentials, |doc| {
        let current = doc.sections().profile("dev").cloned();
        doc.edit_profile("dev", &profile::meta::session_edits("dev", &session, current.as_ref())?)
    })
    .unwrap();
    let aws = common::venv_bin("aws");
    for (key, want) in [
        ("aws_access_key_id", "ASIAEXAMPLEKEY123456"),
        ("aws_secret_access_key", "secret/with+chars="),
        ("aws_session_token", "FwoGZXIvYXdzEXAMPLETOKEN//////////wEa=="),
        ("x_security_token_expires", "2030-01-01T00:00:00Z"),
    ] {
        let out = Command::new(&aws)
            .args(["configure", "get", key, "--profile", "dev"])
            .env_clear()
            .envs(common::isolated_env(home.path()))
            .output()
            .unwrap();
        assert!(out.status.success(), "aws configure get {key}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), want, "{key}");
    }
    assert!(read(&path).starts_with("; hand-written\r\n[default]\r\nregion = us-east-1\r\n\r\n[dev]\r\n"));
}
