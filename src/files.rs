//! The files credd reads as one set: where the two AWS files are ([`AwsFiles`]) and one reading
//! of them plus the env files the config names, the cached sessions of keyring-held profiles and
//! the SSO token cache files ([`Loaded`]), merged the way SDKs merge them.
//!
//! It owns *which* files make up a reading and what happens when one of them is broken (the last
//! good reading is kept). A file that is there but cannot be read (`profile::ReadFailure`) is
//! never taken for an absent or empty one: the reading records it, so that whatever finds a
//! profile missing can say the file it may be in could not be read. How each file is parsed, edited and written belongs to `profile` and
//! `envfile`; which sessions a reading holds belongs to `sessions`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::envfile::EnvFile;
use crate::paths::Env;
use crate::profile::{Document, FileKind, ReadFailure, SectionId, Sections, WriteError, read_document};

/// Where the AWS files are.
#[derive(Clone, Debug)]
pub struct AwsFiles {
    pub config: PathBuf,
    pub credentials: PathBuf,
}

impl AwsFiles {
    pub fn from_env(env: &dyn Env) -> AwsFiles {
        AwsFiles {
            config: crate::paths::aws_config_file(env),
            credentials: crate::paths::aws_credentials_file(env),
        }
    }

    /// Reads both files. A missing file is fine; an unparseable or unreadable one is an error naming
    /// it and its fix.
    pub fn read(&self) -> Result<Loaded, WriteError> {
        Ok(Loaded {
            config: read_document(&self.config, FileKind::Config)?,
            credentials: read_document(&self.credentials, FileKind::Credentials)?,
            ..Loaded::default()
        })
    }

    /// Reads both files and the env files at `env_paths`, for a process that keeps serving: a
    /// file that cannot be parsed is reported (path, line, fix) and its reading in `previous`
    /// kept, so every session the other files hold stays served.
    pub fn read_keeping<'a>(
        &self,
        previous: Option<&Loaded>,
        env_paths: impl IntoIterator<Item = &'a Path>,
    ) -> Loaded {
        let wanted: std::collections::BTreeSet<&Path> = env_paths.into_iter().collect();
        let env_paths = wanted.iter().copied();
        let mut unreadable = Vec::new();
        let mut reported = std::collections::BTreeSet::new();
        let mut read = |path: &Path, kind, prev: Option<&Document>| match read_document(path, kind) {
            Ok(doc) => doc,
            Err(e) => {
                let kept = match prev {
                    Some(_) => "credd keeps working from its last good reading of it",
                    None => "until it can be read, credd cannot see the profiles in it",
                };
                let message = format!("{e}; {kept}");
                // Said once: not again at every reading while it stays the same.
                if !previous.is_some_and(|p| p.reported.contains(&message)) {
                    tracing::error!("{message}");
                }
                reported.insert(message);
                if let WriteError::Unreadable(u) = e {
                    unreadable.push(u);
                }
                prev.cloned()
            }
        };
        let config = read(&self.config, FileKind::Config, previous.and_then(|p| p.config.as_ref()));
        let credentials =
            read(&self.credentials, FileKind::Credentials, previous.and_then(|p| p.credentials.as_ref()));
        let mut loaded = Loaded { config, credentials, unreadable, reported, ..Loaded::default() };
        loaded.said_before = previous.map(|p| p.reported.clone()).unwrap_or_default();
        loaded.read_env_files(env_paths);
        // An env file that cannot be read holds what it held, not "no session": taking it for
        // empty would adopt its old session as an outside write once it is fixed.
        for (path, file) in previous.map(|p| &p.env).into_iter().flatten() {
            if wanted.contains(path.as_path()) && !loaded.env.contains_key(path) {
                loaded.env.insert(path.clone(), file.clone());
            }
        }
        loaded
    }
}

/// A reading resolved the way SDKs see it: the credentials file alone (where sessions live) and
/// both files merged (where sources, regions and endpoints are looked up).
#[derive(Debug, Default)]
pub struct Resolved<'a> {
    pub credentials: Sections<'a>,
    pub merged: Sections<'a>,
    /// Profiles whose keys the credentials file says are in the OS keyring (its marker comment).
    pub keyring_held: std::collections::BTreeSet<&'a str>,
    /// The SSO token cache files that hold a token.
    pub sso_cached: std::collections::BTreeSet<&'a Path>,
    /// The AWS files that are there but could not be read: a profile not seen may be in them.
    pub unreadable: &'a [ReadFailure],
}

/// Both AWS files and the env files, as read at one moment.
#[derive(Debug, Default)]
pub struct Loaded {
    config: Option<Document>,
    credentials: Option<Document>,
    /// The env files credd's config names (managed and watched), by path; `None` if absent.
    env: BTreeMap<PathBuf, Option<EnvFile>>,
    /// The SSO token cache files of the SSO sessions the config file declares, by path; `None`
    /// if absent (not signed in).
    sso: BTreeMap<PathBuf, Option<crate::sso::cache::CachedToken>>,
    /// The AWS files that are there but could not be read this time (their reading above is the
    /// last good one, or `None`): what they hold is unknown, not empty.
    unreadable: Vec<ReadFailure>,
    /// The problems this reading logged, and those the reading before it had logged: a file
    /// that stays broken is said once, not at every file event (credd's own writes included).
    reported: std::collections::BTreeSet<String>,
    said_before: std::collections::BTreeSet<String>,
}

