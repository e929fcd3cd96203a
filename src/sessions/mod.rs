//! Which sessions credd tracks, and what each one is: its name, where it lives (`Home`) and its
//! [`Kind`]: a session another tool writes, a session credd renews (with its `Settings`), or a
//! token credd keeps. Running a refresh and storing it belong to `refresh`, deciding when to the
//! engine. Pure, but for [`Host::read_caches`], which reads what the host caches beside the files.
//!
//! - `plan`: working the sessions out from the config and the files. Configured `[[session]]`s
//!   are renewed, once checked against the files: the source exists and holds long-term keys (in
//!   the file or, marked so, in the OS keyring), or is itself a renewed session or an SSO profile
//!   (role chaining, 1 h at most), and no chain of sources loops. Zero config: every profile in
//!   the credentials file that carries a session token is watched; aws-mfa's layout
//!   (`[X-long-term]` with `aws_mfa_device`) makes `[X]` a session-token session; each
//!   keyring-held profile gets an on-demand session for `credd credential-process`; and each
//!   kept token whose cache file exists is tracked. A session that fails these checks is
//!   reported and left out; the others carry on. Last, assume-role sessions with MFA that
//!   share a source and a device are assumed from one MFA session of that source and device
//!   ([`Mfa`], issue 29): a session-token session with them, or one credd keeps in the runtime
//!   directory as `mfa,SOURCE`.
//!
//! What a kept token is, and which kind issues a source's credentials, are `kinds`' lists.

mod plan;

pub use crate::kinds::Token;
pub use plan::{Plan, current_expiry, plan, plan_resolved, unreadable_expiry};

/// AWS's cap on a role assumed from another session (role chaining).
pub const CHAINED_MAX: Duration = Duration::from_secs(3600);

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{Config, Home, Settings};
use crate::files::Loaded;
use crate::profile::Sections;

/// What a tracked session is. One of three, so that a session renewed and kept as a token at
/// once, or a watched one with settings, cannot be written down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Another tool writes it (saml2aws, aws-mfa, a `[[watch]]`'d env file): credd tracks its
    /// expiry and tells when it runs out.
    Watched,
    /// credd renews it through its source and method.
    Renewed(Box<Managed>),
    /// A token credd keeps fresh where its tool caches it.
    Token(Token),
}

impl Managed {
    /// Whether it lives in a file only credd writes, in its runtime directory (a keyring-held
    /// profile's session, a shared MFA session): no one else's keys can be there to protect,
    /// so the long-term-key guard does not apply (moto's GetSessionToken answers an `AKIA` key,
    /// which that guard would take for someone's).
    pub fn in_own_file(&self) -> bool {
        matches!(self.discovered, Some(HELD_LAYOUT) | Some(MFA_LAYOUT))
    }
}

/// How a renewed session is kept alive: its settings, and what planning found out about them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Managed {
    pub settings: Settings,
    /// The source is another renewed session (role chaining).
    pub chained: bool,
    /// Set when found without config, naming the layout ("aws-mfa", "keyring").
    pub discovered: Option<&'static str>,
    /// Refreshed only once something asks for it (`credd credential-process`); from then on,
    /// kept fresh like any other. The sessions of keyring-held profiles start this way, so that
    /// holding a key costs no STS call (and no MFA prompt) until it is used.
    pub on_demand: bool,
    /// For a chained session whose source session lives in no profile (the shared MFA session,
    /// a keyring-held profile's session): the env file it lives in, where its keys are read.
    pub source_file: Option<PathBuf>,
    /// How it gets its MFA code, when MFA is involved: see [`Mfa`].
    pub mfa: Option<Mfa>,
}

/// How a session with MFA gets its code (issue 29). Sessions that share a source and an
/// `mfa_serial` share one GetSessionToken-with-MFA session, and the roles are assumed from it
/// without a code; one code then serves them all until it ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mfa {
    /// It is the MFA session of its source and device; these roles are assumed from it.
    Shared { serial: String, dependents: Vec<String> },
    /// A role assumed from the MFA session `session` of device `serial`: that session's code is
    /// its code, and it takes none of its own.
    Via { session: String, serial: String },
    /// A role that takes its own code at each refresh, and why.
    Direct(String),
}

impl Mfa {
    /// What `credd status` and `credd config check` say of it.
    pub fn note(&self) -> String {
        match self {
            Mfa::Shared { dependents, .. } => {
                format!("MFA session: one code renews it, and {} are assumed from it", dependents.join(", "))
            }
            Mfa::Via { session, .. } => {
                format!("assumed from MFA session {session} with no code of its own (AWS caps it at 1h)")
            }
            Mfa::Direct(why) => format!("takes its own MFA code at each refresh: {why}"),
        }
    }
}

