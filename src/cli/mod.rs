//! The command line: every verb of `credd`, each in its own file with its printers.
//!
//! - `args`: clap definitions, mapped onto our own [`Command`] so nothing else sees clap.
//! - `status`: `credd status`: the table, the prompt line and the exit code.
//! - `export`: `credd export`, `credential-process` and `ensure`: reading and formatting credentials.
//! - `list`: `credd list`: what each profile in the AWS files is.

pub mod args;
pub mod export;
pub mod list;
pub mod status;

pub use args::*;
