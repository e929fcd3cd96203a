//! credd keeps AWS credentials alive on a person's machine.
//!
//! # Layout
//!
//! From the command line down to the leaves; a module imports only from rows below its own.
//!
//! - `cli/`: one function per verb (`status`, `refresh`, `export`, `list`, `daemon`, `setup`),
//!   each with its printers; the clap definitions (`args`); the one mapping of failures to exit
//!   codes. `main.rs` only calls `cli::run`.
//! - `exec/`: `credd exec`: the loopback container-credentials endpoint a command's SDKs ask
//!   (`request` parsing and guards, `endpoint`, `cache`: when to fetch again), the command's
//!   environment and config copy (`child_env`, `rundir`), signals and exit status (`life`). Its
//!   credentials come through a `Source` the CLI hands in (export's path); itself it uses only
//!   `profile`, `paths`, `secret` and `sys`.
//! - `daemon/`: the long-running loop: one `select!` over the wall-clock timer (`wallclock`), file
//!   changes, finished refreshes and the inbox; the instance lock (`instance`). It does the I/O;
//!   the engine decides.
//! - `doctor/`: `credd doctor`: offline checks, live STS checks. `service/`: the systemd unit and
//!   launchd agent. `hooks/`: the shell prompt hooks and their generation stamps.
//! - `ipc/`: the control socket: `server` (owner check, framing) and `client`. `notify`: delivering
//!   alerts (desktop, a command hook, the log). `watch`: file watching → "something changed".
//! - `inbox`: what the socket server and the notifier hand the daemon's loop.
//! - `engine/`: every tracked session's state and every decision about it (due, begin, finish,
//!   export, adopt an outside write, shells), pure, on a manual clock in its tests. The daemon and
//!   the CLI's no-daemon fallbacks both ask it.
//! - `refresh/`: one provider per STS method, the endpoint, MFA codes, error classification, one
//!   refresh end to end (`run`) and storing its result (`store`).
//! - `sessions`: which sessions to track, from the config and the files (zero-config discovery
//!   included), each with its settings and where it lives.
//! - `alerts`: pure: which incidents to tell a human about, grouped, once each. `expiry`: pure
//!   scheduling: lead, jitter, backoff, state.
//! - `sso/`: IAM Identity Center: the SSO sessions the config declares, the token cache file,
//!   the sso-oidc token refresh and the portal's role credentials.
//! - `keyring`: the OS keyring behind one trait (Secret Service on the shared zbus; the macOS
//!   Keychain through keyring-core), and the marker comment that says a profile's keys are there.
//! - `files`: the AWS files and the env files as one reading, keeping the last good one.
//! - `envfile`: dotenv files holding a session. `profile/`: the lossless model of the AWS shared
//!   files: parse, edit, quiet reads (and why a read failed), atomic write (and whether a path
//!   can be written), meaning (which keys are long-term: no session is ever written over them),
//!   key lines held as notes for the keyring (`held`), where botocore reads a line differently
//!   (`strict`; what botocore refuses outright is `doctor::botocore`'s).
//! - `config`: `config.toml`: schema, defaults, checks with `file:line:col` errors; a session's
//!   `Settings` and `Home` are declared here once.
//! - Leaves: `protocol` (the socket's request and reply types), `finding` (the documented finding
//!   codes), `paths` (where files live), `logging`, `secret` (the redacting wrapper every secret
//!   travels in), `sys` (the raw libc calls).
//! - `invariants`: what every parser must hold for any input; the fuzz targets' checks.
//!
//! To add a kind of session, start in `sessions` (what it is) and `engine` (what it decides); a
//! new way to get credentials is a `refresh` provider; a new verb is a file in `cli/`.

pub(crate) mod alerts;
pub mod cli;
pub(crate) mod config;
pub(crate) mod daemon;
pub(crate) mod doctor;
pub(crate) mod engine;
pub mod envfile;
#[doc(hidden)]
pub mod exec;
pub(crate) mod expiry;
pub(crate) mod files;
pub(crate) mod finding;
pub(crate) mod hooks;
pub(crate) mod inbox;
#[doc(hidden)]
pub mod invariants;
pub(crate) mod ipc;
pub(crate) mod keyring;
pub(crate) mod logging;
pub(crate) mod notify;
pub(crate) mod paths;
pub mod profile;
pub(crate) mod protocol;
pub mod refresh;
pub mod secret;
pub(crate) mod service;
pub(crate) mod sessions;
pub(crate) mod sso;
pub(crate) mod sys;
pub(crate) mod watch;
