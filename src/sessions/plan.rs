//! Which sessions credd tracks, worked out from its config and the AWS files: each one's name,
//! where it lives (`Home`) and, when credd manages it, its `Settings`. Pure: running a refresh and
//! storing it belong to `refresh`, deciding when to belong to the engine.
//!
//! - Configured `[[session]]`s are managed, once checked against the files: the source exists and
//!   holds long-term keys (in the file or, marked so, in the OS keyring), or is itself a managed
//!   session or an SSO profile (role chaining, 1 h at most), and no chain of sources loops.
//! - Zero config: every profile in the credentials file that carries a session token is tracked
//!   watch-only; aws-mfa's layout (`[X-long-term]` with `aws_mfa_device`) makes `[X]` a managed
//!   session-token session; each keyring-held profile gets an on-demand session for
//!   `credd credential-process`; and each SSO session whose token is cached is tracked as a token.
//!
//! A session that fails these checks is reported and left out; the others carry on.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{Config, ConfigError, Home, Loc, Method, Settings, did_you_mean};
use crate::files::{Loaded, Resolved};
use crate::profile::Sections;
use crate::profile::meta::{self, CredentialKind, ExpiryRead};

/// How a managed session is kept alive: its settings, and what planning found out about them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Managed {
    pub settings: Settings,
    /// The source is another managed session (role chaining).
    pub chained: bool,
    /// Set when found without config, naming the layout ("aws-mfa", "keyring").
    pub discovered: Option<&'static str>,
    /// Refreshed only once something asks for it (`credd credential-process`); from then on,
    /// kept fresh like any other. The sessions of keyring-held profiles start this way, so that
    /// holding a key costs no STS call (and no MFA prompt) until it is used.
    pub on_demand: bool,
}

impl Managed {
    /// Whether a fresh session can last `ttl`: STS issues at most `duration`, and a role chained
    /// from another session is capped at 1 h by AWS. Known before calling STS, so `--min-ttl`
    /// fails at once with the reason instead of after a refresh that cannot help.
    pub fn can_last(&self, name: &str, ttl: Duration) -> Result<(), String> {
        let s = &self.settings;
        if ttl <= s.duration {
            return Ok(());
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

/// One tracked session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSpec {
    /// The profile in the credentials file (or the watch's name, for a watched env file).
    pub name: String,
    /// Where its credentials live.
    pub home: Home,
    /// How it is refreshed; `None` for a watch-only session another tool writes (and for an
    /// SSO token, which `sso` describes).
    pub managed: Option<Managed>,
    /// Set for an IAM Identity Center token: the SSO session it belongs to.
    pub sso: Option<Box<crate::sso::SsoSpec>>,
}

/// The layout name ([`Managed::discovered`]) of the session credd keeps for a keyring-held profile.
pub const KEYRING_LAYOUT: &str = "keyring";

impl SessionSpec {
    /// Whether it is the session of a profile whose keys are in the OS keyring.
    pub fn keeps_keyring_session(&self) -> bool {
        self.managed.as_ref().is_some_and(|m| m.discovered == Some(KEYRING_LAYOUT))
    }

    /// Whether credd refreshes it (an SSO token until it turns out it cannot be refreshed).
    pub fn refreshed(&self) -> bool {
        self.managed.is_some() || self.sso.is_some()
    }

    /// How long a session of its own lasts, as far as the config says: its `duration`, for
    /// the STS methods. `None` when the issuer decides (IAM Identity Center) or credd does not
    /// refresh it. The schedule's lead is at most half of it, so a 15-minute session is
    /// refreshed once per lifetime whoever wrote the one in the file.
    pub fn lifetime(&self) -> Option<Duration> {
        let m = self.managed.as_ref()?;
        (m.settings.method != Method::Sso).then_some(m.settings.duration)
    }

    /// Whether it waits to be asked for before its first refresh.
    pub fn on_demand(&self) -> bool {
        self.managed.as_ref().is_some_and(|m| m.on_demand)
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
        match &self.home {
            Home::EnvFile(p) => loaded.env_file(p).and_then(|f| f.expiry()),
            Home::SsoCache(p) => loaded.sso_token(p).and_then(|t| t.expires_at()),
            Home::Profile | Home::Both(_) => current_expiry(creds, &self.name),
        }
    }
}

#[derive(Debug, Default)]
pub struct Plan {
    pub sessions: Vec<SessionSpec>,
    /// Problems with configured sessions; each one's session is left out.
    pub errors: Vec<ConfigError>,
}

fn err(config: &Config, loc: Loc, key: &str, message: String, fix: Option<String>) -> ConfigError {
    ConfigError {
        path: config.path.clone().unwrap_or_default(),
        loc,
        key: Some(key.to_string()),
        message,
        fix,
    }
}

/// Who and where credd runs: the user and host name the default role session name, and the
/// runtime directory where sessions of keyring-held profiles are cached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub user: String,
    pub host: String,
    pub runtime_dir: PathBuf,
    /// `~/.aws/sso/cache`.
    pub sso_cache_dir: PathBuf,
    /// `~/.aws/credentials` (or `AWS_SHARED_CREDENTIALS_FILE`), for messages that name it.
    pub credentials_file: PathBuf,
}

impl Host {
    /// A fixed host for tests.
    #[cfg(test)]
    pub fn test() -> Host {
        Host {
            user: "u".into(),
            host: "h".into(),
            runtime_dir: PathBuf::from("/run/credd"),
            sso_cache_dir: PathBuf::from("/sso"),
            credentials_file: PathBuf::from("/home/u/.aws/credentials"),
        }
    }

