//! The sessions credd refreshes, as doctor sees them: could each one be written where it lives,
//! right now? A session whose profile or env file holds long-term keys, or whose directory credd
//! may not write, fails at every refresh; the daemon says so in `credd status`, and doctor says
//! it too, from the same check the refresh makes before calling STS (`refresh::store::check`).
//!
//! Offline, and about credd's own work rather than the profile in use: each finding is an
//! error naming the session, whichever profile doctor was asked about.

use std::path::Path;

use super::{Finding, Severity, Source};
use crate::config::Config;
use crate::files::Loaded;
use crate::sessions::Host;

pub fn check(config: &Config, loaded: &Loaded, host: &Host, credentials: &Path) -> Vec<Finding> {
    let plan = crate::sessions::plan(config, loaded, host);
    plan.sessions
        .iter()
        .filter(|s| s.managed.is_some())
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
