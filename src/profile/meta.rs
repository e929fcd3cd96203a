//! What the keys of a profile mean: which kind of credentials it holds, when they expire, and
//! which edits write a new session into it.
//!
//! Expiry keys are whatever the tools in this field write, each in its own format:
//!
//! | key | writer | format |
//! |---|---|---|
//! | `x_security_token_expires` | saml2aws, gimme-aws-creds, credd | RFC3339 with offset; Python isoformat |
//! | `aws_expiration` | aws-azure-login | ISO 8601 with `Z` |
//! | `aws_session_expiration` | aws-google-auth | `%Y-%m-%dT%H:%M:%S%z` |
//! | `expiration` | aws-mfa (UTC), awsume (local time) | `%Y-%m-%d %H:%M:%S` |
//!
//! Every format is accepted under every key: tools copy each other's keys more than their formats.
//!
//! `expiration` has no offset, and its two writers disagree on the zone, so the evidence the
//! section carries decides ([`expiration_is_local`]): awsume marks what it writes with
//! `manager = awsume` (`awsume -o`) or `autoawsume` / `source_expiration` (autoawsume), and
//! writes local time; aws-mfa marks its sections with `assumed_role` and writes UTC. Unmarked
//! means UTC. credd writes the value back in the zone it was read in.

use chrono::{DateTime, Local, NaiveDateTime, SecondsFormat, TimeZone, Utc};

use super::edit::{Edit, EditError};
use super::parse::Section;
use crate::secret::Secret;

/// Expiry keys in the order credd trusts them. credd itself writes the first.
pub const EXPIRY_KEYS: &[&str] =
    &["x_security_token_expires", "aws_expiration", "aws_session_expiration", "expiration"];

/// What a profile's keys amount to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    /// No access key at all: a role profile, an SSO profile, or a config-only profile.
    Absent,
    /// An AKIA key without a token.
    LongTerm,
    /// An ASIA key with a token (or any key with a token whose prefix we do not know).
    Session,
    Inconsistent(Inconsistency),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inconsistency {
    MissingSecret,
    MissingKeyId,
    /// ASIA keys are only valid with their session token.
    SessionKeyWithoutToken,
    /// AKIA keys are long-term; a token next to one is left over from an old session.
    LongTermKeyWithToken,
}

/// The credential material of a profile. Secret parts are redacted when printed.
#[derive(Clone, Debug)]
pub struct ProfileCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    /// The token SDKs will send: botocore prefers the legacy `aws_security_token` when both exist.
    pub session_token: Option<Secret>,
}

/// A session from STS, ready to be written.
#[derive(Clone, Debug)]
pub struct SessionCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    pub expiration: DateTime<Utc>,
}

/// Where an expiry came from, so messages can say "line 12 of ~/.aws/credentials".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expiry {
    pub at: DateTime<Utc>,
    pub key: &'static str,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExpiryRead {
    None,
    Found(Expiry),
    Invalid { key: &'static str, line: usize },
}

/// The non-empty value of a key, if set.
fn value<'a>(section: &'a Section, key: &str) -> Option<&'a str> {
    section.get(key).filter(|v| !v.is_empty())
}

pub fn credential_kind(section: &Section) -> CredentialKind {
    let key = value(section, "aws_access_key_id");
    let secret = value(section, "aws_secret_access_key");
    let token = value(section, "aws_session_token").or(value(section, "aws_security_token"));
    match (key, secret, token) {
        (None, None, _) => CredentialKind::Absent,
        (None, Some(_), _) => CredentialKind::Inconsistent(Inconsistency::MissingKeyId),
        (Some(_), None, _) => CredentialKind::Inconsistent(Inconsistency::MissingSecret),
        (Some(k), Some(_), None) if k.starts_with("ASIA") => {
            CredentialKind::Inconsistent(Inconsistency::SessionKeyWithoutToken)
        }
        (Some(k), Some(_), Some(_)) if k.starts_with("AKIA") => {
            CredentialKind::Inconsistent(Inconsistency::LongTermKeyWithToken)
        }
        (Some(_), Some(_), None) => CredentialKind::LongTerm,
        (Some(_), Some(_), Some(_)) => CredentialKind::Session,
    }
}

