//! A small fault-injecting HTTP proxy in front of moto, for what moto cannot do: 5xx, throttling,
//! stalls, ExpiredToken, a skewed `Date` header. It records every request so tests can count STS
//! calls and look at their parameters. One request per connection (`Connection: close`).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub enum Fault {
    /// Forward to moto unchanged.
    Pass,
    /// Answer with this status and an STS error body (code, message) without asking moto.
    Error(u16, &'static str, &'static str),
    /// Accept the request and say nothing for this long, then close.
    Stall(Duration),
    /// Forward, but shift the response's `Date` header by this many seconds.
    SkewDate(i64),
    /// Wait this long, then forward: a slow but successful call.
    Delay(Duration),
    /// Close the connection as soon as the request is read: a reset.
    Reset,
    /// Answer 200 with a body that is not STS XML.
    Garbage,
    /// Pick one of the above at random for each request (the soak's mix).
    Chaos,
}

/// The soak's mix: half the calls pass, the rest are every fault a real network and STS produce.
fn chaos() -> Fault {
    match fastrand::u8(..12) {
        0..=5 => Fault::Pass,
        6 => Fault::Error(503, "ServiceUnavailable", "try later"),
        7 => Fault::Error(400, "Throttling", "Rate exceeded"),
        8 => Fault::Stall(Duration::from_secs(3)),
        9 => Fault::Reset,
        10 => Fault::Garbage,
        _ => Fault::Error(400, "ExpiredToken", "The security token included in the request is expired"),
    }
}

#[derive(Clone, Debug)]
pub struct Recorded {
    pub body: String,
    /// The access key ID the request was signed with (SigV4's `Credential=`), when signed.
    pub key_id: Option<String>,
}

#[derive(Clone)]
pub struct Proxy {
    pub port: u16,
    faults: Arc<Mutex<VecDeque<Fault>>>,
    default: Arc<Mutex<Fault>>,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Proxy {
    pub fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let proxy = Proxy {
            port: listener.local_addr().unwrap().port(),
            faults: Default::default(),
            default: Arc::new(Mutex::new(Fault::Pass)),
            requests: Default::default(),
        };
        let p = proxy.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let p = p.clone();
                std::thread::spawn(move || {
                    let _ = p.handle(conn, upstream);
                });
            }
        });
        proxy
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Faults for the next requests, in order; after them, `set_default` applies.
    pub fn push(&self, faults: &[Fault]) {
        self.faults.lock().unwrap().extend(faults.iter().cloned());
    }

    pub fn set_default(&self, f: Fault) {
        *self.default.lock().unwrap() = f;
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    fn handle(&self, conn: TcpStream, upstream: u16) -> std::io::Result<()> {
        let mut reader = BufReader::new(conn.try_clone()?);
        let mut head = Vec::new();
        let mut content_length = 0;
        let mut key_id = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                content_length = v.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("authorization:") {
                key_id =
                    line.split("Credential=").nth(1).and_then(|c| c.split('/').next()).map(str::to_string);
            }
            if lower.starts_with("connection:") {
                continue;
            }
            if line == "\r\n" {
                break;
            }
            head.push(line);
        }
        let mut body = vec![0; content_length];
        reader.read_exact(&mut body)?;
        let body_text = String::from_utf8_lossy(&body).to_string();
        self.requests.lock().unwrap().push(Recorded { body: body_text, key_id });
        let mut fault =
            self.faults.lock().unwrap().pop_front().unwrap_or_else(|| self.default.lock().unwrap().clone());
        if let Fault::Chaos = fault {
            fault = chaos();
        }
        let mut out = conn;
        match fault {
            Fault::Chaos => unreachable!("resolved above"),
            Fault::Reset => out.shutdown(std::net::Shutdown::Both),
            Fault::Garbage => {
                let body = "<html><body>Gateway says hello</body></html>\0\u{1}garbage";
                write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            }
            Fault::Stall(d) => {
                std::thread::sleep(d);
                Ok(())
            }
            Fault::Error(status, code, message) => {
                let body = format!(
                    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>credd-test</RequestId></ErrorResponse>"
                );
                write!(
                    out,
                    "HTTP/1.1 {status} Error\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            }
            Fault::Pass | Fault::SkewDate(_) | Fault::Delay(_) => {
                if let Fault::Delay(d) = fault {
                    std::thread::sleep(d);
                }
                let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
                for line in &head {
                    up.write_all(line.as_bytes())?;
                }
                up.write_all(b"Connection: close\r\n\r\n")?;
                up.write_all(&body)?;
                let mut resp = Vec::new();
                up.read_to_end(&mut resp)?;
                if let Fault::SkewDate(secs) = fault {
                    resp = skew_date(&resp, secs);
                }
                out.write_all(&resp)
            }
        }
    }
}

fn skew_date(resp: &[u8], secs: i64) -> Vec<u8> {
    let text = String::from_utf8_lossy(resp);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return resp.to_vec();
    };
    let date = (chrono::Utc::now() + chrono::Duration::seconds(secs)).format("%a, %d %b %Y %H:%M:%S GMT");
    let mut lines: Vec<String> =
        head.lines().filter(|l| !l.to_ascii_lowercase().starts_with("date:")).map(str::to_string).collect();
    lines.push(format!("Date: {date}"));
    format!("{}\r\n\r\n{body}", lines.join("\r\n")).into_bytes()
}
