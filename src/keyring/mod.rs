//! The OS keyring as a home for long-term keys: what an item is, the one small trait every backend
//! implements ([`Keyring`]), and the choice of backend for this OS.
//!
//! - `secret_service`: Linux and the BSDs, the freedesktop Secret Service (gnome-keyring,
//!   KWallet, KeePassXC) on the session bus, over the zbus that notify-rust already links.
//! - `keychain`: macOS, through keyring-core's API and its Keychain store.
//!
//! One item per profile. Its attributes name it (`service = credd`, `profile = NAME`) and carry the
//! access key ID, which is not secret, so `credd keyring list` never reads a secret. The secret is
//! the secret access key alone, and it travels in [`Secret`] from the moment it leaves the keyring.
//!
//! In the credentials file a held profile keeps its section, and each key line becomes a comment
//! starting with the [`MARKER`] ([`held_note_prefix`]) that keeps the line's layout (files
//! imported before issue 25 have one [`marker_note`] instead). Those lines are how planning
//! (which does no I/O) knows a profile's keys are held here.

pub mod doctor;
#[cfg(any(target_os = "macos", test))]
mod keychain;
#[cfg(all(unix, not(target_os = "macos")))]
mod secret_service;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::classify::RefreshError;
use crate::finding::Code;
use crate::profile::meta::ProfileCredentials;
use crate::secret::Secret;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The `service` attribute of every item credd keeps.
pub const SERVICE: &str = "credd";

pub use crate::profile::held::MARKER;

/// The comment line (without `# `) that replaces a held profile's keys.
pub fn marker_note(profile: &str) -> String {
    format!(
        "{MARKER} the keys of this profile are in the OS keyring; `credd keyring export {profile}` puts them back"
    )
}

/// What each comment line left in place of a held key line starts with, after `# `; the line's
/// own layout follows (`profile::held`), so an export puts it back byte for byte.
pub fn held_note_prefix(profile: &str) -> String {
    format!("{MARKER} in the OS keyring; `credd keyring export {profile}` puts this line back: ")
}

/// A profile's long-term key as the keyring holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct LongTermKey {
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

impl fmt::Debug for LongTermKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LongTermKey")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .finish()
    }
}

impl From<LongTermKey> for crate::profile::meta::ProfileCredentials {
    /// What signs a call: the keyring's key, with no session token.
    fn from(k: LongTermKey) -> Self {
        Self { access_key_id: k.access_key_id, secret_access_key: k.secret_access_key, session_token: None }
    }
}

/// One item, as listed: never its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    pub profile: String,
    /// `None` when the keyring does not say (a locked item on some backends).
    pub access_key_id: Option<String>,
}

/// Why the keyring could not answer. Each names its fix in [`KeyringError::fix`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    /// No keyring to talk to: no session bus, or nothing on it owns the Secret Service.
    #[error("no OS keyring is reachable: {0}")]
    Unavailable(String),
    /// The keyring is there, but locked.
    #[error("the OS keyring is locked")]
    Locked,
    /// The keyring answered with an error.
    #[error("the OS keyring refused: {0}")]
    Failed(String),
}

impl KeyringError {
    /// The finding code it is reported under.
    pub fn finding(&self) -> crate::finding::Code {
        match self {
            KeyringError::Locked => crate::finding::Code::KeyringLocked,
            // A keyring that refuses is reported as not usable, with its own message.
            KeyringError::Unavailable(_) | KeyringError::Failed(_) => {
                crate::finding::Code::KeyringUnavailable
            }
        }
    }

    /// The one thing to do about it.
    pub fn fix(&self) -> &'static str {
        match self {
            KeyringError::Unavailable(_) if cfg!(target_os = "macos") => {
                "run credd inside your login session, where the login Keychain is reachable"
            }
            KeyringError::Unavailable(_) => {
                "start a Secret Service (gnome-keyring-daemon, KWallet or KeePassXC) on your session bus, and make sure DBUS_SESSION_BUS_ADDRESS reaches credd (systemctl --user import-environment DBUS_SESSION_BUS_ADDRESS)"
            }
            KeyringError::Locked if cfg!(target_os = "macos") => {
                "unlock the login Keychain (security unlock-keychain)"
            }
            KeyringError::Locked => {
                "unlock your login keyring (log in to the desktop, or open Seahorse and unlock it)"
            }
            KeyringError::Failed(_) => "check the keyring application's own log",
        }
    }
}

