//! Planning: which sessions to track, from credd's config and the AWS files as read. Configured
//! `[[session]]`s are checked against the files first; then zero config adds what the files
//! show (aws-mfa's layout, keyring-held profiles, sessions other tools write, kept tokens).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{CHAINED_MAX, HELD_LAYOUT, Host, Kind, MFA_LAYOUT, Managed, Mfa, SessionSpec, mfa_session_name};
use crate::config::{Config, ConfigError, Home, Loc, Method, SessionConfig, Settings, did_you_mean};
use crate::files::{Loaded, Resolved};
use crate::profile::Sections;
use crate::profile::meta::{self, CredentialKind, ExpiryRead};
use crate::profile::parse::Section;

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

/// Works out the sessions to track.
pub fn plan(config: &Config, files: &Loaded, host: &Host) -> Plan {
    plan_resolved(config, &files.resolve(), host)
}

/// [`plan`] over a reading already resolved, so a caller that needs the views too (the engine)
/// resolves a large file once, not twice.
pub fn plan_resolved(config: &Config, resolved: &Resolved, host: &Host) -> Plan {
    let planner = Planner {
        config,
        resolved,
        host,
        configured: config.sessions.iter().map(|s| (s.name.as_str(), s)).collect(),
        default_name: default_session_name(&host.user, &host.host),
    };
    let mut out = Plan::default();
    for c in &config.sessions {
        match planner.configured(c) {
            Ok(spec) => out.sessions.push(spec),
            Err((key, message, fix)) => out.errors.push(err(config, c.source_loc, key, message, fix)),
        }
    }
    // Zero config: aws-mfa's layout, keyring-held profiles, then every other session in the
    // credentials file, the kept tokens and the configured watches.
    out.sessions.extend(planner.aws_mfa());
    let held = planner.held(&out.sessions);
    out.sessions.extend(held);
    planner.share_mfa(&mut out.sessions);
    // Thousands of generated profiles: look names up in a set, not by scanning the list.
    let mut taken: HashSet<String> = out.sessions.iter().map(|s| s.name.clone()).collect();
    out.sessions.extend(planner.watched(&mut taken));
    out.sessions.extend(planner.tokens(&mut taken));
    planner.watches(&mut taken, &mut out);
    out.sessions.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// What is wrong with a configured session: the key at fault, the message and the fix.
type Problem = (&'static str, String, Option<String>);

/// What planning reads, shared by its steps.
struct Planner<'a> {
    config: &'a Config,
    resolved: &'a Resolved<'a>,
    host: &'a Host,
    configured: HashMap<&'a str, &'a SessionConfig>,
    default_name: String,
}

impl Planner<'_> {
    /// What a profile holds; a profile whose keys are in the keyring holds long-term keys.
    fn kind_of(&self, name: &str, section: &Section) -> CredentialKind {
        match meta::credential_kind(section) {
            CredentialKind::Absent if self.resolved.held.contains(name) => CredentialKind::LongTerm,
            kind => kind,
        }
    }

    /// A configured `[[session]]`, checked against the files.
    fn configured(&self, c: &SessionConfig) -> Result<SessionSpec, Problem> {
        let s = &c.settings;
        let source = self.resolved.merged.profile(&s.source_profile);
        // A kind's credentials that are a role session (an SSO profile's role credentials): a
        // role assumed from them is a chained role, which AWS caps at 1 h.
        let issuer = source.and_then(crate::kinds::Issuer::of);
        let chained = self.configured.contains_key(s.source_profile.as_str())
            || (issuer.is_some_and(crate::kinds::Issuer::role_session) && s.method == Method::AssumeRole);
        self.check_source(s, source, chained, issuer)?;
        if let Some(cycle) = find_cycle(&c.name, &self.configured) {
            return Err(("source_profile", format!("sources loop: {}", cycle.join(" → ")), None));
        }
        check_chain(s, chained)?;
        let settings = Settings {
            role_session_name: s.role_session_name.clone().or_else(|| Some(self.default_name.clone())),
            ..s.clone()
        };
        Ok(SessionSpec {
            name: c.name.clone(),
            home: c.home.clone(),
            kind: Kind::Renewed(Box::new(Managed {
                settings,
                chained,
                discovered: None,
                on_demand: false,
                source_file: None,
                mfa: None,
            })),
        })
    }

    /// The source profile exists and can be a source of this method: long-term keys (in a file
    /// or held elsewhere), a renewed session, or a profile whose credentials a kind issues.
    fn check_source(
        &self,
        s: &Settings,
        source: Option<&Section>,
        chained: bool,
        issuer: Option<crate::kinds::Issuer>,
    ) -> Result<(), Problem> {
        // A file that could not be read may hold the source: say that, not "missing" or "no keys".
        let unseen = |what: &str| {
            self.resolved.unreadable.first().map(|u| {
                let message =
                    format!("cannot tell whether profile \"{}\" {what}: {}", s.source_profile, u.message());
                ("source_profile", message, Some(u.fix()))
            })
        };
        if source.is_none() && !chained {
            if let Some(p) = unseen("exists") {
                return Err(p);
            }
            let names: Vec<&str> = self.resolved.merged.profile_names().collect();
            let fix = did_you_mean(&s.source_profile, names.iter().copied())
                .map(|m| format!("did you mean \"{m}\"?"))
                .unwrap_or_else(|| "add the profile with `aws configure --profile NAME`".into());
            let message = format!("profile \"{}\" is in neither AWS file", s.source_profile);
            return Err(("source_profile", message, Some(fix)));
        }
        if let Some(kind) = crate::kinds::Issuer::of_method(s.method)
            && issuer != Some(kind)
        {
            let (message, fix) = kind.not_one(&s.source_profile);
            return Err(("source_profile", message, Some(fix)));
        }
        if let Some(kind) = issuer
            && s.method == Method::SessionToken
        {
            let (message, fix) = kind.no_session_token(&s.source_profile);
            return Err(("method", message, Some(fix)));
        }
        let source = match source {
            Some(source) if !chained && issuer.is_none() => source,
            _ => return Ok(()),
        };
        let what = match self.kind_of(&s.source_profile, source) {
            CredentialKind::LongTerm => return Ok(()),
            _ if !self.resolved.unreadable.is_empty() => {
                return Err(unseen("holds long-term keys").expect("a file was unreadable"));
            }
            CredentialKind::Absent => "holds no access keys",
            CredentialKind::Session => "holds a temporary session, not long-term keys",
            _ => "holds inconsistent keys",
        };
        Err((
            "source_profile",
            format!("profile \"{}\" {what}", s.source_profile),
            Some("point source_profile at the profile with your AKIA… keys".into()),
        ))
    }

    /// aws-mfa's layout: `[X-long-term]` with `aws_mfa_device` makes `[X]` a session credd
    /// renews (an assume-role one when aws-mfa wrote a role there).
    fn aws_mfa(&self) -> Vec<SessionSpec> {
        let creds = &self.resolved.credentials;
        let mut out = Vec::new();
        for name in creds.profile_names() {
            let Some(target) = name.strip_suffix("-long-term") else {
                continue;
            };
            let long = creds.profile(name).expect("listed");
            let Some(device) = long.get("aws_mfa_device").filter(|d| !d.is_empty()) else {
                continue;
            };
            if self.configured.contains_key(target) || self.kind_of(name, long) != CredentialKind::LongTerm {
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
                role_session_name: Some(self.default_name.clone()),
                mfa_serial: Some(device.to_string()),
                ..Settings::new(method, name)
            };
            out.push(SessionSpec {
                name: target.to_string(),
                home: Home::Profile,
                kind: Kind::Renewed(Box::new(Managed {
                    settings,
                    chained: false,
                    discovered: Some("aws-mfa"),
                    on_demand: false,
                    source_file: None,
                    mfa: None,
                })),
            });
        }
        out
    }

    /// A keyring-held profile gets a GetSessionToken session, cached in the runtime directory,
    /// for `credd credential-process NAME` to hand out instead of the long-term key; not when a
    /// configured or aws-mfa session already sources from it.
    fn held(&self, planned: &[SessionSpec]) -> Vec<SessionSpec> {
        let sources: HashSet<&str> = planned
            .iter()
            .filter_map(SessionSpec::managed)
            .filter(|m| m.discovered == Some("aws-mfa"))
            .map(|m| m.settings.source_profile.as_str())
            .collect();
        let mut out = Vec::new();
        for &name in &self.resolved.held {
            if self.configured.contains_key(name) || sources.contains(name) {
                continue;
            }
            let merged = &self.resolved.merged;
            let mfa_serial = merged.profile(name).and_then(|p| p.get("mfa_serial")).map(str::to_string);
            out.push(SessionSpec {
                name: name.to_string(),
                home: Home::EnvFile(self.host.held_session_file(name)),
                kind: Kind::Renewed(Box::new(Managed {
                    settings: Settings { mfa_serial, ..Settings::new(Method::SessionToken, name) },
                    chained: false,
                    discovered: Some(HELD_LAYOUT),
                    on_demand: true,
                    source_file: None,
                    mfa: None,
                })),
            });
        }
        out
    }

    /// Issue 29: configured assume-role sessions with MFA that share a source and an
    /// `mfa_serial` are assumed from one MFA session of that source and device (GetSessionToken
    /// with MFA), with no code of their own: one code serves them all until it ends. A
    /// session-token session with that source and device (configured, aws-mfa's, a keyring-held
    /// profile's) already is that session, even for one role; else, for two roles or more,
    /// credd keeps one, `mfa,SOURCE`, in the runtime directory. AWS caps a role assumed from a session at 1 h: a longer role, or one set
    /// `direct_mfa`, keeps taking its own code, and says why.
    fn share_mfa(&self, sessions: &mut Vec<SessionSpec>) {
        let mut groups: std::collections::BTreeMap<(String, String), Vec<usize>> = Default::default();
        for (i, s) in sessions.iter_mut().enumerate() {
            let Kind::Renewed(m) = &mut s.kind else { continue };
            let st = &m.settings;
            let Some(serial) = st.mfa_serial.clone() else { continue };
            if st.method != Method::AssumeRole || m.chained || m.discovered.is_some() {
                continue;
            }
            if st.direct_mfa {
                m.mfa = Some(Mfa::Direct("it is set `direct_mfa = true`".into()));
            } else if st.duration > CHAINED_MAX {
                m.mfa = Some(Mfa::Direct(format!(
                    "its duration ({}) is over the 1h AWS allows a role assumed from an MFA session; set duration = \"1h\" or less to share one code a day",
                    humantime::format_duration(st.duration)
                )));
            } else {
                groups.entry((st.source_profile.clone(), serial)).or_default().push(i);
            }
        }
        for ((source, serial), mut roles) in groups {
            roles.sort_by(|a, b| sessions[*a].name.cmp(&sessions[*b].name));
            let reuse = sessions.iter().position(|s| {
                s.managed().is_some_and(|m| {
                    m.settings.method == Method::SessionToken
                        && !m.chained
                        && m.settings.source_profile == source
                        && m.settings.mfa_serial.as_deref() == Some(serial.as_str())
                })
            });
            // One role alone with no session to reuse keeps its own code, as before: an MFA
            // session is for roles that share a device.
            if roles.len() < 2 && reuse.is_none() {
                continue;
            }
            let name = reuse.map(|j| sessions[j].name.clone()).unwrap_or_else(|| mfa_session_name(&source));
            if reuse.is_none() && sessions.iter().any(|s| s.name == name) {
                // A second device of the same source: one MFA session per source.
                for &i in &roles {
                    if let Kind::Renewed(m) = &mut sessions[i].kind {
                        let why = format!("{name} is the MFA session of another device of \"{source}\"");
                        m.mfa = Some(Mfa::Direct(why));
                    }
                }
                continue;
            }
            let dependents: Vec<String> = roles.iter().map(|&i| sessions[i].name.clone()).collect();
            let settings = |i: &usize| &sessions[*i].managed().expect("renewed").settings;
            let mfa_command = roles.iter().find_map(|i| settings(i).mfa_command.clone());
            let region = roles.iter().find_map(|i| settings(i).region.clone());
            let shared = Mfa::Shared { serial: serial.clone(), dependents };
            let home = match reuse {
                Some(j) => {
                    let Kind::Renewed(m) = &mut sessions[j].kind else { unreachable!("found renewed") };
                    m.mfa = Some(shared);
                    // Roles wait on it: it is kept fresh from the start, not once it is asked for.
                    m.on_demand = false;
                    if m.settings.mfa_command.is_none() {
                        m.settings.mfa_command = mfa_command;
                    }
                    sessions[j].home.clone()
                }
                None => {
                    let home = Home::EnvFile(self.host.mfa_session_file(&source));
                    let settings = Settings {
                        mfa_serial: Some(serial.clone()),
                        mfa_command,
                        region,
                        duration: self.config.mfa_session_duration,
                        ..Settings::new(Method::SessionToken, &source)
                    };
                    sessions.push(SessionSpec {
                        name: name.clone(),
                        home: home.clone(),
                        kind: Kind::Renewed(Box::new(Managed {
                            settings,
                            chained: false,
                            discovered: Some(MFA_LAYOUT),
                            on_demand: false,
                            source_file: None,
                            mfa: Some(shared),
                        })),
                    });
                    home
                }
            };
            let source_file = (!home.has_profile()).then(|| home.env_file().map(Path::to_path_buf)).flatten();
            for &i in &roles {
                let Kind::Renewed(m) = &mut sessions[i].kind else { continue };
                m.settings.source_profile = name.clone();
                m.settings.mfa_serial = None;
                m.settings.mfa_command = None;
                m.chained = true;
                m.source_file = source_file.clone();
                m.mfa = Some(Mfa::Via { session: name.clone(), serial: serial.clone() });
            }
        }
    }

    /// Every other profile in the credentials file that holds a session: watched.
    fn watched(&self, taken: &mut HashSet<String>) -> Vec<SessionSpec> {
        let creds = &self.resolved.credentials;
        let mut out = Vec::new();
        for name in creds.profile_names() {
            if !taken.contains(name)
                && meta::credential_kind(creds.profile(name).expect("listed")) == CredentialKind::Session
            {
                taken.insert(name.to_string());
                out.push(SessionSpec { name: name.to_string(), home: Home::Profile, kind: Kind::Watched });
            }
        }
        out
    }

    /// Every token credd keeps whose cache file holds one (`kinds::tokens`).
    fn tokens(&self, taken: &mut HashSet<String>) -> Vec<SessionSpec> {
        let found = crate::kinds::tokens(&self.resolved.merged, &self.host.dirs, &self.resolved.token_cached);
        let mut out = Vec::new();
        for (name, token) in found {
            if !taken.insert(name.clone()) {
                continue;
            }
            out.push(SessionSpec {
                name,
                home: Home::Cache(token.cache().to_path_buf()),
                kind: Kind::Token(token),
            });
        }
        out
    }

    /// The configured `[[watch]]`es; one named like a session is refused.
    fn watches(&self, taken: &mut HashSet<String>, out: &mut Plan) {
        for w in &self.config.watches {
            if !taken.insert(w.name.clone()) {
                out.errors.push(err(
                    self.config,
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
                kind: Kind::Watched,
            });
        }
    }
}

/// A role chained from a session: STS's rules for it (no GetSessionToken, 1 h at most).
fn check_chain(s: &Settings, chained: bool) -> Result<(), Problem> {
    if chained && s.method == Method::SessionToken {
        return Err((
            "method",
            "GetSessionToken needs long-term keys, but the source is a session".into(),
            Some("use method = \"assume-role\", or a long-term source".into()),
        ));
    }
    if chained && s.duration > Duration::from_secs(3600) {
        return Err((
            "duration",
            format!("\"{}\" is a session, and chained roles last 1h at most", s.source_profile),
            Some("set duration = \"1h\" or less".into()),
        ));
    }
    Ok(())
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

fn find_cycle(start: &str, configured: &HashMap<&str, &SessionConfig>) -> Option<Vec<String>> {
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
    use std::path::PathBuf;

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
        let names: Vec<_> = p.sessions.iter().map(|s| (s.name.as_str(), s.managed().is_some())).collect();
        assert_eq!(names, [("dev", true), ("saml", false)]);
        let m = p.sessions[0].managed().unwrap();
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

    /// Issue 29: a session-token session with the roles' source and device is their MFA
    /// session (aws-mfa's `[X]`, a keyring-held profile's), so no second one is made; a second
    /// device of one source keeps direct MFA.
    #[test]
    fn issue29_an_existing_session_token_session_is_the_mfa_session() {
        let held = "# credd-keyring: held\n";
        let (a, w) = ("arn:aws:iam::123456789012:mfa/a", "arn:aws:iam::123456789012:mfa/w");
        let creds = format!("[work]\n{held}[dev-long-term]\n{LONG}aws_mfa_device = {a}\n");
        let config = format!("[profile work]\nmfa_serial = {w}\n");
        let role = |name: &str, source: &str, serial: &str| {
            format!(
                "[[session]]\nname = \"{name}\"\nmethod = \"assume-role\"\nrole_arn = \"arn:aws:iam::123456789012:role/r\"\nsource_profile = \"{source}\"\nmfa_serial = \"{serial}\"\n"
            )
        };
        let c = cfg(&format!(
            "{}{}{}",
            role("r1", "dev-long-term", a),
            role("r2", "work", w),
            role("r3", "work", "arn:aws:iam::123456789012:mfa/other")
        ));
        let p = plan(&c, &files(&config, &creds), &Host::test());
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let names: Vec<&str> = p.sessions.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["dev", "r1", "r2", "r3", "work"]);
        let m = |n: &str| p.sessions.iter().find(|s| s.name == n).unwrap().managed().unwrap().clone();
        // aws-mfa's [dev] serves r1 from its profile.
        assert_eq!((m("r1").settings.source_profile.as_str(), m("r1").source_file), ("dev", None));
        assert!(matches!(m("dev").mfa, Some(Mfa::Shared { .. })));
        // The keyring-held [work]'s session serves r2 from its env file, kept fresh from the start.
        let r2 = m("r2");
        assert_eq!(r2.settings.source_profile, "work");
        assert_eq!(r2.source_file, Some(PathBuf::from("/run/credd/keyring-sessions/work.env")));
        assert!(!m("work").on_demand);
        // r3's device is another, and no other role shares it: it keeps its own code.
        let r3 = m("r3");
        assert_eq!((r3.settings.source_profile.as_str(), r3.chained, r3.mfa), ("work", false, None));
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
            .map(|s| (s.name.as_str(), s.managed().map(|m| (m.discovered, m.on_demand))))
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
        let m = work.managed().unwrap();
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
        assert!(p.sessions[0].managed().unwrap().chained, "a role from SSO credentials is chained");
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
