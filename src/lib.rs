//! credd keeps AWS credentials alive on a person's machine.
//!
//! # Layout
//!
//! - `cli`: clap definitions, mapped onto our own [`cli::Command`] so nothing else sees clap.
//! - `config`: `config.toml`: schema, defaults, checks with `file:line:col` errors.
//! - `paths`: where the AWS files, credd's config and its runtime directory live.
//! - `profile/`: the lossless model of the AWS shared files: parse, edit, atomic write, meaning.
//! - `sessions`: which sessions to track (config + zero-config discovery) and storing a refresh.
//! - `expiry`: pure scheduling: when each session is due, backoff, state.
//! - `refresh/`: STS providers (assume-role, session-token), MFA codes, error classification.
//! - `doctor/`: `credd doctor`: offline checks, live STS checks, finding codes.
//! - `envfile`: dotenv files holding a session: lossless model, write-back, expiry.
//! - `export`: `credd export` / `credential-process`: reading and formatting credentials.
//! - `sys`: uid, gid, and whether a process exists: the raw libc calls in one place.
//! - `watch`: file watching → "something changed".
//! - `daemon/`: the long-running loop, its state, the wall-clock timer, the instance lock.
//! - `hooks/`: the bash/zsh/fish prompt hooks and the generation stamps they watch.
//! - `ipc/`: the control socket: protocol types, the daemon's server, the CLI's client.
//! - `alerts`: pure: which incidents to tell a human about, grouped, once each.
//! - `notify`: delivering alerts: desktop (notify-rust), a command hook, the log.
//! - `logging`: tracing setup, with the SDK capped so bodies (and secrets) never reach a log.
//! - `report`: how `credd status` looks: table, prompt line, exit code.
//! - `scan`: what `credd list` shows.
//! - `secret`: the redacting wrapper every secret travels in.
//! - `service/`: systemd unit and launchd agent: rendering, installing, readiness.
//! - `finding`: the documented finding codes, one enum.
//! - `invariants`: what every parser must hold for any input; the fuzz targets' checks.

pub(crate) mod alerts;
pub mod cli;
pub(crate) mod config;
pub(crate) mod daemon;
pub(crate) mod doctor;
pub(crate) mod engine;
pub mod envfile;
pub(crate) mod expiry;
pub(crate) mod files;
pub(crate) mod finding;
pub(crate) mod hooks;
pub(crate) mod inbox;
#[doc(hidden)]
pub mod invariants;
pub(crate) mod ipc;
pub(crate) mod logging;
pub(crate) mod notify;
pub(crate) mod paths;
pub mod profile;
pub(crate) mod protocol;
pub mod refresh;
pub(crate) mod secret;
pub(crate) mod service;
pub(crate) mod sessions;
pub(crate) mod sys;
pub(crate) mod watch;
