//! One file of the SSO token cache (`~/.aws/sso/cache/<sha1>.json`): reading it, deciding whether
//! its token can be refreshed, and writing a refreshed token back in botocore's exact format.
//!
//! The file belongs to the SDKs and the CLI first. credd changes three fields (`accessToken`,
//! `expiresAt`, and `refreshToken` when a new one comes back) and keeps every other field, in its
//! order. It writes the way botocore's `JSONFileCache` does (one line, `json.dumps` spacing and
//! escapes, timestamps as `%Y-%m-%dT%H:%M:%SZ`), through the same temp file, fsync and rename as the
//! credentials file, 0600.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::profile::{ParseError, WriteError};
use crate::secret::Secret;

/// A token cache file's content. Debug shows which fields are present, never their values.
#[derive(Clone, Default, PartialEq)]
pub struct CachedToken {
    fields: Map<String, Value>,
}

impl std::fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedToken")
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .field("expires_at", &self.expires_at())
            .finish()
    }
}

/// Whether the token can be refreshed without a new `aws sso login`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refresh {
    /// Until the client registration ends.
    Until(DateTime<Utc>),
    /// Why not, in words for people.
    No(String),
}

/// What sso-oidc `CreateToken` handed back.
#[derive(Clone, Debug)]
pub struct NewToken {
    pub access_token: Secret,
    pub expires_in: std::time::Duration,
    pub refresh_token: Option<Secret>,
}

/// The four fields a refresh needs, read out of the file.
#[derive(Clone, Debug)]
pub struct Grant {
    pub client_id: String,
    pub client_secret: Secret,
    pub refresh_token: Secret,
}

/// Reads the cache file at `path`, never half-way through another program's write. A missing
/// file is `None` (not signed in).
pub fn read(path: &Path) -> Result<Option<CachedToken>, WriteError> {
    match crate::profile::read_quiet(path)? {
        Some(bytes) => Ok(Some(CachedToken::parse(&bytes, path)?)),
        None => Ok(None),
    }
}

/// botocore's timestamps; dateutil reads more, and so does [`parse_time`].
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Reads the timestamps SDKs and CLIs have written here: RFC 3339, `…Z`, and the AWS CLI v2's
/// older `…UTC`.
pub fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    let raw = raw.strip_suffix("UTC").map(|s| format!("{s}Z")).unwrap_or_else(|| raw.to_string());
    crate::profile::meta::parse_timestamp(&raw, false)
}

