//! `aws login` sessions: which login sessions the config file holds, which profiles use each,
//! and where their tokens are cached (this file); the cache file itself (`cache`); the DPoP
//! proof (`dpop`); refreshing through the sign-in service's `CreateOAuth2Token` (`signin`), end
//! to end (`refresh`); and doctor's offline checks (`doctor`).
//!
//! A login profile is any profile with `login_session = <ARN>` (botocore's `LoginProvider`,
//! aws-config's `BaseProvider::LoginSession`). Its tokens are cached in
//! `~/.aws/login/cache/<sha256 hex of the login_session value>.json`, or under
//! `AWS_LOGIN_CACHE_DIRECTORY`, which botocore expands (`os.path.expandvars`, then
//! `expanduser`); aws-config takes it verbatim, so a value with `$` or `~` in it is read from
//! two places by the two SDKs, and credd follows botocore (whose CLI writes the file). Pure,
//! but for hashing. How the engine tracks a login session (its origin, its token kind, a
//! `[[session]]` method) is not this room's: it is registered outside, as
//! `docs/architecture.md` lists.

pub mod cache;
pub mod doctor;
pub mod dpop;
pub mod refresh;
pub mod signin;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::paths::Env;
use crate::profile::parse::Section;
use crate::profile::{SectionId, Sections};

pub use refresh::{Refreshed, refresh};

/// The signing service's id, as `AWS_ENDPOINT_URL_SIGNIN` and a `services` section spell it.
pub const SERVICE: &str = "signin";

/// One login session, as the config file's profiles name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginSpec {
    /// What status calls it: `login-session ARN`.
    pub name: String,
    /// The `login_session` value: the ARN of the identity that signed in.
    pub session: String,
    /// The first of its profiles' `region`s, in name order; the cache's `signInRegion` beats it.
    pub region: Option<String>,
    /// Its token cache file.
    pub cache: PathBuf,
    /// The profiles that use it, sorted; never empty.
    pub profiles: Vec<String>,
}

impl LoginSpec {
    /// The command that signs in again.
    pub fn login_command(&self) -> String {
        match self.profiles.first() {
            Some(p) => format!("aws login --profile {p}"),
            None => "aws login".into(),
        }
    }
}

/// Whether a profile gets its credentials from an `aws login` session.
pub fn signs_in_with_login(profile: &Section) -> bool {
    profile.get("login_session").is_some_and(|s| !s.is_empty())
}

/// The login token cache directory, as botocore finds it: `AWS_LOGIN_CACHE_DIRECTORY` (even
/// empty, as Python's `in os.environ`) with `$VAR`/`${VAR}` and a leading `~` expanded, else
/// `~/.aws/login/cache`.
pub fn cache_dir(env: &dyn Env) -> PathBuf {
    match env.var("AWS_LOGIN_CACHE_DIRECTORY") {
        Some(raw) => crate::paths::expand_home(&expand_vars(&raw, env), env),
        None => crate::paths::expand_home("~/.aws/login/cache", env),
    }
}

/// `os.path.expandvars` on POSIX: `$name` and `${name}` (ASCII word characters) become the
/// variable's value; an unset variable, or a `$` before anything else, stays as written.
fn expand_vars(raw: &str, env: &dyn Env) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, len) = match after.strip_prefix('{') {
            Some(braced) => match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            },
            None => {
                let n = after.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
                (&after[..n], n)
            }
        };
        match env.var(name).filter(|_| len > 0 && !name.is_empty()) {
            Some(value) => out.push_str(&value),
            None => out.push_str(&rest[i..i + 1 + len]),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// The cache file for a `login_session` value: its SHA-256, in hex.
pub fn cache_file(dir: &Path, session: &str) -> PathBuf {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, session.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{hex}.json"))
}

/// Every login session the config file's profiles use, with those profiles.
pub fn discover(config: &Sections, dir: &Path) -> Vec<LoginSpec> {
    let mut out: BTreeMap<&str, LoginSpec> = BTreeMap::new();
    for (id, section) in &config.map {
        let SectionId::Profile(profile) = id else { continue };
        let Some(session) = section.get("login_session").filter(|s| !s.is_empty()) else { continue };
        let spec = out.entry(session).or_insert_with(|| LoginSpec {
            name: format!("login-session {session}"),
            session: session.to_string(),
            region: None,
            cache: cache_file(dir, session),
            profiles: Vec::new(),
        });
        spec.profiles.push(profile.clone());
    }
    for spec in out.values_mut() {
        spec.profiles.sort();
        spec.region = spec.profiles.iter().find_map(|p| {
            config
                .map
                .get(&SectionId::Profile(p.clone()))?
                .get("region")
                .filter(|r| !r.is_empty())
                .map(str::to_string)
        });
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::profile::{Document, FileKind};

    const ARN: &str = "arn:aws:iam::0123456789012:user/Admin";

    #[test]
    fn cache_keys_are_botocores_and_aws_configs() {
        // aws-config's own test vector (login/cache.rs, `determine_correct_cache_filenames`).
        assert_eq!(
            cache_file(Path::new("/c"), ARN),
            Path::new("/c/36db1d138ff460920374e4c3d8e01f53f9f73537e89c88d639f68393df0e2726.json")
        );
    }

    #[test]
    fn the_cache_directory_is_expanded_as_botocore_expands_it() {
        let env = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let home = [("HOME", "/home/u")];
        assert_eq!(cache_dir(&env(&home)), Path::new("/home/u/.aws/login/cache"));
        let e = env(&[
            ("HOME", "/home/u"),
            ("AWS_LOGIN_CACHE_DIRECTORY", "~/x/$WHO/${WHO}_$NOPE/$"),
            ("WHO", "me"),
        ]);
        assert_eq!(cache_dir(&e), Path::new("/home/u/x/me/me_$NOPE/$"));
        let e = env(&[("HOME", "/h"), ("AWS_LOGIN_CACHE_DIRECTORY", "$HOME/c/${unclosed")]);
        assert_eq!(cache_dir(&e), Path::new("/h/c/${unclosed"));
    }

    #[test]
    fn profiles_sharing_a_session_are_one_spec_with_the_first_region() {
        let text = format!(
            "[profile b]\nlogin_session = {ARN}\nregion = eu-west-1\n[profile a]\nlogin_session = {ARN}\n\
             [profile other]\nlogin_session = arn:aws:iam::1:user/Other\n[profile plain]\nregion = x\n[profile empty]\nlogin_session =\n"
        );
        let doc = Document::parse(&text, FileKind::Config, Path::new("/k")).unwrap();
        let specs = discover(&doc.sections(), Path::new("/c"));
        let got: Vec<_> = specs
            .iter()
            .map(|s| (s.session.as_str(), s.profiles.clone(), s.region.clone(), s.login_command()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    ARN,
                    vec!["a".to_string(), "b".into()],
                    Some("eu-west-1".to_string()),
                    "aws login --profile a".to_string()
                ),
                ("arn:aws:iam::1:user/Other", vec!["other".into()], None, "aws login --profile other".into()),
            ]
        );
        assert_eq!(specs[0].name, format!("login-session {ARN}"));
        assert_eq!(specs[0].cache, cache_file(Path::new("/c"), ARN));
    }
}
