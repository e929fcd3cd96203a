//! `credd export`, `credd credential-process` and `credd ensure`: make sure a session is fresh
//! (and, with `--min-ttl`, lasts that long), read its credentials from where the daemon says they
//! are, and print them in the formats of `aws configure export-credentials` (plus dotenv, fish and
//! JSON), or, for `ensure`, what is left.
//!
//! The daemon never sends secrets over its socket; it makes sure the session is fresh and names
//! the file. This process, running as the same user, reads the keys from that file. Without a
//! daemon, the engine makes the same decisions here. A profile a kept token serves (an `aws
//! login` profile) names that token's session (`session_name`), and an env file gone while the
//! daemon holds it fresh is issued again before it is read (`read_again_if_gone`).

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};

use super::refresh::{engine_here, refresh_here};
use super::{Failure, Invocation, ask, load_config, unexpected};
use crate::engine::{Begin, Engine, Export, Refusal};
use crate::ipc::client::ClientError;
use crate::profile::meta::{self, ProfileCredentials};
use crate::profile::{FileKind, read_document};
use crate::protocol::{ErrorCode, ExportLocation, Origin, Reply, Request, State};
use crate::refresh::run::Outcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `export AWS_…=…` lines for sh, bash and zsh, to `eval`.
    // No double quote or `$(` in these texts: clap's fish script puts them inside double quotes,
    // where fish ran `$(credd export dev)` as the completions loaded (issue 30).
    Env,
    /// `AWS_…=…` lines for .env files.
    Dotenv,
    /// `set -gx AWS_… …` for fish.
    Fish,
    /// `$Env:AWS_…="…"` for PowerShell.
    Powershell,
    /// The credential_process JSON, pretty-printed.
    Json,
    /// The credential_process JSON, one line (what `credential_process =` expects).
    CredentialProcess,
}

/// A session's credentials, ready to print. Secret parts stay redacted in Debug.
#[derive(Debug, Clone)]
pub struct Exported {
    pub name: String,
    pub creds: ProfileCredentials,
    pub expires_at: Option<DateTime<Utc>>,
    pub region: Option<String>,
}

/// Reads the credentials at `loc`.
pub fn read(loc: &ExportLocation) -> Result<Exported, String> {
    let path = std::path::Path::new(&loc.path);
    let creds = match loc.origin {
        env if env.in_env_file() => crate::envfile::read_credentials(path)?,
        Origin::CredentialsFile | Origin::Shell => {
            let doc = read_document(path, FileKind::Credentials).map_err(|e| e.to_string())?;
            let profile = loc.profile.as_deref().unwrap_or(&loc.name);
            let sections = doc.as_ref().map(|d| d.profile_only(profile)).unwrap_or_default();
            sections
                .profile(profile)
                .and_then(meta::credentials)
                .ok_or_else(|| format!("profile [{profile}] in {} holds no complete credentials", loc.path))?
        }
        token => match crate::kinds::token_credentials(token, path) {
            Some(c) => {
                let c = c?;
                ProfileCredentials {
                    access_key_id: c.access_key_id,
                    secret_access_key: c.secret_access_key,
                    session_token: Some(c.session_token),
                }
            }
            None => {
                let what = crate::kinds::token_noun(token).unwrap_or("a token");
                return Err(format!("\"{}\" is {what}, not credentials", loc.name));
            }
        },
    };
    Ok(Exported { name: loc.name.clone(), creds, expires_at: loc.expires_at, region: loc.region.clone() })
}

fn sh_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

/// The variables to set, in order.
fn vars(e: &Exported) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("AWS_ACCESS_KEY_ID", e.creds.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", e.creds.secret_access_key.expose().to_string()),
    ];
    if let Some(t) = &e.creds.session_token {
        v.push(("AWS_SESSION_TOKEN", t.expose().to_string()));
    }
    if let Some(at) = e.expires_at {
        v.push(("AWS_CREDENTIAL_EXPIRATION", at.to_rfc3339_opts(SecondsFormat::Secs, true)));
    }
    if let Some(r) = &e.region {
        v.push(("AWS_REGION", r.clone()));
    }
    v.push(("CREDD_SESSION", e.name.clone()));
    v
}

