//! The lossless model of `~/.aws/config` and `~/.aws/credentials`.
//!
//! - `parse`: bytes → [`Document`] (every byte kept, every line classified as aws-config does),
//!   and the resolved view, [`Sections`].
//! - `edit`: set or remove keys of one profile, touching only those keys' lines.
//! - `quiet`: reading a file nobody is half-way through writing (a read lease on Linux).
//! - `write`: lock, re-read, swap in atomically, never losing an outside edit.
//! - `meta`: what the keys mean: credential kind, expiry, and the edits that store a session.
//!
//! Where the files live is `crate::paths`' business.

pub mod edit;
pub mod meta;
pub mod parse;
pub mod quiet;
pub mod write;

pub use edit::{Edit, EditError};
pub use meta::{CredentialKind, Expiry, ExpiryRead, SessionCredentials};
pub use parse::{Document, FileKind, ParseError, SectionId, Sections};
pub use write::{Outcome, WriteError, read_document, read_quiet, update, update_observed};

use std::path::Path;

/// Both files read and merged the way SDKs merge them (credentials over config).
#[derive(Debug, Default)]
pub struct Loaded {
    pub config: Option<Document>,
    pub credentials: Option<Document>,
    /// The env files credd's config names (managed and watched), by path; `None` if absent.
    pub env: std::collections::BTreeMap<std::path::PathBuf, Option<crate::envfile::EnvFile>>,
}

impl Loaded {
    /// Reads both files. A missing file is fine; an unparseable one is an error naming it.
    pub fn read(config: &Path, credentials: &Path) -> Result<Loaded, WriteError> {
        Ok(Loaded {
            config: read_document(config, FileKind::Config)?,
            credentials: read_document(credentials, FileKind::Credentials)?,
            env: Default::default(),
        })
    }

    /// Reads the env files at `paths` (a broken one is reported and skipped).
    pub fn read_env_files<'a>(&mut self, paths: impl IntoIterator<Item = &'a Path>) {
        self.env.clear();
        for p in paths {
            match crate::envfile::read(p) {
                Ok(f) => {
                    self.env.insert(p.to_path_buf(), f);
                }
                Err(e) => tracing::error!("{e}"),
            }
        }
    }

    pub fn merged(&self) -> Sections {
        let config = self.config.as_ref().map(Document::sections).unwrap_or_default();
        match &self.credentials {
            Some(c) => config.merged_with(&c.sections()),
            None => config,
        }
    }
}
