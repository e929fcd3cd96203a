//! The sessions credd refreshes, as doctor sees them: could each one be written where it lives,
//! right now? A session whose profile or env file holds long-term keys, or whose directory credd
//! may not write, fails at every refresh; the daemon says so in `credd status`, and doctor says
//! it too, from the same check the refresh makes before calling STS (`refresh::store::check`).
//!
//! Offline, and about credd's own work rather than the profile in use: each finding is an
//! error naming the session, whichever profile doctor was asked about.

use std::path::Path;

use super::{Finding, Severity, Source};
use crate::files::Loaded;
use crate::sessions::SessionSpec;

/// One finding for each of `sessions` (as planned) that could not be written now.
pub fn check(sessions: &[SessionSpec], loaded: &Loaded, credentials: &Path) -> Vec<Finding> {
    sessions
        .iter()
        .filter(|s| s.managed().is_some())
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
