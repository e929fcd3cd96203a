//! One refresh, end to end: get the source's credentials (long-term keys from the files or the OS
//! keyring, a chained session, or an SSO profile's role credentials), obtain an MFA code if one
//! is needed, call STS (not for `method = "sso"`), write the result back. An SSO token's own
//! refresh is `sso::refresh`'s. The daemon runs this in a task; `credd refresh` runs it directly.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::mfa::{self, UsedCodes};
use super::store::{self, Stored};
use super::{CallContext, Issued, RefreshError};
use crate::config::Config;
use crate::config::Method;
use crate::config::Settings;
use crate::files::{AwsFiles, Loaded};
use crate::finding::Code;
use crate::paths::Env;
use crate::profile::WriteError;
use crate::profile::meta::{self, ProfileCredentials};
use crate::secret::Secret;
use crate::sessions::SessionSpec;

/// The keys to call STS with: the source's long-term keys, or for a chained session the source
/// session's current credentials.
pub fn source_credentials(files: &Loaded, m: &Settings) -> Result<ProfileCredentials, RefreshError> {
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
pub fn source_in_keyring(files: &Loaded, m: &Settings) -> bool {
    let held = files
        .credentials
        .as_ref()
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

/// How a refresh ended.
#[derive(Debug)]
pub enum Outcome {
    Refreshed {
        issued: Issued,
        stored: Stored,
    },
    /// An SSO token was refreshed (or someone signed in meanwhile, and their token is kept): it
    /// now expires at `expires_at`.
    TokenRefreshed {
        expires_at: DateTime<Utc>,
        /// The cache file held a newer token than the one refreshed (`aws sso login` ran), which
        /// was kept.
        kept_newer: bool,
    },
    /// STS issued a session and its profile holds it (until `expires_at`), but its env file
    /// could not be written: `error` says so, naming both.
    PartlyStored {
        expires_at: DateTime<Utc>,
        error: RefreshError,
    },
    /// The session needs an MFA code and none was to be had. `why` says what was tried.
    NeedsMfa {
        serial: String,
        why: String,
    },
    Failed(RefreshError),
}

/// Runs one refresh of `session`, which must be managed. `code` is a code the user handed in
/// (used once); without one, `mfa_command` is tried.
pub async fn refresh(
    session: &SessionSpec,
    files: &AwsFiles,
    config: &Config,
    env: &(dyn Env + Sync),
    code: Option<Secret>,
    used: &Arc<Mutex<UsedCodes>>,
) -> Outcome {
    let (name, home) = (session.name.as_str(), &session.home);
    if let Some(sso) = &session.sso {
        return crate::sso::refresh::refresh(sso, files, config, env).await;
    }
    let Some(managed) = &session.managed else {
        return Outcome::Failed(RefreshError::local(Code::Internal, format!("\"{name}\" is watch-only")));
    };
    // What the call needs from the files, read fresh; the reading itself is let go before the
    // write, which parses the file again (a large file would otherwise be held twice).
    let settings = &managed.settings;
    let (from, endpoint) = match read_files(files).await {
        Ok(loaded) => {
            // Before any STS call: a session that could not be written (a directory credd may
            // not write, long-term keys where it lives) must not cost one, let alone one per retry.
            if let Err(e) = store::check(name, home, &files.credentials, &loaded) {
                return Outcome::Failed(file_failure(e));
            }
            let endpoint = super::endpoint::endpoint(settings, &loaded, config, env);
            let sections = crate::sso::portal::sections_for(&loaded, &settings.source_profile);
            let sso = crate::sso::portal::sso_profile(
                &sections,
                &settings.source_profile,
                &crate::sso::cache_dir(env),
            );
            let from = match sso {
                Some(Ok(p)) => {
                    let url = super::endpoint::service_url("sso", &p.profile, &loaded, env);
                    From::Sso(Box::new(p), url)
                }
                Some(Err(why)) => {
                    return Outcome::Failed(RefreshError::local(Code::SsoConfigIncomplete, why));
                }
                None if source_in_keyring(&loaded, settings) => From::Keyring,
                None => match source_credentials(&loaded, settings) {
                    Ok(s) => From::Keys(s),
                    // A source that is itself a session credd refreshes has simply not been
                    // issued yet: say so, and name its refresh, not `aws configure`.
                    Err(e) if managed.chained => {
                        let src = &settings.source_profile;
                        return Outcome::Failed(RefreshError {
                            fix: Some(
                                format!(
                                    "refresh it first: `credd refresh {src}` (or `credd mfa {src} CODE` if it takes an MFA code)"
                                )
                                .into(),
                            ),
                            ..RefreshError::local(
                                e.finding.unwrap_or(Code::SourceProfileMissing),
                                format!("its source session \"{src}\" holds no credentials yet"),
                            )
                        });
                    }
                    Err(e) => return Outcome::Failed(e),
                },
            };
            (from, endpoint)
        }
        Err(e) => return Outcome::Failed(e),
    };
    let source = match from {
        From::Keys(s) => s,
        From::Keyring => {
            match keyring_credentials(&*crate::keyring::system(), &settings.source_profile).await {
                Ok(s) => s,
                Err(e) => return Outcome::Failed(e),
            }
        }
        From::Sso(p, url) => match crate::sso::portal::role_credentials(&p, url, config.sts_timeout).await {
            // `method = "sso"`: the SSO profile's own role credentials are the session.
            Ok(c) if settings.method == Method::Sso => {
                let identity =
                    Some(format!("account {}, role {} (IAM Identity Center)", p.account_id, p.role_name));
                let issued = Issued { credentials: c, identity };
                return store_issued(name, home, files, issued, endpoint.named_region()).await;
            }
            Ok(c) => ProfileCredentials {
                access_key_id: c.access_key_id,
                secret_access_key: c.secret_access_key,
                session_token: Some(c.session_token),
            },
            Err(e) => return Outcome::Failed(e),
        },
    };
    let issued = match call_sts(managed, source, endpoint.clone(), code, used).await {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    store_issued(name, home, files, issued, endpoint.named_region()).await
}

/// Where a refresh gets the keys it calls with.
enum From {
    Keys(ProfileCredentials),
    Keyring,
    /// An SSO profile, and the portal's endpoint override.
    Sso(Box<crate::sso::portal::SsoProfile>, Option<String>),
}

/// The STS call, with an MFA code when the session needs one.
async fn call_sts(
    managed: &crate::sessions::Managed,
    source: ProfileCredentials,
    endpoint: super::Endpoint,
    code: Option<Secret>,
    used: &Arc<Mutex<UsedCodes>>,
) -> Result<Issued, Outcome> {
    let mfa = match &managed.settings.mfa_serial {
        None => None,
        Some(serial) => {
            let code = match (code, &managed.settings.mfa_command) {
                (Some(c), _) => c,
                (None, Some(cmd)) => match mfa::run_command(cmd).await {
                    Ok(c) => c,
                    Err(why) => {
                        return Err(Outcome::NeedsMfa { serial: serial.clone(), why });
                    }
                },
                (None, None) => {
                    return Err(Outcome::NeedsMfa {
                        serial: serial.clone(),
                        why: "no mfa_command is configured".into(),
                    });
                }
            };
            if !used.lock().expect("not poisoned").take(serial, &code) {
                return Err(Outcome::NeedsMfa {
                    serial: serial.clone(),
                    why: "that MFA code was already used; wait for the next one".into(),
                });
            }
            Some((serial.clone(), code))
        }
    };
    let ctx = CallContext { source, mfa, endpoint };
    let key_id = ctx.source.access_key_id.clone();
    super::provider(&managed.settings).issue(&ctx).await.map_err(|mut e| {
        e.key_id = Some(key_id.into());
        // Roles that require MFA deny AssumeRole without a code in exactly this way.
        if e.finding == Some(Code::AccessDenied)
            && managed.settings.method == Method::AssumeRole
            && managed.settings.mfa_serial.is_none()
        {
            e.finding = Some(Code::MfaRequired);
        }
        Outcome::Failed(e)
    })
}

/// Writes an issued session where it lives: its profile, its env file, or both.
async fn store_issued(
    name: &str,
    home: &crate::config::Home,
    files: &AwsFiles,
    issued: Issued,
    region: Option<&str>,
) -> Outcome {
    let region = region.map(str::to_string);
    let path = files.credentials.clone();
    let session_name = name.to_string();
    let (name, creds) = (name.to_string(), issued.credentials.clone());
    let home = home.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let start = std::time::Instant::now();
        // A keyring-held profile's session lives in the runtime directory, which may not exist
        // yet when no daemon ran: create it, private, like the daemon does.
        if let Some(dir) = home.env_file().and_then(std::path::Path::parent)
            && !dir.exists()
        {
            for d in [dir.parent(), Some(dir)].into_iter().flatten() {
                crate::paths::ensure_private_dir(d).map_err(|source| WriteError::Io {
                    path: d.to_path_buf(),
                    action: "create the directory",
                    source,
                })?;
            }
        }
        let stored = if home.has_profile() { store::store(&path, &name, &creds)? } else { Stored::Written };
        let env_file = home.env_file();
        if let (Some(env), Stored::Written) = (env_file, stored)
            && let Err(e) = crate::envfile::store(env, &creds, region.as_deref())
        {
            // Say exactly which write landed: the profile holds the new session, the env file not.
            return Err(match home.has_profile() {
                true => Partial::ProfileOnly(path.clone(), e),
                false => Partial::Nothing(e),
            });
        }
        // Read, parse, edit, render, write, fsync and swap: what the scale benchmark reports.
        tracing::debug!("{name}: stored in {:.2} ms", start.elapsed().as_secs_f64() * 1000.0);
        Ok::<_, Partial>(stored)
    })
    .await;
    match stored {
        Ok(Ok(stored)) => Outcome::Refreshed { issued, stored },
        Ok(Err(Partial::Nothing(e))) => Outcome::Failed(file_failure(e)),
        Ok(Err(Partial::ProfileOnly(path, e))) => {
            let mut error = file_failure(e);
            error.message = format!(
                "wrote the new session to [{}] in {}, but not to its env file: {}",
                session_name,
                path.display(),
                error.message
            );
            Outcome::PartlyStored { expires_at: issued.credentials.expiration, error }
        }
        Err(e) => Outcome::Failed(RefreshError::local(Code::Internal, format!("write task failed: {e}"))),
    }
}

/// How far a store got when it failed.
enum Partial {
    /// Nothing was written.
    Nothing(WriteError),
    /// The profile (in this credentials file) holds the new session; the env file does not.
    ProfileOnly(std::path::PathBuf, WriteError),
}

impl std::convert::From<WriteError> for Partial {
    fn from(e: WriteError) -> Self {
        Partial::Nothing(e)
    }
}

async fn read_files(files: &AwsFiles) -> Result<Loaded, RefreshError> {
    let files = files.clone();
    tokio::task::spawn_blocking(move || files.read().map_err(file_failure))
        .await
        .map_err(|e| RefreshError::local(Code::Internal, format!("read task failed: {e}")))?
}

/// A file that does not parse (or an edit it refuses) waits for the user to fix it (a file that
/// does not parse waits for a change to that file); a full disk,
/// an unreadable file, a permission flicker or another program holding the file busy is retried
/// with backoff.
pub(crate) fn file_failure(e: WriteError) -> RefreshError {
    if let WriteError::Edit { source: crate::profile::EditError::LongTermKey { .. }, .. } = &e {
        return RefreshError {
            fix: e.fix().map(Into::into),
            ..RefreshError::local(Code::LongTermKeyInSessionProfile, e.to_string())
        };
    }
    // Permission denied, a read-only filesystem, a file where a directory should be: retrying
    // cannot help, so the session waits until that path changes (the daemon watches it).
    if let Some(at) = e.stuck_at() {
        return RefreshError {
            fix: e.fix().map(Into::into),
            blocked_at: Some(at.into()),
            ..RefreshError::local(Code::FileNotWritable, e.to_string())
        };
    }
    match e {
        // Fixing the file is a change to it: the session waits for that, and is written at
        // once when it comes, not at its next refresh.
        WriteError::Unparseable(p) => {
            let at = p.path.as_path().into();
            RefreshError {
                blocked_at: Some(at),
                ..RefreshError::local(Code::FileUnparseable, WriteError::Unparseable(p).to_string())
            }
        }
        WriteError::Edit { .. } => RefreshError::local(Code::FileUnparseable, e.to_string()),
        WriteError::Io { .. } | WriteError::Contended { .. } => RefreshError::transient(&e.to_string()),
        // Retried like the above, so a fix (`chmod`, a repaired link) is picked up; meanwhile
        // `status` names the finding and its fix.
        WriteError::Unreadable(u) => RefreshError {
            finding: Some(Code::FileUnreadable),
            fix: Some(u.fix().into()),
            ..RefreshError::transient(&u.message())
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Document, FileKind};
    use std::path::Path;

    #[test]
    fn only_an_unparseable_file_is_fatal() {
        let parse =
            Document::parse("[a]\nbroken line\n", FileKind::Credentials, Path::new("/c")).unwrap_err();
        let unparseable = file_failure(WriteError::Unparseable(parse));
        assert_eq!((unparseable.is_fatal(), unparseable.finding), (true, Some(Code::FileUnparseable)));
        assert!(unparseable.message.contains("/c:2"), "{}", unparseable.message);
        let full = WriteError::Io {
            path: "/c".into(),
            action: "write the temp file",
            source: std::io::Error::from_raw_os_error(libc::ENOSPC),
        };
        let busy = WriteError::Contended { path: "/c".into(), attempts: 8 };
        for e in [file_failure(full), file_failure(busy)] {
            assert!(!e.is_fatal() && e.finding.is_none(), "{e:?}");
        }
    }

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
        assert!(source_in_keyring(&marked, &m));
        let back = Loaded::from_text(
            "",
            "[work]\n# credd-keyring: held\naws_access_key_id = AKIAX\naws_secret_access_key = s\n",
        );
        assert!(!source_in_keyring(&back, &m));
        assert!(!source_in_keyring(&Loaded::from_text("", "[work]\n"), &m));
    }
}
