//! `credd status`: ask the daemon, and show the answer as a table for people, a one-liner for
//! shell prompts or JSON for scripts, with an exit code that says whether anything needs
//! attention. The daemon renders the prompt line and the JSON document itself (`ipc::prompt`,
//! `ipc::document`), so those cost the same with 5,000 sessions as with 5; the table is drawn
//! here, and so are the other two for a daemon that predates that. The printers are pure
//! functions over the status reply.

use chrono::{DateTime, Utc};

use super::{Failure, Invocation, StatusFormat, ask, unexpected};
use crate::ipc::client::ClientError;
use crate::ipc::prompt::{prompt, short_duration};
use crate::protocol::{Reply, Request, State, Status, StatusForm};

pub(super) fn status(inv: &Invocation, format: StatusFormat) -> Result<(), Failure> {
    let form = match format {
        StatusFormat::Json => return status_json(inv),
        StatusFormat::Prompt => Some(StatusForm::Prompt),
        StatusFormat::Table => None,
    };
    let frame = match ask(inv, Request::Status { form }) {
        Ok(f) => f,
        // A prompt must stay quiet when there is no daemon; the exit code still says so.
        Err(ClientError::NoDaemon { .. }) if format == StatusFormat::Prompt => {
            return Err(Failure::NoDaemon(None));
        }
        Err(e) => return Err(e.into()),
    };
    let now = Utc::now();
    let attention = match (&frame.reply, format) {
        (Reply::StatusPrompt { line, attention }, _) => {
            print_prompt(line);
            *attention
        }
        // A daemon that predates the prompt form sends the whole status.
        (Reply::Status(st), StatusFormat::Prompt) => {
            print_prompt(&prompt(st, now));
            st.needs_attention()
        }
        (Reply::Status(st), _) => {
            use std::io::IsTerminal;
            let color =
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            print!("{}", table(st, now, color));
            st.needs_attention()
        }
        _ => return Err(unexpected(frame.reply)),
    };
    if attention { Err(Failure::Failed(None)) } else { Ok(()) }
}

fn print_prompt(line: &str) {
    if !line.is_empty() {
        println!("{line}");
    }
}

/// `--json`: the daemon renders the status frame for printing, and the client copies it out as
/// it arrives. With thousands of sessions, parsing the reply into types and printing it again was
/// most of the command's time. A daemon that predates that gets the old treatment: its one-line
/// frame, indented here.
fn status_json(inv: &Invocation) -> Result<(), Failure> {
    use crate::ipc::client::{StatusDocument, status_document};
    use std::io::Write;
    let socket = super::socket(inv);
    let timeout = std::time::Duration::from_secs(10);
    let mut stdout = std::io::stdout().lock();
    let attention = match status_document(&socket, timeout)? {
        StatusDocument::Follows { rest, attention } => {
            copy_document(rest, &mut stdout, &socket)?;
            attention
        }
        StatusDocument::Line(raw) if raw.kind.as_deref() == Some("status") => {
            let status: Status = serde_json::from_slice(&raw.bytes).map_err(anyhow::Error::from)?;
            let mut document = pretty_json(&raw.bytes);
            document.push(b'\n');
            stdout.write_all(&document).map_err(anyhow::Error::from)?;
            status.needs_attention()
        }
        StatusDocument::Line(raw) => {
            let frame: crate::protocol::ReplyFrame =
                serde_json::from_slice(&raw.bytes).map_err(anyhow::Error::from)?;
            return Err(unexpected(frame.reply));
        }
    };
    stdout.flush().map_err(anyhow::Error::from)?;
    if attention { Err(Failure::Failed(None)) } else { Ok(()) }
}

