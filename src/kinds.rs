//! The list of kinds of credentials beyond keys in the AWS files, and the one place outside its
//! room where each kind is registered. Today those are IAM Identity Center (`sso/`), `aws login`
//! sessions (`login/`) and the OS keyring (`keyring/`). Everything above this module asks the types here and never names a
//! room: what a kept token is ([`Token`]), where a source's credentials come from
//! ([`Source`]), which kind issues a profile's own credentials ([`Issuer`]), where each kind
//! caches ([`Dirs`], [`read_caches`]) and which doctor checks each kind brings. A new kind is
//! one more variant in each list that applies to it, each arm calling its room; the recipe is in
//! `docs/architecture.md`.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::classify::RefreshError;
use crate::config::Method;
use crate::files::{Loaded, TokenCache};
use crate::finding::{Code, Finding};
use crate::login::LoginSpec;
use crate::paths::Env;
use crate::profile::meta::{self, ProfileCredentials};
use crate::profile::parse::Section;
use crate::profile::{Sections, SessionCredentials};
use crate::protocol::Origin;
use crate::secret::Secret;
use crate::sso::SsoSpec;
use crate::sso::portal::SsoProfile;

/// Where each kind keeps its cache files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dirs {
    /// `~/.aws/sso/cache`.
    sso: PathBuf,
    /// `~/.aws/login/cache`, or `AWS_LOGIN_CACHE_DIRECTORY`.
    login: PathBuf,
}

impl Dirs {
    /// The directories `env` names.
    pub fn from_env(env: &dyn Env) -> Dirs {
        Dirs { sso: crate::sso::cache_dir(env), login: crate::login::cache_dir(env) }
    }

    /// Fixed directories for tests.
    #[cfg(test)]
    pub fn test() -> Dirs {
        Dirs { sso: PathBuf::from("/sso"), login: PathBuf::from("/login") }
    }
}

/// Reads what the kinds cache beside the AWS files into `loaded`: the sessions of profiles whose
/// keys are held in the keyring (`held_session` says where each one's is), and the token cache
/// file of every token the config file declares. A token file that does not parse is reported
/// and counts as absent.
pub fn read_caches(loaded: &mut Loaded, dirs: &Dirs, held_session: impl Fn(&str) -> PathBuf) {
    let held: Vec<PathBuf> = loaded.held_profiles().into_iter().map(held_session).collect();
    for p in held {
        loaded.read_env_file(&p);
    }
    let Some(config) = loaded.config_document().map(|c| c.sections()) else {
        loaded.set_token_caches(Vec::new());
        return;
    };
    fn said<T>(e: crate::profile::WriteError) -> Option<T> {
        tracing::error!("{e}");
        None
    }
    let mut caches: Vec<(PathBuf, Option<Box<dyn TokenCache>>)> = Vec::new();
    for spec in crate::sso::discover(&config, &dirs.sso) {
        let token = crate::sso::cache::read(&spec.cache).unwrap_or_else(said);
        caches.push((spec.cache, token.map(|t| Box::new(t) as Box<dyn TokenCache>)));
    }
    for spec in crate::login::discover(&config, &dirs.login) {
        let token = crate::login::cache::read(&spec.cache).unwrap_or_else(said);
        caches.push((spec.cache, token.map(|t| Box::new(t) as Box<dyn TokenCache>)));
    }
    drop(config);
    loaded.set_token_caches(caches);
}

impl TokenCache for crate::sso::cache::CachedToken {
    fn expires_at(&self) -> Option<DateTime<Utc>> {
        crate::sso::cache::CachedToken::expires_at(self)
    }

    fn refreshable(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, String> {
        match self.refresh(now) {
            crate::sso::cache::Refresh::Until(t) => Ok(Some(t)),
            crate::sso::cache::Refresh::No(why) => Err(why),
        }
    }

    fn secret(&self) -> Option<Secret> {
        self.access_token()
    }
}

impl TokenCache for crate::login::cache::LoginCache {
    fn expires_at(&self) -> Option<DateTime<Utc>> {
        Some(crate::login::cache::LoginCache::expires_at(self))
    }

