//! The status document `credd status --json` prints: the `status` reply frame, indented exactly as
//! `serde_json::to_string_pretty` writes it, rendered by the daemon a piece at a time while it
//! is sent.
//!
//! Why not `to_writer_pretty` on the frame: with 5,000 sessions the document is 1.7 MB, and
//! generic pretty-printing (thousands of tiny writes for keys and indentation) into one buffer
//! that size, page-faulted in afresh for every request, cost the daemon more than everything
//! else `status` does. Here serde still writes every value (strings, times, enums), so escaping
//! and formats cannot drift; only the layout is written by hand, and a test holds it to serde's.
//! Every struct is destructured in full, so a new field does not compile until it is rendered.

use serde::Serialize;

use crate::protocol::{LastError, PROTOCOL, SessionStatus, Status};

/// `,` then a new line at `depth` (two spaces each), the key and `": "`: one literal, so a
/// session's layout is a dozen copies of constants.
macro_rules! key {
    (1, $name:literal) => {
        concat!(",\n  \"", $name, "\": ").as_bytes()
    };
    (3, $name:literal) => {
        concat!(",\n      \"", $name, "\": ").as_bytes()
    };
    (4, $name:literal) => {
        concat!(",\n        \"", $name, "\": ").as_bytes()
    };
}

/// Everything before the first session: the frame's fields and the status's own.
pub fn head(out: &mut Vec<u8>, version: &str, pid: u32, status: &Status) {
    let Status { started_at, config_path, files, sessions: _ } = status;
    out.extend_from_slice(b"{\n  \"protocol\": ");
    out.extend_from_slice(PROTOCOL.to_string().as_bytes());
    field(out, key!(1, "version"), &version);
    field(out, key!(1, "pid"), &pid);
    field(out, key!(1, "reply"), &"status");
    field(out, key!(1, "started_at"), started_at);
    field(out, key!(1, "config_path"), config_path);
    out.extend_from_slice(key!(1, "files"));
    if files.is_empty() {
        out.extend_from_slice(b"[]");
    } else {
        out.push(b'[');
        for (i, f) in files.iter().enumerate() {
            out.extend_from_slice(if i == 0 { b"\n    " } else { b",\n    " });
            value(out, f);
        }
        out.extend_from_slice(b"\n  ]");
    }
    out.extend_from_slice(key!(1, "sessions"));
    out.push(b'[');
}

/// One session; `first` says whether a comma goes before it.
pub fn session(out: &mut Vec<u8>, s: &SessionStatus, first: bool) {
    let SessionStatus {
        name,
        origin,
        profile,
        managed,
        method,
        state,
        expires_at,
        next_refresh_at,
        last_refresh_at,
        identity,
        last_error,
        refreshable_until,
        note,
    } = s;
    out.extend_from_slice(if first { b"\n    {" } else { b",\n    {" });
    // The first field has no comma before it.
    out.extend_from_slice(b"\n      \"name\": ");
    value(out, name);
    field(out, key!(3, "origin"), origin);
    field(out, key!(3, "profile"), profile);
    field(out, key!(3, "managed"), managed);
    field(out, key!(3, "method"), method);
    field(out, key!(3, "state"), state);
    field(out, key!(3, "expires_at"), expires_at);
    field(out, key!(3, "next_refresh_at"), next_refresh_at);
    field(out, key!(3, "last_refresh_at"), last_refresh_at);
    field(out, key!(3, "identity"), identity);
    out.extend_from_slice(key!(3, "last_error"));
    match last_error {
        None => out.extend_from_slice(b"null"),
        Some(LastError { code, finding, message, fix }) => {
            out.extend_from_slice(b"{\n        \"code\": ");
            value(out, code);
            field(out, key!(4, "finding"), finding);
            field(out, key!(4, "message"), message);
            field(out, key!(4, "fix"), fix);
            out.extend_from_slice(b"\n      }");
        }
    }
    // Skipped when absent, as `SessionStatus` serializes it.
    if let Some(until) = refreshable_until {
        field(out, key!(3, "refreshable_until"), until);
    }
    if let Some(note) = note {
        field(out, key!(3, "note"), note);
    }
    out.extend_from_slice(b"\n    }");
}

/// The end of the document, with its final newline; `empty` when there was no session.
pub fn tail(out: &mut Vec<u8>, empty: bool) {
    out.extend_from_slice(if empty { b"]\n}\n" } else { b"\n  ]\n}\n" });
}