/// Copies the document to `out` as it arrives, and fails if the daemon ended it early (it died
/// mid-reply): the output then is not a whole document, and the exit code must say so.
fn copy_document(
    mut rest: impl std::io::BufRead,
    out: &mut impl std::io::Write,
    socket: &std::path::Path,
) -> Result<(), Failure> {
    let daemon = |e: std::io::Error| ClientError::Io { socket: socket.to_path_buf(), message: e.to_string() };
    let mut end = Vec::with_capacity(8);
    loop {
        let piece = rest.fill_buf().map_err(daemon)?;
        if piece.is_empty() {
            break;
        }
        out.write_all(piece).map_err(anyhow::Error::from)?;
        end.extend_from_slice(&piece[piece.len().saturating_sub(3)..]);
        end.drain(..end.len().saturating_sub(3));
        let n = piece.len();
        rest.consume(n);
    }
    if crate::ipc::document::is_complete(&end) {
        Ok(())
    } else {
        Err(daemon(std::io::Error::other("the daemon's reply ended before the document did")).into())
    }
}

/// Indents compact JSON exactly as `serde_json::to_string_pretty` would (two spaces, `": "`,
/// `[]` and `{}` kept empty), without parsing it into values first.
fn pretty_json(compact: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        out.extend(std::iter::repeat_n(b' ', depth * 2));
    };
    let mut i = 0;
    while i < compact.len() {
        if in_string && !escaped {
            // Copy the plain run up to the next quote or backslash at once: most of a status
            // reply is the inside of strings.
            let run = compact[i..].iter().position(|&c| c == b'"' || c == b'\\').unwrap_or(compact.len() - i);
            out.extend_from_slice(&compact[i..i + run]);
            i += run;
            if i == compact.len() {
                break;
            }
        }
        let b = compact[i];
        i += 1;
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, _) => in_string = false, // the closing quote
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                out.push(b);
            }
            b'{' | b'[' => {
                out.push(b);
                let close = if b == b'{' { b'}' } else { b']' };
                if compact.get(i) == Some(&close) {
                    out.push(close);
                    i += 1;
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(b);
            }
            b',' => {
                out.push(b);
                newline(&mut out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => out.push(b),
        }
    }
    out
}

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, state: State, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match state {
            State::Fresh => "32",
            State::Expiring | State::Refreshing | State::Unknown => "33",
            State::NeedsMfa | State::NeedsLogin | State::Failing | State::Expired => "31",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

/// The human table. `color` only on a TTY and without NO_COLOR (the caller decides).
pub fn table(status: &Status, now: DateTime<Utc>, color: bool) -> String {
    let style = Style { color };
    let header = ["NAME", "ORIGIN", "STATE", "EXPIRES IN", "NEXT REFRESH", "IDENTITY / LAST ERROR"];
    let rows: Vec<[String; 6]> = status
        .sessions
        .iter()
        .map(|s| {
            let expires =
                s.expires_at.map(|e| if e <= now { "expired".into() } else { short_duration(now, e) });
            let next = match (s.managed, s.next_refresh_at) {
                _ if s.state == State::NeedsLogin => "needs login".to_string(),
                (false, _) => "watch-only".to_string(),
                (true, Some(t)) => short_duration(now, t),
                (true, None) if s.state == State::NeedsMfa => "needs code".into(),
                (true, None) if s.state == State::Refreshing => "now".into(),
                (true, None) => "on change".into(),
            };
            let detail = match &s.last_error {
                Some(e) => {
                    let what =
                        e.code.clone().or(e.finding.map(|f| f.to_string())).unwrap_or_else(|| "error".into());
                    match &e.fix {
                        Some(fix) if fix.starts_with("credd ") => format!("{what}: run `{fix}`"),
                        _ => format!("{what}: {}", e.message),
                    }
                }
                None => s.identity.clone().unwrap_or_else(|| "-".into()),
            };
            [
                s.name.clone(),
                s.origin.as_str().to_string(),
                s.state.as_str().to_string(),
                expires.unwrap_or_else(|| "-".into()),
                next,
                detail,
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: [&str; 6], state: Option<State>| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            let padded = if i == 5 { c.to_string() } else { format!("{c:<w$}  ", w = widths[i]) };
            match (i, state) {
                (2, Some(st)) => l.push_str(&style.paint(st, &padded)),
                _ => l.push_str(&padded),
            }
        }
        l.trim_end().to_string()
    };
    out.push_str(&line(header, None));
    out.push('\n');
    for (r, s) in rows.iter().zip(&status.sessions) {
        out.push_str(&line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]], Some(s.state)));
        out.push('\n');
    }
    for s in &status.sessions {
        if let Some(note) = &s.note {
            out.push_str(&format!("{}: {note}\n", s.name));
        }
    }
    if rows.is_empty() {
        out.push_str(
            "(no sessions: credd tracks profiles with session tokens and the [[session]]s in its config)\n",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_is_indented_exactly_as_serde_json_would() {
        let value = serde_json::json!({
            "a": [], "b": {}, "c": [1, {"d": null, "e": [true, false]}, [[]], [{}]],
            "tricky": "braces { } [ ] , : and \\\" quotes \\ \n\t é ☃",
            "n": -1.5e-7, "nested": {"x": {"y": {"z": "\\"}}}, "empty": ""
        });
        let compact = serde_json::to_vec(&value).unwrap();
        let want = serde_json::to_string_pretty(&value).unwrap();
        assert_eq!(String::from_utf8(pretty_json(&compact)).unwrap(), want);
        for v in [serde_json::json!([]), serde_json::json!({}), serde_json::json!("x"), serde_json::json!(3)]
        {
            let compact = serde_json::to_vec(&v).unwrap();
            assert_eq!(
                String::from_utf8(pretty_json(&compact)).unwrap(),
                serde_json::to_string_pretty(&v).unwrap()
            );
        }
    }

    use super::*;
    use crate::protocol::SessionStatus;
    use chrono::TimeZone;

    fn s(name: &str, state: State, managed: bool, expires_in: i64) -> SessionStatus {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
        SessionStatus {
            name: name.into(),
            origin: crate::protocol::Origin::CredentialsFile,
            profile: name.into(),
            managed,
            method: managed.then_some(crate::config::Method::AssumeRole),
            state,
            expires_at: Some(now + chrono::Duration::seconds(expires_in)),
            next_refresh_at: None,
            last_refresh_at: None,
            identity: None,
            last_error: None,
            refreshable_until: None,
            note: None,
        }
    }

    fn status(sessions: Vec<SessionStatus>) -> Status {
        Status { started_at: Utc::now(), config_path: "c".into(), files: vec![], sessions }
    }

    #[test]
    fn a_document_is_copied_whole_and_one_cut_short_is_an_error() {
        let doc = b"{\n  \"sessions\": [\n    {\n      \"name\": \"a\"\n    }\n  ]\n}\n";
        let sock = std::path::Path::new("/run/s.sock");
        // A reader that hands the bytes over in small pieces, as a socket does.
        let pieces = |b: &[u8]| std::io::BufReader::with_capacity(5, std::io::Cursor::new(b.to_vec()));
        let mut out = Vec::new();
        assert!(copy_document(pieces(doc), &mut out, sock).is_ok());
        assert_eq!(out, doc);
        for cut in [0, 1, doc.len() - 1, doc.len() - 2] {
            let mut out = Vec::new();
            assert!(copy_document(pieces(&doc[..cut]), &mut out, sock).is_err(), "cut at {cut}");
            assert_eq!(out, &doc[..cut]);
        }
    }

    #[test]
    fn table_has_the_columns_and_no_color_when_asked() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
        let t = table(&status(vec![s("dev", State::Fresh, true, 3600)]), now, false);
        assert!(
            t.starts_with("NAME  ORIGIN            STATE  EXPIRES IN  NEXT REFRESH  IDENTITY / LAST ERROR"),
            "{t}"
        );
        assert!(!t.contains('\x1b'));
        assert!(table(&status(vec![s("dev", State::Fresh, true, 3600)]), now, true).contains("\x1b[32m"));
    }
}
