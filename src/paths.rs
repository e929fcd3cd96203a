//! Where things live: the AWS shared files (as the SDKs find them) and, later, credd's own config,
//! state and socket.
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
    let raw = env
        .var("AWS_SHARED_CREDENTIALS_FILE")
        .filter(|v| !v.is_empty());
    expand_home(raw.as_deref().unwrap_or("~/.aws/credentials"), env)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn default_locations_and_overrides() {
        let e = env(&[("HOME", "/home/a")]);
        assert_eq!(aws_config_file(&e), PathBuf::from("/home/a/.aws/config"));
        assert_eq!(
            aws_credentials_file(&e),
            PathBuf::from("/home/a/.aws/credentials")
        );
        let e = env(&[
            ("HOME", "/home/a"),
            ("AWS_CONFIG_FILE", "~/cfg/aws"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/etc/creds"),
        ]);
        assert_eq!(aws_config_file(&e), PathBuf::from("/home/a/cfg/aws"));
        assert_eq!(aws_credentials_file(&e), PathBuf::from("/etc/creds"));
    }

    #[test]
    fn only_a_leading_tilde_expands() {
        let e = env(&[("HOME", "/h")]);
        assert_eq!(expand_home("a/~/b", &e), PathBuf::from("a/~/b"));
        assert_eq!(expand_home("~user/x", &e), PathBuf::from("~user/x"));
        assert_eq!(expand_home("~", &e), PathBuf::from("/h"));
    }
}