    /// Parsing checked every field a refresh needs; when the refresh token ends, no writer
    /// records (only the sign-in service's refusal says so).
    fn refreshable(&self, _now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, String> {
        Ok(None)
    }

    fn secret(&self) -> Option<Secret> {
        Some(self.credentials().session_token)
    }
}

/// A token credd keeps fresh where its tool caches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// An IAM Identity Center session's token (`~/.aws/sso/cache/<sha1>.json`).
    Sso(Box<SsoSpec>),
    /// An `aws login` session's tokens and credentials (`~/.aws/login/cache/<sha256>.json`).
    Login(Box<LoginSpec>),
}

/// Every token the merged files declare whose cache file holds one (`cached`), with the name
/// status gives it: each SSO session that was signed in to (`aws sso login` was run).
pub fn tokens(
    merged: &Sections,
    dirs: &Dirs,
    cached: &std::collections::BTreeSet<&Path>,
) -> Vec<(String, Token)> {
    let sso = crate::sso::discover(merged, &dirs.sso)
        .into_iter()
        .map(|s| (s.name.clone(), Token::Sso(Box::new(s))));
    let login = crate::login::discover(merged, &dirs.login)
        .into_iter()
        .map(|s| (s.name.clone(), Token::Login(Box::new(s))));
    sso.chain(login).filter(|(_, t)| cached.contains(t.cache())).collect()
}

impl Token {
    /// Its cache file, where it lives.
    pub fn cache(&self) -> &Path {
        match self {
            Token::Sso(s) => &s.cache,
            Token::Login(s) => &s.cache,
        }
    }

    /// What it is, for messages: "SSO token".
    pub fn noun(&self) -> &'static str {
        match self {
            Token::Sso(_) => "SSO token",
            Token::Login(_) => "login session",
        }
    }

    /// How the control socket names where it lives.
    pub fn origin(&self) -> Origin {
        match self {
            Token::Sso(_) => Origin::SsoCache,
            Token::Login(_) => Origin::LoginCache,
        }
    }

    /// The one command that signs in again.
    pub fn login_command(&self) -> String {
        match self {
            Token::Sso(s) => s.login_command(),
            Token::Login(s) => s.login_command(),
        }
    }

    /// The profiles that use it, sorted.
    pub fn profiles(&self) -> &[String] {
        match self {
            Token::Sso(s) => &s.profiles,
            Token::Login(s) => &s.profiles,
        }
    }

    /// The service that refreshes it, as endpoint overrides name it (`AWS_ENDPOINT_URL_<S>`,
    /// a profile's `services` entry).
    pub fn service(&self) -> &'static str {
        match self {
            Token::Sso(_) => "sso_oidc",
            Token::Login(_) => crate::login::SERVICE,
        }
    }

    /// How long a token lasts when its service sets it: an `aws login` session's credentials
    /// last 15 minutes, so credd refreshes them when half is left (the lead is at most half a
    /// lifetime), and no SDK reaches its own 5-minute window while credd runs.
    pub fn lifetime(&self) -> Option<Duration> {
        match self {
            Token::Sso(_) => None,
            Token::Login(_) => Some(Duration::from_secs(900)),
        }
    }

    /// Whether the token holds credentials an SDK can use as they are, so that `credd export`
    /// and `credential-process` serve its profiles from it.
    pub fn serves_credentials(&self) -> bool {
        match self {
            Token::Sso(_) => false,
            Token::Login(_) => true,
        }
    }

    /// When it expires, as its cache file (read into `loaded`) says.
    pub fn expires_at(&self, loaded: &Loaded) -> Option<DateTime<Utc>> {
        loaded.token_cache(self.cache()).and_then(|t| t.expires_at())
    }

    /// Until when credd can refresh it, as its cache file has it now; or why it cannot, which
    /// only a new sign-in changes.
    pub fn refreshable(&self, loaded: &Loaded, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, String> {
        match loaded.token_cache(self.cache()) {
            Some(t) => t.refreshable(now),
            None => Err("the token is no longer in the cache".into()),
        }
    }

    /// The finding of a refusal by the token's service that only a new sign-in lifts.
    pub fn refused(&self) -> Code {
        refusal(self.origin()).expect("every token's origin has its refusal")
    }

    /// The least time between two refresh attempts the service accepts from one client: IAM
    /// Identity Center gets at most one token refresh a minute, as from botocore; the sign-in
    /// service, whose refresh tokens rotate, the same.
    pub fn min_retry(&self) -> Duration {
        match self {
            Token::Sso(_) | Token::Login(_) => Duration::from_secs(60),
        }
    }

    /// Why it cannot be exported as credentials.
    pub fn not_credentials(&self) -> &'static str {
        match self {
            Token::Sso(_) => "it is an SSO token, not credentials; export one of the profiles that use it",
            Token::Login(_) => "",
        }
    }

    /// Refreshes it through its own service; `url` overrides the service's endpoint.
    pub async fn refresh(&self, url: Option<String>, timeout: Duration) -> Result<Refreshed, RefreshError> {
        match self {
            Token::Sso(spec) => crate::sso::refresh::refresh(spec, url, timeout)
                .await
                .map(|r| Refreshed { expires_at: r.expires_at, kept_newer: r.kept_newer }),
            Token::Login(spec) => crate::login::refresh(spec, url, timeout)
                .await
                .map(|r| Refreshed { expires_at: r.expires_at, kept_newer: r.kept_newer }),
        }
    }
}

