//! One refresh, end to end: find and fetch the source's credentials (`source`: long-term keys from
//! the files or the OS keyring, a chained session, or an SSO profile's role credentials), obtain
//! an MFA code if the method needs one, apply the method (an STS call, or the source's own
//! credentials as they are), write the result back. A kept token's refresh is its own room's
//! (`refresh_token` hands it over). The daemon runs this in a task; `credd refresh` runs it
//! directly.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::mfa::{self, UsedCodes};
use super::source::{Fetched, Renewal, Source};
use super::store::{self, Stored};
use super::{CallContext, Issued, RefreshError};
pub(crate) use crate::classify::file_failure;
use crate::config::Config;
use crate::config::Method;
use crate::files::{AwsFiles, Loaded};
use crate::finding::Code;
use crate::paths::Env;
use crate::profile::WriteError;
use crate::profile::meta::ProfileCredentials;
use crate::secret::Secret;
use crate::sessions::{Kind, SessionSpec, Token};

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

/// Runs one refresh of `session`, which must be renewed or kept. `code` is a code the user
/// handed in (used once); without one, `mfa_command` is tried.
pub async fn refresh(
    session: &SessionSpec,
    files: &AwsFiles,
    config: &Config,
    env: &(dyn Env + Sync),
    code: Option<Secret>,
    used: &Arc<Mutex<UsedCodes>>,
) -> Outcome {
    let (name, home) = (session.name.as_str(), &session.home);
    let managed = match &session.kind {
        Kind::Renewed(m) => m,
        Kind::Token(token) => return refresh_token(token, files, config, env).await,
        Kind::Watched => {
            return Outcome::Failed(RefreshError::local(Code::Internal, format!("\"{name}\" is watch-only")));
        }
    };
    // What the call needs from the files, read fresh; the reading itself is let go before the
    // write, which parses the file again (a large file would otherwise be held twice).
    let settings = &managed.settings;
    let (source, endpoint) = match read_files(files).await {
        Ok(loaded) => {
            // Before any STS call: a session that could not be written (a directory credd may
            // not write, long-term keys where it lives) must not cost one, let alone one per retry.
            if let Err(e) = store::check(name, home, &files.credentials, &loaded)
                && !managed.in_own_file()
            {
                return Outcome::Failed(file_failure(e));
            }
            match Source::find(&loaded, managed, env) {
                Ok(source) => (source, super::endpoint::endpoint(settings, &loaded, config, env)),
                Err(e) => return Outcome::Failed(e),
            }
        }
        Err(e) => return Outcome::Failed(e),
    };
    let fetched = match source.fetch(config.sts_timeout).await {
        Ok(f) => f,
        Err(e) => return Outcome::Failed(e),
    };
    let issued = match (Renewal::of(settings), fetched) {
        (Renewal::AsIs, Fetched::Session { credentials, identity }) => {
            Issued { credentials, identity: Some(identity) }
        }
        (Renewal::AsIs, Fetched::Keys(_)) => {
            // Planning lets `method = "sso"` source only from an SSO profile.
            return Outcome::Failed(RefreshError::local(
                Code::Internal,
                format!("\"{name}\" writes its source's own session, and its source has only keys"),
            ));
        }
        (Renewal::Sts(provider), fetched) => {
            match call_sts(managed, &*provider, fetched.into_keys(), endpoint.clone(), code, used).await {
                Ok(i) => i,
                Err(outcome) => return outcome,
            }
        }
    };
    store_issued(name, home, files, issued, endpoint.named_region()).await
}

/// Refreshes a kept token through its own service, with the endpoint overrides of the profiles
/// that use it.
async fn refresh_token(token: &Token, files: &AwsFiles, config: &Config, env: &(dyn Env + Sync)) -> Outcome {
    let loaded = read_files(files).await;
    let service = token.service();
    let url = match &loaded {
        Ok(l) => token.profiles().first().and_then(|p| super::endpoint::service_url(service, p, l, env)),
        Err(_) => env
            .var(&format!("AWS_ENDPOINT_URL_{}", service.to_ascii_uppercase()))
            .or_else(|| env.var("AWS_ENDPOINT_URL")),
    };
    drop(loaded);
    match token.refresh(url, config.sts_timeout).await {
        Ok(r) => Outcome::TokenRefreshed { expires_at: r.expires_at, kept_newer: r.kept_newer },
        Err(e) => Outcome::Failed(e),
    }
}

/// The STS call, with an MFA code when the session needs one.
async fn call_sts(
    managed: &crate::sessions::Managed,
    provider: &dyn super::Provider,
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
    provider.issue(&ctx).await.map_err(|mut e| {
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
}
