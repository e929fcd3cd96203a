//! Logging setup: text or JSON through tracing-subscriber, filtered by `CREDD_LOG` (or
//! `RUST_LOG`), default `info`.
//!
//! The AWS SDK and HTTP stack are capped at `info` whatever the filter says: at `debug` and `trace`
//! they can print request and response bodies, and STS responses carry secret keys. credd's own
//! logs never hold a secret at any level.

use tracing::Level;
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::prelude::*;

use crate::config::LogFormat;

fn is_dependency_with_bodies(target: &str) -> bool {
    ["aws_", "hyper", "h2", "rustls", "tower", "reqwest"].iter().any(|p| target.starts_with(p))
}

/// Installs the global subscriber. Safe to call once; later calls are ignored.
pub fn init(format: LogFormat) {
    let filter = std::env::var("CREDD_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let cap = filter_fn(|meta| !is_dependency_with_bodies(meta.target()) || *meta.level() <= Level::INFO);
    // Under systemd the journal stamps every line; a second timestamp is noise.
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let registry = tracing_subscriber::registry().with(filter).with(cap);
    let _ = match (format, journald) {
        (LogFormat::Json, _) => {
            registry.with(tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr)).try_init()
        }
        (LogFormat::Text, true) => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .without_time()
                    .with_ansi(false)
                    .with_target(false)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        (LogFormat::Text, false) => {
            // Colour only on a terminal: a log redirected to a file is read with less and grep.
            use std::io::IsTerminal;
            let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_ansi(colour)
                        .with_target(false)
                        .with_writer(std::io::stderr),
                )
                .try_init()
        }
    };
}
