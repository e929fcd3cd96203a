//! The freedesktop Secret Service (gnome-keyring, KWallet, KeePassXC) over D-Bus: the few calls
//! credd needs, on the zbus notify-rust already links, so the keyring adds no second D-Bus stack.
//!
//! The session uses the `plain` algorithm: the secret crosses the user's own session bus
//! unencrypted. Any process of the same user can already ask the Secret Service for an unlocked
//! item, so transport encryption would protect nothing here (the keyring crate's default makes
//! the same choice). credd never answers a prompt: a locked keyring is reported as
//! [`KeyringError::Locked`], with the fix, and nothing waits on a dialog.

use std::collections::HashMap;
use std::time::Duration;

use zbus::{Connection, OwnedObjectPath, OwnedVariant, Proxy, Variant};

use super::BoxFuture;
use super::{Held, Keyring, KeyringError, LongTermKey, SERVICE};
use crate::secret::Secret;

const BUS_NAME: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE_IFACE: &str = "org.freedesktop.Secret.Service";
const COLLECTION_IFACE: &str = "org.freedesktop.Secret.Collection";
const ITEM_IFACE: &str = "org.freedesktop.Secret.Item";
/// A keyring that does not answer in this time is treated as absent, so a hung desktop never
/// stalls a refresh for long.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The Secret structure of the spec: (session, parameters, value, content type).
type WireSecret = (OwnedObjectPath, Vec<u8>, Vec<u8>, String);

pub struct SecretService;

/// An open session with the service.
struct Conn {
    conn: Connection,
    service: Proxy<'static>,
    session: OwnedObjectPath,
}

fn failed(e: zbus::Error) -> KeyringError {
    if let zbus::Error::MethodError(name, detail, _) = &e {
        let name = name.as_str();
        let detail = detail.clone().unwrap_or_default();
        // Nothing owns the name, and D-Bus could not start anything that would.
        if name == "org.freedesktop.DBus.Error.ServiceUnknown"
            || name == "org.freedesktop.DBus.Error.NameHasNoOwner"
            || name.starts_with("org.freedesktop.DBus.Error.Spawn")
        {
            return KeyringError::Unavailable(format!("no Secret Service on the session bus ({detail})"));
        }
        if name == "org.freedesktop.Secret.Error.IsLocked" {
            return KeyringError::Locked;
        }
        return KeyringError::Failed(format!("{name}: {detail}"));
    }
    KeyringError::Failed(e.to_string())
}

