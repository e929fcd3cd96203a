//! The loopback endpoint the SDKs' container-credentials provider asks: a TCP listener on
//! 127.0.0.1, one request per connection, answered with the session's credentials in the shape
//! every SDK reads (`AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`), or with a JSON error
//! (`code`, `message`) whose message the SDK shows its user.
//!
//! It owns the socket and the answers. Which requests pass is `request.rs`'s; what to serve and
//! when to fetch again is `cache.rs`'s; the fetch itself is the caller's `Source`, run on the
//! blocking pool so a slow STS call never stalls the listener. Its shutdown is a future the
//! caller passes in (the child ended), as in mini-redis.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::cache::{self, Cache, Credentials, Decision, Source, Stamp, Unavailable};
use super::request::{self, Reject};
use crate::secret::Secret;

/// How long a client may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections answered at once; more wait in the listen queue.
const MAX_CONNECTIONS: usize = 64;

/// Everything a connection needs.
pub struct Endpoint {
    port: u16,
    token: Secret,
    min_ttl: Duration,
    source: Arc<dyn Source>,
    cache: tokio::sync::Mutex<Cache>,
}

impl Endpoint {
    /// An endpoint for the listener on `port`, answering requests that carry `token`, keeping the
    /// session at least `min_ttl` from its end. `first` is the fetch made before the command
    /// started, served at once.
    pub fn new(
        port: u16,
        token: Secret,
        min_ttl: Duration,
        source: Arc<dyn Source>,
        first: cache::Last,
    ) -> Self {
        let mut cache = Cache::default();
        cache.record(first);
        Endpoint { port, token, min_ttl, source, cache: tokio::sync::Mutex::new(cache) }
    }

    /// Answers connections on `listener` until `shutdown` completes.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let permits = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                _ = &mut shutdown => return,
                p = permits.clone().acquire_owned() => p.expect("never closed"),
            };
            let (stream, peer) = tokio::select! {
                _ = &mut shutdown => return,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    // Out of file descriptors and the like: wait a little rather than spin.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            if !peer.ip().is_loopback() {
                continue;
            }
            let me = self.clone();
            tokio::spawn(async move {
                me.connection(stream).await;
                drop(permit);
            });
        }
    }

    async fn connection(&self, mut stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let response = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
            Ok(Ok(head)) => self.answer(&head).await,
            Ok(Err(reject)) => refusal(reject),
            Err(_) => return,
        };
        let _ = stream.write_all(&response).await;
        let _ = stream.shutdown().await;
    }

    async fn answer(&self, raw: &[u8]) -> Vec<u8> {
        let checked = request::parse(raw).and_then(|head| request::check(&head, self.port, &self.token));
        if let Err(reject) = checked {
            return refusal(reject);
        }
        match self.credentials().await {
            Ok(c) => http(200, &credentials_body(&c, Utc::now(), self.min_ttl)),
            Err(e) => http(503, &error_body("SessionUnavailable", &e.message)),
        }
    }

    /// The credentials to serve: the kept ones when they do, else a fresh fetch. The lock is
    /// held across the fetch, so requests that come meanwhile join it instead of starting their
    /// own.
    pub async fn credentials(&self) -> Result<Credentials, Unavailable> {
        let mut cache = self.cache.lock().await;
        let stamp = cache.file().and_then(Stamp::of);
        match cache::decide(cache.last(), stamp, Utc::now(), self.min_ttl) {
            Decision::Serve | Decision::Refuse => return cache.answer().cloned(),
            Decision::Fetch => {}
        }
        let source = self.source.clone();
        let file = cache.file().map(|p| p.to_path_buf());
        let last = tokio::task::spawn_blocking(move || cache::fetch(&*source, file.as_deref(), Utc::now))
            .await
            .unwrap_or_else(|e| cache::Last {
                result: Err(Unavailable { message: format!("credd's fetch stopped: {e}") }),
                stamp: None,
                at: Utc::now(),
            });
        // Say a new failure once, on credd's stderr, as `credd export` would: the SDK may retry
        // quietly, and the person should still learn why.
        if let Err(e) = &last.result
            && cache.last().is_none_or(|l| l.result.as_ref().err() != Some(e))
        {
            eprintln!("credd: {}", e.message);
        }
        cache.record(last);
        cache.answer().cloned()
    }
}

/// Reads until the head's blank line, refusing a head larger than [`request::MAX_HEAD`]. A
/// client that closes early gets `Malformed` (and no one reads the answer).
async fn read_head(stream: &mut TcpStream) -> Result<Vec<u8>, Reject> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await.map_err(|_| Reject::Malformed)?;
        if n == 0 {
            return Err(Reject::Malformed);
        }
        // Search only where the new bytes could complete the blank line.
        let from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = request::head_end(&buf[from..]) {
            let end = from + end;
            // Bytes after the head would be a body or a pipelined request: neither is served.
            if end != buf.len() {
                return Err(Reject::Malformed);
            }
            return Ok(buf);
        }
        if buf.len() > request::MAX_HEAD {
            return Err(Reject::TooLarge);
        }
    }
}

fn refusal(reject: Reject) -> Vec<u8> {
    http(reject.status(), &error_body(reject.code(), reject.message()))
}

/// The SDKs' shape. `Expiration` is required by all of them; for credentials with no recorded
/// end it is set just past `min_ttl` from now, so the SDK asks again soon instead of never.
pub fn credentials_body(c: &Credentials, now: DateTime<Utc>, min_ttl: Duration) -> String {
    let expires = c.expires_at.unwrap_or_else(|| {
        now + chrono::Duration::from_std(min_ttl + cache::RETRY_AFTER).unwrap_or(chrono::Duration::zero())
    });
    serde_json::json!({
        "AccessKeyId": c.access_key_id,
        "SecretAccessKey": c.secret_access_key.expose(),
        "Token": c.session_token.expose(),
        "Expiration": expires.to_rfc3339_opts(SecondsFormat::Secs, true),
    })
    .to_string()
}