/// Whether `document` ends as a whole document does. In pretty JSON the only brace at the start
/// of a line is the outermost one (a newline inside a string is written `\n`), so a document
/// cut short anywhere before its end fails this.
pub fn is_complete(document_end: &[u8]) -> bool {
    document_end.ends_with(b"\n}\n")
}

fn field<T: Serialize + ?Sized>(out: &mut Vec<u8>, key: &[u8], v: &T) {
    out.extend_from_slice(key);
    value(out, v);
}

/// A leaf value. Serialized compactly, a string, number, time, enum or null is exactly what the
/// pretty printer writes.
fn value<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    serde_json::to_writer(out, v).expect("status values serialize");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Method;
    use crate::finding::Code;
    use crate::protocol::tests::plain;
    use crate::protocol::{Origin, Reply, ReplyFrame, State};
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    fn render(status: &Status) -> String {
        let mut out = Vec::new();
        head(&mut out, "0.1.0", 42, status);
        for (i, s) in status.sessions.iter().enumerate() {
            session(&mut out, s, i == 0);
        }
        tail(&mut out, status.sessions.is_empty());
        String::from_utf8(out).unwrap()
    }

    fn serde_pretty(status: &Status) -> String {
        let frame = ReplyFrame {
            protocol: PROTOCOL,
            version: "0.1.0".into(),
            pid: 42,
            reply: Reply::Status(status.clone()),
        };
        serde_json::to_string_pretty(&frame).unwrap() + "\n"
    }

    fn full() -> SessionStatus {
        let t = Utc.with_ymd_and_hms(2026, 11, 23, 20, 16, 1).unwrap();
        SessionStatus {
            name: "sso-session corp \"quoted\"".into(),
            origin: Origin::SsoCache,
            profile: "/home/a/.aws/sso/cache/ab\\cd.json".into(),
            managed: true,
            method: Some(Method::AssumeRole),
            state: State::NeedsLogin,
            expires_at: Some(t),
            next_refresh_at: Some(t + chrono::Duration::nanoseconds(887_575_459)),
            last_refresh_at: Some(t + chrono::Duration::milliseconds(120)),
            identity: Some("profiles a, b\n\tc \u{1} é ☃".into()),
            last_error: Some(LastError {
                code: Some("InvalidClientTokenId".into()),
                finding: Some(Code::KeyUnknown),
                message: "the key is unknown </script>".into(),
                fix: None,
            }),
            refreshable_until: Some(t),
            note: Some("takes its own MFA code \"at\" each refresh".into()),
        }
    }

    fn status(sessions: Vec<SessionStatus>, files: Vec<String>) -> Status {
        Status {
            started_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::nanoseconds(5),
            config_path: "/c/config.toml".into(),
            files,
            sessions,
        }
    }

    #[test]
    fn the_document_is_what_serde_json_pretty_prints() {
        let files = vec!["/a".to_string(), "/b \"x\"".to_string()];
        for st in [
            status(vec![], vec![]),
            status(vec![], files.clone()),
            status(vec![plain("dev")], vec![]),
            status(vec![plain("dev"), full(), plain("prod")], files.clone()),
        ] {
            let doc = render(&st);
            assert_eq!(doc, serde_pretty(&st));
            assert!(is_complete(doc.as_bytes()));
        }
    }

    #[test]
    fn a_document_cut_short_anywhere_is_not_complete() {
        let doc = render(&status(vec![plain("a}"), full(), plain("\n}\n")], vec!["/f".into()]));
        for cut in 0..doc.len() {
            assert!(!is_complete(&doc.as_bytes()[..cut]), "cut at {cut}");
        }
    }

    proptest! {
        #[test]
        fn any_strings_render_as_serde_renders_them(
            name in any::<String>(),
            identity in proptest::option::of(any::<String>()),
            message in any::<String>(),
            code in proptest::option::of("[ -~]{0,12}"),
        ) {
            let mut s = full();
            s.name = name;
            s.identity = identity;
            s.last_error.as_mut().unwrap().message = message;
            s.last_error.as_mut().unwrap().code = code;
            let st = status(vec![plain("first"), s], vec![]);
            prop_assert_eq!(render(&st), serde_pretty(&st));
        }
    }
}
