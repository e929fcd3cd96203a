//! The command line: every verb of `credd`, one function each, in the file that also holds its
//! printers. A verb returns `Result<(), Failure>`; [`run`] turns a failure into its message and
//! exit status in one place: 0 success, 1 the operation failed or something needs attention,
//! 2 a usage or config error, 3 no daemon reachable.
//!
//! - `args`: clap definitions, mapped onto our own [`Command`] so nothing else sees clap.
//! - `daemon`: `credd daemon`, `reload` and `config check`.
//! - `status`: `credd status`: the table, the prompt line and the exit code.
//! - `refresh`: `credd refresh` and `mfa`, through the daemon or, without one, in-process.
//! - `export`: `credd export`, `credential-process` and `ensure`: fresh credentials, printed.
//! - `exec`: `credd exec`: a command run with the loopback credentials endpoint (`crate::exec`).
//! - `console`: `credd console`: the AWS console, signed in as a session (`crate::console`).
//! - `list`: `credd list`: what each profile in the AWS files is.
//! - `keyring`: `credd keyring import|list|export|remove`: long-term keys into the OS keyring.
//! - `setup`: `doctor`, `hook`, `register-shell`, `completions`, `man`, `install-service`.
//!
//! Decisions about sessions are the engine's, here as in the daemon: the no-daemon fallbacks build
//! an `engine::Engine` from the files and ask it.
//!
//! An error is printed by its `Display` alone. credd's errors say their cause there (`…: could
//! not read it: Is a directory (os error 21)`), because that is all a log line, a status reply or
//! a notification shows; so nothing here walks `source()` (nor uses anyhow's `{:#}`, which does),
//! or every cause would be said twice.

pub mod args;
pub mod console;
mod daemon;
mod exec;
pub mod export;
pub mod keyring;
pub mod list;
mod refresh;
mod setup;
pub mod status;

pub use args::*;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::config::{Config, ConfigError};
use crate::ipc::client::{self, ClientError};
use crate::paths::{self, ProcessEnv};
use crate::protocol::{Reply, ReplyFrame, Request};

/// How a verb failed. The message, when there is one, is printed as `credd: MESSAGE`; `None`
/// means the verb already said what it had to (or stays quiet by design, as a prompt does).
#[derive(Debug)]
pub enum Failure {
    /// The operation failed, or something needs attention: exit 1.
    Failed(Option<String>),
    /// A usage or configuration error: exit 2.
    Usage(Option<String>),
    /// No daemon answered: exit 3.
    NoDaemon(Option<String>),
    /// Exit with this status and say nothing: `exec` passes on its command's.
    Status(u8),
}

impl Failure {
    pub fn failed(message: impl std::fmt::Display) -> Failure {
        Failure::Failed(Some(message.to_string()))
    }

    pub fn usage(message: impl std::fmt::Display) -> Failure {
        Failure::Usage(Some(message.to_string()))
    }

    /// Prints the message and gives the exit status: the one place the CLI maps errors to codes.
    fn exit(self) -> ExitCode {
        let (code, message) = match self {
            Failure::Failed(m) => (1, m),
            Failure::Usage(m) => (2, m),
            Failure::NoDaemon(m) => (3, m),
            Failure::Status(c) => (c, None),
        };
        if let Some(m) = message {
            eprintln!("credd: {m}");
        }
        ExitCode::from(code)
    }
}

