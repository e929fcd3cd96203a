//! The control socket: `protocol` (the types), `server` (the daemon's side) and `client` (what
//! `credd status`, `refresh`, `mfa` and `reload` use).

pub mod client;
pub mod protocol;
pub mod server;
