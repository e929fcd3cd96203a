//! `credd daemon` (run it in the foreground), `credd reload` (ask it to re-read its config) and
//! `credd config check` (what the daemon would track, without starting it).

use super::{
    Failure, Invocation, ask, config_errors, config_path, host_user, load_config, runtime, unexpected,
};
use crate::files::AwsFiles;
use crate::paths::{self, ProcessEnv};
use crate::protocol::{Reply, Request};

pub(super) fn daemon(inv: &Invocation) -> Result<(), Failure> {
    crate::sys::tune_malloc();
    let config = load_config(inv)?;
    crate::logging::init(config.log_format);
    let (config_path, config_explicit) = config_path(inv);
    let opts = crate::daemon::Options {
        config_path,
        config_explicit,
        runtime_dir: paths::runtime_dir(&ProcessEnv),
        socket_override: inv.socket.clone(),
        files: AwsFiles::from_env(&ProcessEnv),
        host_user: host_user(),
    };
    runtime()?.block_on(crate::daemon::run(opts, std::future::pending())).map_err(Failure::usage)
}

pub(super) fn reload(inv: &Invocation) -> Result<(), Failure> {
    match ask(inv, Request::Reload)?.reply {
        Reply::Reloaded { errors } if errors.is_empty() => {
            println!("reloaded");
            Ok(())
        }
        Reply::Reloaded { errors } => {
            for e in errors {
                eprintln!("{e}");
            }
            Err(Failure::usage("the daemon kept its previous configuration"))
        }
        other => Err(unexpected(other)),
    }
}

pub(super) fn config_check(inv: &Invocation) -> Result<(), Failure> {
    let (path, _) = config_path(inv);
    let config = load_config(inv)?;
    let files = AwsFiles::from_env(&ProcessEnv);
    let loaded = files.read().map_err(|e| {
        eprintln!("{e}");
        Failure::Usage(None)
    })?;
    let plan = crate::sessions::plan(&config, &loaded, &host_user());
    if !plan.errors.is_empty() {
        return Err(config_errors(plan.errors));
    }
    // What the daemon would refuse at its first refresh, said now: a session that would be
    // written over long-term keys, or where credd cannot write.
    let mut refused = false;
    for s in plan.sessions.iter().filter(|s| s.managed().is_some_and(|m| !m.in_own_file())) {
        if let Err(e) = crate::refresh::store::check(&s.name, &s.home, &files.credentials, &loaded) {
            let err = crate::refresh::run::file_failure(e);
            let finding = err.finding.map(|f| format!(" [{f}]")).unwrap_or_default();
            eprintln!("session \"{}\": {err}{finding}", s.name);
            if let Some(fix) = &err.fix {
                eprintln!("  fix: {fix}");
            }
            refused = true;
        }
    }
    if refused {
        return Err(Failure::Usage(None));
    }
    // Written where no SDK reads it: said, not refused (such a config worked before, uselessly).
    for f in crate::doctor::sessions::shadowed(&plan.sessions, &loaded) {
        eprintln!("warning: {} [{}]\n  fix: {}", f.message, f.code, f.fix);
    }
    match &config.path {
        Some(_) => println!("{}: ok", path.display()),
        None => {
            println!("{} does not exist: credd runs with defaults and tracks what it finds", path.display())
        }
    }
    for s in &plan.sessions {
        match s.managed() {
            Some(m) => println!(
                "  {:<20} managed ({}, source {})",
                s.name,
                m.settings.method.as_str(),
                m.settings.source_profile
            ),
            None => println!("  {:<20} watch-only", s.name),
        }
        // How it gets its MFA code: a note, not an error (issue 29).
        if let Some(mfa) = s.mfa() {
            println!("  {:<20}   note: {}", "", mfa.note());
        }
    }
    Ok(())
}
