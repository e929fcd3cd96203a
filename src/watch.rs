//! File watching: turns filesystem events on the files credd cares about into a plain "something
//! changed" signal. Debouncing and deciding what changed are the daemon's job.
//!
//! Directories are watched, not files: editors replace files by rename, tools delete and re-create
//! them, and a watch on the old inode would go quiet. For a symlinked file the link's directory and
//! the target's directory are both watched. A directory that does not exist yet is covered by
//! watching its nearest existing ancestor; the daemon re-plans the watches after every change.
//!
//! Events that cannot mean a change (opens, reads, credd's own temp files) are dropped here, so a
//! program merely reading `~/.aws/credentials` does not wake the daemon's loop.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc::UnboundedSender;

/// The directories to watch and the file names that matter in them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchPlan {
    pub dirs: BTreeSet<PathBuf>,
    pub names: BTreeSet<OsString>,
}

impl WatchPlan {
    pub fn for_files<'a>(files: impl IntoIterator<Item = &'a Path>) -> WatchPlan {
        let mut plan = WatchPlan::default();
        for file in files {
            let mut targets = vec![file.to_path_buf()];
            if let Ok(resolved) = std::fs::canonicalize(file)
                && resolved != file
            {
                targets.push(resolved);
            }
            for t in targets {
                if let Some(name) = t.file_name() {
                    plan.names.insert(name.to_os_string());
                }
                let mut dir = t.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
                // Watch the nearest existing ancestor; its creation events name the missing child.
                while !dir.exists() {
                    match dir.parent() {
                        Some(p) => {
                            if let Some(n) = dir.file_name() {
                                plan.names.insert(n.to_os_string());
                            }
                            dir = p.to_path_buf();
                        }
                        None => break,
                    }
                }
                plan.dirs.insert(dir);
            }
        }
        plan
    }

    fn matters(&self, path: &Path) -> bool {
        path.file_name().is_some_and(|n| self.names.contains(n))
    }
}

/// A live watch. Dropping it stops watching.
pub struct Watcher {
    inner: RecommendedWatcher,
    plan: WatchPlan,
    tx: UnboundedSender<()>,
}

impl Watcher {
    pub fn new(plan: WatchPlan, tx: UnboundedSender<()>) -> notify::Result<Watcher> {
        let inner = Self::make(&plan, tx.clone())?;
        Ok(Watcher { inner, plan, tx })
    }

    fn make(plan: &WatchPlan, tx: UnboundedSender<()>) -> notify::Result<RecommendedWatcher> {
        let filter = plan.clone();
        let mut w = notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
            Ok(event) => {
                if matches!(event.kind, EventKind::Access(_)) {
                    return;
                }
                if event.paths.iter().any(|p| filter.matters(p)) || event.need_rescan() {
                    let _ = tx.send(());
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "file watcher error; rescanning");
                let _ = tx.send(());
            }
        })?;
        for dir in &plan.dirs {
            if let Err(e) = w.watch(dir, RecursiveMode::NonRecursive) {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot watch directory");
            }
        }
        Ok(w)
    }

    /// Re-plans the watches if the set of directories changed (a missing directory appeared, a
    /// symlink was re-pointed, the config named other files).
    pub fn update(&mut self, plan: WatchPlan) {
        if plan == self.plan {
            return;
        }
        match Self::make(&plan, self.tx.clone()) {
            Ok(w) => {
                tracing::debug!(dirs = ?plan.dirs, "watching");
                self.inner = w;
                self.plan = plan;
            }
            Err(e) => tracing::warn!(error = %e, "cannot update file watches"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn plans_cover_missing_dirs_and_symlink_targets() {
        let t = tempfile::tempdir().unwrap();
        let missing = t.path().join("no/such/credentials");
        let plan = WatchPlan::for_files([missing.as_path()]);
        assert!(plan.dirs.contains(t.path()));
        assert!(plan.names.contains(std::ffi::OsStr::new("no")));

        std::fs::create_dir(t.path().join("real")).unwrap();
        std::fs::write(t.path().join("real/creds"), "").unwrap();
        std::os::unix::fs::symlink(t.path().join("real/creds"), t.path().join("link")).unwrap();
        let plan = WatchPlan::for_files([t.path().join("link").as_path()]);
        assert!(plan.dirs.contains(&t.path().join("real").canonicalize().unwrap()));
        assert!(plan.dirs.contains(t.path()));
    }

    #[tokio::test]
    async fn a_rename_over_the_file_is_seen_and_reads_are_not() {
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join("credentials");
        std::fs::write(&file, "[a]\n").unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _w = Watcher::new(WatchPlan::for_files([file.as_path()]), tx).unwrap();
        // A read is not a change.
        std::fs::read(&file).unwrap();
        std::fs::write(t.path().join("unrelated"), "x").unwrap();
        assert!(tokio::time::timeout(Duration::from_millis(200), rx.recv()).await.is_err());
        // An editor's save: write elsewhere, rename over.
        std::fs::write(t.path().join(".credentials.swp"), "[b]\n").unwrap();
        std::fs::rename(t.path().join(".credentials.swp"), &file).unwrap();
        tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("event").unwrap();
    }
}
