//! The systemd notify protocol, by hand: one datagram to `$NOTIFY_SOCKET` per message. It is a
//! dozen lines, so no crate. Without `NOTIFY_SOCKET` (not under systemd) every call is a no-op.

use std::os::unix::net::UnixDatagram;

/// Where systemd listens, if it does.
#[derive(Debug, Clone)]
pub struct Notifier {
    addr: Option<String>,
}

impl Notifier {
    pub fn from_env() -> Notifier {
        Notifier { addr: std::env::var("NOTIFY_SOCKET").ok().filter(|a| !a.is_empty()) }
    }

    /// Sends `state` (e.g. `READY=1`, `STATUS=…`). Failures are logged at debug: systemd going
    /// away must never take credd down.
    pub fn send(&self, state: &str) {
        let Some(addr) = &self.addr else { return };
        let result = UnixDatagram::unbound().and_then(|sock| {
            if let Some(abstract_name) = addr.strip_prefix('@') {
                send_abstract(&sock, abstract_name, state)
            } else {
                sock.send_to(state.as_bytes(), addr).map(|_| ())
            }
        });
        if let Err(e) = result {
            tracing::debug!(error = %e, "could not notify systemd");
        }
    }
}

#[cfg(target_os = "linux")]
fn send_abstract(sock: &UnixDatagram, name: &str, state: &str) -> std::io::Result<()> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
    sock.send_to_addr(state.as_bytes(), &addr).map(|_| ())
}

#[cfg(not(target_os = "linux"))]
fn send_abstract(_: &UnixDatagram, _: &str, _: &str) -> std::io::Result<()> {
    Err(std::io::Error::other("abstract sockets exist only on Linux"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_datagrams_to_a_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let rx = UnixDatagram::bind(&path).unwrap();
        let n = Notifier { addr: Some(path.display().to_string()) };
        n.send("READY=1");
        let mut buf = [0u8; 64];
        let len = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"READY=1");
        Notifier { addr: None }.send("READY=1"); // a no-op, not an error
    }
}