pub fn render(e: &Exported, format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Env => {
            vars(e).iter().for_each(|(k, v)| out.push_str(&format!("export {k}={}\n", sh_quote(v))))
        }
        // Quoted when a shell would split it (a session named `login-session ARN`), so that
        // `set -a; . FILE` reads it too (python-dotenv strips the quotes).
        Format::Dotenv => vars(e).iter().for_each(|(k, v)| {
            let v = if v.contains(|c: char| c.is_whitespace()) { sh_quote(v) } else { v.to_string() };
            out.push_str(&format!("{k}={v}\n"))
        }),
        Format::Fish => {
            vars(e).iter().for_each(|(k, v)| out.push_str(&format!("set -gx {k} {};\n", sh_quote(v))))
        }
        Format::Powershell => vars(e)
            .iter()
            .for_each(|(k, v)| out.push_str(&format!("$Env:{k}=\"{}\"\n", v.replace('"', "`\"")))),
        Format::Json | Format::CredentialProcess => {
            let mut m = serde_json::Map::new();
            m.insert("Version".into(), 1.into());
            m.insert("AccessKeyId".into(), e.creds.access_key_id.clone().into());
            m.insert("SecretAccessKey".into(), e.creds.secret_access_key.expose().into());
            if let Some(t) = &e.creds.session_token {
                m.insert("SessionToken".into(), t.expose().into());
            }
            if let Some(at) = e.expires_at {
                m.insert("Expiration".into(), at.to_rfc3339_opts(SecondsFormat::Secs, true).into());
            }
            let v = serde_json::Value::Object(m);
            out = if format == Format::Json {
                serde_json::to_string_pretty(&v)
            } else {
                serde_json::to_string(&v)
            }
            .expect("serializes");
            out.push('\n');
        }
    }
    out
}

pub(super) fn export(
    inv: &Invocation,
    name: &str,
    format: Format,
    min_ttl: Option<Duration>,
) -> Result<(), Failure> {
    let location = fresh_location(inv, name, min_ttl)?;
    let e = read_again_if_gone(inv, &location)?;
    print!("{}", render(&e, format));
    Ok(())
}

/// Reads the credentials at `location`. An env file that is gone or broken (removed by hand, a
/// tmpfs cleared) while a daemon says it is fresh is issued again by that daemon first (a
/// session it does not renew gets its refusal), so the answer is the refresh's own: the keyring locked, say, rather
/// than "holds no complete credentials".
pub(super) fn read_again_if_gone(inv: &Invocation, location: &ExportLocation) -> Result<Exported, Failure> {
    let why = match read(location) {
        Ok(e) => return Ok(e),
        Err(why) if location.origin.in_env_file() => why,
        Err(why) => return Err(Failure::failed(why)),
    };
    let results = match ask(inv, Request::Refresh { name: Some(location.name.clone()) }).map(|f| f.reply) {
        Ok(Reply::Refreshed { results }) => results,
        _ => return Err(Failure::failed(why)),
    };
    match results.into_iter().next() {
        Some(r) if r.ok => read(location).map_err(Failure::failed),
        Some(r) => Err(Failure::failed(match r.error {
            Some(e) => format!(
                "{}: {}{}",
                location.name,
                e.message,
                e.fix.map(|f| format!("; fix: {f}")).unwrap_or_default()
            ),
            None => why,
        })),
        None => Err(Failure::failed(why)),
    }
}

/// `credd ensure NAME --min-ttl D`: what is left after making sure, on stdout.
pub(super) fn ensure(inv: &Invocation, name: &str, min_ttl: Duration) -> Result<(), Failure> {
    let location = fresh_location(inv, name, Some(min_ttl))?;
    let Some(at) = location.expires_at else {
        return Err(Failure::failed(format!("{name} records no expiry, so credd cannot promise it lasts")));
    };
    println!(
        "{name}: {} left (until {}), at least the {} asked",
        left(at - Utc::now()),
        at.to_rfc3339_opts(SecondsFormat::Secs, true),
        humantime::format_duration(min_ttl)
    );
    Ok(())
}

