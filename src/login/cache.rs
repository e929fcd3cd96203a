//! One file of the login token cache (`~/.aws/login/cache/<sha256>.json`, written by `aws
//! login`): parsing it strictly, the credentials and refresh fields it holds (secrets only as
//! [`Secret`]), putting refreshed tokens in, rendering it back, and writing it without ever
//! replacing a file that changed since it was read.
//!
//! The file belongs to the CLI and the SDKs first. Its fields: `accessToken` (`accessKeyId`,
//! `secretAccessKey`, `sessionToken`, `accountId`, `expiresAt`), `tokenType` (`aws_sigv4`),
//! `refreshToken`, `idToken`, `clientId`, `dpopKey` (a PEM P-256 private key) and, from newer
//! logins, `signInRegion`. A refresh changes `accessToken`'s keys and expiry and `refreshToken`,
//! as botocore's `LoginCredentialFetcher` does, and keeps every other field, in its order (the
//! `idToken`, which a refresh does not return, included). It is written as botocore's
//! `JSONFileCache` writes (`json.dumps`: one line, its spacing and escapes; `expiresAt` as
//! `%Y-%m-%dT%H:%M:%SZ`), through `profile::write::update_with`, 0600. What it does not own:
//! the sign-in call (`signin`), the DPoP key's use (`dpop`), where the file is (`login`).

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::profile::write::{Format, update_with};
use crate::profile::{EditError, ParseError, WriteError};
use crate::secret::Secret;

/// The fields `accessToken` must hold, as botocore and aws-config require them.
const ACCESS_FIELDS: &[&str] = &["accessKeyId", "secretAccessKey", "sessionToken", "accountId", "expiresAt"];
/// The top-level fields a refresh needs (botocore's `_REQUIRED_TOKEN_FIELDS`, with `accessToken`
/// checked above).
const REFRESH_FIELDS: &[&str] = &["refreshToken", "clientId", "dpopKey"];

/// A login cache file that holds everything a refresh needs. Debug shows which fields are
/// present, the account and the expiry, never a key, token or the private key.
#[derive(Clone, PartialEq)]
pub struct LoginCache {
    fields: Map<String, Value>,
    /// `accessToken.expiresAt`, parsed (checked by [`LoginCache::parse`]).
    expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for LoginCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginCache")
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .field("account_id", &self.account_id())
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The session's current credentials, as the file holds them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    pub account_id: String,
    pub expires_at: DateTime<Utc>,
}

/// What a refresh needs from the file.
#[derive(Clone, Debug)]
pub struct Grant {
    pub client_id: String,
    pub refresh_token: Secret,
    /// The PEM private key the DPoP proof is signed with.
    pub dpop_key: Secret,
}

/// What `CreateOAuth2Token` handed back.
#[derive(Clone, Debug)]
pub struct NewTokens {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    pub expires_in: std::time::Duration,
    pub refresh_token: Secret,
}

/// The refusal [`store`] makes of a file that is gone, and recognises again.
const GONE: &str = "left the login cache";

/// What a guarded write did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    /// The refreshed tokens are in the file.
    Written,
    /// The file changed since it was read (`aws login` ran, or another refresher): it was left as
    /// it is. Its expiry, when it still parses.
    KeptTheirs(Option<DateTime<Utc>>),
    /// The file was removed meanwhile (signed out); it was not written again.
    Gone,
}

/// botocore's timestamp format.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// RFC 3339 with or without fractions (the JS SDK writes milliseconds), `Z` or an offset.
pub fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    crate::profile::meta::parse_timestamp(raw, false)
}

/// Reads the cache file at `path`, never half-way through another program's write. A missing
/// file is `None` (not signed in).
pub fn read(path: &Path) -> Result<Option<LoginCache>, WriteError> {
    match crate::profile::read_quiet(path)? {
        Some(bytes) => Ok(Some(LoginCache::parse(&bytes, path)?)),
        None => Ok(None),
    }
}