/// A refreshed token: when it expires now.
#[derive(Debug)]
pub struct Refreshed {
    pub expires_at: DateTime<Utc>,
    /// The cache file held a newer token than the one refreshed (a new sign-in ran), which was
    /// kept.
    pub kept_newer: bool,
}

/// The finding with which the service of the token living at `origin` refuses a refresh that
/// only a new sign-in lifts; `None` for an origin that is not a kept token.
pub fn refusal(origin: Origin) -> Option<Code> {
    match origin {
        Origin::SsoCache => Some(Code::SsoTokenUnrefreshable),
        Origin::LoginCache => Some(Code::LoginTokenExpired),
        _ => None,
    }
}

/// The credentials a kept token living at `path` (`origin`) holds, when it holds any (an `aws
/// login` session's): `None` for an origin whose tokens are not credentials.
pub fn token_credentials(origin: Origin, path: &Path) -> Option<Result<SessionCredentials, String>> {
    match origin {
        Origin::LoginCache => Some(match crate::login::cache::read(path) {
            Ok(Some(c)) => Ok(session_credentials(c.credentials())),
            Ok(None) => Err(format!(
                "{} is gone: the login session was signed out (`aws login` signs in again)",
                path.display()
            )),
            Err(e) => Err(e.to_string()),
        }),
        _ => None,
    }
}

fn session_credentials(c: crate::login::cache::Credentials) -> SessionCredentials {
    SessionCredentials {
        access_key_id: c.access_key_id,
        secret_access_key: c.secret_access_key,
        session_token: c.session_token,
        expiration: c.expires_at,
    }
}

/// The kept token that serves `profile`'s credentials (an `aws login` profile's session), by
/// the name status gives it, as the merged files have it: `credd export PROFILE` then exports
/// that token.
pub fn serving_token(merged: &Sections, profile: &str, dirs: &Dirs) -> Option<String> {
    let section = merged.profile(profile).filter(|p| crate::login::signs_in_with_login(p))?;
    let session = section.get("login_session")?;
    crate::login::discover(merged, &dirs.login).into_iter().find(|s| s.session == session).map(|s| s.name)
}

/// What a session living at `origin` is when it is a kept token ("an SSO token"), for
/// messages that refuse to hand it out as credentials.
pub fn token_noun(origin: Origin) -> Option<&'static str> {
    match origin {
        Origin::SsoCache => Some("an SSO token"),
        Origin::LoginCache => Some("an aws login session"),
        _ => None,
    }
}

/// How the control socket names where the session of a profile whose keys are held elsewhere
/// lives: the keyring, though credd caches the session in an env file.
pub fn held_origin() -> Origin {
    Origin::Keyring
}

/// Which kind issues a profile's own credentials, when a kind's service does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Issuer {
    /// IAM Identity Center: the profile names an `sso_session` or a legacy `sso_start_url`.
    Sso,
    /// `aws login`: the profile names a `login_session`.
    Login,
}

impl Issuer {
    /// The kind that issues `profile`'s credentials, if one does.
    pub fn of(profile: &Section) -> Option<Issuer> {
        if crate::sso::signs_in_with_sso(profile) {
            Some(Issuer::Sso)
        } else {
            crate::login::signs_in_with_login(profile).then_some(Issuer::Login)
        }
    }

