//! The verbs that set things up or look around: `credd doctor`, the shell hook and its
//! `register-shell` callback, completions, the man page, and installing or removing the service.

use super::{Failure, Invocation, ask, config_path, host_user, runtime};
use crate::files::AwsFiles;
use crate::paths::{self, ProcessEnv};
use crate::protocol::{Request, ShellSession};
use crate::service;

pub(super) fn doctor(
    inv: &Invocation,
    profile: Option<&str>,
    json: bool,
    offline: bool,
) -> Result<(), Failure> {
    let files = AwsFiles::from_env(&ProcessEnv);
    let opts = crate::doctor::Options {
        profile: profile.map(str::to_string),
        offline,
        aws_config: files.config,
        aws_credentials: files.credentials,
        credd_config: config_path(inv).0,
        host_user: host_user(),
        refused: refused_tokens(inv),
    };
    let report = runtime()?.block_on(crate::doctor::diagnose(&opts, &ProcessEnv));
    if json {
        println!("{}", serde_json::to_string_pretty(&report).map_err(anyhow::Error::from)?);
    } else {
        let (selected, _) = crate::doctor::checks::selected_profile(&ProcessEnv, profile);
        print!("{}", report.render(&selected));
    }
    if report.has_errors() { Err(Failure::Failed(None)) } else { Ok(()) }
}

/// The kept tokens' cache files a running daemon could not refresh because their service
/// refused, with its words; none without a daemon (doctor then judges by the files alone).
fn refused_tokens(inv: &Invocation) -> std::collections::BTreeMap<std::path::PathBuf, String> {
    let Ok(crate::protocol::ReplyFrame { reply: crate::protocol::Reply::Status(status), .. }) =
        ask(inv, Request::Status { form: None })
    else {
        return Default::default();
    };
    status
        .sessions
        .into_iter()
        .filter_map(|s| {
            let e = s.last_error?;
            // The service's own error code marks its refusal; the daemon's other reasons (no
            // refresh token, a registration ended) doctor reads from the file itself.
            let refusal = crate::kinds::refusal(s.origin);
            (refusal.is_some() && e.finding == refusal && e.code.is_some())
                .then(|| (std::path::PathBuf::from(s.profile), e.message))
        })
        .collect()
}

pub(super) fn hook(shell: crate::hooks::Shell) -> Result<(), Failure> {
    let exe = std::env::current_exe()?;
    print!("{}", crate::hooks::render(shell, &exe, &paths::runtime_dir(&ProcessEnv)));
    Ok(())
}

pub(super) fn register_shell(inv: &Invocation, shell: &ShellSession) -> Result<(), Failure> {
    // Quiet by design: it runs in the background of a prompt.
    let _ = ask(inv, Request::RegisterShell(shell.clone()));
    Ok(())
}

pub(super) fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    super::args::completions(shell, &mut std::io::stdout());
    Ok(())
}

/// Prints credd.1, or with `dir` writes it and every command's page there.
pub(super) fn man(dir: Option<&std::path::Path>) -> Result<(), Failure> {
    let Some(dir) = dir else {
        return Ok(super::args::man(&mut std::io::stdout())?);
    };
    let pages = super::args::man_pages(dir)
        .map_err(|e| Failure::failed(format!("{}: cannot write the man pages: {e}", dir.display())))?;
    println!("wrote {} man pages to {}: credd.1 and one per command", pages.len(), dir.display());
    Ok(())
}

/// `install-service` (`install` true) and `uninstall-service`; `print` only says what it would do.
pub(super) fn service(install: bool, print: bool, kind: Option<service::Kind>) -> Result<(), Failure> {
    use service::UnitFile;
    let kind = kind.unwrap_or_else(service::Kind::for_this_os);
    let exe = std::env::current_exe()?;
    let plan = if install {
        let plan = service::install_plan(kind, &exe, &ProcessEnv, print).map_err(Failure::usage)?;
        let writes = matches!(plan.file, UnitFile::Write(_));
        if print && writes && service::in_temp_dir(&exe.canonicalize().unwrap_or_else(|_| exe.clone())) {
            eprintln!(
                "credd: warning: {} is inside a temporary directory; a real install from there is refused. \
                 Install credd first (`cargo install --locked --path .`)",
                exe.display()
            );
        }
        plan
    } else {
        match service::uninstall_plan(kind, &ProcessEnv).map_err(Failure::usage)? {
            service::Uninstall::Remove(plan) => plan,
            service::Uninstall::NotInstalled(path) => {
                // Said once, whether or not `--print` asked: there is nothing it would do.
                let comment = if print { "# " } else { "" };
                println!(
                    "{comment}credd's service is not installed ({} does not exist); nothing to do",
                    path.display()
                );
                return Ok(());
            }
        }
    };
    let unit = plan.unit_path.display();
    if print {
        match &plan.file {
            UnitFile::Write(content) => {
                println!("# would write {unit}:");
                print!("{content}");
            }
            UnitFile::Remove => println!("# would remove {unit}"),
            UnitFile::Packaged if install => {
                println!("# {unit} is installed for every user: would enable it for you, not write a copy")
            }
            UnitFile::Packaged => {
                println!("# {unit} is installed for every user: would disable it for you and leave the file")
            }
        }
        for note in &plan.notes {
            println!("# note: {note}");
        }
        for cmd in &plan.commands {
            println!("# would run: {}", cmd.join(" "));
        }
        return Ok(());
    }
    for note in &plan.notes {
        eprintln!("credd: note: {note}");
    }
    let notes =
        if install { service::install(&plan).map(|()| Vec::new()) } else { service::uninstall(&plan) };
    for n in notes.map_err(Failure::failed)? {
        eprintln!("credd: note: {n}");
    }
    match (install, &plan.file) {
        (true, UnitFile::Packaged) => println!("enabled {unit} for you and started credd"),
        (true, _) => println!("installed {unit} and started credd"),
        (false, UnitFile::Packaged) => println!(
            "stopped credd and disabled it for you; {unit} stays installed for other users, and your \
             config and credentials are untouched"
        ),
        (false, _) => println!("stopped credd and removed {unit}; config and credentials are untouched"),
    }
    Ok(())
}
