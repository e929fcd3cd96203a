//! The lossless model of `~/.aws/config` and `~/.aws/credentials`.
//!
//! - `parse`: bytes → [`Document`] (every byte kept, every line classified as aws-config does),
//!   and the resolved view, [`Sections`].
//! - `edit`: set or remove keys of one profile, touching only those keys' lines.
//! - `held`: key lines held elsewhere: each replaced by a note that keeps its layout, and put back.
//! - `quiet`: reading a file nobody is half-way through writing (a read lease on Linux), and why
//!   a file that is there could not be read.
//! - `write`: lock, re-read, swap in atomically, never losing an outside edit.
//! - `meta`: what the keys mean: credential kind, expiry, and the edits that store a session.
//! - `strict`: where botocore reads a file differently (repeated sections and keys, inline
//!   comments): what an edit that moves a value rules out first.
//!
//! Where the files live is `crate::paths`' business; reading both as one set is `crate::files`'.

pub mod edit;
pub mod held;
pub mod meta;
pub mod parse;
pub mod quiet;
pub mod strict;
pub mod write;

pub use edit::{Edit, EditError};
pub use meta::{CredentialKind, Expiry, ExpiryRead, SessionCredentials};
pub use parse::{Document, FileKind, ParseError, SectionId, Sections};
pub use quiet::{ReadFailure, Unreadable};
pub use write::{Outcome, WriteError, read_document, read_quiet, update, update_observed};
