//! credd keeps AWS credentials alive on a person's machine.
//!
//! # Layout
//!
//! - `cli`: clap definitions, mapped onto our own [`cli::Command`] so nothing else sees clap.
//! - `paths`: where the AWS files (and credd's own files) live.
//! - `profile/`: the lossless model of the AWS shared files: parse, edit, atomic write, meaning.
//! - `scan`: what credd finds in those files: every profile, its kind and its expiry.
//! - `secret`: the redacting wrapper every secret travels in.

pub mod cli;
pub mod paths;
pub mod profile;
pub mod scan;
pub mod secret;
