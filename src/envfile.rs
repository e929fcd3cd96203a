//! Dotenv files holding a session (`AWS_ACCESS_KEY_ID=…` and friends): a lossless model, the
//! keys credd writes, and reading a watch-only file's expiry.
//!
//! Values are read as python-dotenv reads them (`export `, quotes and their escapes, a trailing
//! `# comment`); for the values credd writes and the expiries it reads, bash's `source` agrees. Like the
//! AWS files, an env file is edited in place: only the values of the keys credd manages change;
//! their lines keep `export `, quotes and comments, and a key the file lacks is appended in the
//! file's own style. The write goes through the same atomic, lock-protected,
//! outside-edit-preserving cycle (`profile::write::update_with`), and makes the file 0600. A
//! file with a line that is neither blank, a comment nor a one-line `KEY=value` is refused with
//! its line. Which keys a session writes is decided here; where a session lives, by `sessions`.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::profile::edit::EditError;
use crate::profile::meta::{Expiry, ExpiryRead, ProfileCredentials, SessionCredentials, parse_timestamp};
use crate::profile::parse::{Eol, ParseError};
use crate::profile::write::{Format, Outcome, WriteError, update_with};
use crate::secret::Secret;

/// Expiry variables, in the order credd trusts them.
pub const EXPIRY_VARS: &[&str] =
    &["AWS_CREDENTIAL_EXPIRATION", "AWS_SESSION_EXPIRATION", "AWSUME_EXPIRATION"];

#[derive(Clone, PartialEq, Eq)]
struct Line {
    text: String,
    eol: Eol,
    assign: Option<Assign>,
}

/// One `KEY=value` line, as python-dotenv reads it.
#[derive(Clone, PartialEq, Eq)]
struct Assign {
    key: String,
    /// The raw value's bytes in the line, quotes included; a trailing `# comment` is not in it.
    value: std::ops::Range<usize>,
    /// Whether the line starts with `export `.
    export: bool,
}

impl Assign {
    /// The quote the raw value is written in, if any.
    fn quote(&self, text: &str) -> Option<char> {
        text[self.value.clone()].chars().next().filter(|c| *c == '"' || *c == '\'')
    }
}

/// A parsed env file. Debug shows keys only.
#[derive(Clone, Default)]
pub struct EnvFile {
    lines: Vec<Line>,
}

impl std::fmt::Debug for EnvFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.lines.iter().filter_map(|l| l.assign.as_ref().map(|a| &a.key))).finish()
    }
}

const BLANK: &[char] = &[' ', '\t'];

/// Reads `KEY=value` (optionally `export KEY=value`) the way python-dotenv does, which for every
/// line credd accepts is also how bash's `source` reads it. `Err` says why a line is refused.
fn parse_assignment(text: &str) -> Result<Assign, &'static str> {
    const NOT_AN_ASSIGNMENT: &str = "expected `KEY=value`, a comment or a blank line";
    let body_start = text.len() - text.trim_start_matches(BLANK).len();
    let mut rest = &text[body_start..];
    let mut offset = body_start;
    let mut export = false;
    if let Some(r) = rest.strip_prefix("export").filter(|r| r.starts_with(BLANK)) {
        let r = r.trim_start_matches(BLANK);
        offset += rest.len() - r.len();
        rest = r;
        export = true;
    }
    let eq = rest.find('=').ok_or(NOT_AN_ASSIGNMENT)?;
    let key = rest[..eq].trim_end_matches(BLANK);
    if key.is_empty()
        || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || key.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(NOT_AN_ASSIGNMENT);
    }
    // Blanks after `=` are not part of the value (python-dotenv's `=[^\S\r\n]*`).
    let after_eq = offset + eq + 1;
    let start = after_eq + (text[after_eq..].len() - text[after_eq..].trim_start_matches(BLANK).len());
    let raw = &text[start..];
    let len = match raw.chars().next() {
        Some(q @ ('"' | '\'')) => {
            let close = closing_quote(raw, q).ok_or(
                "a quoted value with no closing quote on its line: credd reads and writes only single-line values",
            )?;
            // After the closing quote only blanks and a `# comment` may follow.
            let tail = raw[close + 1..].trim_start_matches(BLANK);
            if !(tail.is_empty() || tail.starts_with('#')) {
                return Err("text after the closing quote that is not a `# comment`");
            }
            close + 1
        }
        // An unquoted value ends where blanks and a `#` start a comment.
        _ => {
            let cut = raw.char_indices().find(|&(i, c)| c == '#' && raw[..i].ends_with(BLANK));
            let end = cut.map_or(raw.len(), |(i, _)| i);
            raw[..end].trim_end().len()
        }
    };
    Ok(Assign { key: key.to_string(), value: start..start + len, export })
}

