//! One daemon per user: an advisory lock on `RUNTIME_DIR/credd.lock`, held for the daemon's life.
//! The lock dies with the process, so a crashed daemon never blocks the next one.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("another credd daemon is already running{}; stop it first (or use `credd status` to talk to it)", .pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    AlreadyRunning { pid: Option<u32> },
    #[error("cannot use the runtime directory {dir}: {source}")]
    Io { dir: String, source: std::io::Error },
}

/// Held while the daemon runs.
#[derive(Debug)]
pub struct InstanceLock(#[allow(dead_code)] File);

pub fn acquire(runtime_dir: &Path) -> Result<InstanceLock, InstanceError> {
    let io = |source| InstanceError::Io { dir: runtime_dir.display().to_string(), source };
    crate::paths::ensure_private_dir(runtime_dir).map_err(io)?;
    let path = runtime_dir.join("credd.lock");
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(io)?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut s = String::new();
            let _ = f.read_to_string(&mut s);
            return Err(InstanceError::AlreadyRunning { pid: s.trim().parse().ok() });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    f.set_len(0).map_err(io)?;
    f.rewind().map_err(io)?;
    writeln!(f, "{}", std::process::id()).map_err(io)?;
    Ok(InstanceLock(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_instance_is_refused_with_the_pid() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("credd");
        let first = acquire(&dir).unwrap();
        let err = acquire(&dir).unwrap_err().to_string();
        assert!(err.contains(&format!("pid {}", std::process::id())), "{err}");
        drop(first);
        acquire(&dir).unwrap();
    }
}
