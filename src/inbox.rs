//! The daemon's inbox: what the control socket's server and the notifier may ask of the daemon's
//! loop, each with where to send the answer. A message here is already checked (an MFA code is six
//! digits, a name is a name); whether the daemon can do it is the engine's decision.
//!
//! It sits below both senders and the loop, so neither `ipc` nor `notify` needs `daemon`.

use std::time::Duration;

use tokio::sync::oneshot;

use crate::protocol::{Reply, ShellSession};
use crate::secret::Secret;

/// A request for the daemon's loop, with where to send the answer.
#[derive(Debug)]
pub enum Control {
    Status(oneshot::Sender<Reply>),
    Refresh { name: Option<String>, reply: oneshot::Sender<Reply> },
    Mfa { name: String, code: Secret, reply: oneshot::Sender<Reply> },
    Reload(oneshot::Sender<Reply>),
    Export { name: String, min_ttl: Option<Duration>, reply: oneshot::Sender<Reply> },
    RegisterShell(ShellSession, oneshot::Sender<Reply>),
}
