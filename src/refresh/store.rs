//! Storing a session STS issued where it lives: the session's profile in the credentials file
//! (unless the file already holds a longer-lived one) and its env file.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::profile::meta::{self, CredentialKind};
use crate::profile::{FileKind, SessionCredentials, WriteError};
use crate::sessions::current_expiry;

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
        doc.edit_profile(name, &meta::session_edits(session, current))
    })?;
    Ok(match kept {
        Some(at) => Stored::KeptNewer(at),
        None => Stored::Written,
    })
}