/// Writes `new` into the file at `path`, if it still holds what `read` was (the same fields,
/// whatever their formatting): the same lock, temp file, fsync, check and rename as the
/// credentials file. A file that changed since is left alone ([`Stored::KeptTheirs`]).
pub fn store(
    path: &Path,
    read: &LoginCache,
    new: &NewTokens,
    now: DateTime<Utc>,
) -> Result<Stored, WriteError> {
    let parse = |b: &[u8]| LoginCache::parse(b, path).map(Some);
    let format = Format {
        parse: &parse,
        empty: &|| None,
        render: &|c: &Option<LoginCache>| c.as_ref().map(LoginCache::render).unwrap_or_default(),
        reads_back: true,
        private: true,
    };
    let mut stored = Stored::Written;
    // `update_with` builds again on whatever it finds on disk just before the rename, so the
    // comparison below runs against the file as it is then, not as it was at the first read.
    let outcome = update_with(
        path,
        &format,
        |current: &mut Option<LoginCache>| {
            stored = match current {
                // Refused, so that nothing is written where the file was.
                None => return Err(EditError::BadValue { key: "accessToken".into(), why: GONE }),
                Some(c) if c.fields != read.fields => Stored::KeptTheirs(Some(c.expires_at)),
                Some(c) => {
                    c.apply(new, now);
                    Stored::Written
                }
            };
            Ok(())
        },
        &mut |_| {},
    );
    match outcome {
        Ok(_) => Ok(stored),
        Err(WriteError::Edit { source: EditError::BadValue { why: GONE, .. }, .. }) => Ok(Stored::Gone),
        // Someone else's file that no longer parses is theirs too: never written over.
        Err(WriteError::Unparseable(_)) => Ok(Stored::KeptTheirs(None)),
        Err(e) => Err(e),
    }
}

fn missing(path: &Path, what: String) -> ParseError {
    ParseError {
        path: path.to_path_buf(),
        line: 1,
        message: what,
        fix: "run `aws login` again to write a new session".into(),
    }
}