/// The keyring, whatever backs it. Each call may block on the desktop (a prompt, a slow bus), so
/// callers await it off the paths that must stay quick; no call ever prompts.
pub trait Keyring: Send + Sync {
    /// The key held for `profile`, if any.
    fn get<'a>(&'a self, profile: &'a str) -> BoxFuture<'a, Result<Option<LongTermKey>, KeyringError>>;
    /// Stores `key` for `profile`, replacing what was there.
    fn put<'a>(&'a self, profile: &'a str, key: &'a LongTermKey) -> BoxFuture<'a, Result<(), KeyringError>>;
    /// Deletes `profile`'s item; `false` when there was none.
    fn delete<'a>(&'a self, profile: &'a str) -> BoxFuture<'a, Result<bool, KeyringError>>;
    /// Every profile held, sorted by name.
    fn list(&self) -> BoxFuture<'_, Result<Vec<Held>, KeyringError>>;
}

/// This OS's keyring.
pub fn system() -> Box<dyn Keyring> {
    #[cfg(target_os = "macos")]
    return Box::new(keychain::Keychain::system());
    #[cfg(all(unix, not(target_os = "macos")))]
    return Box::new(secret_service::SecretService);
}

/// A keyring in memory, for tests of what is built on the trait.
#[cfg(test)]
pub mod memory {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    pub struct Memory {
        pub items: Mutex<BTreeMap<String, LongTermKey>>,
        /// When set, every call fails with it.
        pub broken: Mutex<Option<KeyringError>>,
    }

    impl Memory {
        fn check(&self) -> Result<(), KeyringError> {
            match self.broken.lock().unwrap().clone() {
                Some(e) => Err(e),
                None => Ok(()),
            }
        }
    }

    impl Keyring for Memory {
        fn get<'a>(&'a self, profile: &'a str) -> BoxFuture<'a, Result<Option<LongTermKey>, KeyringError>> {
            Box::pin(async move {
                self.check()?;
                Ok(self.items.lock().unwrap().get(profile).cloned())
            })
        }
        fn put<'a>(
            &'a self,
            profile: &'a str,
            key: &'a LongTermKey,
        ) -> BoxFuture<'a, Result<(), KeyringError>> {
            Box::pin(async move {
                self.check()?;
                self.items.lock().unwrap().insert(profile.to_string(), key.clone());
                Ok(())
            })
        }
        fn delete<'a>(&'a self, profile: &'a str) -> BoxFuture<'a, Result<bool, KeyringError>> {
            Box::pin(async move {
                self.check()?;
                Ok(self.items.lock().unwrap().remove(profile).is_some())
            })
        }
        fn list(&self) -> BoxFuture<'_, Result<Vec<Held>, KeyringError>> {
            Box::pin(async move {
                self.check()?;
                Ok(self
                    .items
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|(p, k)| Held { profile: p.clone(), access_key_id: Some(k.access_key_id.clone()) })
                    .collect())
            })
        }
    }
}

/// A held profile's long-term key, as a source's credentials. A locked or absent keyring is retried with
/// backoff (unlocking it needs no change credd would see); a missing item waits for a fix.
pub async fn credentials(ring: &dyn Keyring, profile: &str) -> Result<ProfileCredentials, RefreshError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keyring_sources_say_what_is_wrong_and_whether_to_retry() {
        use memory::Memory;
        let ring = Memory::default();
        let missing = credentials(&ring, "work").await.unwrap_err();
        assert_eq!((missing.finding, missing.is_fatal()), (Some(Code::KeyringMissing), true));
        *ring.broken.lock().unwrap() = Some(KeyringError::Locked);
        let locked = credentials(&ring, "work").await.unwrap_err();
        assert_eq!((locked.finding, locked.is_fatal()), (Some(Code::KeyringLocked), false));
        *ring.broken.lock().unwrap() = Some(KeyringError::Unavailable("no bus".into()));
        let absent = credentials(&ring, "work").await.unwrap_err();
        assert_eq!((absent.finding, absent.is_fatal()), (Some(Code::KeyringUnavailable), false));
        assert!(absent.message.contains("DBUS_SESSION_BUS_ADDRESS"), "{}", absent.message);
        *ring.broken.lock().unwrap() = None;
        let key = LongTermKey { access_key_id: "AKIAWORK".into(), secret_access_key: "canary".into() };
        ring.items.lock().unwrap().insert("work".into(), key);
        let got = credentials(&ring, "work").await.unwrap();
        assert_eq!((got.access_key_id.as_str(), got.secret_access_key.expose()), ("AKIAWORK", "canary"));
        assert!(!format!("{got:?}").contains("canary"));
    }

    #[test]
    fn a_key_never_prints_its_secret() {
        let k =
            LongTermKey { access_key_id: "AKIAEXAMPLE".into(), secret_access_key: Secret::new("canary-xyz") };
        let shown = format!("{k:?} {:?}", KeyringError::Locked);
        assert!(shown.contains("AKIAEXAMPLE") && !shown.contains("canary-xyz"), "{shown}");
    }

    #[test]
    fn the_marker_names_the_way_back() {
        let note = marker_note("work");
        assert!(note.starts_with(MARKER) && note.contains("credd keyring export work"), "{note}");
    }
}
