//! credd keeps AWS credentials alive on a person's machine.
//!
//! # Layout
//!
//! From the command line down to the leaves, one row per layer: a module imports only from rows
//! below its own, never from its own row or above (`tests/layers.rs` holds the code to that), so
//! the arrows between modules run one way.
//!
//! - `cli/`, `invariants`: one function per verb (`status`, `refresh`, `export`, `list`,
//!   `daemon`, `setup`, `keyring`, `exec`, `console`), each with its printers; the clap definitions
//!   (`args`); the one mapping of failures to exit codes. `main.rs` only calls `cli::run`.
//!   `invariants`: what every parser must hold for any input; the fuzz targets' checks.
//! - `exec/`, `console/`: `credd exec`: the loopback container-credentials endpoint a command's SDKs ask
//!   (`request` parsing and guards, `endpoint`, `cache`: when to fetch again), the command's
//!   environment and config copy (`child_env`, `rundir`), signals and exit status (`life`). Its
//!   credentials come through a `Source` the CLI hands in (export's path); itself it uses only
//!   `profile`, `paths`, `secret` and `sys`. `credd console`: the federation endpoint's sign-in
//!   URL for the partition (`signin`), and GetFederationToken for an IAM user's keys
//!   (`federate`); it is handed credentials, found on export's path by `cli/console.rs`.
//! - `daemon/`: the long-running loop: one `select!` over the wall-clock timer (`wallclock`), file
//!   changes, finished refreshes and the inbox; the instance lock (`instance`). It does the I/O;
//!   the engine decides.
//! - `doctor/`, `service/`, `hooks/`: `credd doctor`: offline checks, live STS checks. The
//!   systemd unit and launchd agent. The shell prompt hooks and their generation stamps.
//! - `ipc/`, `notify`, `watch`: the control socket: `server` (owner check, framing) and
//!   `client`. Delivering alerts (desktop, a command hook, the log). File watching → "something
//!   changed".
//! - `inbox`: what the socket server and the notifier hand the daemon's loop.
//! - `engine/`: every tracked session's state and every decision about it (due, begin, finish,
//!   export, adopt an outside write, shells), pure, on a manual clock in its tests. The daemon and
//!   the CLI's no-daemon fallbacks both ask it.
//! - `refresh/`: one refresh end to end (`run`): a renewed session's source and method
//!   (`source`: where credentials come from, then how credd renews from them), the STS providers
//!   and their client, the endpoint, MFA codes, and storing the result (`store`); a kept token's
//!   refresh goes to its own room.
//! - `sessions/`: which sessions to track and what each one is (watched, renewed, or a kept
//!   token), planned from the config and the files (zero-config discovery included).
//! - `kinds`: the list of kinds of credentials beyond keys in the AWS files, and the one place
//!   each is registered outside its room: the kept tokens, the kinds' sources, which kind issues
//!   a profile's credentials, where each caches and which doctor checks each brings.
//! - `files`: the AWS files, the env files and the kept tokens' cache files as one reading,
//!   keeping the last good one.
//! - `sso/`, `login/`, `keyring/`: IAM Identity Center: the SSO sessions the config declares,
//!   the token cache file, the sso-oidc token refresh and the portal's role credentials. `aws
//!   login` sessions: the `login_session` profiles, the login token cache file, the DPoP proof,
//!   the sign-in service's token refresh, and their doctor checks. The OS keyring behind one
//!   trait (Secret Service on the shared zbus; the macOS Keychain through keyring-core), and the
//!   marker comment that says a profile's keys are there.
//! - `classify`: what a failure means, the one place: an AWS error or a file credd cannot read
//!   or write, as retryable or not, its finding and its fix.
//! - `alerts`, `protocol`: pure: which incidents to tell a human about, grouped, once each. The
//!   socket's request and reply types.
//! - `expiry`, `logging`, `regions`: pure scheduling: lead, jitter, backoff, state. The log's
//!   format. Which regions exist, and which are opt-in.
//! - `envfile`, `config`: dotenv files holding a session. `config.toml`: schema, defaults, checks
//!   with `file:line:col` errors; a session's `Settings` and `Home` are declared here once.
//! - `profile/`: the lossless model of the AWS shared files: parse, edit, quiet reads (and why a
//!   read failed), atomic write (and whether a path can be written), meaning (which keys are
//!   long-term: no session is ever written over them), key lines held as notes for the keyring
//!   (`held`), where botocore reads a line differently (`strict`; what botocore refuses outright
//!   is `doctor::botocore`'s).
//! - `finding`, `paths`, `secret`, `pyjson`: the documented finding codes and a finding as
//!   doctor reports it; where files live; the redacting wrapper every secret travels in; JSON
//!   as botocore's `json.dumps` writes the token cache files.
//! - `sys`: the raw libc calls.
//!
//! To add a kind of credentials, follow `docs/architecture.md`: it names every place a kind
//! touches. A new verb is a file in `cli/`.

pub(crate) mod alerts;
pub mod classify;
pub mod cli;
pub(crate) mod config;
pub(crate) mod console;
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
pub(crate) mod kinds;
pub(crate) mod logging;
// Public (hidden): its integration tests also drive the room directly against the fake sign-in
// service, as botocore is driven against it.
#[doc(hidden)]
pub mod login;
pub(crate) mod notify;
pub(crate) mod paths;
pub mod profile;
pub(crate) mod protocol;
pub(crate) mod pyjson;
pub mod refresh;
pub(crate) mod regions;
pub mod secret;
pub(crate) mod service;
pub(crate) mod sessions;
pub(crate) mod sso;
pub(crate) mod sys;
pub(crate) mod watch;