impl LoginCache {
    /// Parses a cache file: a JSON object holding every field a refresh and the credentials
    /// need, as non-empty strings, and an `expiresAt` that is a timestamp. Any other shape is an
    /// error naming the file and the first missing or malformed field.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<LoginCache, ParseError> {
        let fields = match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(fields)) => fields,
            Ok(_) => return Err(missing(path, "the login token cache file is not a JSON object".into())),
            // serde_json's message names the line and column, never the text around them.
            Err(e) => {
                return Err(ParseError { line: e.line().max(1), ..missing(path, format!("not JSON: {e}")) });
            }
        };
        let Some(access) = fields.get("accessToken").and_then(Value::as_object) else {
            return Err(missing(path, "the login token cache file has no accessToken object".into()));
        };
        let text =
            |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
        if let Some(k) = ACCESS_FIELDS.iter().find(|k| !text(access, k)) {
            return Err(missing(path, format!("the login token cache file has no accessToken.{k}")));
        }
        if let Some(k) = REFRESH_FIELDS.iter().find(|k| !text(&fields, k)) {
            return Err(missing(path, format!("the login token cache file has no {k}")));
        }
        let raw = access["expiresAt"].as_str().unwrap_or_default();
        let Some(expires_at) = parse_time(raw) else {
            return Err(missing(
                path,
                "accessToken.expiresAt in the login token cache file is not a timestamp".into(),
            ));
        };
        Ok(LoginCache { fields, expires_at })
    }

    fn access(&self, key: &str) -> &str {
        self.fields["accessToken"][key].as_str().unwrap_or_default()
    }

    fn str(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }

    pub fn account_id(&self) -> &str {
        self.access("accountId")
    }

    pub fn credentials(&self) -> Credentials {
        Credentials {
            access_key_id: self.access("accessKeyId").to_string(),
            secret_access_key: Secret::new(self.access("secretAccessKey")),
            session_token: Secret::new(self.access("sessionToken")),
            account_id: self.account_id().to_string(),
            expires_at: self.expires_at,
        }
    }

    pub fn grant(&self) -> Grant {
        Grant {
            client_id: self.str("clientId").unwrap_or_default().to_string(),
            refresh_token: Secret::new(self.str("refreshToken").unwrap_or_default()),
            dpop_key: Secret::new(self.str("dpopKey").unwrap_or_default()),
        }
    }

    /// The region the session signed in through; botocore prefers it over the profile's.
    pub fn sign_in_region(&self) -> Option<&str> {
        self.str("signInRegion")
    }

    /// Puts refreshed tokens in, as botocore does: `accessToken`'s keys and `expiresAt` (now plus
    /// `expiresIn`), its `accountId` kept, and the new `refreshToken`. Every other field, inside
    /// `accessToken` too, stays as it was, where it was.
    pub fn apply(&mut self, new: &NewTokens, now: DateTime<Utc>) {
        let expires = now + chrono::Duration::from_std(new.expires_in).unwrap_or_default();
        let access =
            self.fields.get_mut("accessToken").and_then(Value::as_object_mut).expect("checked by parse");
        for (k, v) in [
            ("accessKeyId", new.access_key_id.as_str()),
            ("secretAccessKey", new.secret_access_key.expose()),
            ("sessionToken", new.session_token.expose()),
            ("expiresAt", &format_time(expires)),
        ] {
            access.insert(k.into(), Value::String(v.to_string()));
        }
        self.fields.insert("refreshToken".into(), Value::String(new.refresh_token.expose().to_string()));
        // The rendering reads back at one-second precision.
        self.expires_at = parse_time(&format_time(expires)).expect("botocore's format parses");
    }

    /// The file's bytes, as botocore's `json.dumps` writes them.
    pub fn render(&self) -> Vec<u8> {
        crate::pyjson::dumps(&self.fields)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const FILE: &str = r#"{"accessToken": {"accessKeyId": "ASIAOLD", "secretAccessKey": "old-secret", "sessionToken": "old-session", "accountId": "111122223333", "expiresAt": "2026-12-07T12:00:00Z"}, "tokenType": "aws_sigv4", "refreshToken": "rt-old", "idToken": "id.token.jwt", "clientId": "arn:aws:signin:::devtools/same-device", "dpopKey": "-----BEGIN EC PRIVATE KEY-----\nMHc=\n-----END EC PRIVATE KEY-----\n", "signInRegion": "eu-west-1", "zNewer": {"kept": [1, 2]}}"#;

    fn t(s: &str) -> DateTime<Utc> {
        parse_time(s).unwrap()
    }

    fn new_tokens() -> NewTokens {
        NewTokens {
            access_key_id: "ASIANEW".into(),
            secret_access_key: "new-secret".into(),
            session_token: "new-session".into(),
            expires_in: std::time::Duration::from_secs(900),
            refresh_token: "rt-new".into(),
        }
    }

    #[test]
    fn renders_as_botocore_and_a_refresh_changes_only_the_tokens() {
        let mut c = LoginCache::parse(FILE.as_bytes(), Path::new("/c.json")).unwrap();
        assert_eq!(String::from_utf8(c.render()).unwrap(), FILE);
        assert_eq!((c.account_id(), c.sign_in_region()), ("111122223333", Some("eu-west-1")));
        c.apply(&new_tokens(), t("2026-12-07T11:58:30.250Z"));
        let want = FILE
            .replace("ASIAOLD", "ASIANEW")
            .replace("old-secret", "new-secret")
            .replace("old-session", "new-session")
            .replace("2026-12-07T12:00:00Z", "2026-12-07T12:13:30Z")
            .replace("rt-old", "rt-new");
        assert_eq!(String::from_utf8(c.render()).unwrap(), want);
        assert_eq!(c.expires_at(), t("2026-12-07T12:13:30Z"));
        assert_eq!(LoginCache::parse(&c.render(), Path::new("/c")).unwrap(), c);
    }

    #[test]
    fn the_js_sdks_pretty_printed_file_with_milliseconds_parses() {
        let js = "{\n  \"accessToken\": {\n    \"accessKeyId\": \"ASIA\",\n    \"secretAccessKey\": \"s\",\n    \"sessionToken\": \"t\",\n    \"accountId\": \"1\",\n    \"expiresAt\": \"2026-12-07T12:00:00.123Z\"\n  },\n  \"tokenType\": \"aws_sigv4\",\n  \"refreshToken\": \"r\",\n  \"clientId\": \"c\",\n  \"dpopKey\": \"k\"\n}\n";
        let c = LoginCache::parse(js.as_bytes(), Path::new("/c")).unwrap();
        assert_eq!(c.expires_at(), t("2026-12-07T12:00:00.123Z"));
        assert_eq!(c.sign_in_region(), None);
    }

    #[test]
    fn errors_name_the_file_and_the_missing_field() {
        let cases = [
            ("[]", "not a JSON object"),
            ("{\"accessToken\": ", "not JSON"),
            ("{}", "no accessToken object"),
            (&FILE.replace("\"accountId\": \"111122223333\", ", ""), "no accessToken.accountId"),
            (&FILE.replace("\"dpopKey\"", "\"dpopKeyX\""), "no dpopKey"),
            (&FILE.replace("\"refreshToken\": \"rt-old\"", "\"refreshToken\": \"\""), "no refreshToken"),
            (&FILE.replace("2026-12-07T12:00:00Z", "soon"), "is not a timestamp"),
        ];
        for (text, want) in cases {
            let e = LoginCache::parse(text.as_bytes(), Path::new("/c.json")).unwrap_err();
            let shown = e.to_string();
            assert!(shown.starts_with("/c.json:1") && shown.contains(want), "{shown}");
        }
    }

    #[test]
    fn no_secret_reaches_debug() {
        let c = LoginCache::parse(FILE.as_bytes(), Path::new("/c")).unwrap();
        let shown = format!("{c:?} {:?} {:?} {:?}", c.credentials(), c.grant(), new_tokens());
        for secret in ["old-secret", "old-session", "rt-old", "MHc=", "id.token", "new-secret", "rt-new"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("ASIAOLD") && shown.contains("111122223333"), "{shown}");
    }

    #[test]
    fn a_guarded_write_keeps_a_file_that_changed_since_it_was_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        std::fs::write(&path, FILE).unwrap();
        let read_before = read(&path).unwrap().unwrap();
        let now = t("2026-12-07T11:58:00Z");
        // Someone signs in again meanwhile: their file stays, byte for byte.
        let theirs =
            FILE.replace("rt-old", "rt-theirs").replace("2026-12-07T12:00:00Z", "2026-12-07T13:00:00Z");
        std::fs::write(&path, &theirs).unwrap();
        assert_eq!(
            store(&path, &read_before, &new_tokens(), now).unwrap(),
            Stored::KeptTheirs(Some(t("2026-12-07T13:00:00Z")))
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), theirs);
        // A file that no longer parses is theirs too.
        std::fs::write(&path, "{").unwrap();
        assert_eq!(store(&path, &read_before, &new_tokens(), now).unwrap(), Stored::KeptTheirs(None));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{");
        // Gone: not written again.
        std::fs::remove_file(&path).unwrap();
        assert_eq!(store(&path, &read_before, &new_tokens(), now).unwrap(), Stored::Gone);
        assert!(!path.exists());
        // Unchanged (even reformatted, as the JS SDK writes it): written, 0600.
        let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(FILE).unwrap()).unwrap();
        std::fs::write(&path, pretty).unwrap();
        assert_eq!(store(&path, &read_before, &new_tokens(), now).unwrap(), Stored::Written);
        let back = read(&path).unwrap().unwrap();
        assert_eq!(back.credentials().access_key_id, "ASIANEW");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