    /// Reads what this host caches beside the AWS files into `loaded`: the sessions of
    /// keyring-held profiles, and the SSO tokens.
    pub fn read_caches(&self, loaded: &mut Loaded) {
        loaded.read_keyring_sessions(|p| self.keyring_session_file(p));
        loaded.read_sso_tokens(&self.sso_cache_dir);
    }

    /// Where the short-lived session of keyring-held `profile` is cached for
    /// `credd credential-process`: the runtime directory, memory-backed on Linux, 0700.
    pub fn keyring_session_file(&self, profile: &str) -> PathBuf {
        self.runtime_dir.join("keyring-sessions").join(format!("{profile}.env"))
    }
}

/// Works out the sessions to track.
pub fn plan(config: &Config, files: &Loaded, host: &Host) -> Plan {
    plan_resolved(config, &files.resolve(), host)
}

/// [`plan`] over a reading already resolved, so a caller that needs the views too (the engine)
/// resolves a large file once, not twice.
pub fn plan_resolved(config: &Config, resolved: &Resolved, host: &Host) -> Plan {
    let (merged, creds) = (&resolved.merged, &resolved.credentials);
    // A profile whose keys are in the keyring counts as holding long-term keys.
    let kind_of = |name: &str, section| match meta::credential_kind(section) {
        CredentialKind::Absent if resolved.keyring_held.contains(name) => CredentialKind::LongTerm,
        kind => kind,
    };
    let mut out = Plan::default();
    let configured: HashMap<&str, &crate::config::SessionConfig> =
        config.sessions.iter().map(|s| (s.name.as_str(), s)).collect();
    let default_name = default_session_name(&host.user, &host.host);

    for c in &config.sessions {
        let (name, loc, s) = (&c.name, c.source_loc, &c.settings);
        let mut problem = |key: &str, message: String, fix: Option<String>| {
            out.errors.push(err(config, loc, key, message, fix));
        };
        let source = merged.profile(&s.source_profile);
        // An SSO profile's role credentials are a role session: a role assumed from them is a
        // chained role, which AWS caps at 1 h.
        let sso_source = source.is_some_and(crate::sso::signs_in_with_sso);
        let chained = configured.contains_key(s.source_profile.as_str())
            || (sso_source && s.method == Method::AssumeRole);
        // A file that could not be read may hold the source: say that, not "missing" or "no keys".
        let unseen = |what: &str| {
            resolved.unreadable.first().map(|u| {
                (
                    format!("cannot tell whether profile \"{}\" {what}: {}", s.source_profile, u.message()),
                    u.fix(),
                )
            })
        };
        if source.is_none() && !chained {
            if let Some((message, fix)) = unseen("exists") {
                problem("source_profile", message, Some(fix));
                continue;
            }
            let names: Vec<&str> = merged.profile_names().collect();
            let fix = did_you_mean(&s.source_profile, names.iter().copied())
                .map(|m| format!("did you mean \"{m}\"?"))
                .unwrap_or_else(|| "add the profile with `aws configure --profile NAME`".into());
            problem(
                "source_profile",
                format!("profile \"{}\" is in neither AWS file", s.source_profile),
                Some(fix),
            );
            continue;
        }
        if s.method == Method::Sso && !sso_source {
            problem(
                "source_profile",
                format!(
                    "profile \"{}\" is not an SSO profile (it has no sso_session or sso_start_url)",
                    s.source_profile
                ),
                Some("point source_profile at a profile `aws configure sso` wrote".into()),
            );
            continue;
        }
        if sso_source && s.method == Method::SessionToken {
            problem(
                "method",
                format!(
                    "GetSessionToken needs long-term keys, and \"{}\" is an SSO profile",
                    s.source_profile
                ),
                Some("use method = \"sso\" for its own role, or \"assume-role\" for another role".into()),
            );
            continue;
        }
        if !chained && !sso_source {
            let kind = kind_of(&s.source_profile, source.expect("checked above"));
            if kind != CredentialKind::LongTerm {
                if let Some((message, fix)) = unseen("holds long-term keys") {
                    problem("source_profile", message, Some(fix));
                    continue;
                }
                let what = match kind {
                    CredentialKind::Absent => "holds no access keys",
                    CredentialKind::Session => "holds a temporary session, not long-term keys",
                    _ => "holds inconsistent keys",
                };
                problem(
                    "source_profile",
                    format!("profile \"{}\" {what}", s.source_profile),
                    Some("point source_profile at the profile with your AKIA… keys".into()),
                );
                continue;
            }
        }
        if let Some(cycle) = find_cycle(name, &configured) {
            problem("source_profile", format!("sources loop: {}", cycle.join(" → ")), None);
            continue;
        }
        if chained && s.method == Method::SessionToken {
            problem(
                "method",
                "GetSessionToken needs long-term keys, but the source is a session".into(),
                Some("use method = \"assume-role\", or a long-term source".into()),
            );
            continue;
        }
        if chained && s.duration > Duration::from_secs(3600) {
            problem(
                "duration",
                format!("\"{}\" is a session, and chained roles last 1h at most", s.source_profile),
                Some("set duration = \"1h\" or less".into()),
            );
            continue;
        }
        let settings = Settings {
            role_session_name: s.role_session_name.clone().or_else(|| Some(default_name.clone())),
            ..s.clone()
        };
        out.sessions.push(SessionSpec {
            name: name.clone(),
            home: c.home.clone(),
            managed: Some(Managed { settings, chained, discovered: None, on_demand: false }),
            sso: None,
        });
    }

    // Zero config: aws-mfa's layout, then every other session in the credentials file.
    for name in creds.profile_names() {
        let Some(target) = name.strip_suffix("-long-term") else {
            continue;
        };
        let long = creds.profile(name).expect("listed");
        let Some(device) = long.get("aws_mfa_device").filter(|d| !d.is_empty()) else {
            continue;
        };
        if configured.contains_key(target) || kind_of(name, long) != CredentialKind::LongTerm {
            continue;
        }
        let short = creds.profile(target);
        let role = short
            .filter(|s| s.get("assumed_role").is_some_and(|v| v.eq_ignore_ascii_case("true")))
            .and_then(|s| s.get("assumed_role_arn"))
            .map(str::to_string);
        let method = if role.is_some() { Method::AssumeRole } else { Method::SessionToken };
        let settings = Settings {
            role_arn: role,
            role_session_name: Some(default_name.clone()),
            mfa_serial: Some(device.to_string()),
            ..Settings::new(method, name)
        };
        out.sessions.push(SessionSpec {
            name: target.to_string(),
            home: Home::Profile,
            managed: Some(Managed {
                settings,
                chained: false,
                discovered: Some("aws-mfa"),
                on_demand: false,
            }),
            sso: None,
        });
    }
    // Zero config: a keyring-held profile gets a GetSessionToken session, cached in the runtime
    // directory, for `credd credential-process NAME` to hand out instead of the long-term key.
    let sources: HashSet<&str> = out
        .sessions
        .iter()
        .filter_map(|s| s.managed.as_ref())
        .filter(|m| m.discovered == Some("aws-mfa"))
        .map(|m| m.settings.source_profile.as_str())
        .collect();
    let mut held_sessions = Vec::new();
    for &name in &resolved.keyring_held {
        if configured.contains_key(name) || sources.contains(name) {
            continue;
        }
        let mfa_serial = merged.profile(name).and_then(|p| p.get("mfa_serial")).map(str::to_string);
        held_sessions.push(SessionSpec {
            name: name.to_string(),
            home: Home::EnvFile(host.keyring_session_file(name)),
            managed: Some(Managed {
                settings: Settings { mfa_serial, ..Settings::new(Method::SessionToken, name) },
                chained: false,
                discovered: Some(KEYRING_LAYOUT),
                on_demand: true,
            }),
            sso: None,
        });
    }
    out.sessions.extend(held_sessions);
    // Thousands of generated profiles: look names up in a set, not by scanning the list.
    let mut taken: HashSet<String> = out.sessions.iter().map(|s| s.name.clone()).collect();
    for name in creds.profile_names() {
        if !taken.contains(name)
            && meta::credential_kind(creds.profile(name).expect("listed")) == CredentialKind::Session
        {
            taken.insert(name.to_string());
            out.sessions.push(SessionSpec {
                name: name.to_string(),
                home: Home::Profile,
                managed: None,
                sso: None,
            });
        }
    }
    // Zero config: every SSO session whose token is in the cache (`aws sso login` was run).
    for spec in crate::sso::discover(merged, &host.sso_cache_dir) {
        if !resolved.sso_cached.contains(spec.cache.as_path()) || !taken.insert(spec.name.clone()) {
            continue;
        }
        out.sessions.push(SessionSpec {
            name: spec.name.clone(),
            home: Home::SsoCache(spec.cache.clone()),
            managed: None,
            sso: Some(Box::new(spec)),
        });
    }
    for w in &config.watches {
        if !taken.insert(w.name.clone()) {
            out.errors.push(err(
                config,
                Loc::default(),
                "watch",
                format!("\"{}\" is already a session name", w.name),
                Some("give the [[watch]] a different name".into()),
            ));
            continue;
        }
        out.sessions.push(SessionSpec {
            name: w.name.clone(),
            home: Home::EnvFile(w.env_file.clone()),
            managed: None,
            sso: None,
        });
    }
    out.sessions.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The default RoleSessionName: `credd-USER@HOST`, cut down to what STS accepts, so CloudTrail
/// shows who and where.
pub fn default_session_name(user: &str, host: &str) -> String {
    let raw = format!("credd-{user}@{host}");
    let mut s: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) { c } else { '-' })
        .take(64)
        .collect();
    if s.len() < 2 {
        s = "credd".into();
    }
    s
}