    /// What to say when `profile`, of this kind, is asked for as a session credd keeps.
    pub fn not_a_session(self, profile: &str) -> String {
        match self {
            Issuer::Sso => format!(
                "\"{profile}\" is an SSO profile, which the aws CLI and the SDKs read themselves; for a tool that cannot, add a [[session]] with method = \"sso\" and source_profile = \"{profile}\", and use that session's name"
            ),
            Issuer::Login => format!(
                "\"{profile}\" is an aws login profile, and no login session is cached for it: run `aws login --profile {profile}`"
            ),
        }
    }

    /// How `credd list` names a profile of this kind.
    pub fn label(self) -> &'static str {
        match self {
            Issuer::Sso => "sso",
            Issuer::Login => "login",
        }
    }

    /// The kind whose own credentials `method` writes where a session lives (`method = "sso"`).
    pub fn of_method(method: Method) -> Option<Issuer> {
        match method {
            Method::Sso => Some(Issuer::Sso),
            Method::Login => Some(Issuer::Login),
            Method::AssumeRole | Method::SessionToken => None,
        }
    }

    /// Why `profile` cannot source its method (it is not of this kind), and the fix.
    pub fn not_one(self, profile: &str) -> (String, String) {
        match self {
            Issuer::Sso => (
                format!(
                    "profile \"{profile}\" is not an SSO profile (it has no sso_session or sso_start_url)"
                ),
                "point source_profile at a profile `aws configure sso` wrote".into(),
            ),
            Issuer::Login => (
                format!("profile \"{profile}\" is not an aws login profile (it has no login_session)"),
                "point source_profile at a profile `aws login` signed in".into(),
            ),
        }
    }

    /// Whether its credentials are a role session, so that a role assumed from them is a chained
    /// role (1 h at most): an SSO profile's are; an `aws login` session's are those of whoever
    /// signed in, often an IAM user, and STS says so if not (`role-chain-duration`).
    pub fn role_session(self) -> bool {
        match self {
            Issuer::Sso => true,
            Issuer::Login => false,
        }
    }

    /// How long a session of its own method lasts when the kind sets it (`None`: the service
    /// decides per sign-in, as IAM Identity Center's permission sets do).
    pub fn lifetime(self) -> Option<Duration> {
        match self {
            Issuer::Sso => None,
            Issuer::Login => Some(Duration::from_secs(900)),
        }
    }

    /// Why GetSessionToken cannot be called with `profile`'s credentials, and the fix.
    pub fn no_session_token(self, profile: &str) -> (String, String) {
        match self {
            Issuer::Sso => (
                format!("GetSessionToken needs long-term keys, and \"{profile}\" is an SSO profile"),
                "use method = \"sso\" for its own role, or \"assume-role\" for another role".into(),
            ),
            Issuer::Login => (
                format!("GetSessionToken needs long-term keys, and \"{profile}\" is an aws login profile"),
                "use method = \"login\" for its own credentials, or \"assume-role\" for a role".into(),
            ),
        }
    }
}

/// A source whose credentials a kind's room fetches.
pub enum Source {
    /// Long-term keys in the OS keyring, for this profile (the credentials file marks it).
    Keyring(String),
    /// An SSO profile's role credentials.
    Sso(Box<SsoProfile>),
    /// An `aws login` profile's current credentials, from its session's cache file.
    Login { profile: String, cache: PathBuf },
}

/// A source's credentials, fetched.
pub enum Fetched {
    /// Keys to call STS with.
    Keys(ProfileCredentials),
    /// A session of the source's own, with its expiry, and who it is.
    Session { credentials: SessionCredentials, identity: String },
}

impl Fetched {
    /// The keys an STS call signs with.
    pub fn into_keys(self) -> ProfileCredentials {
        match self {
            Fetched::Keys(k) => k,
            Fetched::Session { credentials: c, .. } => ProfileCredentials {
                access_key_id: c.access_key_id,
                secret_access_key: c.secret_access_key,
                session_token: Some(c.session_token),
            },
        }
    }
}

