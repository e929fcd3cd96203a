//! Dotenv files holding a session (`AWS_ACCESS_KEY_ID=…` and friends): a lossless model, the
//! keys credd writes, and reading a watch-only file's expiry.
//!
//! Like the AWS files, an env file is edited in place: only the lines of the keys credd manages
//! change, `export ` prefixes and quoting styles are kept, and the write goes through the same
//! atomic, lock-protected, outside-edit-preserving cycle (`profile::write::update_with`). A
//! file with a line that is neither blank, a comment nor `KEY=value` is refused with its line.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::profile::edit::EditError;
use crate::profile::meta::{ProfileCredentials, SessionCredentials, parse_timestamp};
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
    /// For an assignment: the key and the byte range of the raw value (quotes included).
    assign: Option<(String, std::ops::Range<usize>)>,
}

/// A parsed env file. Debug shows keys only.
#[derive(Clone, Default)]
pub struct EnvFile {
    lines: Vec<Line>,
}

impl std::fmt::Debug for EnvFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.lines.iter().filter_map(|l| l.assign.as_ref().map(|(k, _)| k))).finish()
    }
}

fn parse_assignment(text: &str) -> Option<(String, std::ops::Range<usize>)> {
    let body_start = text.len() - text.trim_start().len();
    let mut rest = &text[body_start..];
    let mut offset = body_start;
    if let Some(r) = rest.strip_prefix("export ") {
        offset += rest.len() - r.len();
        rest = r;
        let skipped = rest.len() - rest.trim_start().len();
        offset += skipped;
        rest = &rest[skipped..];
    }
    let eq = rest.find('=')?;
    let key = rest[..eq].trim_end();
    if key.is_empty()
        || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || key.starts_with(|c: char| c.is_ascii_digit())
    {
        return None;
    }
    let value_start = offset + eq + 1;
    let value = text[value_start..].trim_end();
    Some((key.to_string(), value_start..value_start + value.len()))
}

fn unquote(raw: &str) -> String {
    let raw = raw.trim();
    for q in ['"', '\''] {
        if raw.len() >= 2 && raw.starts_with(q) && raw.ends_with(q) {
            return raw[1..raw.len() - 1].to_string();
        }
    }
    // An unquoted value ends at an inline comment.
    match raw.find(" #") {
        Some(i) => raw[..i].trim_end().to_string(),
        None => raw.to_string(),
    }
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
                Some(parse_assignment(body).ok_or_else(|| ParseError {
                    path: path.to_path_buf(),
                    line: i + 1,
                    message: "expected `KEY=value`, a comment or a blank line".into(),
                    fix: "fix the line, or start it with # to make it a comment".into(),
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

    /// The value of `key` (the last assignment wins, as in shells), unquoted.
    pub fn get(&self, key: &str) -> Option<String> {
        self.lines.iter().rev().find_map(|l| match &l.assign {
            Some((k, r)) if k == key => Some(unquote(&l.text[r.clone()])),
            _ => None,
        })
    }

    /// Every key the file assigns, once each.
    pub fn keys(&self) -> std::collections::BTreeSet<String> {
        self.lines.iter().filter_map(|l| l.assign.as_ref().map(|(k, _)| k.clone())).collect()
    }

    /// Whether it holds a long-term key credd must never overwrite (`meta::is_long_term_key`).
    pub fn holds_long_term_key(&self) -> bool {
        let token = self.get("AWS_SESSION_TOKEN").or_else(|| self.get("AWS_SECURITY_TOKEN"));
        crate::profile::meta::is_long_term_key(
            self.get("AWS_ACCESS_KEY_ID").as_deref(),
            token.is_some_and(|t| !t.is_empty()),
        )
    }

    /// Sets `key`, keeping its line's `export ` and quote style, or appends `KEY=value`.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), EditError> {
        if value.contains(['\n', '\r', '"', '\'']) || value.is_empty() {
            return Err(EditError::BadValue {
                key: key.to_string(),
                why: "cannot be written safely to an env file",
            });
        }
        if let Some(line) =
            self.lines.iter_mut().rev().find(|l| matches!(&l.assign, Some((k, _)) if k == key))
        {
            let (_, r) = line.assign.clone().expect("matched");
            let raw = &line.text[r.clone()];
            let quote = raw
                .chars()
                .next()
                .filter(|c| (*c == '"' || *c == '\'') && raw.len() >= 2 && raw.ends_with(*c));
            let new = match quote {
                Some(q) => format!("{q}{value}{q}"),
                None => value.to_string(),
            };
            line.text.replace_range(r.clone(), &new);
            line.assign = Some((key.to_string(), r.start..r.start + new.len()));
            return Ok(());
        }
        let eol = if self.lines.iter().any(|l| l.eol == Eol::CrLf) { Eol::CrLf } else { Eol::Lf };
        if let Some(last) = self.lines.last_mut()
            && last.eol == Eol::None
        {
            last.eol = eol;
        }
        let text = format!("{key}={value}");
        let r = key.len() + 1..text.len();
        self.lines.push(Line { text, eol, assign: Some((key.to_string(), r)) });
        Ok(())
    }

    /// The session's expiry, from the first expiry variable present.
    pub fn expiry(&self) -> Option<DateTime<Utc>> {
        EXPIRY_VARS.iter().find_map(|k| self.get(k)).and_then(|v| parse_timestamp(&v, false))
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

/// Writes `session` into the env file at `path` (created 0600), touching only credd's keys.
pub fn store(path: &Path, session: &SessionCredentials, region: Option<&str>) -> Result<Outcome, WriteError> {
    let format = Format {
        parse: &|b: &[u8]| EnvFile::parse(b, path),
        empty: &EnvFile::default,
        render: &|f: &EnvFile| f.render(),
        reads_back: false,
        private: false,
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
            "# app settings\r\nDATABASE_URL=postgres://x\r\nexport AWS_SESSION_TOKEN=\"new\"\r\n\r\nOTHER=1\r\nAWS_ACCESS_KEY_ID=ASIAY\r\n"
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
}
