//! What the endpoint serves: the session's credentials as last fetched, and when to fetch them
//! again. A fetch is what `credd export` does (through the daemon, or refreshing in-process), so
//! it costs a socket round trip or a read of the AWS files, and sometimes an STS call; a request
//! must not pay that when nothing changed.
//!
//! So the credentials are kept, with the identity of the file they came from, and fetched again
//! only when that file changed (the daemon or `credd refresh` wrote it), when less than
//! `--min-ttl` is left, or when they have no recorded expiry. A fetch that could not renew the
//! session (it needs an MFA code, STS is down) is not repeated for [`RETRY_AFTER`] unless the
//! file changes: an SDK that asks again on every call must not turn into an STS call each time.
//!
//! Where the fetch goes is the caller's [`Source`] (the CLI's export path); the socket is
//! `endpoint.rs`'s. The decision ([`decide`]) is pure and tested on its own.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::secret::Secret;

/// How long a fetch that could not give `--min-ttl` (or failed) is trusted before another try.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);

/// A session's credentials as the endpoint serves them. Secret parts stay redacted in Debug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    /// `None` when nothing records when they end (a watch-only session written without one).
    pub expires_at: Option<DateTime<Utc>>,
}

/// What a fetch found: the credentials, the file that holds them, and the session's region.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub credentials: Credentials,
    pub file: PathBuf,
    pub region: Option<String>,
}

/// Why there is nothing to serve. The message is for a person (an SDK shows the body): it says
/// what is wrong and what fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    pub message: String,
}

/// Where fresh credentials come from. `fetch` blocks (it may call STS); the endpoint runs it off
/// its event loop, one at a time, so concurrent requests join the fetch in flight.
pub trait Source: Send + Sync + 'static {
    fn fetch(&self) -> Result<Fetched, Unavailable>;
}

/// A file's identity and version, cheap to take on every request (one `stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
}

impl Stamp {
    /// `None` when the file cannot be looked at, which counts as changed.
    pub fn of(path: &Path) -> Option<Stamp> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        let mtime_ns = i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec());
        Some(Stamp { dev: m.dev(), ino: m.ino(), size: m.size(), mtime_ns })
    }
}

/// The last fetch: what it gave (or why it gave nothing), the file's stamp taken just before
/// it, and when it ran.
#[derive(Debug, Clone)]
pub struct Last {
    pub result: Result<Fetched, Unavailable>,
    pub stamp: Option<Stamp>,
    pub at: DateTime<Utc>,
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Serve the kept credentials.
    Serve,
    /// Fetch, then serve what that gives.
    Fetch,
    /// Say why there is nothing (the last fetch failed, and trying again now would repeat it).
    Refuse,
}

/// Whether the kept credentials do, given the file's stamp `now_stamp` taken now.
pub fn decide(
    last: Option<&Last>,
    now_stamp: Option<Stamp>,
    now: DateTime<Utc>,
    min_ttl: Duration,
) -> Decision {
    let Some(last) = last else { return Decision::Fetch };
    // A file that changed, or one that cannot be looked at, may hold something newer.
    if now_stamp != last.stamp || (last.stamp.is_none() && last.result.is_ok()) {
        return Decision::Fetch;
    }
    let recent = (now - last.at).to_std().is_ok_and(|d| d < RETRY_AFTER) || last.at > now;
    let creds = match &last.result {
        Ok(f) => &f.credentials,
        Err(_) => return if recent { Decision::Refuse } else { Decision::Fetch },
    };
    let ttl = chrono::Duration::from_std(min_ttl).unwrap_or(chrono::Duration::MAX);
    match creds.expires_at {
        Some(at) if at - now >= ttl => Decision::Serve,
        // Short of `min_ttl` after a fetch that could not renew them: still good, and a new
        // fetch now would only repeat the failed renewal.
        Some(at) if at > now && recent => Decision::Serve,
        None if recent => Decision::Serve,
        _ => Decision::Fetch,
    }
}

/// The kept state: the last fetch. The endpoint holds it under an async mutex, so one fetch runs
/// at a time and requests that arrive meanwhile wait for it and are served its result.
#[derive(Debug, Default)]
pub struct Cache {
    last: Option<Last>,
    /// The file the last good fetch named: still stamped after a failed fetch, so that a write
    /// (`credd mfa`, `credd refresh`) is noticed at once.
    file: Option<PathBuf>,
}

impl Cache {
    pub fn last(&self) -> Option<&Last> {
        self.last.as_ref()
    }

    /// The file to stamp before deciding.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    pub fn record(&mut self, last: Last) {
        if let Ok(f) = &last.result {
            self.file = Some(f.file.clone());
        }
        self.last = Some(last);
    }

    /// What the last fetch gave: credentials, or why not.
    pub fn answer(&self) -> Result<&Credentials, Unavailable> {
        match self.last.as_ref().map(|l| &l.result) {
            Some(Ok(f)) => Ok(&f.credentials),
            Some(Err(e)) => Err(e.clone()),
            None => Err(Unavailable { message: "credd has not fetched the session yet".into() }),
        }
    }
}

