//! The shell hooks (`credd hook bash|zsh|fish`): the scripts live beside this file; this renders
//! them with the absolute path of this binary and the runtime directory baked in, so a prompt
//! never searches PATH or computes a path.
//!
//! The daemon's side is a generation stamp per session (`RUNTIME_DIR/gen/NAME`), touched when
//! the session's credentials change; a shell compares it with its own marker file
//! (`RUNTIME_DIR/shells/PID`) using only builtins.

use std::path::Path;

const POSIX: &str = include_str!("credd.bash");
const FISH: &str = include_str!("credd.fish");

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn fish_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'"))
}

pub fn render(shell: Shell, binary: &Path, runtime_dir: &Path) -> String {
    let (bin, rt) = (binary.display().to_string(), runtime_dir.display().to_string());
    match shell {
        Shell::Bash | Shell::Zsh => {
            POSIX.replace("__CREDD_BIN__", &quote(&bin)).replace("__CREDD_RUNTIME__", &quote(&rt))
        }
        Shell::Fish => {
            FISH.replace("__CREDD_BIN__", &fish_quote(&bin)).replace("__CREDD_RUNTIME__", &fish_quote(&rt))
        }
    }
}

/// Marks that `session`'s credentials changed: shells that exported it re-export at their next
/// prompt.
///
/// Only a name that is one plain file name gets a stamp. A `[[watch]]` without a `name` is named
/// by its env file's path, and `gen/` joined with an absolute path *is* that path: writing the
/// stamp truncated the user's env file. Such a session has no stamp (no shell exports it by
/// name), and the stamp is never opened through a symlink.
pub fn touch_generation(runtime_dir: &Path, session: &str) {
    if !is_stamp_name(session) {
        return;
    }
    let dir = runtime_dir.join("gen");
    let result = std::fs::create_dir_all(&dir).and_then(|()| {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(dir.join(session))
            .map(drop)
    });
    if let Err(e) = result {
        tracing::debug!("could not update the generation stamp for {session}: {e}");
    }
}

/// Whether `name` is a single, plain file name: no separator, not `.` or `..`, not hidden.
fn is_stamp_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 25: a watch named by its env file's path had its env file truncated by the stamp.
    #[test]
    fn issue25_a_stamp_never_lands_outside_its_directory() {
        let t = tempfile::tempdir().unwrap();
        let env = t.path().join("watch.env");
        std::fs::write(&env, "AWS_ACCESS_KEY_ID=ASIAX\n").unwrap();
        let rt = t.path().join("run");
        touch_generation(&rt, &env.display().to_string());
        touch_generation(&rt, "../watch.env");
        assert_eq!(std::fs::read_to_string(&env).unwrap(), "AWS_ACCESS_KEY_ID=ASIAX\n");
        touch_generation(&rt, "dev");
        assert!(rt.join("gen/dev").exists());
    }

    #[test]
    fn scripts_have_their_paths_baked_in() {
        let b = render(Shell::Bash, Path::new("/opt/my credd/credd"), Path::new("/run/user/1/credd"));
        assert!(
            b.contains("_credd_bin='/opt/my credd/credd'\n") && b.contains("_credd_rt='/run/user/1/credd'\n")
        );
        assert!(!b.contains("__CREDD_"));
        let f = render(Shell::Fish, Path::new("/x/credd"), Path::new("/r"));
        assert!(f.contains("set -g __credd_bin '/x/credd'\n") && !f.contains("__CREDD_"));
    }
}
