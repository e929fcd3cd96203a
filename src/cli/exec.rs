//! `credd exec NAME [--min-ttl D] -- CMD`: the verb. It proves NAME is a session before CMD
//! starts (an unknown name is refused with a did-you-mean), then hands `crate::exec` a source of
//! fresh credentials and passes on CMD's exit status.
//!
//! The source is `credd export`'s path, unchanged: the daemon makes sure the session is fresh and
//! names the file (its socket never carries a secret), or, with no daemon, the engine decides and
//! the refresh runs here; this process then reads the keys from the file.

use std::ffi::OsString;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::export::{self, judge, locate};
use super::{Failure, Invocation};
use crate::exec::cache::{self, Credentials, Fetched, Unavailable};

pub(super) fn exec(
    inv: &Invocation,
    name: &str,
    min_ttl: Duration,
    command: &[OsString],
) -> Result<(), Failure> {
    let min_ttl = servable_min_ttl(inv, name, min_ttl);
    // First, before any thread starts: every thread must inherit the blocked signals.
    let life = crate::exec::life::Life::start()?;
    let source = Arc::new(Session { inv: inv.clone(), name: name.to_string(), min_ttl });
    // The first fetch decides whether CMD starts: an unknown name is a usage error, a session
    // that has expired and cannot be refreshed fails now rather than in the middle of CMD.
    let fetched = source.fetch_here()?;
    let region = fetched.region.clone();
    let first = cache::Last { stamp: cache::Stamp::of(&fetched.file), result: Ok(fetched), at: Utc::now() };
    let opts = crate::exec::Options { session: name, region: region.as_deref(), min_ttl, command };
    match crate::exec::run(&life, &opts, source, first) {
        Ok(0) => Ok(()),
        Ok(code) => Err(Failure::Status(code)),
        Err(e) => Err(Failure::failed(e)),
    }
}

/// The `--min-ttl` a session can meet again and again: at most half its lifetime, the daemon's
/// own lead. SDKs ask the endpoint on every call once fewer than 15 minutes are left, and a
/// 15-minute session never has 15 left once used: the default would renew it at every request,
/// a storm of STS calls. Capped, it is renewed once per half-life, as the daemon renews it.
fn servable_min_ttl(inv: &Invocation, name: &str, min_ttl: Duration) -> Duration {
    let lifetime = super::load_config(inv)
        .ok()
        .and_then(|config| super::refresh::engine_here(config).ok())
        .and_then(|(_, engine, _)| engine.lifetime(name));
    match lifetime.map(|l| l / 2) {
        Some(half) if half < min_ttl => {
            eprintln!(
                "credd: {name}'s sessions last {}: renewing when less than {} is left, not {}",
                humantime::format_duration(half * 2),
                humantime::format_duration(half),
                humantime::format_duration(min_ttl)
            );
            half
        }
        _ => min_ttl,
    }
}

/// The session `credd exec` serves, fetched as `credd export` would.
struct Session {
    inv: Invocation,
    name: String,
    min_ttl: Duration,
}

impl Session {
    /// Fresh (when it can be) credentials and where they live. Less than `min_ttl` left is no
    /// failure when the session is still valid: an SDK can use it and will ask again.
    fn fetch_here(&self) -> Result<Fetched, Failure> {
        let location = judge(&self.name, locate(&self.inv, &self.name, Some(self.min_ttl))?, None)?;
        let e = export::read_again_if_gone(&self.inv, &location)?;
        let Some(token) = e.creds.session_token else {
            return Err(Failure::failed(format!(
                "{} holds keys without a session token; the SDKs' container provider serves only temporary credentials (add a [[session]] for it, or use `credd export`)",
                self.name
            )));
        };
        Ok(Fetched {
            credentials: Credentials {
                access_key_id: e.creds.access_key_id,
                secret_access_key: e.creds.secret_access_key,
                session_token: token,
                expires_at: e.expires_at,
            },
            file: location.path.into(),
            region: e.region,
        })
    }
}

impl cache::Source for Session {
    fn fetch(&self) -> Result<Fetched, Unavailable> {
        self.fetch_here().map_err(|f| Unavailable {
            message: match f {
                Failure::Failed(Some(m)) | Failure::Usage(Some(m)) | Failure::NoDaemon(Some(m)) => m,
                // Config errors were printed on credd's stderr; the body points there.
                _ => "credd's config has errors (see credd's output, or run `credd config check`)".into(),
            },
        })
    }
}