/// Runs a fetch of `source`, stamping `file` (the one the last credentials came from) first: a
/// write that lands during the fetch then reads as a change next time, never as "seen".
pub fn fetch(source: &dyn Source, file: Option<&Path>, now: impl Fn() -> DateTime<Utc>) -> Last {
    let before = file.and_then(Stamp::of);
    let result = source.fetch();
    // A file learnt only now (the first fetch, or the session moved) is stamped after the
    // fetch, as early as it can be known.
    let stamp = match (&result, file) {
        (Ok(f), Some(old)) if f.file == old => before,
        (Ok(f), _) => Stamp::of(&f.file),
        (Err(_), _) => before,
    };
    Last { result, stamp, at: now() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn stamp(v: u64) -> Option<Stamp> {
        Some(Stamp { dev: 1, ino: 2, size: v, mtime_ns: 0 })
    }

    fn ok(expires: Option<i64>) -> Result<Fetched, Unavailable> {
        Ok(Fetched {
            credentials: Credentials {
                access_key_id: "ASIAEXAMPLE".into(),
                secret_access_key: Secret::new("s"),
                session_token: Secret::new("t"),
                expires_at: expires.map(t),
            },
            file: PathBuf::from("/c"),
            region: None,
        })
    }

    const TTL: Duration = Duration::from_secs(900);

    #[test]
    fn fresh_credentials_are_served_until_the_file_changes() {
        let last = Last { result: ok(Some(3600)), stamp: stamp(1), at: t(0) };
        assert_eq!(decide(Some(&last), stamp(1), t(60), TTL), Decision::Serve);
        assert_eq!(decide(Some(&last), stamp(1), t(3600 - 900), TTL), Decision::Serve);
        assert_eq!(decide(Some(&last), stamp(2), t(60), TTL), Decision::Fetch, "written by the daemon");
        assert_eq!(decide(Some(&last), None, t(60), TTL), Decision::Fetch, "gone");
        assert_eq!(decide(None, stamp(1), t(0), TTL), Decision::Fetch);
    }

    #[test]
    fn less_than_min_ttl_left_fetches_but_not_in_a_loop() {
        // Fetched long ago and now short: fetch (the refresh may work now).
        let last = Last { result: ok(Some(3600)), stamp: stamp(1), at: t(0) };
        assert_eq!(decide(Some(&last), stamp(1), t(3600 - 899), TTL), Decision::Fetch);
        // Just fetched and still short (the refresh failed): serve what is still valid.
        let last = Last { result: ok(Some(600)), stamp: stamp(1), at: t(0) };
        assert_eq!(decide(Some(&last), stamp(1), t(10), TTL), Decision::Serve);
        assert_eq!(decide(Some(&last), stamp(1), t(31), TTL), Decision::Fetch, "after RETRY_AFTER");
        // Expired: never served, whatever the timing.
        let last = Last { result: ok(Some(5)), stamp: stamp(1), at: t(0) };
        assert_eq!(decide(Some(&last), stamp(1), t(6), TTL), Decision::Fetch);
    }

    #[test]
    fn a_failure_is_repeated_only_after_retry_after_or_a_change() {
        let last =
            Last { result: Err(Unavailable { message: "needs MFA".into() }), stamp: stamp(1), at: t(0) };
        assert_eq!(decide(Some(&last), stamp(1), t(5), TTL), Decision::Refuse);
        assert_eq!(decide(Some(&last), stamp(1), t(30), TTL), Decision::Fetch);
        assert_eq!(decide(Some(&last), stamp(2), t(5), TTL), Decision::Fetch);
        // A clock that stepped back is no reason to hammer STS.
        assert_eq!(decide(Some(&last), stamp(1), t(-100), TTL), Decision::Refuse);
        // A failure before any file was known: only time brings another try.
        let last = Last { result: Err(Unavailable { message: "x".into() }), stamp: None, at: t(0) };
        assert_eq!(decide(Some(&last), None, t(5), TTL), Decision::Refuse);
        assert_eq!(decide(Some(&last), None, t(31), TTL), Decision::Fetch);
    }

    #[test]
    fn no_recorded_expiry_is_checked_again_every_retry_after() {
        let last = Last { result: ok(None), stamp: stamp(1), at: t(0) };
        assert_eq!(decide(Some(&last), stamp(1), t(29), TTL), Decision::Serve);
        assert_eq!(decide(Some(&last), stamp(1), t(30), TTL), Decision::Fetch);
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = ok(Some(1)).unwrap();
        let text = format!("{c:?}");
        assert!(text.contains("ASIAEXAMPLE") && !text.contains("\"s\"") && !text.contains("\"t\""), "{text}");
    }
}