impl Managed {
    /// Whether a fresh session can last `ttl`: STS issues at most `duration`, and a role chained
    /// from another session is capped at 1 h by AWS. Known before calling STS, so `--min-ttl`
    /// fails at once with the reason instead of after a refresh that cannot help.
    ///
    /// A session lasts `duration` from when STS issues it, so by the time it is used it has a
    /// little less: `ttl` must leave [`ISSUE_MARGIN`] for the call and the write. Otherwise a
    /// `--min-ttl` equal to the duration would call STS at every request and still fall short.
    pub fn can_last(&self, name: &str, ttl: Duration) -> Result<(), String> {
        let s = &self.settings;
        let most = s.duration.saturating_sub(ISSUE_MARGIN);
        if ttl <= most {
            return Ok(());
        }
        if ttl <= s.duration {
            return Err(format!(
                "\"{name}\" cannot last {}: a fresh session lasts {} from when STS issues it, so it never has that much left once it is used; ask for {} or less",
                humantime::format_duration(ttl),
                humantime::format_duration(s.duration),
                humantime::format_duration(most)
            ));
        }
        let (ttl, max) = (humantime::format_duration(ttl), humantime::format_duration(s.duration));
        let why = if self.chained {
            format!("its source is another session, and AWS caps a chained role at 1h (it is set to {max})")
        } else {
            format!(
                "its sessions last {max}; raise `duration` in its [[session]] (STS allows up to {}; an assume-role also needs the role's maximum session duration)",
                humantime::format_duration(s.method.duration_range().1)
            )
        };
        Err(format!("\"{name}\" cannot last {ttl}: {why}"))
    }
}

/// What a fresh session has lost by the time it is used: the STS call, the write, a clock a
/// little off. A `--min-ttl` must leave it (see [`Managed::can_last`]).
pub const ISSUE_MARGIN: Duration = Duration::from_secs(60);

/// One tracked session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSpec {
    /// The profile in the credentials file (or the watch's name, for a watched env file).
    pub name: String,
    /// Where its credentials live.
    pub home: Home,
    pub kind: Kind,
}

/// The layout name ([`Managed::discovered`]) of the session credd keeps for a profile whose keys
/// are held elsewhere (the OS keyring).
pub const HELD_LAYOUT: &str = "keyring";

/// The layout name ([`Managed::discovered`]) of a shared MFA session credd made up.
pub const MFA_LAYOUT: &str = "shared MFA";

/// The name of the shared MFA session of `source`: `mfa,SOURCE`. A comma is no character of a
/// profile name (`profile::parse::is_identifier`), so it cannot be a profile's or a
/// `[[session]]`'s name, and shells take it as it is.
pub fn mfa_session_name(source: &str) -> String {
    format!("mfa,{source}")
}

impl SessionSpec {
    /// How credd renews it, when it does.
    pub fn managed(&self) -> Option<&Managed> {
        match &self.kind {
            Kind::Renewed(m) => Some(m),
            _ => None,
        }
    }

    /// The token it is, when it is one.
    pub fn token(&self) -> Option<&Token> {
        match &self.kind {
            Kind::Token(t) => Some(t),
            _ => None,
        }
    }

    /// How it gets its MFA code, when MFA is involved.
    pub fn mfa(&self) -> Option<&Mfa> {
        self.managed()?.mfa.as_ref()
    }

    /// Whether it is the session of a profile whose keys are held elsewhere (the OS keyring).
    pub fn keeps_held_session(&self) -> bool {
        self.managed().is_some_and(|m| m.discovered == Some(HELD_LAYOUT))
    }

    /// Whether credd refreshes it (a token until it turns out it cannot be refreshed).
    pub fn refreshed(&self) -> bool {
        !matches!(self.kind, Kind::Watched)
    }

    /// How long a session of its own lasts, as far as credd knows it: its `duration`, for the
    /// STS methods; a kind's fixed length (an `aws login` session's 15 minutes), for a kept
    /// token or a session of a kind's own method. `None` when the issuer decides (IAM Identity
    /// Center) or credd does not refresh it. The schedule's lead is at most half of it, so a 15-minute
    /// session is refreshed once per lifetime whoever wrote the one in the file.
    pub fn lifetime(&self) -> Option<Duration> {
        match &self.kind {
            Kind::Renewed(m) => match crate::kinds::Issuer::of_method(m.settings.method) {
                Some(kind) => kind.lifetime(),
                None => Some(m.settings.duration),
            },
            Kind::Token(t) => t.lifetime(),
            Kind::Watched => None,
        }
    }

