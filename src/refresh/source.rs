//! Where a renewed session's credentials come from, as aws-config's profile chain models it: one
//! base source, then the method credd renews with. [`Source`] is the base: long-term keys in the
//! AWS files, long-term keys in the OS keyring, the current credentials of another session
//! (role chaining), or an SSO profile's role credentials. [`Renewal`] is the method: an STS call
//! made with the source's credentials, or the source's own credentials, written where the session
//! lives. A new kind of credentials (a login session, `credential_process`, web identity) is one
//! more `Source` variant, fetched in its own room.

use super::RefreshError;
use crate::config::{Method, Settings};
use crate::files::Loaded;
use crate::finding::Code;
use crate::paths::Env;
use crate::profile::meta::{self, ProfileCredentials};
use crate::profile::{Sections, SessionCredentials};
use crate::sessions::{Host, Managed};
use crate::sso::portal::SsoProfile;

/// Where the credentials come from, found in the files as read now.
pub enum Source {
    /// Keys in the AWS files: a profile's long-term keys, or for a chained session its source
    /// session's current credentials.
    Keys(ProfileCredentials),
    /// Long-term keys in the OS keyring, for this profile (the credentials file marks it).
    Keyring(String),
    /// An SSO profile's role credentials, and the portal's endpoint override.
    Sso(Box<SsoProfile>, Option<String>),
}

/// The source's credentials, fetched.
pub enum Fetched {
    /// Keys to call STS with.
    Keys(ProfileCredentials),
    /// A session of the source's own, with its expiry, and who it is.
    Session { credentials: SessionCredentials, identity: String },
}

impl Fetched {
    /// The keys an STS call signs with.
    pub fn into_keys(self) -> ProfileCredentials {
        match self {
            Fetched::Keys(k) => k,
            Fetched::Session { credentials: c, .. } => ProfileCredentials {
                access_key_id: c.access_key_id,
                secret_access_key: c.secret_access_key,
                session_token: Some(c.session_token),
            },
        }
    }
}

impl Source {
    /// The source of `managed`, as `loaded` has it: an SSO profile, a profile marked as held in
    /// the OS keyring, or keys in the files, in that order (the SDKs' order for a profile's own
    /// credentials).
    pub fn find(loaded: &Loaded, managed: &Managed, env: &dyn Env) -> Result<Source, RefreshError> {
        let settings = &managed.settings;
        let profile = &settings.source_profile;
        let sections = loaded.merged_where(crate::sso::portal::sections_of(profile));
        match crate::sso::portal::sso_profile(&sections, profile, &crate::sso::cache_dir(env)) {
            Some(Ok(p)) => {
                let url = super::endpoint::service_url("sso", &p.profile, loaded, env);
                return Ok(Source::Sso(Box::new(p), url));
            }
            Some(Err(why)) => return Err(crate::sso::portal::incomplete(profile, why)),
            None => {}
        }
        if in_keyring(loaded, settings) {
            return Ok(Source::Keyring(profile.clone()));
        }
        match keys(loaded, settings) {
            Ok(k) => Ok(Source::Keys(k)),
            // A source that is itself a session credd refreshes has simply not been issued yet:
            // say so, and name its refresh, not `aws configure`.
            Err(e) if managed.chained => Err(RefreshError {
                fix: Some(
                    format!(
                        "refresh it first: `credd refresh {profile}` (or `credd mfa {profile} CODE` if it takes an MFA code)"
                    )
                    .into(),
                ),
                ..RefreshError::local(
                    e.finding.unwrap_or(Code::SourceProfileMissing),
                    format!("its source session \"{profile}\" holds no credentials yet"),
                )
            }),
            Err(e) => Err(e),
        }
    }

    /// Fetches the credentials: from the files at once, from the keyring or the SSO portal over
    /// their own calls.
    pub async fn fetch(self, timeout: std::time::Duration) -> Result<Fetched, RefreshError> {
        match self {
            Source::Keys(k) => Ok(Fetched::Keys(k)),
            Source::Keyring(profile) => {
                Ok(Fetched::Keys(keyring_credentials(&*crate::keyring::system(), &profile).await?))
            }
            Source::Sso(p, url) => {
                let credentials = crate::sso::portal::role_credentials(&p, url, timeout).await?;
                let identity =
                    format!("account {}, role {} (IAM Identity Center)", p.account_id, p.role_name);
                Ok(Fetched::Session { credentials, identity })
            }
        }
    }
}

/// How credd renews a session from its source's credentials.
pub enum Renewal {
    /// An STS call signed with them.
    Sts(Box<dyn super::Provider>),
    /// The source's own credentials are the session, written where it lives (`method = "sso"`).
    AsIs,
}

impl Renewal {
    pub fn of(settings: &Settings) -> Renewal {
        match settings.method {
            Method::AssumeRole => Renewal::Sts(Box::new(super::AssumeRole {
                role_arn: settings.role_arn.clone().unwrap_or_default(),
                external_id: settings.external_id.clone(),
                session_name: settings.role_session_name.clone().unwrap_or_else(|| "credd".into()),
                duration: settings.duration,
            })),
            Method::SessionToken => {
                Renewal::Sts(Box::new(super::SessionToken { duration: settings.duration }))
            }
            Method::Sso => Renewal::AsIs,
        }
    }
}