impl CachedToken {
    /// Parses a cache file. Anything but a JSON object is an error naming the file; a missing
    /// field is not (it is reported by what needs it).
    pub fn parse(bytes: &[u8], path: &Path) -> Result<CachedToken, ParseError> {
        let err = |message: String| ParseError {
            path: path.to_path_buf(),
            line: 1,
            message,
            fix: "run `aws sso login` to write it again".into(),
        };
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(fields)) => Ok(CachedToken { fields }),
            Ok(_) => Err(err("the SSO token cache file is not a JSON object".into())),
            // serde_json's message names the line and column, never the text around them.
            Err(e) => Err(ParseError { line: e.line().max(1), ..err(format!("not JSON: {e}")) }),
        }
    }

    fn str(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    pub fn access_token(&self) -> Option<Secret> {
        self.str("accessToken").map(Secret::new)
    }

    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.str("expiresAt").and_then(parse_time)
    }

    pub fn region(&self) -> Option<&str> {
        self.str("region")
    }

    /// Whether a refresh is possible at `now`, as botocore decides it: all four refresh fields
    /// present, and the registration not yet ended.
    pub fn refresh(&self, now: DateTime<Utc>) -> Refresh {
        let missing: Vec<&str> = ["refreshToken", "clientId", "clientSecret", "registrationExpiresAt"]
            .into_iter()
            .filter(|k| self.str(k).is_none())
            .collect();
        if !missing.is_empty() {
            return Refresh::No(format!(
                "the cached token has no {} (it was not issued for refreshing)",
                missing.join(", ")
            ));
        }
        match self.str("registrationExpiresAt").and_then(parse_time) {
            None => Refresh::No("its registrationExpiresAt is not a timestamp".into()),
            Some(end) if end <= now => {
                Refresh::No(format!("its client registration ended at {}", format_time(end)))
            }
            Some(end) => Refresh::Until(end),
        }
    }

    /// The refresh fields, when [`CachedToken::refresh`] says a refresh is possible.
    pub fn grant(&self) -> Option<Grant> {
        Some(Grant {
            client_id: self.str("clientId")?.to_string(),
            client_secret: Secret::new(self.str("clientSecret")?),
            refresh_token: Secret::new(self.str("refreshToken")?),
        })
    }

    /// Puts a refreshed token in: the access token, its expiry from `now`, and the new refresh
    /// token if one came back (botocore drops the old one when none does, which breaks every
    /// later refresh; credd keeps it). Every other field stays as it was, where it was.
    pub fn apply(&mut self, new: &NewToken, now: DateTime<Utc>) {
        let expires = now + chrono::Duration::from_std(new.expires_in).unwrap_or_default();
        self.fields.insert("accessToken".into(), Value::String(new.access_token.expose().to_string()));
        self.fields.insert("expiresAt".into(), Value::String(format_time(expires)));
        if let Some(r) = &new.refresh_token {
            self.fields.insert("refreshToken".into(), Value::String(r.expose().to_string()));
        }
    }

    /// Whether `other` is still the token this one was read as: the same access and refresh
    /// token. A file that differs was rewritten by someone else (`aws sso login`) meanwhile.
    pub fn same_token(&self, other: &CachedToken) -> bool {
        self.str("accessToken") == other.str("accessToken")
            && self.str("refreshToken") == other.str("refreshToken")
    }

    /// The file's bytes, as botocore's `json.dumps` writes them.
    pub fn render(&self) -> Vec<u8> {
        crate::pyjson::dumps(&self.fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        parse_time(s).unwrap()
    }

    const FILE: &str = r#"{"startUrl": "https://d-123.awsapps.com/start", "region": "eu-west-1", "accessToken": "OLD", "expiresAt": "2026-11-23T12:00:00Z", "clientId": "cid", "clientSecret": "csecret", "registrationExpiresAt": "2027-01-01T00:00:00Z", "refreshToken": "rt1", "zExtra": {"a": [1, 2]}}"#;

    #[test]
    fn renders_exactly_as_botocore_and_keeps_every_field_in_order() {
        let tok = CachedToken::parse(FILE.as_bytes(), Path::new("/c.json")).unwrap();
        assert_eq!(String::from_utf8(tok.render()).unwrap(), FILE);
        let mut tok = tok;
        let new = NewToken {
            access_token: "NEW".into(),
            expires_in: std::time::Duration::from_secs(3600),
            refresh_token: None,
        };
        tok.apply(&new, t("2026-11-23T11:55:00Z"));
        let out = String::from_utf8(tok.render()).unwrap();
        assert_eq!(
            out,
            FILE.replace("\"OLD\"", "\"NEW\"").replace("2026-11-23T12:00:00Z", "2026-11-23T12:55:00Z"),
            "the old refreshToken stays when none comes back"
        );
        tok.apply(&NewToken { refresh_token: Some("rt2".into()), ..new }, t("2026-11-23T11:55:00Z"));
        assert!(String::from_utf8(tok.render()).unwrap().contains("\"refreshToken\": \"rt2\""));
    }

    #[test]
    fn non_ascii_is_escaped_like_python() {
        let tok = CachedToken::parse("{\"startUrl\": \"https://é.example/😀\"}".as_bytes(), Path::new("/c"))
            .unwrap();
        assert_eq!(tok.render(), br#"{"startUrl": "https://\u00e9.example/\ud83d\ude00"}"#);
    }

    #[test]
    fn refreshable_only_with_all_four_fields_and_a_live_registration() {
        let now = t("2026-11-23T11:00:00Z");
        let tok = CachedToken::parse(FILE.as_bytes(), Path::new("/c")).unwrap();
        assert_eq!(tok.refresh(now), Refresh::Until(t("2027-01-01T00:00:00Z")));
        assert_eq!(
            tok.refresh(t("2027-02-01T00:00:00Z")),
            Refresh::No("its client registration ended at 2027-01-01T00:00:00Z".into())
        );
        let bare = CachedToken::parse(
            br#"{"accessToken": "a", "expiresAt": "2026-11-23T12:00:00UTC"}"#,
            Path::new("/c"),
        )
        .unwrap();
        assert_eq!(bare.expires_at(), Some(t("2026-11-23T12:00:00Z")));
        let Refresh::No(why) = bare.refresh(now) else { panic!() };
        assert!(why.contains("refreshToken, clientId, clientSecret, registrationExpiresAt"), "{why}");
    }

    #[test]
    fn errors_name_the_file_and_debug_shows_no_token() {
        let e = CachedToken::parse(b"{\"accessToken\": ", Path::new("/c.json")).unwrap_err();
        assert!(e.to_string().starts_with("/c.json:1:"), "{e}");
        assert!(CachedToken::parse(b"[]", Path::new("/c.json")).is_err());
        let tok = CachedToken::parse(FILE.as_bytes(), Path::new("/c")).unwrap();
        let shown = format!("{tok:?} {:?}", tok.grant());
        assert!(!shown.contains("OLD") && !shown.contains("csecret") && !shown.contains("rt1"), "{shown}");
    }
}
