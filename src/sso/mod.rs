//! IAM Identity Center (SSO): which SSO sessions the config file holds, which profiles sign in
//! through one, and where their tokens are cached (this file); the token cache file itself
//! (`cache`); refreshing a token through sso-oidc `CreateToken` (`oidc`), end to end (`refresh`);
//! and an SSO profile's role credentials from the portal (`portal`).
//!
//! An SSO session is an `[sso-session NAME]` section, or a legacy profile that carries
//! `sso_start_url` itself. Its token is cached in `~/.aws/sso/cache/<sha1>.json`, keyed by the
//! session's name, or for a legacy profile by its start URL, exactly as botocore and aws-config
//! key it. Pure, but for hashing.

pub mod cache;
pub mod doctor;
pub mod oidc;
pub mod portal;
pub mod refresh;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::paths::Env;
use crate::profile::parse::Section;
use crate::profile::{SectionId, Sections};

/// One SSO session, as the config file declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoSpec {
    /// What status calls it: `sso-session NAME`, or the start URL of a legacy profile.
    pub name: String,
    /// The `[sso-session]` name; `None` for a legacy profile.
    pub session: Option<String>,
    pub start_url: String,
    /// `sso_region`, when set.
    pub region: Option<String>,
    /// Its token cache file.
    pub cache: PathBuf,
    /// The profiles that sign in through it, sorted.
    pub profiles: Vec<String>,
}

impl SsoSpec {
    /// The command that signs in again.
    pub fn login_command(&self) -> String {
        match (&self.session, self.profiles.first()) {
            (Some(s), _) => format!("aws sso login --sso-session {s}"),
            (None, Some(p)) => format!("aws sso login --profile {p}"),
            (None, None) => "aws sso login".into(),
        }
    }
}

/// Whether a profile signs in through IAM Identity Center: it names an `sso_session`, or carries
/// a (legacy) `sso_start_url` itself.
pub fn signs_in_with_sso(profile: &Section) -> bool {
    profile.get("sso_session").is_some() || profile.get("sso_start_url").is_some()
}

/// `~/.aws/sso/cache`, where every SDK and the CLI keep SSO tokens.
pub fn cache_dir(env: &dyn Env) -> PathBuf {
    crate::paths::expand_home("~/.aws/sso/cache", env)
}

/// The cache file for `key`: the session name, or a legacy profile's start URL.
pub fn cache_file(dir: &Path, key: &str) -> PathBuf {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, key.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{hex}.json"))
}

/// Every SSO session the config file declares, with the profiles that use it. A session no
/// profile uses is listed too: `aws sso login --sso-session` works without one.
pub fn discover(config: &Sections, dir: &Path) -> Vec<SsoSpec> {
    let mut out: BTreeMap<String, SsoSpec> = BTreeMap::new();
    for (id, section) in &config.map {
        let SectionId::SsoSession(name) = id else { continue };
        let Some(start_url) = section.get("sso_start_url").filter(|u| !u.is_empty()) else { continue };
        out.insert(
            format!("sso-session {name}"),
            SsoSpec {
                name: format!("sso-session {name}"),
                session: Some(name.clone()),
                start_url: start_url.to_string(),
                region: section.get("sso_region").map(str::to_string),
                cache: cache_file(dir, name),
                profiles: Vec::new(),
            },
        );
    }
    for (id, section) in &config.map {
        let SectionId::Profile(profile) = id else { continue };
        if let Some(session) = section.get("sso_session") {
            if let Some(spec) = out.get_mut(&format!("sso-session {session}")) {
                spec.profiles.push(profile.clone());
            }
            continue;
        }
        let Some(url) = section.get("sso_start_url").filter(|u| !u.is_empty()) else { continue };
        let spec = out.entry(url.to_string()).or_insert_with(|| SsoSpec {
            name: url.to_string(),
            session: None,
            start_url: url.to_string(),
            region: section.get("sso_region").map(str::to_string),
            cache: cache_file(dir, url),
            profiles: Vec::new(),
        });
        spec.profiles.push(profile.clone());
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Document, FileKind};

    #[test]
    fn cache_keys_are_botocores() {
        // sha1("my-sso") and sha1 of the start URL, as botocore's SSOTokenLoader computes them.
        let dir = Path::new("/c");
        assert_eq!(cache_file(dir, "my-sso"), Path::new("/c/0ad374308c5a4e22f723adf10145eafad7c4031c.json"));
    }

    #[test]
    fn sessions_and_legacy_profiles_with_their_users() {
        let text = "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\
                    [profile dev]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Dev\n\
                    [profile old]\nsso_start_url = https://old.awsapps.com/start\nsso_region = us-east-1\n\
                    [profile ops]\nsso_session = corp\n[profile plain]\nregion = x\n";
        let doc = Document::parse(text, FileKind::Config, Path::new("/k")).unwrap();
        let specs = discover(&doc.sections(), Path::new("/c"));
        let got: Vec<_> =
            specs.iter().map(|s| (s.name.as_str(), s.profiles.clone(), s.login_command())).collect();
        assert_eq!(
            got,
            [
                (
                    "https://old.awsapps.com/start",
                    vec!["old".to_string()],
                    "aws sso login --profile old".to_string()
                ),
                (
                    "sso-session corp",
                    vec!["dev".into(), "ops".into()],
                    "aws sso login --sso-session corp".into()
                ),
            ]
        );
        assert_eq!(specs[1].region.as_deref(), Some("eu-west-1"));
    }
}