    /// Whether it waits to be asked for before its first refresh.
    pub fn on_demand(&self) -> bool {
        self.managed().is_some_and(|m| m.on_demand)
    }

    /// Every env file the config names, for reading and watching.
    pub fn env_paths(config: &Config) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> =
            config.sessions.iter().filter_map(|s| s.home.env_file().map(Path::to_path_buf)).collect();
        v.extend(config.watches.iter().map(|w| w.env_file.clone()));
        v
    }

    /// Why the expiry recorded in the session's env file cannot be read, naming the file, the
    /// line and the variable: the session then has no known expiry, which status must say.
    pub fn unreadable_expiry(&self, loaded: &Loaded) -> Option<String> {
        let Home::EnvFile(p) = &self.home else { return None };
        match loaded.env_file(p)?.expiry_read() {
            crate::profile::meta::ExpiryRead::Invalid { key, line } => Some(format!(
                "{}:{line}: {key} is not a timestamp credd can read, so when this session expires is unknown",
                p.display()
            )),
            _ => None,
        }
    }

    /// The expiry as recorded where the session is read from: its profile when it has one.
    pub fn recorded_expiry(&self, loaded: &Loaded, creds: &Sections) -> Option<DateTime<Utc>> {
        match (&self.home, &self.kind) {
            (_, Kind::Token(t)) => t.expires_at(loaded),
            (Home::EnvFile(p), _) => loaded.env_file(p).and_then(|f| f.expiry()),
            _ => current_expiry(creds, &self.name),
        }
    }
}

/// The directory of the runtime directory that holds the shared MFA sessions.
const MFA_DIR: &str = "mfa-sessions";

/// Who and where credd runs: the user and host name the default role session name, and the
/// runtime directory where sessions of keyring-held profiles are cached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub user: String,
    pub host: String,
    pub runtime_dir: PathBuf,
    /// Where each kind of token keeps its cache files.
    pub dirs: crate::kinds::Dirs,
    /// `~/.aws/credentials` (or `AWS_SHARED_CREDENTIALS_FILE`), for messages that name it.
    pub credentials_file: PathBuf,
}

impl Host {
    /// The user `user` on `host`, with the directories `env` names.
    pub fn new(user: String, host: String, env: &dyn crate::paths::Env) -> Host {
        Host {
            user,
            host,
            runtime_dir: crate::paths::runtime_dir(env),
            dirs: crate::kinds::Dirs::from_env(env),
            credentials_file: crate::paths::aws_credentials_file(env),
        }
    }

    /// A fixed host for tests.
    #[cfg(test)]
    pub fn test() -> Host {
        Host {
            user: "u".into(),
            host: "h".into(),
            runtime_dir: PathBuf::from("/run/credd"),
            dirs: crate::kinds::Dirs::test(),
            credentials_file: PathBuf::from("/home/u/.aws/credentials"),
        }
    }

    /// Reads what this host caches beside the AWS files into `loaded`: the sessions of
    /// profiles whose keys are held elsewhere, and the kept tokens.
    pub fn read_caches(&self, loaded: &mut Loaded) {
        crate::kinds::read_caches(loaded, &self.dirs, |p| self.held_session_file(p));
        // The shared MFA sessions: each one that is there, whichever roles made it.
        let dir = self.runtime_dir.join(MFA_DIR);
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "env"))
            .collect();
        found.sort();
        for p in found {
            loaded.read_env_file(&p);
        }
    }

    /// Where the shared MFA session of `source` lives: the runtime directory (memory-backed on
    /// Linux, 0700; the file 0600), never a profile SDKs would pick up.
    pub fn mfa_session_file(&self, source: &str) -> PathBuf {
        // A profile name may hold `/` and `%`: one file per source, in this directory.
        let file = source.replace('%', "%25").replace('/', "%2F");
        self.runtime_dir.join(MFA_DIR).join(format!("{file}.env"))
    }

    /// Where the short-lived session of keyring-held `profile` is cached for
    /// `credd credential-process`: the runtime directory, memory-backed on Linux, 0700.
    pub fn held_session_file(&self, profile: &str) -> PathBuf {
        self.runtime_dir.join("keyring-sessions").join(format!("{profile}.env"))
    }
}