/// The keys to call STS with: the source's long-term keys, or for a chained session the source
/// session's current credentials.
pub fn keys(files: &Loaded, m: &Settings) -> Result<ProfileCredentials, RefreshError> {
    let merged = files.merged_profile(&m.source_profile);
    let Some(section) = merged.profile(&m.source_profile) else {
        return Err(RefreshError::local(
            Code::SourceProfileMissing,
            format!("source profile \"{}\" no longer exists", m.source_profile),
        ));
    };
    meta::credentials(section).ok_or_else(|| {
        RefreshError::local(
            Code::SourceProfileMissing,
            format!("source profile \"{}\" has no complete access key", m.source_profile),
        )
    })
}

/// Whether the source's keys are to be fetched from the OS keyring: the credentials file marks
/// the profile as held there, and no file gives it keys of its own (keys put back by hand win).
pub fn in_keyring(files: &Loaded, m: &Settings) -> bool {
    let held = files
        .credentials_document()
        .is_some_and(|d| d.noted_profiles(crate::keyring::MARKER).contains(&m.source_profile.as_str()));
    held && files
        .merged_profile(&m.source_profile)
        .profile(&m.source_profile)
        .is_none_or(|s| meta::credential_kind(s) == meta::CredentialKind::Absent)
}

/// The source's long-term key from the OS keyring. A locked or absent keyring is retried with
/// backoff (unlocking it needs no change credd would see); a missing item waits for a fix.
pub async fn keyring_credentials(
    ring: &dyn crate::keyring::Keyring,
    profile: &str,
) -> Result<ProfileCredentials, RefreshError> {
    use crate::keyring::KeyringError;
    let waiting = |e: &KeyringError| RefreshError {
        finding: Some(e.finding()),
        ..RefreshError::transient(&format!(
            "the keys of \"{profile}\" are in the OS keyring, but {e}; {}",
            e.fix()
        ))
    };
    match ring.get(profile).await {
        Ok(Some(k)) => Ok(k.into()),
        Ok(None) => Err(RefreshError::local(
            Code::KeyringMissing,
            format!(
                "the credentials file says the keys of \"{profile}\" are in the OS keyring, but it holds none; put them back with `aws configure --profile {profile}`, then `credd keyring import {profile}`"
            ),
        )),
        Err(e) => Err(waiting(&e)),
    }
}

/// What the source of `m` signs in with, hashed: its keys, or for an SSO profile its cached
/// token. A change (new keys, a new `aws sso login`) retries a session stuck on the old one.
pub fn fingerprint(loaded: &Loaded, merged: &Sections, m: &Managed, host: &Host) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let source = merged.profile(&m.settings.source_profile)?;
    match meta::credentials(source) {
        Some(c) => (c.access_key_id.as_str(), c.secret_access_key.expose()).hash(&mut h),
        None => {
            let p = crate::sso::portal::sso_profile(merged, &m.settings.source_profile, &host.sso_cache_dir)?
                .ok()?;
            loaded.sso_token(&p.cache)?.access_token()?.expose().hash(&mut h);
        }
    }
    Some(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keyring_sources_say_what_is_wrong_and_whether_to_retry() {
        use crate::keyring::{KeyringError, LongTermKey, memory::Memory};
        let ring = Memory::default();
        let missing = keyring_credentials(&ring, "work").await.unwrap_err();
        assert_eq!((missing.finding, missing.is_fatal()), (Some(Code::KeyringMissing), true));
        *ring.broken.lock().unwrap() = Some(KeyringError::Locked);
        let locked = keyring_credentials(&ring, "work").await.unwrap_err();
        assert_eq!((locked.finding, locked.is_fatal()), (Some(Code::KeyringLocked), false));
        *ring.broken.lock().unwrap() = Some(KeyringError::Unavailable("no bus".into()));
        let absent = keyring_credentials(&ring, "work").await.unwrap_err();
        assert_eq!((absent.finding, absent.is_fatal()), (Some(Code::KeyringUnavailable), false));
        assert!(absent.message.contains("DBUS_SESSION_BUS_ADDRESS"), "{}", absent.message);
        *ring.broken.lock().unwrap() = None;
        let key = LongTermKey { access_key_id: "AKIAWORK".into(), secret_access_key: "canary".into() };
        ring.items.lock().unwrap().insert("work".into(), key);
        let got = keyring_credentials(&ring, "work").await.unwrap();
        assert_eq!((got.access_key_id.as_str(), got.secret_access_key.expose()), ("AKIAWORK", "canary"));
        assert!(!format!("{got:?}").contains("canary"));
    }

    #[test]
    fn keys_back_in_the_file_win_over_the_keyring_marker() {
        let m = crate::config::Settings::new(crate::config::Method::SessionToken, "work");
        let marked = Loaded::from_text("", "[work]\n# credd-keyring: held\n");
        assert!(in_keyring(&marked, &m));
        let back = Loaded::from_text(
            "",
            "[work]\n# credd-keyring: held\naws_access_key_id = AKIAX\naws_secret_access_key = s\n",
        );
        assert!(!in_keyring(&back, &m));
        assert!(!in_keyring(&Loaded::from_text("", "[work]\n"), &m));
    }
}
