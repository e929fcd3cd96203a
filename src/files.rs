//! The files credd reads as one set: where the two AWS files are ([`AwsFiles`]) and one reading
//! of them plus the env files the config names, the cached sessions of profiles whose keys are
//! held elsewhere and the kept tokens' cache files ([`Loaded`]), merged the way SDKs merge them.
//! Which kinds of token there are, and how each cache file parses, is `kinds`' business: a
//! reading holds each as a [`TokenCache`].
//!
//! It owns *which* files make up a reading and what happens when one of them is broken (the last
//! good reading is kept). A file that is there but cannot be read (`profile::ReadFailure`) is
//! never taken for an absent or empty one: the reading records it, so that whatever finds a
//! profile missing can say the file it may be in could not be read. How each file is parsed, edited and written belongs to `profile` and
//! `envfile`; which sessions a reading holds belongs to `sessions`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::envfile::EnvFile;
use crate::paths::Env;
use crate::profile::{Document, FileKind, ReadFailure, SectionId, Sections, WriteError, read_document};
use crate::secret::Secret;

/// A kept token's cache file as its kind's room parsed it: what a reading needs to know of it.
pub trait TokenCache: std::fmt::Debug + Send + Sync {
    /// When the token expires, as the file says.
    fn expires_at(&self) -> Option<DateTime<Utc>>;
    /// Until when it can be refreshed, as the file has it at `now` (`None`: the file does not
    /// say); or why it cannot, which only a new sign-in changes.
    fn refreshable(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, String>;
    /// The secret that a source signing in with this token uses now, for fingerprints.
    fn secret(&self) -> Option<Secret>;
}

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
    /// Profiles whose long-term keys the credentials file says are held elsewhere (its marker
    /// comment, `profile::held::MARKER`).
    pub held: std::collections::BTreeSet<&'a str>,
    /// The kept tokens' cache files that hold a token.
    pub token_cached: std::collections::BTreeSet<&'a Path>,
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
    /// The cache files of the tokens the config file declares, by path; `None` if absent (not
    /// signed in) or broken (reported when read).
    tokens: BTreeMap<PathBuf, Option<Box<dyn TokenCache>>>,
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

    /// Reads one more env file into the reading (a broken one is reported and skipped).
    pub fn read_env_file(&mut self, p: &Path) {
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

    /// The profiles the credentials file marks as holding their keys elsewhere.
    pub fn held_profiles(&self) -> Vec<&str> {
        self.credentials.as_ref().map(|d| d.noted_profiles(crate::profile::held::MARKER)).unwrap_or_default()
    }

    /// Puts the kept tokens' cache files, as their rooms read them, into the reading.
    pub fn set_token_caches(
        &mut self,
        caches: impl IntoIterator<Item = (PathBuf, Option<Box<dyn TokenCache>>)>,
    ) {
        self.tokens = caches.into_iter().collect();
    }

    /// Every kept token's cache file this reading looked for, there or not: `aws sso login`
    /// rewrites them, so the daemon watches them.
    pub fn token_caches(&self) -> impl Iterator<Item = &Path> {
        self.tokens.keys().map(PathBuf::as_path)
    }

    /// The token cached at `path`, if it was read and exists.
    pub fn token_cache(&self, path: &Path) -> Option<&dyn TokenCache> {
        self.tokens.get(path).and_then(Option::as_deref)
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

    /// This reading with the env file at `path` holding `text`, for tests.
    #[cfg(test)]
    pub(crate) fn with_env_text(mut self, path: &Path, text: &str) -> Loaded {
        let file = EnvFile::parse(text.as_bytes(), path).expect("test input parses");
        self.env.insert(path.to_path_buf(), Some(file));
        self
    }

    /// This reading with a token cached at `path`, for tests.
    #[cfg(test)]
    pub(crate) fn with_token_cache(mut self, path: PathBuf, token: Box<dyn TokenCache>) -> Loaded {
        self.tokens.insert(path, Some(token));
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
        Resolved {
            credentials: self.credentials(),
            merged: self.merged(),
            held: self.held_profiles().into_iter().collect(),
            token_cached: self.tokens.iter().filter(|(_, t)| t.is_some()).map(|(p, _)| p.as_path()).collect(),
            unreadable: &self.unreadable,
        }
    }

    /// The env file at `path`, if it was read and exists.
    pub fn env_file(&self, path: &Path) -> Option<&EnvFile> {
        self.env.get(path).and_then(Option::as_ref)
    }
}