/// The daemon makes sure the session is fresh (and, with `min_ttl`, lasts at least that long) and
/// says where it is; without a daemon, the same happens here. Then what came back is judged: an
/// expired session, or one still short of `min_ttl`, is refused with the reason.
fn fresh_location(
    inv: &Invocation,
    name: &str,
    min_ttl: Option<Duration>,
) -> Result<ExportLocation, Failure> {
    judge(name, locate(inv, name, min_ttl)?, min_ttl)
}

/// Where the session is, after the daemon (or, without one, this process) has made sure it is
/// fresh and, when it could, lasts `min_ttl`: not yet judged. `credd exec` calls it on each fetch.
pub(super) fn locate(
    inv: &Invocation,
    name: &str,
    min_ttl: Option<Duration>,
) -> Result<ExportLocation, Failure> {
    let request = Request::Export { name: name.to_string(), min_ttl: min_ttl.map(|t| t.as_secs()) };
    match ask(inv, request) {
        Ok(frame) => match frame.reply {
            Reply::Exported(loc) => Ok(loc),
            // An unknown name is a usage error with a daemon as without one (exit 2).
            Reply::Error { code: ErrorCode::UnknownSession, message } => Err(unknown(name, message)),
            Reply::Error { message, .. } => Err(Failure::failed(message)),
            other => Err(unexpected(other)),
        },
        Err(ClientError::NoDaemon { .. }) => in_process(inv, name, min_ttl),
        Err(e) => Err(e.into()),
    }
}

/// The session a verb given `name` works on: `name` itself, or for a profile a kept token serves
/// (an `aws login` profile) that token (`login-session ARN`), so that `export`, `exec`,
/// `console`, `ensure` and `refresh` of the profile work on its session, with its lifetime.
pub(super) fn session_name(name: &str) -> String {
    // The config file alone, where `login_session` lives and whose tokens credd reads
    // (`kinds::read_caches`): `credential-process` runs at every SDK call, and the credentials
    // file can be megabytes.
    let env = crate::paths::ProcessEnv;
    let path = crate::paths::aws_config_file(&env);
    let config = crate::profile::read_document(&path, crate::profile::FileKind::Config).ok().flatten();
    let served = config
        .and_then(|c| crate::kinds::serving_token(&c.sections(), name, &crate::kinds::Dirs::from_env(&env)));
    served.unwrap_or_else(|| name.to_string())
}

/// An unknown NAME (a usage error, exit 2): when it is a profile whose credentials a kind issues
/// (an SSO profile), also what to do instead.
fn unknown(name: &str, message: String) -> Failure {
    let files = crate::files::AwsFiles::from_env(&crate::paths::ProcessEnv).read();
    let issuer =
        files.ok().and_then(|l| l.merged_profile(name).profile(name).and_then(crate::kinds::Issuer::of));
    match issuer {
        Some(kind) => Failure::usage(format!("{message}; {}", kind.not_a_session(name))),
        None => Failure::usage(message),
    }
}

/// Refuses an expired session, or (with `min_ttl`) one that still falls short of it, saying why.
pub(super) fn judge(
    name: &str,
    location: ExportLocation,
    min_ttl: Option<Duration>,
) -> Result<ExportLocation, Failure> {
    let now = Utc::now();
    let needs_mfa = if location.state == State::NeedsMfa {
        format!(": it needs an MFA code (`credd mfa {name} CODE`)")
    } else {
        String::new()
    };
    if let Some(at) = location.expires_at.filter(|e| *e <= now) {
        return Err(Failure::failed(format!(
            "{name} expired at {} and credd cannot refresh it{needs_mfa}",
            at.to_rfc3339_opts(SecondsFormat::Secs, true),
        )));
    }
    if let Some(ttl) = min_ttl
        && crate::expiry::short_of(location.expires_at, now, ttl)
    {
        let left = location
            .expires_at
            .map(|e| format!("{} left", left(e - now)))
            .unwrap_or("no recorded expiry".into());
        return Err(Failure::failed(format!(
            "{name} has {left}, less than the {} asked, and credd could not renew it{needs_mfa}",
            humantime::format_duration(ttl)
        )));
    }
    Ok(location)
}

