//! One daemon at a time, by two advisory locks held for the daemon's life:
//!
//! - `RUNTIME_DIR/credd.lock`: one daemon per runtime directory, where its socket lives.
//! - `.NAME.credd-daemon.lock` beside the credentials file credd writes (beside a symlink's
//!   target, which is what the writer replaces): one daemon per credentials file, whatever
//!   `XDG_RUNTIME_DIR` each was started with. Two daemons on one file would each refresh every
//!   session in it, twice the STS calls, each write undoing the other's.
//!
//! The second is a lock *file*, not a lock on the directory, although that would leave nothing
//! behind: every credd write takes the directory's flock for its read-edit-swap
//! (`profile/write.rs`), so a daemon holding it for life would lock out its own writes.
//!
//! Both are flocks, which die with the process, so a crashed daemon never blocks the next one.
//! Each file holds its holder's pid, for the message that refuses a second daemon. Which files
//! credd writes is `paths`' and `files`' business; this module is handed the credentials path.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error(
        "another credd daemon is already running{} and holds {}; stop it first (or use `credd status` to talk to it)",
        .pid.map(|p| format!(" (pid {p})")).unwrap_or_default(), .lock.display()
    )]
    AlreadyRunning { pid: Option<u32>, lock: PathBuf },
    #[error("cannot use the runtime directory {dir}: {source}")]
    Io { dir: String, source: std::io::Error },
    /// The lock beside the credentials file cannot be taken: credd could not write that
    /// directory either.
    #[error(
        "cannot lock {path}, which keeps a second daemon off the same credentials file: {source}; \
         credd needs to create files in {dir} to write the credentials file, so make it yours and writable",
        path = .path.display(), dir = .path.parent().unwrap_or(Path::new(".")).display()
    )]
    FilesLock { path: PathBuf, source: std::io::Error },
}

/// Held while the daemon runs; dropping it (or the process dying) releases both locks.
#[derive(Debug)]
pub struct InstanceLock {
    _runtime: File,
    _files: Option<File>,
}

/// Takes both locks: the runtime directory's, then the one beside `credentials`.
pub fn acquire(runtime_dir: &Path, credentials: &Path) -> Result<InstanceLock, InstanceError> {
    let io = |source| InstanceError::Io { dir: runtime_dir.display().to_string(), source };
    crate::paths::ensure_private_dir(runtime_dir).map_err(io)?;
    let runtime = lock(&runtime_dir.join("credd.lock"), io)?;
    let files = files_lock_path(credentials)
        .and_then(|path| lock(&path, |source| InstanceError::FilesLock { path: path.clone(), source }));
    let files = match files {
        Ok(f) => Some(f),
        // A directory credd may not write at all (a read-only home, a managed dotfile tree):
        // nothing can be refreshed there, and each refresh will say so; watching and `status`
        // still work, so run, guarded by the runtime directory's lock alone.
        Err(InstanceError::FilesLock { path, source })
            if matches!(source.raw_os_error(), Some(libc::EACCES | libc::EPERM | libc::EROFS)) =>
        {
            tracing::warn!(
                "cannot lock {} ({source}): a second daemon with another XDG_RUNTIME_DIR would not be refused",
                path.display()
            );
            None
        }
        Err(e) => return Err(e),
    };
    Ok(InstanceLock { _runtime: runtime, _files: files })
}

/// Where the lock for `credentials` lives: beside the file a write really replaces (symlinks
/// followed as the writer follows them), in its directory's canonical path, so that every
/// spelling of one file (`~/.aws/credentials`, a symlinked `~/.aws`, `..`) names one lock. The
/// directory is created 0700 when missing, as the first write would create it.
fn files_lock_path(credentials: &Path) -> Result<PathBuf, InstanceError> {
    let target = follow_symlinks(credentials);
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        let source = std::io::Error::other("the credentials file's path names no file");
        return Err(InstanceError::FilesLock { path: target.clone(), source });
    };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let lock_name = format!(".{}.credd-daemon.lock", name.to_string_lossy());
    let fail = |source| InstanceError::FilesLock { path: dir.join(&lock_name), source };
    if !dir.exists() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(fail)?;
    }
    Ok(dir.canonicalize().map_err(fail)?.join(lock_name))
}

/// `path` with its chain of symlinks followed, a dangling one to the file it names; as
/// `profile/write.rs` does, which writes the target and leaves the link.
fn follow_symlinks(path: &Path) -> PathBuf {
    let mut current = path.to_path_buf();
    // A loop is left to the writer to report; 40 is the kernel's own limit.
    for _ in 0..40 {
        match std::fs::read_link(&current) {
            Ok(link) => current = current.parent().unwrap_or(Path::new("")).join(link),
            Err(_) => break,
        }
    }
    current
}

/// Opens `path` (0600, never through a symlink), takes its flock and writes our pid into it.
fn lock(path: &Path, io: impl Fn(std::io::Error) -> InstanceError) -> Result<File, InstanceError> {
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(&io)?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut s = String::new();
            let _ = f.read_to_string(&mut s);
            return Err(InstanceError::AlreadyRunning {
                pid: s.trim().parse().ok(),
                lock: path.to_path_buf(),
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    f.set_len(0).map_err(&io)?;
    f.rewind().map_err(&io)?;
    writeln!(f, "{}", std::process::id()).map_err(&io)?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_instance_is_refused_with_the_pid() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("credd");
        let creds = t.path().join(".aws/credentials");
        let first = acquire(&dir, &creds).unwrap();
        let err = acquire(&dir, &creds).unwrap_err().to_string();
        assert!(err.contains(&format!("pid {}", std::process::id())), "{err}");
        drop(first);
        acquire(&dir, &creds).unwrap();
    }

    #[test]
    fn issue24_the_lock_follows_the_credentials_file_not_the_runtime_dir() {
        let t = tempfile::tempdir().unwrap();
        let creds = t.path().join(".aws/credentials");
        let _first = acquire(&t.path().join("run-a"), &creds).unwrap();
        let err = acquire(&t.path().join("run-b"), &creds).unwrap_err();
        let lock = t.path().canonicalize().unwrap().join(".aws/.credentials.credd-daemon.lock");
        assert!(
            matches!(&err, InstanceError::AlreadyRunning { pid: Some(p), lock: l } if *p == std::process::id() && *l == lock),
            "{err}"
        );
        // Every spelling of the file is the file: a symlinked directory, a symlink to the file.
        std::os::unix::fs::symlink(t.path().join(".aws"), t.path().join("alias")).unwrap();
        assert!(acquire(&t.path().join("run-c"), &t.path().join("alias/credentials")).is_err());
        std::os::unix::fs::symlink(&creds, t.path().join("link")).unwrap();
        assert!(acquire(&t.path().join("run-d"), &t.path().join("link")).is_err());
        // Another file, even in the same directory, is another daemon's business.
        acquire(&t.path().join("run-e"), &t.path().join(".aws/work-credentials")).unwrap();
    }
}
