//! The client side of the control socket, for `credd status`, `refresh`, `mfa` and `reload`.
//! Plain blocking I/O: one request, one reply, no runtime to start, so `credd status` costs a few
//! milliseconds.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::protocol::{PROTOCOL, Reply, ReplyFrame, Request, RequestFrame, Status};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "no credd daemon is running (nothing answers on {}). Start one with `credd daemon`, \
         `systemctl --user start credd`, or `launchctl kickstart gui/$(id -u)/{}`",
        .socket.display(), crate::paths::LAUNCHD_LABEL
    )]
    NoDaemon { socket: PathBuf },
    #[error(
        "the daemon (credd {version}) speaks protocol {theirs}, this credd speaks {ours}; restart the daemon after upgrading"
    )]
    Protocol { ours: u32, theirs: u32, version: String },
    #[error("talking to the daemon on {socket}: {message}", socket = .socket.display())]
    Io { socket: PathBuf, message: String },
}

/// Replies are not capped like requests (status with many sessions is large), but not unbounded.
const MAX_REPLY: u64 = 16 * 1024 * 1024;

pub fn request(socket: &Path, request: Request, timeout: Duration) -> Result<ReplyFrame, ClientError> {
    let (_, raw) = exchange(socket, request, timeout)?;
    let bad = |e: serde_json::Error| ClientError::Io { socket: socket.to_path_buf(), message: e.to_string() };
    // `Reply` is tagged inside the frame, which makes serde buffer the whole reply before it can
    // pick a variant. A status (the one large reply) is read straight into its type instead:
    // with 5,000 sessions that is most of `credd status`'s time.
    let frame = if raw.kind.as_deref() == Some("status") {
        let status: Status = serde_json::from_slice(&raw.bytes).map_err(bad)?;
        ReplyFrame { protocol: PROTOCOL, version: raw.version, pid: raw.pid, reply: Reply::Status(status) }
    } else {
        serde_json::from_slice(&raw.bytes).map_err(bad)?
    };
    if let Reply::Error { code: crate::protocol::ErrorCode::ProtocolMismatch, .. } = &frame.reply {
        return Err(ClientError::Protocol { ours: PROTOCOL, theirs: PROTOCOL, version: frame.version });
    }
    Ok(frame)
}

/// A reply as the daemon sent it (compact JSON, one line), its version checked.
pub struct RawReply {
    /// The reply's `reply` tag, such as `status`.
    pub kind: Option<String>,
    pub version: String,
    pub pid: u32,
    /// The whole frame, without its newline.
    pub bytes: Vec<u8>,
}

/// What `status` with `form: document` brings back.
pub enum StatusDocument {
    /// The status frame as the daemon rendered it for printing follows on `rest`, to its end;
    /// `attention` is whether anything needs the user.
    Follows { rest: BufReader<UnixStream>, attention: bool },
    /// A daemon that predates `form` sent the one-line frame (or an error) instead.
    Line(RawReply),
}

/// Asks for the status as a document ready to print (see `Request::Status`).
pub fn status_document(socket: &Path, timeout: Duration) -> Result<StatusDocument, ClientError> {
    let (rest, raw) =
        exchange(socket, Request::Status { form: Some(crate::protocol::StatusForm::Document) }, timeout)?;
    if raw.kind.as_deref() != Some("status-document") {
        return Ok(StatusDocument::Line(raw));
    }
    #[derive(serde::Deserialize)]
    struct Header {
        attention: bool,
    }
    let header: Header = serde_json::from_slice(&raw.bytes)
        .map_err(|e| ClientError::Io { socket: socket.to_path_buf(), message: e.to_string() })?;
    Ok(StatusDocument::Follows { rest, attention: header.attention })
}

/// Sends `request`, reads the reply's first line unparsed and checks its protocol. The reader is
/// returned for a reply that goes on past that line.
fn exchange(
    socket: &Path,
    request: Request,
    timeout: Duration,
) -> Result<(BufReader<UnixStream>, RawReply), ClientError> {
    let io = |e: std::io::Error| ClientError::Io { socket: socket.to_path_buf(), message: e.to_string() };
    let mut stream = match UnixStream::connect(socket) {
        Ok(s) => s,
        Err(e)
            if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused) =>
        {
            return Err(ClientError::NoDaemon { socket: socket.to_path_buf() });
        }
        Err(e) => return Err(io(e)),
    };
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let mut line = serde_json::to_vec(&RequestFrame { protocol: PROTOCOL, request }).expect("serializes");
    line.push(b'\n');
    stream.write_all(&line).map_err(io)?;
    // Large enough that a status document streams in few reads.
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut reply = Vec::new();
    (&mut reader).take(MAX_REPLY).read_until(b'\n', &mut reply).map_err(io)?;
    if reply.is_empty() {
        return Err(ClientError::Io {
            socket: socket.to_path_buf(),
            message: "the daemon closed the connection without answering (is it yours?)".into(),
        });
    }
    if reply.last() == Some(&b'\n') {
        reply.pop();
    }
    // Check the version before reading the fields it governs. The probe skips everything else.
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(default)]
        protocol: u32,
        version: Option<String>,
        #[serde(default)]
        pid: u32,
        reply: Option<String>,
    }
    let probe: Probe = serde_json::from_slice(&reply).map_err(|e| io(std::io::Error::other(e)))?;
    let version = probe.version.unwrap_or_else(|| "?".into());
    if probe.protocol != PROTOCOL {
        return Err(ClientError::Protocol { ours: PROTOCOL, theirs: probe.protocol, version });
    }
    Ok((reader, RawReply { kind: probe.reply, version, pid: probe.pid, bytes: reply }))
}

use std::io::Read as _;