/// A remaining lifetime in whole minutes, as people read it: `1h 59m`.
fn left(left: chrono::Duration) -> String {
    let minutes = left.num_minutes().max(0) as u64;
    humantime::format_duration(Duration::from_secs(minutes * 60)).to_string()
}

/// An export with no daemon: the engine decides from the files whether to refresh first, exactly
/// as the daemon would, and the refresh runs here.
fn in_process(inv: &Invocation, name: &str, min_ttl: Option<Duration>) -> Result<ExportLocation, Failure> {
    let (files, mut engine, _) = engine_here(load_config(inv)?)?;
    let refused = |why: Refusal| match why.code() {
        ErrorCode::UnknownSession => unknown(name, why.to_string()),
        _ => Failure::failed(why),
    };
    let location = match engine.export(name, min_ttl, Utc::now(), &files.credentials).map_err(refused)? {
        Export::Ready(location) => return Ok(location),
        Export::RefreshFirst(location) => location,
    };
    let Begin::Start(spec) = engine.begin(name, false).map_err(refused)? else {
        unreachable!("nothing else refreshes in this process");
    };
    let outcome = refresh_here(&engine, &spec, &files, None, &Default::default())?;
    match &outcome {
        Outcome::NeedsMfa { serial, .. } => eprintln!(
            "credd: {name} needs an MFA code for {serial} to refresh; run `credd refresh {name} --code CODE`"
        ),
        Outcome::Failed(e) | Outcome::PartlyStored { error: e, .. } => {
            eprintln!("credd: refreshing {name} failed: {e}")
        }
        Outcome::Refreshed { .. } | Outcome::TokenRefreshed { .. } => {}
    }
    let now = Utc::now();
    engine.finish(name, outcome, now, 0.0);
    Engine::exported(location, engine.result(name, now), now).map_err(refused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn sample() -> Exported {
        Exported {
            name: "dev".into(),
            creds: ProfileCredentials {
                access_key_id: "ASIAEXAMPLE".into(),
                secret_access_key: Secret::new("se'cret"),
                session_token: Some(Secret::new("tok")),
            },
            expires_at: Some(DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z").unwrap().into()),
            region: Some("eu-west-1".into()),
        }
    }

    #[test]
    fn formats() {
        let e = sample();
        let env = render(&e, Format::Env);
        assert!(env.contains("export AWS_SECRET_ACCESS_KEY='se'\\''cret'\n"), "{env}");
        assert!(
            env.contains("export CREDD_SESSION='dev'\n") && env.contains("export AWS_REGION='eu-west-1'\n")
        );
        assert!(render(&e, Format::Dotenv).starts_with("AWS_ACCESS_KEY_ID=ASIAEXAMPLE\n"));
        assert!(render(&e, Format::Fish).contains("set -gx AWS_SESSION_TOKEN 'tok';\n"));
        assert!(render(&e, Format::Powershell).contains("$Env:AWS_ACCESS_KEY_ID=\"ASIAEXAMPLE\"\n"));
        let cp: serde_json::Value = serde_json::from_str(&render(&e, Format::CredentialProcess)).unwrap();
        assert_eq!(cp["Version"], 1);
        assert_eq!(cp["Expiration"], "2030-01-01T00:00:00Z");
        assert_eq!(cp["SecretAccessKey"], "se'cret");
        assert_eq!(render(&e, Format::CredentialProcess).lines().count(), 1);
        assert!(!format!("{e:?}").contains("se'cret"), "Debug redacts");
    }
}