impl Source {
    /// The kind's source of `profile`'s credentials, as `loaded` has it, in the SDKs' order for
    /// a profile's own credentials: an SSO profile, then a profile marked as held in the OS
    /// keyring (unless a file gives it keys of its own: keys put back by hand win). `None` when
    /// the profile's credentials are keys in the files; an error when its kind's settings are
    /// incomplete.
    pub fn find(loaded: &Loaded, profile: &str, dirs: &Dirs) -> Option<Result<Source, RefreshError>> {
        let sections = loaded.merged_where(crate::sso::portal::sections_of(profile));
        match crate::sso::portal::sso_profile(&sections, profile, &dirs.sso) {
            Some(Ok(p)) => return Some(Ok(Source::Sso(Box::new(p)))),
            Some(Err(why)) => return Some(Err(crate::sso::portal::incomplete(profile, why))),
            None => {}
        }
        // aws-config's order: a login session before credential_process and static keys.
        let section = sections.profile(profile).filter(|p| crate::login::signs_in_with_login(p));
        if let Some(session) = section.and_then(|p| p.get("login_session")) {
            let cache = crate::login::cache_file(&dirs.login, session);
            return Some(Ok(Source::Login { profile: profile.to_string(), cache }));
        }
        in_keyring(loaded, profile).then(|| Ok(Source::Keyring(profile.to_string())))
    }

    /// Whether it gives an IAM user's long-term keys (which the console must federate first).
    pub fn long_term_keys(&self) -> bool {
        match self {
            Source::Keyring(_) => true,
            Source::Sso(_) | Source::Login { .. } => false,
        }
    }

    /// The service the fetch calls, as endpoint overrides name it, and the profile whose
    /// overrides apply; `None` when it calls no AWS service.
    pub fn service(&self) -> Option<(&'static str, &str)> {
        match self {
            Source::Keyring(_) | Source::Login { .. } => None,
            Source::Sso(p) => Some(("sso", &p.profile)),
        }
    }

    /// Fetches the credentials over the kind's own calls; `url` overrides the service's endpoint.
    pub async fn fetch(self, url: Option<String>, timeout: Duration) -> Result<Fetched, RefreshError> {
        match self {
            Source::Keyring(profile) => {
                crate::keyring::credentials(&*crate::keyring::system(), &profile).await.map(Fetched::Keys)
            }
            Source::Sso(p) => {
                let credentials = crate::sso::portal::role_credentials(&p, url, timeout).await?;
                let identity =
                    format!("account {}, role {} (IAM Identity Center)", p.account_id, p.role_name);
                Ok(Fetched::Session { credentials, identity })
            }
            Source::Login { profile, cache } => login_credentials(&profile, cache).await,
        }
    }
}

/// A login profile's current credentials, read from its session's cache file. Credentials about
/// to end are not handed out: the session's own refresh (credd's, at half its life, or an SDK's)
/// comes first, and this is tried again.
async fn login_credentials(profile: &str, cache: PathBuf) -> Result<Fetched, RefreshError> {
    let fix = format!("aws login --profile {profile}");
    let read = tokio::task::spawn_blocking(move || crate::login::cache::read(&cache)).await;
    let signed_out = |what: String| RefreshError {
        fix: Some(fix.clone().into()),
        ..RefreshError::local(Code::LoginTokenExpired, what)
    };
    let c = match read {
        Ok(Ok(Some(c))) => c,
        Ok(Ok(None)) => {
            return Err(signed_out(format!("profile \"{profile}\" is not signed in with `aws login`")));
        }
        Ok(Err(e)) => {
            return Err(signed_out(format!("profile \"{profile}\"'s login session cannot be read: {e}")));
        }
        Err(e) => return Err(RefreshError::local(Code::Internal, format!("task failed: {e}"))),
    };
    let creds = c.credentials();
    if creds.expires_at - Utc::now() < chrono::Duration::seconds(60) {
        // Waiting for credd's own refresh of it; when the sign-in service refused that one,
        // only a new sign-in helps, and that is the fix to show.
        return Err(RefreshError {
            fix: Some(fix.clone().into()),
            ..RefreshError::transient(&format!(
                "the aws login session of profile \"{profile}\" has ended or ends within a minute, and has not been refreshed"
            ))
        });
    }
    let identity = format!("account {} (aws login)", creds.account_id);
    Ok(Fetched::Session { credentials: session_credentials(creds), identity })
}