pub fn credentials(section: &Section) -> Option<ProfileCredentials> {
    Some(ProfileCredentials {
        access_key_id: value(section, "aws_access_key_id")?.to_string(),
        secret_access_key: Secret::new(value(section, "aws_secret_access_key")?),
        session_token: value(section, "aws_security_token")
            .or(value(section, "aws_session_token"))
            .map(Secret::new),
    })
}

/// Reads the first expiry key present, in [`EXPIRY_KEYS`] order.
pub fn expiry(section: &Section) -> ExpiryRead {
    for &key in EXPIRY_KEYS {
        let Some(raw) = value(section, key) else {
            continue;
        };
        let line = section.line_of(key).unwrap_or(0);
        let naive_is_local = key == "expiration" && expiration_is_local(section);
        return match parse_timestamp(raw, naive_is_local) {
            Some(at) => ExpiryRead::Found(Expiry { at, key, line }),
            None => ExpiryRead::Invalid { key, line },
        };
    }
    ExpiryRead::None
}

/// Whether a section's offset-less `expiration` is local time: it is when awsume wrote it.
pub fn expiration_is_local(section: &Section) -> bool {
    let awsume = section.get("manager").is_some_and(|m| m.trim().eq_ignore_ascii_case("awsume"));
    awsume || section.get("autoawsume").is_some() || section.get("source_expiration").is_some()
}

/// Parses every timestamp format the field writes. A timestamp without an offset is UTC unless
/// `naive_is_local`.
pub fn parse_timestamp(raw: &str, naive_is_local: bool) -> Option<DateTime<Utc>> {
    let s = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%:z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    let naive_part = s.strip_suffix(['Z', 'z']).unwrap_or(s);
    let zulu = naive_part.len() != s.len();
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(naive_part, fmt) {
            if naive_is_local && !zulu {
                return Local.from_local_datetime(&n).earliest().map(|t| t.with_timezone(&Utc));
            }
            return Some(Utc.from_utc_datetime(&n));
        }
    }
    // Epoch seconds, or milliseconds from tools that think in JavaScript.
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = s.parse().ok()?;
        return if n > 100_000_000_000 {
            Utc.timestamp_millis_opt(n).single()
        } else {
            Utc.timestamp_opt(n, 0).single()
        };
    }
    None
}

