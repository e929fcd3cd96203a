//! The control socket: `server` (the daemon's side: binding, the owner check, framing) and
//! `client` (what `credd status`, `refresh`, `mfa`, `export` and `reload` use). The messages
//! themselves are `crate::protocol`; what the server hands the daemon is `crate::inbox`.

pub mod client;
pub mod server;