/// Whether `profile`'s keys are to be fetched from the OS keyring: the credentials file marks the
/// profile as held there, and no file gives it keys of its own (keys put back by hand win).
pub fn in_keyring(files: &Loaded, profile: &str) -> bool {
    let held = files
        .credentials_document()
        .is_some_and(|d| d.noted_profiles(crate::profile::held::MARKER).contains(&profile));
    held && files
        .merged_profile(profile)
        .profile(profile)
        .is_none_or(|s| meta::credential_kind(s) == meta::CredentialKind::Absent)
}

/// Hashes into `h` what `profile` signs in with when its credentials are not keys in the files:
/// for an SSO profile, its cached token. `None` when there is nothing to hash.
pub fn fingerprint(
    loaded: &Loaded,
    merged: &Sections,
    profile: &str,
    dirs: &Dirs,
    h: &mut impl std::hash::Hasher,
) -> Option<()> {
    let cache = match crate::sso::portal::sso_profile(merged, profile, &dirs.sso) {
        Some(p) => p.ok()?.cache,
        None => crate::login::cache_file(&dirs.login, merged.profile(profile)?.get("login_session")?),
    };
    loaded.token_cache(&cache)?.secret()?.expose().hash(h);
    Some(())
}

/// The offline doctor checks of the kinds whose settings live in the config file (only profile
/// `only`, when given): `refused` are the kept tokens' cache files whose refresh a running
/// daemon saw their service refuse, with its words.
pub fn doctor_config(
    loaded: &Loaded,
    env: &dyn Env,
    only: Option<&str>,
    refused: &BTreeMap<PathBuf, String>,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let Some(c) = loaded.config_document() else { return Vec::new() };
    let (config, dirs) = (c.sections(), Dirs::from_env(env));
    let mut out = crate::sso::doctor::check(&config, &dirs.sso, only, refused, now);
    out.extend(crate::login::doctor::check(&config, &loaded.credentials(), &dirs.login, env, only));
    // What a running daemon found and the files cannot say: the sign-in service's refusal.
    for spec in crate::login::discover(&config, &dirs.login) {
        let Some(words) = refused.get(&spec.cache) else { continue };
        for p in spec.profiles.iter().filter(|p| only.is_none_or(|o| o == p.as_str())) {
            out.push(Finding::new(
                Code::LoginTokenExpired,
                crate::finding::Severity::Error,
                Some(p),
                crate::finding::Source::ConfigFile,
                format!("profile \"{p}\"'s aws login session cannot be refreshed: {words}"),
                spec.login_command(),
            ));
        }
    }
    out
}

/// The doctor checks of the profiles whose keys are held elsewhere (only `only`, when given),
/// and the keys their store gave, for the live checks.
pub async fn doctor_held(
    loaded: &Loaded,
    only: Option<&str>,
) -> (Vec<Finding>, HashMap<String, ProfileCredentials>) {
    crate::keyring::doctor::check(
        &*crate::keyring::system(),
        loaded.credentials_document(),
        &loaded.merged(),
        only,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_back_in_the_file_win_over_the_keyring_marker() {
        let marked = Loaded::from_text("", "[work]\n# credd-keyring: held\n");
        assert!(in_keyring(&marked, "work"));
        let back = Loaded::from_text(
            "",
            "[work]\n# credd-keyring: held\naws_access_key_id = AKIAX\naws_secret_access_key = s\n",
        );
        assert!(!in_keyring(&back, "work"));
        assert!(!in_keyring(&Loaded::from_text("", "[work]\n"), "work"));
    }

    #[test]
    fn every_token_origin_has_its_refusal_and_noun() {
        let spec = SsoSpec {
            name: "sso-session corp".into(),
            session: Some("corp".into()),
            start_url: "https://x".into(),
            region: None,
            cache: PathBuf::from("/sso/x.json"),
            profiles: vec![],
        };
        let t = Token::Sso(Box::new(spec));
        assert_eq!(t.refused(), Code::SsoTokenUnrefreshable);
        assert_eq!(token_noun(t.origin()), Some("an SSO token"));
        assert_eq!((refusal(Origin::EnvFile), token_noun(Origin::Keyring)), (None, None));
    }
}
