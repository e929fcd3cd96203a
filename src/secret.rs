//! The redacting wrapper for secret material (secret access keys, session tokens).
//!
//! A `Secret` can only be read through [`Secret::expose`], so every place that lets a secret out of
//! the process is greppable. Its `Debug` and `Display` print a fixed placeholder, which keeps secrets
//! out of logs, errors, panics and the socket even when a struct holding one is printed whole.
//! Access key IDs are not secret, but [`short_key_id`] shortens them for places a human reads.

use std::fmt;

/// A secret string. Compare and clone freely; print it and you get `<redacted>`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(Box<str>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into().into_boxed_str())
    }

    /// The only way to read the value. Call it at the last moment: when handing it to the SDK or
    /// rendering it into a file the user asked us to write.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

/// `AKIAIOSFODNN7EXAMPLE` → `AKIA…MPLE`. Key IDs identify a key without granting anything, but
/// showing them whole in notifications invites copy-paste into tickets; four and four is enough to
/// tell keys apart.
pub fn short_key_id(key_id: &str) -> String {
    let chars: Vec<char> = key_id.chars().collect();
    if chars.len() <= 8 {
        return key_id.to_string();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// Keys whose values are secret in the AWS shared files. Debug output of a profile redacts these.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.contains("secret") || key.contains("token") || key.contains("password")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{s}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret(<redacted>))");
        assert_eq!(s.expose(), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    }

    #[test]
    fn key_ids_are_shortened() {
        assert_eq!(short_key_id("AKIAIOSFODNN7EXAMPLE"), "AKIA…MPLE");
        assert_eq!(short_key_id("AKIA"), "AKIA");
    }

    #[test]
    fn secret_keys_are_recognised() {
        assert!(is_secret_key("aws_secret_access_key"));
        assert!(is_secret_key("AWS_SESSION_TOKEN"));
        assert!(is_secret_key("aws_security_token"));
        assert!(!is_secret_key("aws_access_key_id"));
        assert!(!is_secret_key("region"));
    }
}