/// The Go SDK's error shape (`code`, `message`); botocore and the others show the body whole.
pub fn error_body(code: &str, message: &str) -> String {
    serde_json::json!({ "code": code, "message": message }).to_string()
}

fn http(status: u16, body: &str) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "Service Unavailable",
    };
    let allow = if status == 405 { "Allow: GET\r\n" } else { "" };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nCache-Control: no-store\r\n{allow}Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const TOKEN: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    /// A source that counts its fetches and answers from a list, the last one repeating.
    struct Fake {
        calls: AtomicUsize,
        answers: Mutex<Vec<Result<cache::Fetched, Unavailable>>>,
        file: std::path::PathBuf,
    }

    impl Source for Fake {
        fn fetch(&self) -> Result<cache::Fetched, Unavailable> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            // A slow fetch, so that concurrent requests overlap it.
            std::thread::sleep(Duration::from_millis(50));
            let mut a = self.answers.lock().unwrap();
            if a.len() > 1 { a.remove(0) } else { a[0].clone() }
        }
    }

    fn creds(key: &str, mins: i64) -> Credentials {
        Credentials {
            access_key_id: key.into(),
            secret_access_key: Secret::new(format!("{key}-SECRET")),
            session_token: Secret::new(format!("{key}-TOKEN")),
            expires_at: Some(Utc::now() + chrono::Duration::minutes(mins)),
        }
    }

    async fn get(port: u16, host: &str, auth: Option<&str>) -> (u16, serde_json::Value) {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let auth = auth.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
        let req = format!("GET /credentials HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        let status = out[9..12].parse().unwrap();
        let body = out.split_once("\r\n\r\n").unwrap().1;
        (status, serde_json::from_str(body).unwrap())
    }

    #[tokio::test]
    async fn serves_joins_and_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("credentials");
        std::fs::write(&file, "a").unwrap();
        let fetched = |key: &str, mins| {
            Ok(cache::Fetched { credentials: creds(key, mins), file: file.clone(), region: None })
        };
        // The first fetch is short of min_ttl, so the first request fetches; that gives a
        // fresh session, which later requests are served from.
        let fake = Arc::new(Fake {
            calls: AtomicUsize::new(0),
            answers: Mutex::new(vec![fetched("ASIANEW", 60)]),
            file: file.clone(),
        });
        let first = cache::fetch(
            &Fake {
                calls: AtomicUsize::new(0),
                answers: Mutex::new(vec![fetched("ASIAOLD", 5)]),
                file: fake.file.clone(),
            },
            None,
            || Utc::now() - chrono::Duration::minutes(1),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let ep =
            Arc::new(Endpoint::new(port, Secret::new(TOKEN), Duration::from_secs(900), fake.clone(), first));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(ep.clone().serve(listener, async move {
            let _ = stopped.await;
        }));
        let host = format!("127.0.0.1:{port}");
        let (a, b) = tokio::join!(get(port, &host, Some(TOKEN)), get(port, &host, Some(TOKEN)));
        for (status, body) in [a, b] {
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["AccessKeyId"], "ASIANEW");
            assert_eq!(body["SecretAccessKey"], "ASIANEW-SECRET");
            assert_eq!(body["Token"], "ASIANEW-TOKEN");
            assert!(body["Expiration"].as_str().unwrap().ends_with('Z'));
        }
        assert_eq!(fake.calls.load(Ordering::SeqCst), 1, "the second request joined the first's fetch");
        assert_eq!(get(port, &host, Some(TOKEN)).await.0, 200);
        assert_eq!(fake.calls.load(Ordering::SeqCst), 1, "a fresh session is served without a fetch");

        let (status, body) = get(port, &host, None).await;
        assert_eq!((status, body["code"].as_str()), (401, Some("NoToken")));
        assert_eq!(get(port, &host, Some(&TOKEN[1..])).await.0, 403);
        let (status, body) = get(port, &format!("evil.example:{port}"), Some(TOKEN)).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("ForeignHost")));
        assert!(!body.to_string().contains("ASIA"));

        // A write to the file is noticed: the next request fetches again.
        *fake.answers.lock().unwrap() = vec![Err(Unavailable { message: "dev needs an MFA code".into() })];
        std::fs::write(&file, "changed").unwrap();
        let (status, body) = get(port, &host, Some(TOKEN)).await;
        assert_eq!((status, body["message"].as_str()), (503, Some("dev needs an MFA code")));
        assert_eq!(get(port, &host, Some(TOKEN)).await.0, 503);
        assert_eq!(fake.calls.load(Ordering::SeqCst), 2, "a failure is not repeated at once");

        stop.send(()).unwrap();
        server.await.unwrap();
        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err(), "the endpoint stopped");
    }

    #[test]
    fn bodies() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut c = creds("ASIAX", 0);
        c.expires_at = None;
        let v: serde_json::Value =
            serde_json::from_str(&credentials_body(&c, now, Duration::from_secs(900))).unwrap();
        assert_eq!(v["Expiration"], "2027-01-15T08:15:30Z", "min_ttl + RETRY_AFTER from now");
        let e = String::from_utf8(http(503, &error_body("SessionUnavailable", "why"))).unwrap();
        assert!(
            e.starts_with("HTTP/1.1 503 Service Unavailable\r\n")
                && e.ends_with(r#"{"code":"SessionUnavailable","message":"why"}"#)
        );
    }
}