impl From<anyhow::Error> for Failure {
    /// `{e}`, not `{e:#}`: the error already says its cause (see the module's doc).
    fn from(e: anyhow::Error) -> Failure {
        Failure::usage(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::usage(e)
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Failure {
        match e {
            ClientError::NoDaemon { .. } => Failure::NoDaemon(Some(e.to_string())),
            _ => Failure::usage(e),
        }
    }
}

/// A reply the verb did not expect: an error the daemon sent, or a protocol mix-up.
fn unexpected(reply: Reply) -> Failure {
    match reply {
        Reply::Error { message, .. } => Failure::usage(message),
        other => Failure::usage(format!("unexpected reply from the daemon: {other:?}")),
    }
}

/// Runs what the user asked for and returns the exit status.
pub fn run(inv: Invocation) -> ExitCode {
    if inv.command != Command::Daemon {
        crate::sys::default_sigpipe();
    }
    let result = match &inv.command {
        Command::Daemon => daemon::daemon(&inv),
        Command::Reload => daemon::reload(&inv),
        Command::ConfigCheck => daemon::config_check(&inv),
        Command::Status { format } => status::status(&inv, *format),
        Command::Refresh { name, code } => {
            let name = name.as_deref().map(export::session_name);
            refresh::refresh(&inv, name.as_deref(), code.as_deref())
        }
        Command::Mfa { name, code } => refresh::mfa(&inv, name, code),
        Command::Export { name, format, min_ttl } => {
            export::export(&inv, &export::session_name(name), *format, *min_ttl)
        }
        Command::Ensure { name, min_ttl } => export::ensure(&inv, &export::session_name(name), *min_ttl),
        Command::Exec { name, min_ttl, command } => {
            exec::exec(&inv, &export::session_name(name), *min_ttl, command)
        }
        Command::Console(options) => {
            let name = export::session_name(&options.name);
            console::console(&inv, &console::Options { name, ..options.clone() })
        }
        Command::List { json } => list::list(*json),
        Command::Keyring(action) => keyring::keyring(action),
        Command::Doctor { profile, json, offline } => {
            setup::doctor(&inv, profile.as_deref(), *json, *offline)
        }
        Command::Hook { shell } => setup::hook(*shell),
        Command::RegisterShell(shell) => setup::register_shell(&inv, shell),
        Command::Completions(shell) => setup::completions(*shell),
        Command::Man { dir } => setup::man(dir.as_deref()),
        Command::InstallService { print, kind } => setup::service(true, *print, *kind),
        Command::UninstallService { print, kind } => setup::service(false, *print, *kind),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.exit(),
    }
}

/// credd's config file, and whether the user named it (then it must exist).
fn config_path(inv: &Invocation) -> (PathBuf, bool) {
    match &inv.config {
        Some(p) => (p.clone(), true),
        None => (paths::config_file(&ProcessEnv), false),
    }
}

/// Prints each problem with its file, line and fix.
fn config_errors(errors: Vec<ConfigError>) -> Failure {
    for e in errors {
        eprintln!("{e}");
    }
    Failure::Usage(None)
}

fn load_config(inv: &Invocation) -> Result<Config, Failure> {
    let (path, explicit) = config_path(inv);
    Config::load(&path, explicit).map_err(config_errors)
}

/// Who and where this runs: for the default role session name and the session cache.
fn host_user() -> crate::sessions::Host {
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "user".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".into());
    crate::sessions::Host::new(user, host, &ProcessEnv)
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    // One thread: credd waits on a timer and a few file descriptors; a thread pool would only add
    // idle wakeups. Blocking file writes go to tokio's blocking pool.
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}

/// The socket this invocation talks to. A broken config does not stop `status` from working.
fn socket(inv: &Invocation) -> PathBuf {
    let (path, explicit) = config_path(inv);
    let from_config = Config::load(&path, explicit).ok().and_then(|c| c.socket);
    paths::socket_path(inv.socket.as_deref(), &ProcessEnv, from_config.as_deref())
}

/// Sends one request to the daemon. Status and reload answer at once; the others may wait for STS.
fn ask(inv: &Invocation, req: Request) -> Result<ReplyFrame, ClientError> {
    let timeout = match req {
        Request::Status { .. } | Request::Reload => Duration::from_secs(10),
        _ => Duration::from_secs(330),
    };
    client::request(&socket(inv), req, timeout)
}