impl Loaded {
    /// Both files from text (`/c` and `/k`), for tests.
    #[cfg(test)]
    pub(crate) fn from_text(config: &str, credentials: &str) -> Loaded {
        let parse =
            |text, kind, path| Document::parse(text, kind, Path::new(path)).expect("test input parses");
        Loaded {
            config: Some(parse(config, FileKind::Config, "/c")),
            credentials: Some(parse(credentials, FileKind::Credentials, "/k")),
            ..Loaded::default()
        }
    }

    /// Reads the env files at `paths` (a broken one is reported and skipped).
    pub fn read_env_files<'a>(&mut self, paths: impl IntoIterator<Item = &'a Path>) {
        self.env.clear();
        for p in paths {
            self.read_env_file(p);
        }
    }

    /// Reads one env file into the reading (a broken one is reported and skipped).
    fn read_env_file(&mut self, p: &Path) {
        match crate::envfile::read(p) {
            Ok(f) => {
                self.env.insert(p.to_path_buf(), f);
            }
            Err(e) => {
                let message = e.to_string();
                if !self.said_before.contains(&message) {
                    tracing::error!("{message}");
                }
                self.reported.insert(message);
            }
        }
    }

    /// Also reads the cached sessions of the profiles the credentials file marks as held in the
    /// keyring: `session_file` says where each one's is.
    pub fn read_keyring_sessions(&mut self, session_file: impl Fn(&str) -> PathBuf) {
        let paths: Vec<PathBuf> = match &self.credentials {
            Some(d) => d.noted_profiles(crate::keyring::MARKER).into_iter().map(session_file).collect(),
            None => return,
        };
        for p in paths {
            self.read_env_file(&p);
        }
    }

    /// Also reads the token cache file of every SSO session the config file declares, from `dir`
    /// (`~/.aws/sso/cache`). A file that does not parse is reported and counts as absent.
    pub fn read_sso_tokens(&mut self, dir: &Path) {
        self.sso.clear();
        let Some(config) = &self.config else { return };
        for spec in crate::sso::discover(&config.sections(), dir) {
            let token = crate::sso::cache::read(&spec.cache).unwrap_or_else(|e| {
                tracing::error!("{e}");
                None
            });
            self.sso.insert(spec.cache, token);
        }
    }

    /// Every kept token's cache file this reading looked for, there or not: `aws sso login`
    /// rewrites them, so the daemon watches them.
    pub fn token_caches(&self) -> impl Iterator<Item = &Path> {
        self.sso.keys().map(PathBuf::as_path)
    }

    /// The SSO token cached at `path`, if it was read and exists.
    pub fn sso_token(&self, path: &Path) -> Option<&crate::sso::cache::CachedToken> {
        self.sso.get(path).and_then(Option::as_ref)
    }

    /// A reading of both files as the caller read them (`credd doctor` reads them its own way,
    /// to report every problem): `unreadable` are the files that are there but could not be read.
    pub fn of(
        config: Option<Document>,
        credentials: Option<Document>,
        unreadable: Vec<ReadFailure>,
    ) -> Loaded {
        Loaded { config, credentials, unreadable, ..Loaded::default() }
    }

    /// The AWS config file as read (the last good reading of it, if it is broken now).
    pub fn config_document(&self) -> Option<&Document> {
        self.config.as_ref()
    }

    /// The credentials file as read (the last good reading of it, if it is broken now).
    pub fn credentials_document(&self) -> Option<&Document> {
        self.credentials.as_ref()
    }

    /// This reading with `config` as the AWS config file, for tests.
    #[cfg(test)]
    pub(crate) fn with_config(mut self, config: Document) -> Loaded {
        self.config = Some(config);
        self
    }

    /// This reading with an SSO token cached at `path`, for tests.
    #[cfg(test)]
    pub(crate) fn with_sso_token(mut self, path: PathBuf, token: crate::sso::cache::CachedToken) -> Loaded {
        self.sso.insert(path, Some(token));
        self
    }

    /// The credentials file alone, resolved.
    pub fn credentials(&self) -> Sections<'_> {
        self.credentials.as_ref().map(Document::sections).unwrap_or_default()
    }

    /// Both files merged the way SDKs merge them (credentials over config).
    pub fn merged(&self) -> Sections<'_> {
        let config = self.config.as_ref().map(Document::sections).unwrap_or_default();
        match &self.credentials {
            Some(c) => config.merged_with(&c.sections()),
            None => config,
        }
    }

    /// [`Loaded::merged`] for the sections `wanted` picks alone: what one lookup in a large
    /// file needs, without resolving every other section.
    pub fn merged_where(&self, wanted: impl Fn(&SectionId) -> bool) -> Sections<'_> {
        let config = self.config.as_ref().map(|d| d.sections_where(&wanted)).unwrap_or_default();
        match &self.credentials {
            Some(c) => config.merged_with(&c.sections_where(&wanted)),
            None => config,
        }
    }

    /// One profile, both files merged.
    pub fn merged_profile(&self, name: &str) -> Sections<'_> {
        self.merged_where(|id| matches!(id, SectionId::Profile(n) if n == name))
    }

    /// Both views SDKs take of this reading, resolved once for everything that needs them.
    pub fn resolve(&self) -> Resolved<'_> {
        let held = self.credentials.as_ref().map(|d| d.noted_profiles(crate::keyring::MARKER));
        Resolved {
            credentials: self.credentials(),
            merged: self.merged(),
            keyring_held: held.unwrap_or_default().into_iter().collect(),
            sso_cached: self.sso.iter().filter(|(_, t)| t.is_some()).map(|(p, _)| p.as_path()).collect(),
            unreadable: &self.unreadable,
        }
    }

    /// The env file at `path`, if it was read and exists.
    pub fn env_file(&self, path: &Path) -> Option<&EnvFile> {
        self.env.get(path).and_then(Option::as_ref)
    }
}
