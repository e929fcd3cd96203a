//! The control socket: `server` (the daemon's side: binding, the owner check, framing) and
//! `client` (what `credd status`, `refresh`, `mfa`, `export` and `reload` use). The messages
//! themselves are `crate::protocol`; what the server hands the daemon is `crate::inbox`.
//! `document` renders the one reply that is not a single line: the status `credd status --json`
//! prints; `prompt` renders the line `credd status --prompt` prints.

pub mod client;
pub mod document;
pub mod prompt;
pub mod server;