fn find_cycle(start: &str, configured: &HashMap<&str, &crate::config::SessionConfig>) -> Option<Vec<String>> {
    let mut seen = vec![start.to_string()];
    let mut cur = start;
    while let Some(s) = configured.get(cur) {
        let next = s.settings.source_profile.as_str();
        if seen.iter().any(|n| n == next) {
            seen.push(next.to_string());
            return Some(seen);
        }
        seen.push(next.to_string());
        cur = next;
    }
    None
}

/// Why no expiry can be read for the session named `name` in the credentials file at `path`:
/// an expiry key that holds no timestamp, as `credd list` and doctor (`expiry-unreadable`) say.
pub fn unreadable_expiry(creds: &Sections, name: &str, path: &Path) -> Option<String> {
    match creds.profile(name).map(meta::expiry) {
        Some(ExpiryRead::Invalid { key, line }) => {
            Some(format!("{}:{line}: `{key}` is not a timestamp credd can read", path.display()))
        }
        _ => None,
    }
}

/// The expiry of a session as the credentials file records it now.
pub fn current_expiry(creds: &Sections, name: &str) -> Option<DateTime<Utc>> {
    match creds.profile(name).map(meta::expiry) {
        Some(ExpiryRead::Found(e)) => Some(e.at),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn files(config: &str, creds: &str) -> Loaded {
        Loaded::from_text(config, creds)
    }

    const LONG: &str = "aws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s\n";
    const SESSION: &str =
        "aws_access_key_id = ASIAEXAMPLE\naws_secret_access_key = s\naws_session_token = t\n";

    fn cfg(text: &str) -> Config {
        Config::parse(text, Path::new("/credd.toml")).unwrap()
    }

    #[test]
    fn zero_config_tracks_sessions_and_aws_mfa() {
        let creds = format!(
            "[base]\n{LONG}[saml]\n{SESSION}[dev-long-term]\n{LONG}aws_mfa_device = arn:aws:iam::123456789012:mfa/alice\n[dev]\n{SESSION}"
        );
        let p = plan(&Config::default(), &files("", &creds), &Host::test());
        assert!(p.errors.is_empty());
        let names: Vec<_> = p.sessions.iter().map(|s| (s.name.as_str(), s.managed.is_some())).collect();
        assert_eq!(names, [("dev", true), ("saml", false)]);
        let m = p.sessions[0].managed.as_ref().unwrap();
        assert_eq!((m.settings.method, m.discovered), (Method::SessionToken, Some("aws-mfa")));
        assert_eq!(m.settings.mfa_serial.as_deref(), Some("arn:aws:iam::123456789012:mfa/alice"));
    }

    #[test]
    fn configured_sources_are_checked() {
        let c = cfg("[[session]]\nname = \"dev\"\nmethod = \"session-token\"\nsource_profile = \"bsae\"\n");
        let p = plan(&c, &files("", &format!("[base]\n{LONG}")), &Host::test());
        assert!(p.sessions.is_empty());
        let e = p.errors[0].to_string();
        assert!(
            e.starts_with("/credd.toml:4:18: `source_profile`") && e.contains("did you mean \"base\"?"),
            "{e}"
        );

        let p = plan(&c, &files("", &format!("[bsae]\n{SESSION}")), &Host::test());
        assert!(p.errors[0].to_string().contains("temporary session"), "{:?}", p.errors);
    }

    #[test]
    fn chains_are_limited_and_cycles_refused() {
        let c = cfg(
            "[[session]]\nname = \"mfa\"\nmethod = \"session-token\"\nsource_profile = \"base\"\n[[session]]\nname = \"role\"\nmethod = \"assume-role\"\nrole_arn = \"arn:aws:iam::123456789012:role/r\"\nsource_profile = \"mfa\"\nduration = \"2h\"\n",
        );
        let p = plan(&c, &files("", &format!("[base]\n{LONG}")), &Host::test());
        assert_eq!(p.sessions.len(), 1);
        assert!(p.errors[0].to_string().contains("1h at most"), "{:?}", p.errors);
        let c = cfg(
            "[[session]]\nname = \"a\"\nmethod = \"assume-role\"\nrole_arn = \"arn:aws:iam::123456789012:role/r\"\nsource_profile = \"b\"\n[[session]]\nname = \"b\"\nmethod = \"assume-role\"\nrole_arn = \"arn:aws:iam::123456789012:role/r\"\nsource_profile = \"a\"\n",
        );
        let p = plan(&c, &files("", ""), &Host::test());
        assert!(p.sessions.is_empty());
        assert!(p.errors[0].to_string().contains("sources loop: a → b → a"), "{:?}", p.errors);
    }

    #[test]
    fn session_names_follow_sts_rules() {
        assert_eq!(default_session_name("alice", "laptop.local"), "credd-alice@laptop.local");
        let n = default_session_name("al ice/x", "höst");
        assert!(crate::config::is_role_session_name(&n), "{n}");
        assert_eq!(default_session_name(&"u".repeat(100), "h").len(), 64);
    }

    #[test]
    fn keyring_held_profiles_are_sources_and_get_an_on_demand_session() {
        let held = "# credd-keyring: held\n";
        let creds = format!(
            "[work]\n{held}region = x\n[dev-long-term]\n{held}aws_mfa_device = arn:aws:iam::123456789012:mfa/a\n[bare]\n"
        );
        let config = "[profile work]\nmfa_serial = arn:aws:iam::123456789012:mfa/w\n";
        let c = cfg(
            "[[session]]\nname = \"role\"\nmethod = \"assume-role\"\nrole_arn = \"arn:aws:iam::123456789012:role/r\"\nsource_profile = \"work\"\n",
        );
        let p = plan(&c, &files(config, &creds), &Host::test());
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let got: Vec<_> = p
            .sessions
            .iter()
            .map(|s| (s.name.as_str(), s.managed.as_ref().map(|m| (m.discovered, m.on_demand))))
            .collect();
        // The aws-mfa layout works with its keys in the keyring; the configured role sources
        // from the keyring; [work] gets an on-demand session for credential-process, and the
        // aws-mfa source does not. [bare] holds nothing and is not marked: nothing.
        assert_eq!(
            got,
            [
                ("dev", Some((Some("aws-mfa"), false))),
                ("role", Some((None, false))),
                ("work", Some((Some("keyring"), true))),
            ]
        );
        let work = &p.sessions[2];
        assert_eq!(work.home, Home::EnvFile(PathBuf::from("/run/credd/keyring-sessions/work.env")));
        let m = work.managed.as_ref().unwrap();
        assert_eq!(
            (m.settings.method, m.settings.mfa_serial.as_deref()),
            (Method::SessionToken, Some("arn:aws:iam::123456789012:mfa/w"))
        );
        // Unmarked, a profile without keys is still no source.
        let c = cfg("[[session]]\nname = \"s\"\nmethod = \"session-token\"\nsource_profile = \"bare\"\n");
        assert!(
            plan(&c, &files("", &creds), &Host::test()).errors[0]
                .to_string()
                .contains("holds no access keys")
        );
    }

    #[test]
    fn sso_profiles_source_assume_role_and_sso_sessions_only() {
        let config = "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\
                      [profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Dev\n";
        let creds = format!("[base]\n{LONG}");
        let session = |method: &str, source: &str, extra: &str| {
            cfg(&format!(
                "[[session]]\nname = \"s\"\nmethod = \"{method}\"\nsource_profile = \"{source}\"\n{extra}"
            ))
        };
        let role = "role_arn = \"arn:aws:iam::123456789012:role/r\"\n";
        let p = plan(&session("assume-role", "dev", role), &files(config, &creds), &Host::test());
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert!(p.sessions[0].managed.as_ref().unwrap().chained, "a role from SSO credentials is chained");
        let p = plan(&session("sso", "dev", ""), &files(config, &creds), &Host::test());
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        for (method, source, extra, want) in [
            ("sso", "base", "", "is not an SSO profile"),
            ("session-token", "dev", "", "is an SSO profile"),
            ("assume-role", "dev", "duration = \"2h\"\n", "1h at most"),
        ] {
            let p = plan(
                &session(
                    method,
                    source,
                    &format!("{extra}{}", if method == "assume-role" { role } else { "" }),
                ),
                &files(config, &creds),
                &Host::test(),
            );
            assert!(
                p.errors.first().is_some_and(|e| e.to_string().contains(want)),
                "{method} from {source}: {:?}",
                p.errors
            );
        }
        // credd's config refuses what an sso session takes from IAM Identity Center.
        let e = Config::parse("[[session]]\nname = \"s\"\nmethod = \"sso\"\nsource_profile = \"dev\"\nduration = \"2h\"\nrole_arn = \"arn:aws:iam::123456789012:role/r\"\n", Path::new("/c")).unwrap_err();
        let all: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert!(
            all.iter().any(|m| m.contains("`role_arn`")) && all.iter().any(|m| m.contains("`duration`")),
            "{all:?}"
        );
    }
}
