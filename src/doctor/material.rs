//! The key material of one credential set, wherever it came from (the environment or a profile):
//! stray characters, a key ID or secret of the wrong shape, a session token missing or left over,
//! half a pair. Pure, and it never echoes a secret: key IDs appear shortened.
//!
//! Which credential sets there are, and how the user sets each one again, is `checks.rs`'s.

use std::collections::HashSet;

use super::{Finding, Severity, Source};
use crate::finding::Code;
use crate::secret::short_key_id;

/// The key material of one credential set.
pub(super) struct Material<'a> {
    pub(super) key_id: Option<&'a str>,
    pub(super) secret: Option<&'a str>,
    pub(super) token: Option<&'a str>,
    pub(super) legacy_token: Option<&'a str>,
}

/// What is wrong with a key, secret or token's characters, if anything. Never echoes the value.
pub fn material_problem(v: &str) -> Option<String> {
    if v != v.trim() {
        return Some("has leading or trailing whitespace".into());
    }
    if v.starts_with(['"', '\'']) || v.ends_with(['"', '\'']) {
        return Some("is wrapped in quotes".into());
    }
    if let Some(pos) = v.chars().position(char::is_whitespace) {
        return Some(format!("has whitespace inside it (character {})", pos + 1));
    }
    if let Some((pos, c)) = v.chars().enumerate().find(|(_, c)| !c.is_ascii() || c.is_ascii_control()) {
        return Some(format!(
            "has an invisible or non-ASCII character U+{:04X} at character {}",
            c as u32,
            pos + 1
        ));
    }
    None
}

fn key_id_ok(k: &str) -> bool {
    k.len() == 20
        && (k.starts_with("AKIA") || k.starts_with("ASIA"))
        && k[4..].bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Where a credential set was found, and how the user sets it again: every finding about it
/// names both.
struct Place<'a> {
    profile: Option<&'a str>,
    source: Source,
    how_to_set: &'a str,
}

impl Place<'_> {
    fn error(&self, code: Code, message: String, fix: String) -> Finding {
        Finding::new(code, Severity::Error, self.profile, self.source, message, fix)
    }
}

/// Every problem with `m`, found in `source` (for `profile`); `how_to_set` is the command that
/// sets it again.
pub(super) fn check_material(
    m: &Material,
    profile: Option<&str>,
    source: Source,
    how_to_set: &str,
    out: &mut Vec<Finding>,
) {
    let place = Place { profile, source, how_to_set };
    let bad = characters(m, &place, out);
    shapes(m, &bad, &place, out);
    tokens(m, &place, out);
    pair(m, &place, out);
}

/// Stray characters in the key ID, secret or token; returns which ones have them, whose shape
/// is then not worth a second finding.
fn characters(m: &Material, place: &Place, out: &mut Vec<Finding>) -> HashSet<&'static str> {
    let mut bad = HashSet::new();
    for (what, v) in
        [("access key ID", m.key_id), ("secret access key", m.secret), ("session token", m.token)]
    {
        let Some(v) = v else { continue };
        if let Some(problem) = material_problem(v) {
            bad.insert(what);
            out.push(place.error(
                Code::KeyWhitespace,
                format!("the {what} {problem}; STS sees those characters as part of the key"),
                format!("re-enter it exactly as issued: {}", place.how_to_set),
            ));
        }
    }
    bad
}

/// A key ID or secret that is not the shape AWS issues.
fn shapes(m: &Material, bad: &HashSet<&str>, place: &Place, out: &mut Vec<Finding>) {
    let how_to_set = place.how_to_set;
    if let Some(k) = m.key_id
        && !bad.contains("access key ID")
        && !key_id_ok(k)
    {
        out.push(place.error(
            Code::KeyFormat,
            format!(
                "the access key ID {} is not AKIA or ASIA followed by 16 capitals and digits",
                short_key_id(k)
            ),
            format!("copy the key ID again from the IAM console: {how_to_set}"),
        ));
    }
    if let Some(s) = m.secret
        && !bad.contains("secret access key")
        && s.len() != 40
    {
        out.push(place.error(
            Code::KeyFormat,
            format!("the secret access key is {} characters long; AWS secrets have 40", s.len()),
            format!(
                "copy the secret again (it is shown only once; create a new key if you lost it): {how_to_set}"
            ),
        ));
    }
}

/// A session token that the key needs and lacks, or does not take, or that disagrees with the
/// legacy one.
fn tokens(m: &Material, place: &Place, out: &mut Vec<Finding>) {
    let key = m.key_id.unwrap_or_default();
    let any_token = m.token.or(m.legacy_token);
    if key.starts_with("ASIA") && any_token.is_none() {
        out.push(place.error(
            Code::SessionTokenMissing,
            format!(
                "{} is a temporary key (ASIA…) but there is no session token beside it",
                short_key_id(key)
            ),
            "set the session token that was issued with the key, or get a new session".into(),
        ));
    }
    if key.starts_with("AKIA") && any_token.is_some() {
        out.push(place.error(
            Code::SessionTokenUnexpected,
            format!(
                "{} is a long-term key (AKIA…) but a session token is set too; STS rejects the pair",
                short_key_id(key)
            ),
            "remove the leftover session token".into(),
        ));
    }
    if let (Some(t), Some(l)) = (m.token, m.legacy_token)
        && t != l
    {
        out.push(place.error(
            Code::LegacyTokenConflict,
            "the legacy security token differs from the session token, and botocore (the aws CLI, boto3) sends the legacy one".into(),
            match place.source {
                Source::Env => "unset AWS_SECURITY_TOKEN, or set it to AWS_SESSION_TOKEN's value".into(),
                _ => "remove aws_security_token from the profile, or make it equal aws_session_token".into(),
            },
        ));
    }
}

/// A key ID without its secret, or the other way round.
fn pair(m: &Material, place: &Place, out: &mut Vec<Finding>) {
    if let (Some(_), None) | (None, Some(_)) = (m.key_id, m.secret) {
        let (have, missing) =
            if m.key_id.is_some() { ("access key ID", "secret") } else { ("secret", "access key ID") };
        let code = if place.source == Source::Env { Code::EnvPartial } else { Code::KeyIncomplete };
        out.push(place.error(
            code,
            format!("an {have} is set without its {missing}"),
            format!("set both, or neither: {}", place.how_to_set),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_the_character_and_never_echo_the_value() {
        const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        assert!(material_problem("abc def").unwrap().contains("character 4"));
        assert!(!material_problem(&format!("{SECRET}\u{a0}")).unwrap().contains(SECRET));
    }
}
