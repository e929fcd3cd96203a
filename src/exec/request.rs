//! The endpoint's requests: where a request head ends, parsing it (HTTP/1.1, strictly), and the
//! guards every request passes before it may see credentials: only `GET`, only a `Host` of
//! `127.0.0.1:PORT` or `localhost:PORT` (a DNS-rebinding page names its own host), only with the
//! token in `Authorization`, compared in constant time, and only the one path.
//!
//! Pure: bytes in, a verdict out. Reading the socket and answering are `endpoint.rs`'s; what a
//! verdict's answer says is here, so the messages live beside the rules. Nothing here echoes
//! what the client sent: a request may carry a wrong token, and a log or a body must not repeat it.

use crate::secret::Secret;

/// The largest request head read. The SDKs send about 200 bytes; more is refused unread.
pub const MAX_HEAD: usize = 8 * 1024;

/// The one path the endpoint serves.
pub const PATH: &str = "/credentials";

/// A parsed request head. It borrows from the bytes read.
#[derive(PartialEq, Eq)]
pub struct Head<'a> {
    pub method: &'a str,
    pub target: &'a str,
    pub host: Option<&'a str>,
    /// The `Authorization` value as sent: compared, never printed (Debug redacts it).
    pub authorization: Option<&'a [u8]>,
}

impl std::fmt::Debug for Head<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Head")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("host", &self.host)
            .field("authorization", &self.authorization.map(|_| "<redacted>"))
            .finish()
    }
}

/// Why a request is refused, each with its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    /// No blank line within [`MAX_HEAD`] bytes: 431.
    TooLarge,
    /// Not an HTTP/1.x request head, a duplicated `Host` or `Authorization`, or a body: 400.
    Malformed,
    /// A method other than GET: 405.
    Method,
    /// A `Host` other than this endpoint's loopback address: 403.
    Host,
    /// No `Authorization`: 401.
    NoToken,
    /// An `Authorization` that is not the token: 403.
    WrongToken,
    /// Any path but [`PATH`]: 404.
    Path,
}

impl Reject {
    pub fn status(self) -> u16 {
        match self {
            Reject::TooLarge => 431,
            Reject::Malformed => 400,
            Reject::Method => 405,
            Reject::Host | Reject::WrongToken => 403,
            Reject::NoToken => 401,
            Reject::Path => 404,
        }
    }

    /// The body's `code`, for programs.
    pub fn code(self) -> &'static str {
        match self {
            Reject::TooLarge => "RequestTooLarge",
            Reject::Malformed => "BadRequest",
            Reject::Method => "MethodNotAllowed",
            Reject::Host => "ForeignHost",
            Reject::NoToken => "NoToken",
            Reject::WrongToken => "WrongToken",
            Reject::Path => "NotFound",
        }
    }

    /// The body's `message`, for the person an SDK shows it to.
    pub fn message(self) -> &'static str {
        match self {
            Reject::TooLarge => "the request head is larger than credd's endpoint accepts (8 KiB)",
            Reject::Malformed => "not an HTTP/1.1 GET request credd's endpoint accepts",
            Reject::Method => "credd's credentials endpoint answers GET only",
            Reject::Host => {
                "credd's credentials endpoint answers only requests for Host 127.0.0.1:PORT or localhost:PORT"
            }
            Reject::NoToken => {
                "no Authorization header: set AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE as `credd exec` does"
            }
            Reject::WrongToken => {
                "the Authorization header is not this endpoint's token: it belongs to another `credd exec`"
            }
            Reject::Path => {
                "credd's credentials endpoint serves only the path in AWS_CONTAINER_CREDENTIALS_FULL_URI"
            }
        }
    }
}

/// Where the head ends (the index just past its blank line), once it has arrived.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    memchr::memmem::find(buf, b"\r\n\r\n").map(|i| i + 4)
}

