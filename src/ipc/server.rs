//! The daemon's side of the control socket.
//!
//! The socket lives in a 0700 directory owned by the user and is itself 0600; on top of that
//! every connection's peer uid is checked (SO_PEERCRED / getpeereid) and any other user is
//! refused. Each connection gets its own task with a read timeout and a request size cap, so a
//! client that sends nothing, sends garbage, or streams megabytes without a newline is answered
//! with an error or dropped, and never delays anyone else or grows the daemon's memory.
//!
//! Requests are handed to the daemon's loop as [`Control`] messages (`crate::inbox`); this file
//! never touches the engine.

use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use super::document;
use crate::inbox::Control;
use crate::protocol::{
    ErrorCode, MAX_REQUEST, PROTOCOL, Reply, ReplyFrame, Request, RequestFrame, Status, StatusForm,
};
use crate::secret::Secret;

/// How long a client has to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request may wait for the daemon (a refresh waits for STS and maybe mfa_command).
const REPLY_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("a credd daemon already answers on {0}; it was left alone")]
    AlreadyServed(PathBuf),
    #[error("{path} exists and is not a socket; move it away or choose another --socket")]
    NotASocket { path: PathBuf },
    #[error("cannot create the control socket {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// Binds the control socket at `path`, removing a stale socket only if no daemon answers on it.
pub fn bind(path: &Path) -> Result<UnixListener, BindError> {
    let io_err = |source| BindError::Io { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent() {
        crate::paths::ensure_private_dir(dir).map_err(io_err)?;
    }
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(BindError::NotASocket { path: path.to_path_buf() });
        }
        match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => return Err(BindError::AlreadyServed(path.to_path_buf())),
            Err(_) => {
                tracing::info!(
                    "removing a stale control socket left by a daemon that is gone: {}",
                    path.display()
                );
                std::fs::remove_file(path).map_err(io_err)?;
            }
        }
    }
    let listener = UnixListener::bind(path).map_err(io_err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io_err)?;
    Ok(listener)
}

