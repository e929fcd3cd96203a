//! Storing a session STS issued where it lives: the session's profile in the credentials file
//! (unless the file already holds a longer-lived one) and its env file; and, before the STS call,
//! checking that it could be stored at all.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::config::Home;
use crate::files::Loaded;
use crate::profile::meta::{self, CredentialKind};
use crate::profile::{EditError, FileKind, SessionCredentials, WriteError};
use crate::sessions::current_expiry;

/// Whether a session of `name` living at `home` could be stored now, asked before calling STS:
/// every path it is written to can be written (see `profile::write::check_writable`), and none
/// holds long-term keys (the write path refuses those anyway; this spares the call).
pub fn check(name: &str, home: &Home, credentials: &Path, loaded: &Loaded) -> Result<(), WriteError> {
    if home.has_profile() {
        crate::profile::write::check_writable(credentials)?;
    }
    let env = match home.env_file() {
        Some(p) => {
            crate::profile::write::check_writable(p)?;
            crate::envfile::read(p).ok().flatten()
        }
        None => None,
    };
    let doc = loaded.credentials_document();
    let sections = doc.map(|d| d.profile_only(name)).unwrap_or_default();
    let held = doc.is_some_and(|d| d.noted_profiles(crate::profile::held::MARKER).contains(&name));
    let found = Found { profile: sections.profile(name), held, env: env.as_ref() };
    conflict(name, home, credentials, &found).map_or(Ok(()), Err)
}

/// What a reading holds where a session lives, for [`conflict`].
pub struct Found<'a> {
    /// Its profile in the credentials file.
    pub profile: Option<&'a crate::profile::parse::Section<'a>>,
    /// The credentials file marks the profile as holding its keys elsewhere (the OS keyring).
    pub held: bool,
    /// Its env file, when it has one and it exists.
    pub env: Option<&'a crate::envfile::EnvFile>,
}

/// Why a session of `name` living at `home` must not be written, as the files read now: its
/// profile holds long-term keys (or is marked as holding them in the OS keyring), or its env
/// file does. Pure: the engine asks it at every reading, and so do `config check` and doctor.
pub fn conflict(name: &str, home: &Home, credentials: &Path, found: &Found) -> Option<WriteError> {
    let refuse = |path: &Path, place: String| WriteError::Edit {
        path: path.to_path_buf(),
        source: EditError::LongTermKey { place },
    };
    let keys_in_profile = found.held || found.profile.is_some_and(meta::holds_long_term_key);
    if home.has_profile() && keys_in_profile {
        return Some(refuse(credentials, format!("[{name}]")));
    }
    match (home.env_file(), found.env) {
        (Some(p), Some(f)) if f.holds_long_term_key() => Some(refuse(p, p.display().to_string())),
        _ => None,
    }
}

/// What `store` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Written,
    /// The file already held a session that lasts longer (another tool refreshed it meanwhile);
    /// credd kept it rather than overwrite a newer session with an older one.
    KeptNewer(DateTime<Utc>),
}

/// Writes `session` into profile `name` of the credentials file, unless the file already holds a
/// longer-lived session.
pub fn store(path: &Path, name: &str, session: &SessionCredentials) -> Result<Stored, WriteError> {
    let mut kept = None;
    crate::profile::update(path, FileKind::Credentials, |doc| {
        let sections = doc.profile_only(name);
        let current = sections.profile(name);
        if let Some(at) = current_expiry(&sections, name)
            && at > session.expiration
            && current.is_some_and(|c| meta::credential_kind(c) == CredentialKind::Session)
        {
            kept = Some(at);
            return Ok(());
        }
        kept = None;
        doc.edit_profile(name, &meta::session_edits(name, session, current)?)
    })?;
    Ok(match kept {
        Some(at) => Stored::KeptNewer(at),
        None => Stored::Written,
    })
}