/// Parses a complete head (up to and including its blank line). Lines end in CRLF; a header
/// line is `name: value` with a token for a name and no folding; `Host` and `Authorization`
/// come at most once; a body (`Content-Length` above 0, any `Transfer-Encoding`) is refused,
/// because a GET has none and a proxy's idea of where it ends could differ from ours.
pub fn parse(head: &[u8]) -> Result<Head<'_>, Reject> {
    if head.len() > MAX_HEAD {
        return Err(Reject::TooLarge);
    }
    let text = head.strip_suffix(b"\r\n\r\n").ok_or(Reject::Malformed)?;
    let raw: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    let last = raw.len() - 1;
    // Every line but the last ended in CRLF; the last one's went with the blank line. A CR left
    // anywhere else fails the character checks below.
    let mut lines = Vec::with_capacity(raw.len());
    for (i, line) in raw.into_iter().enumerate() {
        lines.push(if i < last { line.strip_suffix(b"\r").ok_or(Reject::Malformed)? } else { line });
    }
    let (method, target) = request_line(lines[0])?;
    let mut out = Head { method, target, host: None, authorization: None };
    for line in &lines[1..] {
        let colon = line.iter().position(|&b| b == b':').ok_or(Reject::Malformed)?;
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err(Reject::Malformed);
        }
        if !value.iter().all(|&b| b == b'\t' || (b' '..=b'~').contains(&b)) {
            return Err(Reject::Malformed);
        }
        let value = value.trim_ascii();
        if name.eq_ignore_ascii_case(b"host") {
            let v = std::str::from_utf8(value).map_err(|_| Reject::Malformed)?;
            if out.host.replace(v).is_some() {
                return Err(Reject::Malformed);
            }
        } else if name.eq_ignore_ascii_case(b"authorization") {
            if out.authorization.replace(value).is_some() {
                return Err(Reject::Malformed);
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding")
            || (name.eq_ignore_ascii_case(b"content-length") && value != b"0")
        {
            return Err(Reject::Malformed);
        }
    }
    Ok(out)
}

/// `METHOD SP TARGET SP HTTP/1.x`, with an origin-form target (`/path`).
fn request_line(line: &[u8]) -> Result<(&str, &str), Reject> {
    let line = std::str::from_utf8(line).map_err(|_| Reject::Malformed)?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Reject::Malformed);
    };
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(Reject::Malformed);
    }
    if !target.starts_with('/') || !target.bytes().all(|b| (b'!'..=b'~').contains(&b)) {
        return Err(Reject::Malformed);
    }
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(Reject::Malformed);
    }
    Ok((method, target))
}