/// Accepts connections until the listener fails; each one is served in its own task.
pub async fn serve(listener: UnixListener, control: mpsc::Sender<Control>) {
    let owner = crate::sys::uid();
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let control = control.clone();
                tokio::spawn(async move {
                    if let Err(e) = handle(stream, owner, control).await {
                        tracing::debug!(error = %e, "control connection ended");
                    }
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept failed on the control socket");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// One request line, checked: the version before the shape (so an old or new client hears the
/// real problem), then the shape, then the values. Pure, so the fuzzer can drive it.
pub fn decode(line: &[u8]) -> Result<Request, (ErrorCode, String)> {
    let value: serde_json::Value = serde_json::from_slice(line)
        .map_err(|e| (ErrorCode::BadRequest, format!("not a JSON request: {e}")))?;
    match value.get("protocol").and_then(|p| p.as_u64()) {
        Some(p) if p == u64::from(PROTOCOL) => {}
        other => {
            return Err((
                ErrorCode::ProtocolMismatch,
                format!(
                    "this daemon (credd {}) speaks protocol {PROTOCOL}, the client sent {}; use matching versions, or restart the daemon after upgrading",
                    env!("CARGO_PKG_VERSION"),
                    other.map(|p| p.to_string()).unwrap_or_else(|| "none".into())
                ),
            ));
        }
    }
    let frame: RequestFrame = serde_json::from_value(value)
        .map_err(|e| (ErrorCode::BadRequest, format!("unknown request: {e}")))?;
    if let Request::Mfa { code, .. } = &frame.request
        && !crate::refresh::mfa::is_code(code)
    {
        return Err((ErrorCode::BadRequest, "an MFA code is six digits".into()));
    }
    Ok(frame.request)
}

fn frame(reply: Reply) -> Vec<u8> {
    let f = ReplyFrame {
        protocol: PROTOCOL,
        version: env!("CARGO_PKG_VERSION").into(),
        pid: std::process::id(),
        reply,
    };
    let mut out = serde_json::to_vec(&f).expect("replies serialize");
    out.push(b'\n');
    out
}

fn error(code: ErrorCode, message: impl Into<String>) -> Reply {
    Reply::Error { code, message: message.into() }
}

async fn handle(mut stream: UnixStream, owner: u32, control: mpsc::Sender<Control>) -> io::Result<()> {
    let peer = stream.peer_cred()?.uid();
    if peer != owner {
        tracing::warn!(
            "refused a control connection from uid {peer}: only uid {owner} may talk to this daemon"
        );
        return Ok(());
    }
    let (read, mut write) = stream.split();
    let mut line = Vec::new();
    let mut reader = BufReader::new(read).take(MAX_REQUEST as u64 + 1);
    let request = match tokio::time::timeout(READ_TIMEOUT, reader.read_until(b'\n', &mut line)).await {
        Err(_) => Err((ErrorCode::Timeout, format!("no request within {}s", READ_TIMEOUT.as_secs()))),
        Ok(Err(e)) => return Err(e),
        Ok(Ok(_)) if line.len() > MAX_REQUEST => {
            Err((ErrorCode::TooLarge, format!("requests are at most {MAX_REQUEST} bytes")))
        }
        Ok(Ok(0)) => return Ok(()),
        Ok(Ok(_)) => decode(&line),
    };
    let reply = match request {
        Err((code, message)) => error(code, message),
        Ok(request @ Request::Status { form: Some(form) }) => match (dispatch(request, &control).await, form)
        {
            (Reply::Status(status), StatusForm::Document) => {
                send_document(&mut write, &status).await?;
                return write.shutdown().await;
            }
            (Reply::Status(status), StatusForm::Prompt) => Reply::StatusPrompt {
                line: super::prompt::prompt(&status, chrono::Utc::now()),
                attention: status.needs_attention(),
            },
            (other, _) => other,
        },
        Ok(request) => dispatch(request, &control).await,
    };
    write.write_all(&frame(reply)).await?;
    // What a reply allocated goes back to the allocator, not to the system: the next status
    // reuses it. The daemon's loop hands free pages back after any turn that changed
    // something, and a little after the last status (`daemon::STATUS_TRIM`).
    write.shutdown().await
}

/// The answer to `status` with `form: document`: a `status-document` line, then the status
/// frame as the client prints it, written a piece at a time as it is rendered. The pieces are
/// reused, so the reply costs the same small buffer for 50 sessions or 5,000, and the client
/// reads one piece while the next is rendered.
async fn send_document(write: &mut (impl AsyncWriteExt + Unpin), status: &Status) -> io::Result<()> {
    const PIECE: usize = 64 * 1024;
    let mut piece = frame(Reply::StatusDocument { attention: status.needs_attention() });
    piece.reserve(PIECE);
    document::head(&mut piece, env!("CARGO_PKG_VERSION"), std::process::id(), status);
    for (i, s) in status.sessions.iter().enumerate() {
        document::session(&mut piece, s, i == 0);
        if piece.len() >= PIECE {
            write.write_all(&piece).await?;
            piece.clear();
        }
    }
    document::tail(&mut piece, status.sessions.is_empty());
    write.write_all(&piece).await
}

async fn dispatch(request: Request, control: &mpsc::Sender<Control>) -> Reply {
    let (tx, rx) = oneshot::channel();
    let msg = match request {
        Request::Status { .. } => Control::Status(tx),
        Request::Refresh { name } => Control::Refresh { name, reply: tx },
        Request::Mfa { name, code } => Control::Mfa { name, code: Secret::new(code), reply: tx },
        Request::Reload => Control::Reload(tx),
        Request::Export { name, min_ttl } => {
            Control::Export { name, min_ttl: min_ttl.map(Duration::from_secs), reply: tx }
        }
        Request::RegisterShell(s) => Control::RegisterShell(s, tx),
    };
    if control.send(msg).await.is_err() {
        return error(ErrorCode::ShuttingDown, "the daemon is shutting down");
    }
    match tokio::time::timeout(REPLY_TIMEOUT, rx).await {
        Ok(Ok(reply)) => reply,
        Ok(Err(_)) => error(ErrorCode::ShuttingDown, "the daemon stopped before answering"),
        Err(_) => error(ErrorCode::Timeout, "the daemon did not finish in time"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{SessionStatus, State};

    fn session(name: &str, state: State) -> SessionStatus {
        let mut s = crate::protocol::tests::plain(name);
        s.state = state;
        s.identity = Some("quote \" and\nnewline".into());
        s
    }

    #[tokio::test]
    async fn a_status_document_is_a_header_line_then_the_frame_indented() {
        let status = |states: &[State]| Status {
            started_at: chrono::DateTime::UNIX_EPOCH,
            config_path: "/c".into(),
            files: vec!["/f".into()],
            sessions: states.iter().enumerate().map(|(i, s)| session(&format!("s{i}"), *s)).collect(),
        };
        // 2,000 sessions: several pieces.
        let many = vec![State::Fresh; 2000];
        for (states, attention) in
            [(vec![], false), (vec![State::Fresh, State::Expired], true), (many, false)]
        {
            let mut sent = Vec::new();
            send_document(&mut sent, &status(&states)).await.unwrap();
            let newline = sent.iter().position(|&b| b == b'\n').unwrap();
            let (header, document) = sent.split_at(newline + 1);
            let h: serde_json::Value = serde_json::from_slice(header).unwrap();
            assert_eq!(h["reply"], "status-document");
            assert_eq!(h["protocol"], PROTOCOL);
            assert_eq!(h["attention"], attention);
            let want = ReplyFrame {
                protocol: PROTOCOL,
                version: env!("CARGO_PKG_VERSION").into(),
                pid: std::process::id(),
                reply: Reply::Status(status(&states)),
            };
            assert_eq!(
                String::from_utf8(document.to_vec()).unwrap(),
                serde_json::to_string_pretty(&want).unwrap() + "\n"
            );
        }
    }
}
