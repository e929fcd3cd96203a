//! Doctor's view of keyring-held profiles: the credentials file marks a profile's keys as held in
//! the OS keyring (`credd keyring import`); is the keyring there, unlocked, and holding them?
//! The keys it finds go on to the live STS checks like keys in the files.

use std::collections::HashMap;

use super::{Finding, Severity, Source};
use crate::files::Loaded;
use crate::finding::Code;
use crate::keyring::{Keyring, MARKER};
use crate::profile::meta::{self, CredentialKind, ProfileCredentials};

/// Findings for the held profiles (only `only`, when given), and the keys the keyring gave.
pub async fn check(
    ring: &dyn Keyring,
    loaded: &Loaded,
    only: Option<&str>,
) -> (Vec<Finding>, HashMap<String, ProfileCredentials>) {
    let (mut findings, mut keys) = (Vec::new(), HashMap::new());
    let Some(creds) = loaded.credentials_document() else { return (findings, keys) };
    let merged = loaded.merged();
    let held: Vec<&str> = creds
        .noted_profiles(MARKER)
        .into_iter()
        .filter(|p| only.is_none_or(|o| o == *p))
        // Keys put back in a file by hand are what SDKs use; the files' checks cover them.
        .filter(|p| merged.profile(p).is_none_or(|s| meta::credential_kind(s) == CredentialKind::Absent))
        .collect();
    for profile in held {
        let finding = |code, message: String, fix: String| {
            Finding::new(code, Severity::Error, Some(profile), Source::CredentialsFile, message, fix)
        };
        match ring.get(profile).await {
            Ok(Some(k)) => {
                keys.insert(profile.to_string(), k.into());
            }
            Ok(None) => findings.push(finding(
                Code::KeyringMissing,
                format!("the credentials file says the keys of [{profile}] are in the OS keyring, but it holds none"),
                format!("restore the keys with `aws configure --profile {profile}`, then `credd keyring import {profile}`"),
            )),
            Err(e) => {
                let code = e.finding();
                findings.push(finding(
                    code,
                    format!("the keys of [{profile}] are in the OS keyring, and {e}; credd cannot refresh sessions from them"),
                    e.fix().to_string(),
                ));
            }
        }
    }
    (findings, keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyring::memory::Memory;
    use crate::keyring::{KeyringError, LongTermKey};

    const FILE: &str = "[work]\n# credd-keyring: the keys are in the OS keyring\nregion = eu-west-1\n[gone]\n# credd-keyring: x\n[back]\n# credd-keyring: x\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s\n";

    #[tokio::test]
    async fn each_held_profile_is_found_missing_or_found_and_checked_live() {
        let ring = Memory::default();
        let key = LongTermKey { access_key_id: "AKIAWORK".into(), secret_access_key: "s".into() };
        ring.items.lock().unwrap().insert("work".into(), key);
        let (findings, keys) = check(&ring, &Loaded::from_text("", FILE), None).await;
        let codes: Vec<_> = findings.iter().map(|f| (f.code, f.profile.as_deref())).collect();
        // [back] has its keys in the file again: no keyring finding, and no key-incomplete either.
        assert_eq!(codes, [(Code::KeyringMissing, Some("gone"))]);
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["work"]);
    }

    #[tokio::test]
    async fn a_locked_or_absent_keyring_is_named_with_its_fix() {
        for (broken, code) in [
            (KeyringError::Locked, Code::KeyringLocked),
            (KeyringError::Unavailable("no bus".into()), Code::KeyringUnavailable),
        ] {
            let ring = Memory::default();
            *ring.broken.lock().unwrap() = Some(broken.clone());
            let (findings, keys) = check(&ring, &Loaded::from_text("", FILE), Some("work")).await;
            assert_eq!(findings.len(), 1, "{findings:?}");
            assert_eq!((findings[0].code, findings[0].fix.as_str()), (code, broken.fix()));
            assert!(keys.is_empty());
        }
    }
}
