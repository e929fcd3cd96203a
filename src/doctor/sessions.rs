//! The sessions credd refreshes, as doctor sees them: could each one be written where it lives,
//! right now? A session whose profile or env file holds long-term keys, or whose directory credd
//! may not write, fails at every refresh; the daemon says so in `credd status`, and doctor says
//! it too, from the same check the refresh makes before calling STS (`refresh::store::check`).
//!
//! And would anyone read it? A session written into `[NAME]` of the credentials file is ignored
//! by every SDK when the same profile gets credentials another way they try first.
//!
//! Offline, and about credd's own work rather than the profile in use: each finding names the
//! session, whichever profile doctor was asked about.

use std::path::Path;

use super::{Finding, Severity, Source};
use crate::files::Loaded;
use crate::sessions::SessionSpec;

/// One finding for each of `sessions` (as planned) that could not be written now.
pub fn check(sessions: &[SessionSpec], loaded: &Loaded, credentials: &Path) -> Vec<Finding> {
    sessions
        .iter()
        .filter(|s| s.managed().is_some_and(|m| !m.in_own_file()))
        .filter_map(|s| {
            let e = crate::refresh::store::check(&s.name, &s.home, credentials, loaded).err()?;
            let err = crate::refresh::run::file_failure(e);
            Some(Finding::new(
                err.finding?,
                Severity::Error,
                None,
                Source::CredentialsFile,
                format!("session \"{}\" cannot be refreshed: {}", s.name, err.message),
                err.fix.map(String::from).unwrap_or_default(),
            ))
        })
        .collect()
}

/// The keys that give a profile credentials SDKs take before its static keys: botocore's
/// provider chain tries assume-role, web identity and SSO before the shared credentials file,
/// and aws-config's profile chain resolves a role, SSO or web identity before static keys.
const OUTRANK: [&str; 4] = ["role_arn", "web_identity_token_file", "sso_session", "sso_start_url"];

/// One warning for each of `sessions` written into a profile whose credentials SDKs take from
/// elsewhere (`OUTRANK`), as both files merged say now.
pub fn shadowed(sessions: &[SessionSpec], loaded: &Loaded) -> Vec<Finding> {
    let merged = loaded.merged();
    sessions
        .iter()
        .filter(|s| s.managed().is_some() && s.home.has_profile())
        .filter_map(|s| {
            let profile = merged.profile(&s.name)?;
            let keys: Vec<&str> = OUTRANK.into_iter().filter(|k| profile.get(k).is_some()).collect();
            let first = keys.first()?;
            Some(Finding::new(
                crate::finding::Code::SessionShadowed,
                Severity::Warn,
                None,
                Source::ConfigFile,
                format!(
                    "session \"{}\" is written into [{}] of the credentials file, but the profile also has {}, which SDKs use first: the aws CLI, boto3 and the SDKs never read what credd writes there",
                    s.name,
                    s.name,
                    keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" and ")
                ),
                format!(
                    "give the [[session]] another `name` and use that profile, or remove `{first}` from [profile {}]",
                    s.name
                ),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn a_session_named_after_a_role_or_sso_profile_is_shadowed() {
        let config = Config::parse(
            "[[session]]\nname = \"corp-dev\"\nmethod = \"assume-role\"\nsource_profile = \"base\"\nrole_arn = \"arn:aws:iam::123456789012:role/r\"\n\
             [[session]]\nname = \"plain\"\nmethod = \"assume-role\"\nsource_profile = \"base\"\nrole_arn = \"arn:aws:iam::123456789012:role/r\"\n",
            std::path::Path::new("/c.toml"),
        )
        .unwrap();
        let loaded = Loaded::from_text(
            "[profile corp-dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n[profile plain]\nregion = eu-west-1\n",
            "[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = s\n",
        );
        let plan = crate::sessions::plan(&config, &loaded, &crate::sessions::Host::test());
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
        let found = shadowed(&plan.sessions, &loaded);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, crate::finding::Code::SessionShadowed);
        assert!(
            found[0].message.contains("\"corp-dev\"") && found[0].message.contains("`sso_session`"),
            "{}",
            found[0].message
        );
    }
}
