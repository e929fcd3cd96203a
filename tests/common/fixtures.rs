//! Small builders for the files the end-to-end tests start from.

use chrono::Utc;

/// A source profile with long-term keys.
pub const BASE: &str = "[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";

/// RFC3339 UTC, `mins` from now (negative: in the past).
pub fn at(mins: i64) -> String {
    (Utc::now() + chrono::Duration::minutes(mins)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A session profile expiring in `mins`, whose secret and token are `secret` (a canary).
pub fn session(name: &str, mins: i64, secret: &str) -> String {
    format!(
        "[{name}]\naws_access_key_id = ASIAOLD0000000000000\naws_secret_access_key = {secret}\naws_session_token = {secret}\nx_security_token_expires = {}\n",
        at(mins)
    )
}

/// An assume-role `[[session]]` from `base`, with `extra` lines appended.
pub fn managed(name: &str, extra: &str) -> String {
    format!(
        "[[session]]\nname = \"{name}\"\nmethod = \"assume-role\"\nsource_profile = \"base\"\nrole_arn = \"arn:aws:iam::123456789012:role/{name}\"\n{extra}"
    )
}