/// The byte index of the quote closing the value `raw` opens with `q`; a backslash escapes the
/// character after it.
fn closing_quote(raw: &str, q: char) -> Option<usize> {
    let mut chars = raw.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            c if c == q => return Some(i),
            _ => {}
        }
    }
    None
}

/// A raw value as python-dotenv reads it: the quotes gone and their escapes decoded.
fn unquote(raw: &str) -> String {
    let Some(q) = raw.chars().next().filter(|c| *c == '"' || *c == '\'') else {
        return raw.to_string();
    };
    let inner = &raw[1..raw.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let decoded = match (q, chars.clone().next()) {
            (_, Some(e @ ('\\' | '\''))) => Some(e),
            ('"', Some('"')) => Some('"'),
            ('"', Some('n')) => Some('\n'),
            ('"', Some('t')) => Some('\t'),
            ('"', Some('r')) => Some('\r'),
            ('"', Some('a')) => Some('\x07'),
            ('"', Some('b')) => Some('\x08'),
            ('"', Some('f')) => Some('\x0c'),
            ('"', Some('v')) => Some('\x0b'),
            _ => None,
        };
        match decoded {
            Some(d) => {
                chars.next();
                out.push(d);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// What new lines look like: the file's own style, so that `source .env` reads them as it reads
/// the rest (an unexported secret beside an exported key is "Partial credentials found").
struct Style {
    /// `export ` when any line of the file has it.
    export: bool,
    /// The quote of the last assignment's value.
    quote: Option<char>,
    /// CRLF when any line ends so.
    eol: Eol,
}

impl EnvFile {
    pub fn parse(bytes: &[u8], path: &Path) -> Result<EnvFile, ParseError> {
        let text = std::str::from_utf8(bytes).map_err(|_| ParseError {
            path: path.to_path_buf(),
            line: 1,
            message: "the file is not valid UTF-8".into(),
            fix: "re-save it as UTF-8".into(),
        })?;
        let mut lines = Vec::new();
        for (i, piece) in text.split_inclusive('\n').enumerate() {
            let (body, eol) = match (piece.strip_suffix("\r\n"), piece.strip_suffix('\n')) {
                (Some(b), _) => (b, Eol::CrLf),
                (None, Some(b)) => (b, Eol::Lf),
                _ => (piece, Eol::None),
            };
            let t = body.trim();
            let assign = if t.is_empty() || t.starts_with('#') {
                None
            } else {
                Some(parse_assignment(body).map_err(|why| ParseError {
                    path: path.to_path_buf(),
                    line: i + 1,
                    message: why.into(),
                    fix: "fix the line (one `KEY=value` per line, a comment after ` #`), or start it with # to make it a comment".into(),
                })?)
            };
            lines.push(Line { text: body.to_string(), eol, assign });
        }
        Ok(EnvFile { lines })
    }

    pub fn render(&self) -> Vec<u8> {
        let mut out = String::new();
        for l in &self.lines {
            out.push_str(&l.text);
            out.push_str(l.eol.as_str());
        }
        out.into_bytes()
    }

    /// The last assignment of `key` (the one shells and python-dotenv keep), with its line.
    fn last(&self, key: &str) -> Option<(usize, &Line, &Assign)> {
        self.lines.iter().enumerate().rev().find_map(|(i, l)| match &l.assign {
            Some(a) if a.key == key => Some((i, l, a)),
            _ => None,
        })
    }

    /// The value of `key` (the last assignment wins, as in shells), read as python-dotenv and
    /// bash read it.
    pub fn get(&self, key: &str) -> Option<String> {
        self.last(key).map(|(_, l, a)| unquote(&l.text[a.value.clone()]))
    }

    /// Every key the file assigns, once each.
    pub fn keys(&self) -> std::collections::BTreeSet<String> {
        self.lines.iter().filter_map(|l| l.assign.as_ref().map(|a| a.key.clone())).collect()
    }

    /// Whether it holds a long-term key credd must never overwrite (`meta::is_long_term_key`).
    pub fn holds_long_term_key(&self) -> bool {
        let token = self.get("AWS_SESSION_TOKEN").or_else(|| self.get("AWS_SECURITY_TOKEN"));
        crate::profile::meta::is_long_term_key(
            self.get("AWS_ACCESS_KEY_ID").as_deref(),
            token.is_some_and(|t| !t.is_empty()),
        )
    }

    fn style(&self) -> Style {
        let assigns = self.lines.iter().filter_map(|l| Some((l, l.assign.as_ref()?)));
        Style {
            export: assigns.clone().any(|(_, a)| a.export),
            quote: assigns.clone().next_back().and_then(|(l, a)| a.quote(&l.text)),
            eol: if self.lines.iter().any(|l| l.eol == Eol::CrLf) { Eol::CrLf } else { Eol::Lf },
        }
    }

    /// Sets `key`, changing only its value: the line's `export `, quotes and comment stay. A
    /// key the file lacks is appended in the file's style ([`Style`]).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), EditError> {
        // Whatever the quoting, these read back as written: no quote, escape, expansion,
        // comment or line break to get wrong.
        let safe = |c: char| !c.is_whitespace() && !c.is_control() && !"\"'\\$`#".contains(c);
        if value.is_empty() || !value.chars().all(safe) {
            return Err(EditError::BadValue {
                key: key.to_string(),
                why: "cannot be written safely to an env file",
            });
        }
        if let Some((i, l, a)) = self.last(key) {
            let new = match a.quote(&l.text) {
                Some(q) => format!("{q}{value}{q}"),
                None => value.to_string(),
            };
            let r = a.value.clone();
            let line = &mut self.lines[i];
            line.text.replace_range(r.clone(), &new);
            if let Some(a) = &mut line.assign {
                a.value = r.start..r.start + new.len();
            }
            return Ok(());
        }
        let style = self.style();
        if let Some(last) = self.lines.last_mut()
            && last.eol == Eol::None
        {
            last.eol = style.eol;
        }
        let prefix = if style.export { "export " } else { "" };
        let q = style.quote.map(String::from).unwrap_or_default();
        let text = format!("{prefix}{key}={q}{value}{q}");
        let start = prefix.len() + key.len() + 1;
        let assign = Assign { key: key.to_string(), value: start..text.len(), export: style.export };
        self.lines.push(Line { text, eol: style.eol, assign: Some(assign) });
        Ok(())
    }

    /// The session's expiry, from the first expiry variable present.
    pub fn expiry(&self) -> Option<DateTime<Utc>> {
        match self.expiry_read() {
            ExpiryRead::Found(e) => Some(e.at),
            _ => None,
        }
    }

    /// The first expiry variable present, read, or the line it is on when it is no timestamp.
    pub fn expiry_read(&self) -> ExpiryRead {
        for &key in EXPIRY_VARS {
            let Some((i, l, a)) = self.last(key) else { continue };
            return match parse_timestamp(&unquote(&l.text[a.value.clone()]), false) {
                Some(at) => ExpiryRead::Found(Expiry { at, key, line: i + 1 }),
                None => ExpiryRead::Invalid { key, line: i + 1 },
            };
        }
        ExpiryRead::None
    }

    pub fn credentials(&self) -> Option<ProfileCredentials> {
        Some(ProfileCredentials {
            access_key_id: self.get("AWS_ACCESS_KEY_ID")?,
            secret_access_key: Secret::new(self.get("AWS_SECRET_ACCESS_KEY")?),
            session_token: self.get("AWS_SESSION_TOKEN").map(Secret::new),
        })
    }
}

/// Reads an env file; a missing file is `None`.
pub fn read(path: &Path) -> Result<Option<EnvFile>, WriteError> {
    match crate::profile::read_quiet(path)? {
        Some(b) => Ok(Some(EnvFile::parse(&b, path)?)),
        None => Ok(None),
    }
}

pub fn read_credentials(path: &Path) -> Result<ProfileCredentials, String> {
    read(path)
        .map_err(|e| e.to_string())?
        .and_then(|f| f.credentials())
        .ok_or_else(|| format!("{} holds no complete AWS credentials", path.display()))
}

/// Writes `session` into the env file at `path`, touching only credd's keys. `region` is written
/// only when the session names one; a region the user put there is theirs otherwise. The file
/// holds a secret key, so it is written 0600 whatever its mode was (the write logs a change).
pub fn store(path: &Path, session: &SessionCredentials, region: Option<&str>) -> Result<Outcome, WriteError> {
    let format = Format {
        parse: &|b: &[u8]| EnvFile::parse(b, path),
        empty: &EnvFile::default,
        render: &|f: &EnvFile| f.render(),
        reads_back: false,
        private: true,
    };
    update_with(
        path,
        &format,
        |f| {
            // The same guard as a profile's: a long-term key in a project's .env is as lost once
            // overwritten as one in ~/.aws/credentials.
            if f.holds_long_term_key() {
                return Err(EditError::LongTermKey { place: path.display().to_string() });
            }
            f.set("AWS_ACCESS_KEY_ID", &session.access_key_id)?;
            f.set("AWS_SECRET_ACCESS_KEY", session.secret_access_key.expose())?;
            f.set("AWS_SESSION_TOKEN", session.session_token.expose())?;
            f.set(
                "AWS_CREDENTIAL_EXPIRATION",
                &session.expiration.to_rfc3339_opts(SecondsFormat::Secs, true),
            )?;
            if let Some(r) = region {
                f.set("AWS_REGION", r)?;
            }
            Ok(())
        },
        &mut |_| {},
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> EnvFile {
        EnvFile::parse(t.as_bytes(), Path::new(".env")).unwrap()
    }

    #[test]
    fn values_are_read_like_a_shell_reads_them() {
        let f = parse(
            "# app\nexport AWS_ACCESS_KEY_ID=\"ASIAX\"\nAWS_REGION='eu-west-1'\nDB=postgres # comment\nDB=mysql\n",
        );
        assert_eq!(f.get("AWS_ACCESS_KEY_ID").as_deref(), Some("ASIAX"));
        assert_eq!(f.get("AWS_REGION").as_deref(), Some("eu-west-1"));
        assert_eq!(f.get("DB").as_deref(), Some("mysql"));
    }

    #[test]
    fn edits_keep_every_other_byte_and_the_line_style() {
        let text =
            "# app settings\r\nDATABASE_URL=postgres://x\r\nexport AWS_SESSION_TOKEN=\"old\"\r\n\r\nOTHER=1";
        let mut f = parse(text);
        f.set("AWS_SESSION_TOKEN", "new").unwrap();
        f.set("AWS_ACCESS_KEY_ID", "ASIAY").unwrap();
        let out = String::from_utf8(f.render()).unwrap();
        assert_eq!(
            out,
            "# app settings\r\nDATABASE_URL=postgres://x\r\nexport AWS_SESSION_TOKEN=\"new\"\r\n\r\nOTHER=1\r\nexport AWS_ACCESS_KEY_ID=ASIAY\r\n"
        );
    }

    #[test]
    fn broken_lines_are_refused_with_their_number() {
        let e = EnvFile::parse(b"A=1\nthis is not an assignment\n", Path::new("/p/.env")).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().starts_with("/p/.env:2:"));
    }

    #[test]
    fn expiry_from_any_known_variable() {
        assert!(parse("AWSUME_EXPIRATION=2030-01-01T00:00:00Z\n").expiry().is_some());
        assert!(parse("AWS_CREDENTIAL_EXPIRATION=2030-01-01T00:00:00+00:00\n").expiry().is_some());
        assert!(parse("X=1\n").expiry().is_none());
    }

    fn session() -> SessionCredentials {
        SessionCredentials {
            access_key_id: "ASIANEW".into(),
            secret_access_key: "sec/ret+KEY=".into(),
            session_token: "tok+en/TOKEN==".into(),
            expiration: "2030-01-01T00:00:00Z".parse().unwrap(),
        }
    }

    /// `store` on `text` in a fresh directory: the file's new text and its mode.
    fn store_text(text: &str, region: Option<&str>) -> (String, u32) {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        store(&path, &session(), region).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        (std::fs::read_to_string(&path).unwrap(), mode)
    }

    #[test]
    fn issue25_new_lines_follow_the_files_export_style() {
        let (out, _) = store_text("export AWS_ACCESS_KEY_ID=ASIAOLD\nexport DB=x\n", None);
        assert_eq!(
            out,
            "export AWS_ACCESS_KEY_ID=ASIANEW\nexport DB=x\nexport AWS_SECRET_ACCESS_KEY=sec/ret+KEY=\nexport AWS_SESSION_TOKEN=tok+en/TOKEN==\nexport AWS_CREDENTIAL_EXPIRATION=2030-01-01T00:00:00Z\n"
        );
        let (out, _) = store_text("DB='x'\r\n", None);
        assert!(out.starts_with("DB='x'\r\nAWS_ACCESS_KEY_ID='ASIANEW'\r\n"), "{out:?}");
    }

    #[test]
    fn a_region_is_written_only_when_the_session_has_one() {
        let (out, _) = store_text("AWS_REGION='eu-central-1'\n", None);
        assert!(out.starts_with("AWS_REGION='eu-central-1'\n"), "{out}");
        let (out, _) = store_text("AWS_REGION='eu-central-1'\n", Some("eu-west-1"));
        assert!(out.starts_with("AWS_REGION='eu-west-1'\n"), "{out}");
    }

    #[test]
    fn issue25_a_file_that_receives_secrets_is_made_private() {
        let (_, mode) = store_text("DB=x\n", None);
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn issue25_comments_on_managed_lines_survive() {
        let (out, _) = store_text(
            "AWS_ACCESS_KEY_ID=ASIAOLD # old\nexport AWS_SESSION_TOKEN=\"t\"   # kept\nAWS_SECRET_ACCESS_KEY='s'#tight\n",
            None,
        );
        assert!(
            out.starts_with("AWS_ACCESS_KEY_ID=ASIANEW # old\nexport AWS_SESSION_TOKEN=\"tok+en/TOKEN==\"   # kept\nAWS_SECRET_ACCESS_KEY='sec/ret+KEY='#tight\n"),
            "{out}"
        );
    }

    #[test]
    fn issue25_an_expiry_with_a_comment_is_read_as_dotenv_and_bash_read_it() {
        let want: DateTime<Utc> = "2030-01-01T00:00:00Z".parse().unwrap();
        for line in [
            "AWS_CREDENTIAL_EXPIRATION=\"2030-01-01T00:00:00Z\" # c",
            "AWS_CREDENTIAL_EXPIRATION='2030-01-01T00:00:00Z'# c",
            "export AWS_CREDENTIAL_EXPIRATION=2030-01-01T00:00:00Z\t# c",
            "AWS_CREDENTIAL_EXPIRATION = \"2030-01-01T00:00:00Z\"",
        ] {
            assert_eq!(parse(line).expiry(), Some(want), "{line}");
        }
        // What is there but no timestamp is named with its line, not taken for no expiry.
        assert_eq!(
            parse("A=1\nAWS_CREDENTIAL_EXPIRATION=\"soon\" # c\n").expiry_read(),
            ExpiryRead::Invalid { key: "AWS_CREDENTIAL_EXPIRATION", line: 2 }
        );
    }

    #[test]
    fn issue25_values_credd_cannot_read_on_one_line_are_refused_with_their_line() {
        for text in ["A=1\nB=\"multi\nline\"\n", "A=1\nB=\"x\"y\n"] {
            let e = EnvFile::parse(text.as_bytes(), Path::new("/p/.env")).unwrap_err();
            assert_eq!(e.line, 2, "{text:?}: {e}");
        }
    }

    mod generated {
        use super::*;
        use proptest::prelude::*;

        const MANAGED: [&str; 4] =
            ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION"];

        /// One line of an env file: a comment, a blank, or an assignment of a managed or other
        /// key in any style python-dotenv reads on one line.
        fn line() -> impl Strategy<Value = String> {
            let key = prop_oneof![
                proptest::sample::select(MANAGED.to_vec()).prop_map(str::to_string),
                Just("AWS_REGION".to_string()),
                "[A-Z][A-Z0-9_]{0,6}",
            ];
            let value = prop_oneof![
                "[A-Za-z0-9/+=:._-]{0,12}".prop_map(|v| v),
                "[A-Za-z0-9 #/+=]{0,12}".prop_map(|v| format!("\"{v}\"")),
                "[A-Za-z0-9 #/+=\"]{0,12}".prop_map(|v| format!("'{v}'")),
            ];
            let assign = (
                prop_oneof![Just(""), Just("export "), Just("  ")],
                key,
                prop_oneof![Just("="), Just(" = ")],
                value,
                prop_oneof![Just(""), Just(" # note"), Just("\t#x"), Just("  ")],
            )
                .prop_map(|(e, k, eq, v, c)| {
                    // An unquoted value ends at its comment; a tight `#` would be part of it.
                    let c = if v.starts_with(['"', '\'']) || c.is_empty() { c } else { " # note" };
                    format!("{e}{k}{eq}{v}{c}")
                });
            prop_oneof![
                4 => assign,
                1 => "# [a-z =#]{0,10}".prop_map(|c| c),
                1 => Just(String::new()),
            ]
        }

        fn file() -> impl Strategy<Value = String> {
            (proptest::collection::vec(line(), 0..10), any::<bool>(), any::<bool>()).prop_map(
                |(lines, crlf, final_eol)| {
                    let eol = if crlf { "\r\n" } else { "\n" };
                    let mut text = lines.join(eol);
                    if final_eol && !text.is_empty() {
                        text.push_str(eol);
                    }
                    text
                },
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

            /// issue 25: a refresh changes only the managed values; every other line is byte
            /// for byte what it was, and the file reads back as the new session.
            #[test]
            fn issue25_a_refresh_changes_only_the_managed_values(text in file()) {
                let before = parse(&text);
                prop_assume!(!before.holds_long_term_key());
                let (out, mode) = store_text(&text, None);
                prop_assert_eq!(mode, 0o600);
                let after = parse(&out);
                let s = session();
                prop_assert_eq!(after.get("AWS_ACCESS_KEY_ID"), Some("ASIANEW".to_string()));
                prop_assert_eq!(after.get("AWS_SECRET_ACCESS_KEY"), Some("sec/ret+KEY=".to_string()));
                prop_assert_eq!(after.get("AWS_SESSION_TOKEN"), Some("tok+en/TOKEN==".to_string()));
                prop_assert_eq!(after.expiry(), Some(s.expiration));
                for key in before.keys() {
                    if !MANAGED.contains(&key.as_str()) {
                        prop_assert_eq!(after.get(&key), before.get(&key), "{} changed", key);
                    }
                }
                // Line by line: the managed keys' last lines differ only in their value; every
                // other line is as it was (the last may gain a line end); new lines come after.
                let old: Vec<&str> = text.split_inclusive('\n').collect();
                let new: Vec<&str> = out.split_inclusive('\n').collect();
                prop_assert!(new.len() >= old.len());
                let edited: Vec<usize> =
                    MANAGED.iter().filter_map(|k| before.last(k).map(|(i, _, _)| i)).collect();
                for (i, (o, n)) in old.iter().zip(&new).enumerate() {
                    if edited.contains(&i) {
                        let (_, ol, oa) = before.last(&before.lines[i].assign.as_ref().unwrap().key).unwrap();
                        let na = after.lines[i].assign.as_ref().unwrap();
                        prop_assert_eq!(&ol.text[..oa.value.start], &after.lines[i].text[..na.value.start]);
                        prop_assert_eq!(&ol.text[oa.value.end..], &after.lines[i].text[na.value.end..]);
                    } else if i + 1 == old.len() && !o.ends_with('\n') {
                        prop_assert!(n.starts_with(o), "{:?} became {:?}", o, n);
                    } else {
                        prop_assert_eq!(o, n);
                    }
                }
                // Appended lines follow the file's style.
                let style = before.style();
                for l in &after.lines[before.lines.len()..] {
                    prop_assert_eq!(l.text.starts_with("export "), style.export);
                    prop_assert_eq!(l.eol, style.eol);
                }
            }
        }
    }
}
