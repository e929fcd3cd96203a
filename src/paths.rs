//! Where things live: the AWS shared files (as the SDKs find them), credd's own config, and its
//! runtime directory (the instance lock, the socket and the shell hook's generation stamps).
//!
//! Environment lookups go through [`Env`] so tests can hand in a map instead of mutating the
//! process environment.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// A source of environment variables.
pub trait Env {
    fn var(&self, key: &str) -> Option<String>;
}

/// The real process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok()
    }
}

impl Env for HashMap<String, String> {
    fn var(&self, key: &str) -> Option<String> {
        self.get(key).cloned()
    }
}

pub fn home(env: &dyn Env) -> Option<PathBuf> {
    env.var("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

/// Expands a leading `~` component to `$HOME`, as aws-config does (and only a leading one).
pub fn expand_home(path: &str, env: &dyn Env) -> PathBuf {
    let p = Path::new(path);
    let mut components = p.components();
    match (components.next(), home(env)) {
        (Some(Component::Normal(first)), Some(home)) if first == "~" => {
            let mut out = home;
            out.extend(components);
            out
        }
        _ => p.to_path_buf(),
    }
}

/// `AWS_CONFIG_FILE`, else `~/.aws/config`.
pub fn aws_config_file(env: &dyn Env) -> PathBuf {
    let raw = env.var("AWS_CONFIG_FILE").filter(|v| !v.is_empty());
    expand_home(raw.as_deref().unwrap_or("~/.aws/config"), env)
}

/// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
pub fn aws_credentials_file(env: &dyn Env) -> PathBuf {
    let raw = env.var("AWS_SHARED_CREDENTIALS_FILE").filter(|v| !v.is_empty());
    expand_home(raw.as_deref().unwrap_or("~/.aws/credentials"), env)
}

/// The launchd label (and plist name) of the agent.
pub const LAUNCHD_LABEL: &str = "io.github.credd";

/// The control socket: `--socket`, then `CREDD_SOCKET`, then the config's `socket`, then
/// `RUNTIME_DIR/credd.sock`.
pub fn socket_path(flag: Option<&Path>, env: &dyn Env, config: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    if let Some(p) = env.var("CREDD_SOCKET").filter(|v| !v.is_empty()) {
        return expand_home(&p, env);
    }
    if let Some(p) = config {
        return expand_home(&p.to_string_lossy(), env);
    }
    runtime_dir(env).join("credd.sock")
}

/// `CREDD_CONFIG`, else `$XDG_CONFIG_HOME/credd/config.toml`, else `~/.config/credd/config.toml`.
/// `--config` beats all of them; the CLI handles that.
pub fn config_file(env: &dyn Env) -> PathBuf {
    if let Some(p) = env.var("CREDD_CONFIG").filter(|v| !v.is_empty()) {
        return expand_home(&p, env);
    }
    let base = env
        .var("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| expand_home("~/.config", env));
    base.join("credd").join("config.toml")
}

/// `$XDG_RUNTIME_DIR/credd`, else `/tmp/credd-$UID` (Linux); `$TMPDIR/credd` (macOS).
pub fn runtime_dir(env: &dyn Env) -> PathBuf {
    if cfg!(target_os = "macos") {
        let tmp = env.var("TMPDIR").filter(|v| !v.is_empty()).unwrap_or_else(|| "/tmp".into());
        return PathBuf::from(tmp).join("credd");
    }
    match env.var("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("credd"),
        None => PathBuf::from(format!("/tmp/credd-{}", crate::sys::uid())),
    }
}

/// Creates `dir` as 0700, or checks an existing one is ours and private. A directory another
/// user owns (or can write) in /tmp is an attack, not a configuration.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
            return Ok(());
        }
        Err(e) => return Err(e),
    }
    let meta = std::fs::symlink_metadata(dir)?;
    let uid = crate::sys::uid();
    if !meta.is_dir() || meta.uid() != uid {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("{} exists but is not a directory owned by you", dir.display()),
        ));
    }
    if meta.mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn default_locations_and_overrides() {
        let e = env(&[("HOME", "/home/a")]);
        assert_eq!(aws_config_file(&e), PathBuf::from("/home/a/.aws/config"));
        assert_eq!(aws_credentials_file(&e), PathBuf::from("/home/a/.aws/credentials"));
        let e = env(&[
            ("HOME", "/home/a"),
            ("AWS_CONFIG_FILE", "~/cfg/aws"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/etc/creds"),
        ]);
        assert_eq!(aws_config_file(&e), PathBuf::from("/home/a/cfg/aws"));
        assert_eq!(aws_credentials_file(&e), PathBuf::from("/etc/creds"));
    }

    #[test]
    fn credd_config_location() {
        let e = env(&[("HOME", "/h")]);
        assert_eq!(config_file(&e), PathBuf::from("/h/.config/credd/config.toml"));
        let e = env(&[("HOME", "/h"), ("XDG_CONFIG_HOME", "/x")]);
        assert_eq!(config_file(&e), PathBuf::from("/x/credd/config.toml"));
        let e = env(&[("HOME", "/h"), ("XDG_CONFIG_HOME", "/x"), ("CREDD_CONFIG", "~/c.toml")]);
        assert_eq!(config_file(&e), PathBuf::from("/h/c.toml"));
    }

    #[test]
    fn private_dirs_are_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("a/b");
        ensure_private_dir(&d).unwrap();
        assert_eq!(std::fs::metadata(&d).unwrap().permissions().mode() & 0o777, 0o700);
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&d).unwrap();
        assert_eq!(std::fs::metadata(&d).unwrap().permissions().mode() & 0o777, 0o700);
    }

    #[test]
    fn only_a_leading_tilde_expands() {
        let e = env(&[("HOME", "/h")]);
        assert_eq!(expand_home("a/~/b", &e), PathBuf::from("a/~/b"));
        assert_eq!(expand_home("~user/x", &e), PathBuf::from("~user/x"));
        assert_eq!(expand_home("~", &e), PathBuf::from("/h"));
    }
}