async fn proxy(conn: &Connection, path: &str, iface: &'static str) -> Result<Proxy<'static>, KeyringError> {
    zbus::proxy::Builder::<Proxy<'static>>::new(conn)
        .destination(BUS_NAME)
        .path(path.to_string())
        .interface(iface)
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .map_err(failed)
}

impl Conn {
    async fn open() -> Result<Conn, KeyringError> {
        let conn = Connection::session()
            .await
            .map_err(|e| KeyringError::Unavailable(format!("cannot reach the session bus: {e}")))?;
        let service = proxy(&conn, SERVICE_PATH, SERVICE_IFACE).await?;
        let (_, session): (OwnedVariant, OwnedObjectPath) =
            service.call("OpenSession", &("plain", Variant::from(""))).await.map_err(failed)?;
        Ok(Conn { conn, service, session })
    }

    /// Items matching `attrs`: (unlocked, locked).
    async fn search(
        &self,
        attrs: &HashMap<&str, &str>,
    ) -> Result<(Vec<OwnedObjectPath>, Vec<OwnedObjectPath>), KeyringError> {
        self.service.call("SearchItems", &(attrs,)).await.map_err(failed)
    }

    async fn attributes(&self, item: &OwnedObjectPath) -> Result<HashMap<String, String>, KeyringError> {
        proxy(&self.conn, item.as_str(), ITEM_IFACE).await?.get_property("Attributes").await.map_err(failed)
    }

    async fn secret(&self, item: &OwnedObjectPath) -> Result<Option<Secret>, KeyringError> {
        let got: HashMap<OwnedObjectPath, WireSecret> =
            self.service.call("GetSecrets", &(vec![item], &self.session)).await.map_err(failed)?;
        let Some((_, _, value, _)) = got.into_values().next() else {
            return Ok(None);
        };
        String::from_utf8(value)
            .map(|s| Some(Secret::new(s)))
            .map_err(|_| KeyringError::Failed("the stored secret is not text".into()))
    }

    /// Deletes one item; a prompt (the keyring wants the user) counts as locked.
    async fn delete(&self, item: &OwnedObjectPath) -> Result<(), KeyringError> {
        let prompt: OwnedObjectPath =
            proxy(&self.conn, item.as_str(), ITEM_IFACE).await?.call("Delete", &()).await.map_err(failed)?;
        if prompt.as_str() != "/" { Err(KeyringError::Locked) } else { Ok(()) }
    }
}

fn profile_query(profile: &str) -> HashMap<&str, &str> {
    HashMap::from([("service", SERVICE), ("profile", profile)])
}

async fn within<T>(work: impl Future<Output = Result<T, KeyringError>>) -> Result<T, KeyringError> {
    tokio::time::timeout(TIMEOUT, work).await.unwrap_or_else(|_| {
        Err(KeyringError::Unavailable(format!(
            "the Secret Service did not answer within {}s",
            TIMEOUT.as_secs()
        )))
    })
}

impl Keyring for SecretService {
    fn get<'a>(&'a self, profile: &'a str) -> BoxFuture<'a, Result<Option<LongTermKey>, KeyringError>> {
        Box::pin(within(async move {
            let c = Conn::open().await?;
            let (unlocked, locked) = c.search(&profile_query(profile)).await?;
            let Some(item) = unlocked.first() else {
                return if locked.is_empty() { Ok(None) } else { Err(KeyringError::Locked) };
            };
            let attrs = c.attributes(item).await?;
            let (Some(id), Some(secret)) = (attrs.get("access_key_id"), c.secret(item).await?) else {
                return Err(KeyringError::Failed(format!(
                    "the item for profile \"{profile}\" lacks its access key ID or secret; remove it with `credd keyring remove {profile} --force` and import again"
                )));
            };
            Ok(Some(LongTermKey { access_key_id: id.clone(), secret_access_key: secret }))
        }))
    }

    fn put<'a>(&'a self, profile: &'a str, key: &'a LongTermKey) -> BoxFuture<'a, Result<(), KeyringError>> {
        Box::pin(within(async move {
            let c = Conn::open().await?;
            let (before, locked) = c.search(&profile_query(profile)).await?;
            if !locked.is_empty() {
                return Err(KeyringError::Locked);
            }
            let collection: OwnedObjectPath =
                c.service.call("ReadAlias", &("default",)).await.map_err(failed)?;
            if collection.as_str() == "/" {
                return Err(KeyringError::Failed(
                    "the keyring has no default collection; create one (Seahorse: New → Password Keyring) and set it as default".into(),
                ));
            }
            let attrs: HashMap<&str, &str> = HashMap::from([
                ("service", SERVICE),
                ("profile", profile),
                ("access_key_id", key.access_key_id.as_str()),
            ]);
            let label = format!("credd: AWS keys of profile {profile}");
            let props: HashMap<&str, Variant> = HashMap::from([
                ("org.freedesktop.Secret.Item.Label", Variant::from(label.as_str())),
                ("org.freedesktop.Secret.Item.Attributes", Variant::from(attrs)),
            ]);
            let secret = (
                &c.session,
                Vec::<u8>::new(),
                key.secret_access_key.expose().as_bytes().to_vec(),
                "text/plain",
            );
            let coll = proxy(&c.conn, collection.as_str(), COLLECTION_IFACE).await?;
            let (item, prompt): (OwnedObjectPath, OwnedObjectPath) =
                coll.call("CreateItem", &(props, secret, true)).await.map_err(failed)?;
            if item.as_str() == "/" || prompt.as_str() != "/" {
                return Err(KeyringError::Locked);
            }
            // An item for an older key of this profile has other attributes, so `replace` kept
            // it; delete it only now that the new one is stored.
            for old in before.iter().filter(|p| **p != item) {
                c.delete(old).await?;
            }
            Ok(())
        }))
    }

    fn delete<'a>(&'a self, profile: &'a str) -> BoxFuture<'a, Result<bool, KeyringError>> {
        Box::pin(within(async move {
            let c = Conn::open().await?;
            let (unlocked, locked) = c.search(&profile_query(profile)).await?;
            if !locked.is_empty() {
                return Err(KeyringError::Locked);
            }
            for item in &unlocked {
                c.delete(item).await?;
            }
            Ok(!unlocked.is_empty())
        }))
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<Held>, KeyringError>> {
        Box::pin(within(async move {
            let c = Conn::open().await?;
            let (unlocked, locked) = c.search(&HashMap::from([("service", SERVICE)])).await?;
            let mut out = Vec::new();
            for item in unlocked.iter().chain(&locked) {
                // Attributes are readable on a locked item too: listing needs no unlock.
                let attrs = c.attributes(item).await?;
                if let Some(profile) = attrs.get("profile") {
                    out.push(Held {
                        profile: profile.clone(),
                        access_key_id: attrs.get("access_key_id").cloned(),
                    });
                }
            }
            out.sort_by(|a, b| a.profile.cmp(&b.profile));
            Ok(out)
        }))
    }
}