/// RFC 9110's `tchar`: what a method or a header name is made of.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The guards, in an order that tells an unauthenticated client nothing about the path.
pub fn check(head: &Head<'_>, port: u16, token: &Secret) -> Result<(), Reject> {
    if head.method != "GET" {
        return Err(Reject::Method);
    }
    let host_ok = head.host.is_some_and(|h| {
        let Some((name, p)) = h.rsplit_once(':') else { return false };
        p == port.to_string() && (name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost"))
    });
    if !host_ok {
        return Err(Reject::Host);
    }
    let Some(auth) = head.authorization else {
        return Err(Reject::NoToken);
    };
    // Constant time over the token's length: the length itself is public (64 hex digits).
    if aws_lc_rs::constant_time::verify_slices_are_equal(auth, token.expose().as_bytes()).is_err() {
        return Err(Reject::WrongToken);
    }
    if head.target != PATH {
        return Err(Reject::Path);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn verdict(raw: &str, port: u16) -> Result<(), Reject> {
        let head = parse(raw.as_bytes())?;
        check(&head, port, &Secret::new(TOKEN))
    }

    fn get(host: &str, auth: Option<&str>) -> String {
        let auth = auth.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
        format!("GET /credentials HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n{auth}\r\n")
    }

    #[test]
    fn the_sdks_request_passes() {
        assert_eq!(verdict(&get("127.0.0.1:4242", Some(TOKEN)), 4242), Ok(()));
        assert_eq!(verdict(&get("LocalHost:4242", Some(TOKEN)), 4242), Ok(()));
        let raw = get("127.0.0.1:1", Some(TOKEN));
        let head = parse(raw.as_bytes()).unwrap();
        assert_eq!(head.method, "GET");
        assert_eq!(head.target, "/credentials");
        assert_eq!(head.host, Some("127.0.0.1:1"));
        assert!(!format!("{head:?}").contains(TOKEN), "Debug redacts the token");
    }

    #[test]
    fn each_guard_refuses_with_its_status() {
        assert_eq!(verdict(&get("127.0.0.1:4242", None), 4242), Err(Reject::NoToken));
        assert_eq!(verdict(&get("127.0.0.1:4242", Some(&TOKEN[1..])), 4242), Err(Reject::WrongToken));
        let wrong = format!("{}0", &TOKEN[..63]);
        assert_eq!(verdict(&get("127.0.0.1:4242", Some(&wrong)), 4242), Err(Reject::WrongToken));
        for host in [
            "evil.example:4242",
            "127.0.0.1:4243",
            "127.0.0.1",
            "localhost.evil:4242",
            "[::1]:4242",
            "127.0.0.1:+4242",
        ] {
            assert_eq!(verdict(&get(host, Some(TOKEN)), 4242), Err(Reject::Host), "{host}");
        }
        let no_host = format!("GET /credentials HTTP/1.1\r\nAuthorization: {TOKEN}\r\n\r\n");
        assert_eq!(verdict(&no_host, 4242), Err(Reject::Host));
        let post = get("127.0.0.1:4242", Some(TOKEN)).replacen("GET", "POST", 1);
        assert_eq!(verdict(&post, 4242), Err(Reject::Method));
        let other = get("127.0.0.1:4242", Some(TOKEN)).replacen("/credentials", "/credentials/", 1);
        assert_eq!(verdict(&other, 4242), Err(Reject::Path));
        // Without the token the path is not judged: a wrong path says nothing until then.
        let other = get("127.0.0.1:4242", None).replacen("/credentials", "/x", 1);
        assert_eq!(verdict(&other, 4242), Err(Reject::NoToken));
        assert_eq!(Reject::Host.status(), 403);
        assert_eq!(Reject::NoToken.status(), 401);
    }

    #[test]
    fn malformed_heads_are_refused() {
        let ok = get("127.0.0.1:1", Some(TOKEN));
        let cases = [
            ok.replace("\r\n", "\n"),
            ok.replacen("HTTP/1.1", "HTTP/2", 1),
            ok.replacen("GET /", "GET  /", 1),
            ok.replacen("/credentials", "http://x/credentials", 1),
            ok.replacen("Host:", "Host :", 1),
            ok.replacen("Accept-Encoding: identity", " folded", 1),
            ok.replacen("Accept-Encoding: identity", "Host: 127.0.0.1:1", 1),
            ok.replacen("Accept-Encoding: identity", &format!("Authorization: {TOKEN}"), 1),
            ok.replacen("Accept-Encoding: identity", "Content-Length: 5", 1),
            ok.replacen("Accept-Encoding: identity", "Transfer-Encoding: chunked", 1),
            ok.replacen("identity", "iden\u{7f}tity", 1),
            ok.trim_end().to_string(),
            String::new(),
        ];
        for c in cases {
            assert_eq!(parse(c.as_bytes()).map(|_| ()), Err(Reject::Malformed), "{c:?}");
        }
        assert!(parse(ok.replacen("identity", "identity\r\nContent-Length: 0", 1).as_bytes()).is_ok());
        let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(parse(huge.as_bytes()), Err(Reject::TooLarge));
    }

    #[test]
    fn the_head_ends_at_the_blank_line() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nbody"), Some(27));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: a\r\n"), None);
    }
}