/// credd's own expiry format: RFC3339, UTC, whole seconds.
pub fn format_expiry(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Whether an access key is one credd must never overwrite: an `AKIA…` key, or any key that has
/// no session token beside it (except an `ASIA…` one, which is a session whose token was lost).
/// A long-term key that is overwritten is gone for good, so this errs on the side of keeping.
pub fn is_long_term_key(key_id: Option<&str>, has_token: bool) -> bool {
    match key_id.map(str::trim).filter(|k| !k.is_empty()) {
        None => false,
        Some(k) => k.starts_with("AKIA") || (!has_token && !k.starts_with("ASIA")),
    }
}

/// Whether the profile holds a long-term key (see [`is_long_term_key`]).
pub fn holds_long_term_key(section: &Section) -> bool {
    let token = value(section, "aws_session_token").or(value(section, "aws_security_token"));
    is_long_term_key(value(section, "aws_access_key_id"), token.is_some())
}

/// The edits that write `session` into a profile whose current keys are `current`.
///
/// Besides the three credential keys and `x_security_token_expires`, it updates the keys other
/// tools left there, in their own format, so that those tools agree with credd: the legacy
/// `aws_security_token` (botocore reads it first) and any other expiry key.
///
/// It refuses a profile that holds a long-term key, whoever put it there: this is the one
/// function that turns a session into edits of a profile, so no caller can write over one.
pub fn session_edits(
    profile: &str,
    session: &SessionCredentials,
    current: Option<&Section>,
) -> Result<Vec<Edit>, EditError> {
    if current.is_some_and(holds_long_term_key) {
        return Err(EditError::LongTermKey { place: format!("[{profile}]") });
    }
    let token = session.session_token.expose();
    let mut edits = vec![
        Edit::set("aws_access_key_id", &session.access_key_id),
        Edit::set("aws_secret_access_key", session.secret_access_key.expose()),
        Edit::set("aws_session_token", token),
        Edit::set("x_security_token_expires", &format_expiry(session.expiration)),
    ];
    let Some(current) = current else { return Ok(edits) };
    if current.get("aws_security_token").is_some() {
        edits.push(Edit::set("aws_security_token", token));
    }
    let at = session.expiration;
    if current.get("aws_expiration").is_some() {
        edits.push(Edit::set("aws_expiration", &at.to_rfc3339_opts(SecondsFormat::Millis, true)));
    }
    if current.get("aws_session_expiration").is_some() {
        edits.push(Edit::set("aws_session_expiration", &at.format("%Y-%m-%dT%H:%M:%S%z").to_string()));
    }
    if current.get("expiration").is_some() {
        let v = if expiration_is_local(current) {
            at.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S").to_string()
        } else {
            at.format("%Y-%m-%d %H:%M:%S").to_string()
        };
        edits.push(Edit::set("expiration", &v));
    }
    Ok(edits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::parse::{Document, FileKind};
    use std::path::Path;

    /// A section that borrows from a document leaked for the test's sake.
    fn section(body: &str) -> Section<'static> {
        let d = Document::parse(&format!("[p]\n{body}"), FileKind::Credentials, Path::new("t"));
        let d: &'static Document = Box::leak(Box::new(d.unwrap()));
        d.sections().profile("p").unwrap().clone()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn every_writer_format_is_read() {
        let cases = [
            ("x_security_token_expires = 2026-05-01T10:00:00-07:00", "2026-05-01T17:00:00Z"),
            ("x_security_token_expires = 2026-05-01T17:00:00+00:00", "2026-05-01T17:00:00Z"),
            ("x_security_token_expires = 2026-05-01T17:00:00.123456+00:00", "2026-05-01T17:00:00.123456Z"),
            ("x_security_token_expires = 2026-05-01T17:00:00", "2026-05-01T17:00:00Z"),
            ("expiration = 2026-05-01 17:00:00", "2026-05-01T17:00:00Z"),
            ("aws_expiration = 2026-05-01T17:00:00.000Z", "2026-05-01T17:00:00Z"),
            ("aws_session_expiration = 2026-05-01T17:00:00+0000", "2026-05-01T17:00:00Z"),
            ("aws_session_expiration = 2026-05-01T19:00:00+0200", "2026-05-01T17:00:00Z"),
            ("expiration = 1777654800", "2026-05-01T17:00:00Z"),
        ];
        for (body, want) in cases {
            match expiry(&section(body)) {
                ExpiryRead::Found(e) => assert_eq!(e.at, at(want), "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn awsume_expiration_is_local_time() {
        let s = section("expiration = 2026-05-01 17:00:00\nsource_expiration = 2026-05-01 18:00:00");
        let ExpiryRead::Found(e) = expiry(&s) else { panic!() };
        let local = Local.with_ymd_and_hms(2026, 5, 1, 17, 0, 0).unwrap().with_timezone(&Utc);
        assert_eq!(e.at, local);
    }

    #[test]
    fn awsume_output_profiles_are_local_time_and_aws_mfa_is_utc() {
        // `awsume ROLE -o NAME` writes `manager = awsume` and no `source_expiration`.
        let s = section("manager = awsume\nexpiration = 2026-05-01 17:00:00");
        let ExpiryRead::Found(e) = expiry(&s) else { panic!() };
        assert_eq!(e.at, Local.with_ymd_and_hms(2026, 5, 1, 17, 0, 0).unwrap().with_timezone(&Utc));
        let s = section("assumed_role = False\nexpiration = 2026-05-01 17:00:00");
        let ExpiryRead::Found(e) = expiry(&s) else { panic!() };
        assert_eq!(e.at, at("2026-05-01T17:00:00Z"));
        // Written back in the zone it was read in.
        let session = SessionCredentials {
            access_key_id: "ASIANEW".into(),
            secret_access_key: "sec".into(),
            session_token: "tok".into(),
            expiration: at("2026-05-01T17:00:00Z"),
        };
        let edits = session_edits("p", &session, Some(&section("manager = awsume\nexpiration = x"))).unwrap();
        let local = at("2026-05-01T17:00:00Z").with_timezone(&Local).format("%Y-%m-%d %H:%M:%S").to_string();
        let written = edits.iter().find_map(|e| match e {
            Edit::Set(k, v) if k == "expiration" => Some(v.0.clone()),
            _ => None,
        });
        assert_eq!(written, Some(local));
    }

    #[test]
    fn priority_and_invalid_values() {
        let s = section("expiration = 2020-01-01 00:00:00\nx_security_token_expires = 2026-05-01T17:00:00Z");
        let ExpiryRead::Found(e) = expiry(&s) else { panic!() };
        assert_eq!((e.key, e.line), ("x_security_token_expires", 3));
        assert_eq!(
            expiry(&section("aws_expiration = tomorrow")),
            ExpiryRead::Invalid { key: "aws_expiration", line: 2 }
        );
        assert_eq!(expiry(&section("region = x")), ExpiryRead::None);
    }

    #[test]
    fn kinds() {
        use CredentialKind::*;
        use Inconsistency::*;
        let k = |b| credential_kind(&section(b));
        assert_eq!(k("region = x"), Absent);
        assert_eq!(k("aws_access_key_id = AKIAX\naws_secret_access_key = s"), LongTerm);
        assert_eq!(k("aws_access_key_id = ASIAX\naws_secret_access_key = s\naws_session_token = t"), Session);
        assert_eq!(
            k("aws_access_key_id = ASIAX\naws_secret_access_key = s\naws_security_token = t"),
            Session
        );
        assert_eq!(
            k("aws_access_key_id = ASIAX\naws_secret_access_key = s"),
            Inconsistent(SessionKeyWithoutToken)
        );
        assert_eq!(
            k("aws_access_key_id = AKIAX\naws_secret_access_key = s\naws_session_token = t"),
            Inconsistent(LongTermKeyWithToken)
        );
        assert_eq!(k("aws_access_key_id = AKIAX"), Inconsistent(MissingSecret));
        assert_eq!(k("aws_secret_access_key = s"), Inconsistent(MissingKeyId));
    }

    #[test]
    fn legacy_token_wins_like_botocore() {
        let s = section(
            "aws_access_key_id = ASIAX\naws_secret_access_key = s\naws_session_token = new\naws_security_token = old",
        );
        assert_eq!(credentials(&s).unwrap().session_token.unwrap().expose(), "old");
    }

    #[test]
    fn session_edits_update_foreign_keys_in_their_format() {
        let s =
            section("aws_security_token = t\nexpiration = 2020-01-01 00:00:00\naws_session_expiration = x");
        let session = SessionCredentials {
            access_key_id: "ASIANEW".into(),
            secret_access_key: "sec".into(),
            session_token: "tok".into(),
            expiration: at("2026-05-01T17:00:00Z"),
        };
        let mut d = Document::parse(
            "[p]\naws_security_token = t\nexpiration = 2020-01-01 00:00:00\naws_session_expiration = x\n",
            FileKind::Credentials,
            Path::new("t"),
        )
        .unwrap();
        d.edit_profile("p", &session_edits("p", &session, Some(&s)).unwrap()).unwrap();
        let p = d.sections().profile("p").unwrap().clone();
        assert_eq!(p.get("aws_security_token"), Some("tok"));
        assert_eq!(p.get("aws_session_token"), Some("tok"));
        assert_eq!(p.get("expiration"), Some("2026-05-01 17:00:00"));
        assert_eq!(p.get("aws_session_expiration"), Some("2026-05-01T17:00:00+0000"));
        assert_eq!(p.get("x_security_token_expires"), Some("2026-05-01T17:00:00Z"));
        assert_eq!(credential_kind(&p), CredentialKind::Session);
    }
}
