//! `credd refresh` and `credd mfa`: refresh a managed session now (with an MFA code when it needs
//! one) through the daemon, or, when none runs, in this process with the same engine decisions.

use std::sync::{Arc, Mutex};

use chrono::{SecondsFormat, Utc};

use super::{Failure, Invocation, ask, host_user, load_config, runtime, unexpected};
use crate::engine::{Begin, Engine};
use crate::files::AwsFiles;
use crate::ipc::client::ClientError;
use crate::paths::ProcessEnv;
use crate::protocol::{RefreshResult, Reply, ReplyFrame, Request};
use crate::refresh::mfa::UsedCodes;
use crate::refresh::run::{self, Outcome};
use crate::refresh::store::Stored;
use crate::secret::Secret;
use crate::sessions::SessionSpec;

pub(super) fn refresh(inv: &Invocation, name: Option<&str>, code: Option<&str>) -> Result<(), Failure> {
    if let Some(c) = code
        && !crate::refresh::mfa::is_code(c)
    {
        return Err(Failure::usage("an MFA code is six digits"));
    }
    let req = match (name, code) {
        (Some(n), Some(c)) => Request::Mfa { name: n.to_string(), code: c.to_string() },
        (n, _) => Request::Refresh { name: n.map(str::to_string) },
    };
    match ask(inv, req) {
        Err(ClientError::NoDaemon { .. }) => in_process(inv, name, code),
        other => print_reply(other),
    }
}

pub(super) fn mfa(inv: &Invocation, name: &str, code: &str) -> Result<(), Failure> {
    match ask(inv, Request::Mfa { name: name.to_string(), code: code.to_string() }) {
        Err(ClientError::NoDaemon { .. }) => Err(Failure::NoDaemon(Some(format!(
            "no daemon is running to take the code; refresh directly with `credd refresh {name} --code CODE`"
        )))),
        other => print_reply(other),
    }
}

fn print_result(r: &RefreshResult) {
    let now = Utc::now();
    if r.ok {
        let exp = r
            .expires_at
            .map(|e| {
                format!(
                    "; expires {} (in {})",
                    e.to_rfc3339_opts(SecondsFormat::Secs, true),
                    crate::ipc::prompt::short_duration(now, e)
                )
            })
            .unwrap_or_default();
        println!("{}: refreshed{exp}", r.name);
    } else {
        let e = r.error.as_ref();
        eprintln!("{}: {} ({})", r.name, e.map(|e| e.message.as_str()).unwrap_or("failed"), r.state.as_str());
        if let Some(fix) = e.and_then(|e| e.fix.as_deref()) {
            eprintln!("  fix: {fix}");
        }
    }
}

fn print_reply(reply: Result<ReplyFrame, ClientError>) -> Result<(), Failure> {
    match reply?.reply {
        Reply::Refreshed { results } => {
            results.iter().for_each(print_result);
            if results.iter().all(|r| r.ok) { Ok(()) } else { Err(Failure::Failed(None)) }
        }
        other => Err(unexpected(other)),
    }
}

/// The files as they are now, and an engine that has read them: what the in-process fallbacks
/// decide with, exactly as the daemon would. Call it before logging is set up: the engine logs what
/// it tracks, which a one-shot command should not print. The problems that left sessions out are
/// returned instead.
pub(super) fn engine_here(
    config: crate::config::Config,
) -> Result<(AwsFiles, Engine, Vec<crate::config::ConfigError>), Failure> {
    let files = AwsFiles::from_env(&ProcessEnv);
    let mut loaded = files.read().map_err(anyhow::Error::from)?;
    let env_paths = SessionSpec::env_paths(&config);
    loaded.read_env_files(env_paths.iter().map(std::path::PathBuf::as_path));
    let host = host_user();
    host.read_caches(&mut loaded);
    let engine = Engine::from_files(config, host, &loaded, Utc::now());
    let problems = engine.plan(&loaded).errors;
    Ok((files, engine, problems))
}

/// Runs the refresh the engine started for `spec`, here. `used` spans the whole command, so one
/// code is not sent twice.
pub(super) fn refresh_here(
    engine: &Engine,
    spec: &SessionSpec,
    files: &AwsFiles,
    code: Option<&str>,
    used: &Arc<Mutex<UsedCodes>>,
) -> Result<Outcome, Failure> {
    let config = engine.config();
    Ok(runtime()?.block_on(run::refresh(spec, files, config, &ProcessEnv, code.map(Secret::new), used)))
}

/// `credd refresh` without a daemon: the same refresh, run here.
fn in_process(inv: &Invocation, name: Option<&str>, code: Option<&str>) -> Result<(), Failure> {
    let config = load_config(inv)?;
    // As over the socket, a code goes with a named session only.
    let code = name.and(code);
    let (files, mut engine, problems) = engine_here(config)?;
    crate::logging::init(crate::config::LogFormat::Text);
    for e in &problems {
        eprintln!("{e}");
    }
    let names = match name {
        // A code for a role waiting on its source session is that session's code; a role
        // assumed from a shared MFA session then refreshes from its new keys (issue 29).
        Some(n) if code.is_some() => match engine.mfa_target(n) {
            target if target == n => vec![target],
            target if engine.shares_mfa(n) => vec![target, n.to_string()],
            target => vec![target],
        },
        Some(n) => vec![n.to_string()],
        None => engine.managed_names(),
    };
    let mut targets = Vec::new();
    for n in &names {
        match engine.begin(n, code.is_some() && engine.mfa_target(n) == *n) {
            Ok(Begin::Start(spec)) => targets.push(spec),
            Ok(Begin::Join) => {}
            Err(why) => return Err(Failure::usage(why)),
        }
    }
    eprintln!("credd: no daemon is running; refreshing in-process");
    let used = Default::default();
    let mut ok = true;
    for spec in &targets {
        let name = &spec.name;
        match refresh_here(&engine, spec, &files, code, &used)? {
            Outcome::Refreshed { issued, stored } => {
                let exp = issued.credentials.expiration;
                match stored {
                    Stored::Written => println!(
                        "{name}: refreshed; key {}, expires {} (in {})",
                        crate::secret::short_key_id(&issued.credentials.access_key_id),
                        exp.to_rfc3339_opts(SecondsFormat::Secs, true),
                        crate::ipc::prompt::short_duration(Utc::now(), exp)
                    ),
                    Stored::KeptNewer(t) => println!(
                        "{name}: the file already holds a session lasting longer (until {}); kept it",
                        t.to_rfc3339_opts(SecondsFormat::Secs, true)
                    ),
                }
            }
            Outcome::TokenRefreshed { expires_at, kept_newer } => println!(
                "{name}: {}; expires {} (in {})",
                if kept_newer { "kept the token signed in meanwhile" } else { "SSO token refreshed" },
                expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                crate::ipc::prompt::short_duration(Utc::now(), expires_at)
            ),
            Outcome::NeedsMfa { serial, why } => {
                ok = false;
                eprintln!(
                    "{name}: needs an MFA code for {serial} ({why}); run `credd refresh {name} --code CODE`"
                );
            }
            Outcome::Failed(e) | Outcome::PartlyStored { error: e, .. } => {
                ok = false;
                eprintln!("{name}: refresh failed: {e}");
                if let Some(fix) = crate::engine::fix(spec, &e) {
                    eprintln!("  fix: {fix}");
                }
            }
        }
    }
    if ok { Ok(()) } else { Err(Failure::Failed(None)) }
}
