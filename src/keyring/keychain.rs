//! macOS: the login Keychain, through keyring-core's API and the keyring-rs project's Keychain
//! store. The code is written against keyring-core alone, so on Linux its tests run against
//! keyring-core's in-memory mock store; only the choice of store is macOS's own.
//!
//! A Keychain item has no free-form attributes to carry the key ID, so the password is a small
//! JSON object with both parts. keyring-core's calls block, so each runs on a blocking thread.

use std::collections::HashMap;
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry, Error};

use super::BoxFuture;
use super::{Held, Keyring, KeyringError, LongTermKey, SERVICE};
use crate::secret::Secret;

pub struct Keychain {
    store: Arc<CredentialStore>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    aws_access_key_id: String,
    aws_secret_access_key: String,
}

fn failed(e: Error) -> KeyringError {
    match e {
        Error::NoStorageAccess(e) => {
            tracing::debug!("keychain: no access: {e}");
            KeyringError::Locked
        }
        Error::NoDefaultStore => KeyringError::Unavailable("no credential store".into()),
        other => KeyringError::Failed(other.to_string()),
    }
}

impl Keychain {
    #[cfg(target_os = "macos")]
    pub fn system() -> Keychain {
        match apple_native_keyring_store::keychain::Store::new() {
            Ok(store) => Keychain { store },
            // Every call will report the store missing, with the fix.
            Err(e) => {
                tracing::warn!("the login Keychain cannot be opened: {e}");
                Keychain { store: keyring_core::mock::Store::new().expect("in memory") }
            }
        }
    }

    #[cfg(test)]
    pub fn with_store(store: Arc<CredentialStore>) -> Keychain {
        Keychain { store }
    }

    fn entry(store: &CredentialStore, profile: &str) -> Result<Entry, KeyringError> {
        store.build(SERVICE, profile, None).map_err(failed)
    }

    fn read(entry: &Entry) -> Result<Option<LongTermKey>, KeyringError> {
        let raw = match entry.get_secret() {
            Ok(raw) => raw,
            Err(Error::NoEntry) => return Ok(None),
            Err(e) => return Err(failed(e)),
        };
        let stored: Stored = serde_json::from_slice(&raw).map_err(|_| {
            KeyringError::Failed("a credd item in the Keychain is not in credd's format".into())
        })?;
        Ok(Some(LongTermKey {
            access_key_id: stored.aws_access_key_id,
            secret_access_key: Secret::new(stored.aws_secret_access_key),
        }))
    }

    /// Runs a blocking keyring-core call off the async threads.
    fn blocking<'a, T: Send + 'static>(
        &'a self,
        work: impl FnOnce(&CredentialStore) -> Result<T, KeyringError> + Send + 'static,
    ) -> BoxFuture<'a, Result<T, KeyringError>> {
        let store = self.store.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || work(&*store))
                .await
                .unwrap_or_else(|e| Err(KeyringError::Failed(format!("keychain task failed: {e}"))))
        })
    }
}

impl Keyring for Keychain {
    fn get<'a>(&'a self, profile: &'a str) -> BoxFuture<'a, Result<Option<LongTermKey>, KeyringError>> {
        let profile = profile.to_string();
        self.blocking(move |s| Self::read(&Self::entry(s, &profile)?))
    }

    fn put<'a>(&'a self, profile: &'a str, key: &'a LongTermKey) -> BoxFuture<'a, Result<(), KeyringError>> {
        let (profile, key) = (profile.to_string(), key.clone());
        self.blocking(move |s| {
            let stored = Stored {
                aws_access_key_id: key.access_key_id.clone(),
                aws_secret_access_key: key.secret_access_key.expose().to_string(),
            };
            let bytes = serde_json::to_vec(&stored).expect("plain strings serialize");
            Self::entry(s, &profile)?.set_secret(&bytes).map_err(failed)
        })
    }

    fn delete<'a>(&'a self, profile: &'a str) -> BoxFuture<'a, Result<bool, KeyringError>> {
        let profile = profile.to_string();
        self.blocking(move |s| match Self::entry(s, &profile)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(Error::NoEntry) => Ok(false),
            Err(e) => Err(failed(e)),
        })
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<Held>, KeyringError>> {
        self.blocking(|s| {
            let found = s.search(&HashMap::from([("service", SERVICE)])).map_err(failed)?;
            let mut out = Vec::new();
            for entry in found {
                let Some((service, profile)) = entry.get_specifiers() else { continue };
                if service != SERVICE {
                    continue;
                }
                let access_key_id = Self::read(&entry).ok().flatten().map(|k| k.access_key_id);
                out.push(Held { profile, access_key_id });
            }
            out.sort_by(|a, b| a.profile.cmp(&b.profile));
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keys_round_trip_through_keyring_core() {
        let k = Keychain::with_store(keyring_core::mock::Store::new().unwrap());
        assert_eq!(k.get("work").await, Ok(None));
        let key = LongTermKey { access_key_id: "AKIAWORK".into(), secret_access_key: Secret::new("s3cret") };
        k.put("work", &key).await.unwrap();
        assert_eq!(k.get("work").await, Ok(Some(key)));
        assert_eq!(
            k.list().await.unwrap(),
            [Held { profile: "work".into(), access_key_id: Some("AKIAWORK".into()) }]
        );
        assert_eq!(k.delete("work").await, Ok(true));
        assert_eq!((k.get("work").await, k.delete("work").await), (Ok(None), Ok(false)));
    }
}
