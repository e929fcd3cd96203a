//! The files one `credd exec` hands its command, in a directory of their own inside credd's
//! runtime directory (`exec-PID`, 0700): the token file, the empty credentials file and the
//! config copy, each 0600. Dropping the [`RunDir`] removes it; a directory left by a `credd exec`
//! that was killed is removed by the next one ([`sweep`]).
//!
//! What goes into the files is `child_env.rs`'s; this only creates, writes and removes.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

const PREFIX: &str = "exec-";

#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Creates `RUNTIME/exec-PID` for this process, after making sure `runtime` is private.
    pub fn create(runtime: &Path) -> std::io::Result<RunDir> {
        crate::paths::ensure_private_dir(runtime)?;
        sweep(runtime);
        let path = runtime.join(format!("{PREFIX}{}", std::process::id()));
        // A directory of this name belonged to a dead process with our pid: `sweep` could not
        // tell, since the pid is alive (ours). It is ours to replace.
        if path.exists() {
            std::fs::remove_dir_all(&path)?;
        }
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(RunDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `name` in the directory, 0600, refusing to follow or reuse anything already there.
    pub fn write(&self, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let path = self.path.join(name);
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
        f.write_all(bytes)?;
        Ok(path)
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Removes the `exec-PID` directories whose process is gone.
pub fn sweep(runtime: &Path) {
    let Ok(entries) = std::fs::read_dir(runtime) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) =
            name.to_str().and_then(|n| n.strip_prefix(PREFIX)).and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        if pid > 0 && !crate::sys::process_alive(pid) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn private_files_removed_on_drop_and_stale_ones_swept() {
        let t = tempfile::tempdir().unwrap();
        let runtime = t.path().join("credd");
        std::fs::create_dir(&runtime).unwrap();
        let stale = runtime.join("exec-4194305");
        std::fs::create_dir(&stale).unwrap();
        let alive = runtime.join("exec-1");
        std::fs::create_dir(&alive).unwrap();
        let dir = RunDir::create(&runtime).unwrap();
        assert!(!stale.exists(), "a dead process's directory is swept");
        assert!(alive.exists(), "a live one is left alone");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(dir.path()), 0o700);
        let token = dir.write("token", b"abc").unwrap();
        assert_eq!(mode(&token), 0o600);
        assert!(dir.write("token", b"again").is_err(), "never written twice");
        let path = dir.path().to_path_buf();
        drop(dir);
        assert!(!path.exists());
    }
}
