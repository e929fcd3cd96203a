//! What each session `method` makes of the `[[session]]` keys: which it requires, which it refuses
//! (with why, and the fix), and how long STS lets its sessions last. One row per method, so a new
//! method is one more row, and reviewing a method is reading its row.
//!
//! This file holds the table only. `load.rs` applies it, and checks the format of each value (is
//! it an ARN, a region) alike for every method.

use std::time::Duration;

use super::Method;

/// A `[[session]]` key that some method requires or refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Key {
    RoleArn,
    ExternalId,
    RoleSessionName,
    MfaSerial,
    MfaCommand,
    Duration,
}

impl Key {
    /// The key as written in `config.toml`.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Key::RoleArn => "role_arn",
            Key::ExternalId => "external_id",
            Key::RoleSessionName => "role_session_name",
            Key::MfaSerial => "mfa_serial",
            Key::MfaCommand => "mfa_command",
            Key::Duration => "duration",
        }
    }
}

/// What a method makes of a key it does not simply accept.
pub(super) enum Rule {
    /// The session must set it; the message is reported at the `[[session]]` table.
    Required(&'static str),
    /// The session must not set it; reported at the key, with the fix when there is one.
    Refused { why: &'static str, fix: Option<&'static str> },
}

/// One method's row.
pub(super) struct MethodRules {
    pub(super) method: Method,
    /// The keys it requires or refuses, in the order their errors are reported. Every other key
    /// is accepted.
    pub(super) keys: &'static [(Key, Rule)],
    /// The durations STS accepts (role chaining narrows it further; see `sessions.rs`).
    pub(super) duration: (Duration, Duration),
}

impl MethodRules {
    pub(super) fn refuses(&self, key: Key) -> bool {
        self.keys.iter().any(|(k, rule)| *k == key && matches!(rule, Rule::Refused { .. }))
    }
}

const MINUTE: u64 = 60;
const HOUR: u64 = 3600;
const ONLY_ASSUME_ROLE: Rule = Rule::Refused { why: "only assume-role sessions take this key", fix: None };
const FROM_IDENTITY_CENTER: Rule = Rule::Refused {
    why: "sso sessions take this from IAM Identity Center (the permission set), not from credd",
    fix: None,
};

const ASSUME_ROLE: MethodRules = MethodRules {
    method: Method::AssumeRole,
    keys: &[(Key::RoleArn, Rule::Required("assume-role sessions need a role_arn"))],
    duration: (Duration::from_secs(15 * MINUTE), Duration::from_secs(12 * HOUR)),
};

const SESSION_TOKEN: MethodRules = MethodRules {
    method: Method::SessionToken,
    keys: &[
        (
            Key::RoleArn,
            Rule::Refused {
                why: "session-token sessions do not assume a role",
                fix: Some("use method = \"assume-role\", or remove role_arn"),
            },
        ),
        (Key::ExternalId, ONLY_ASSUME_ROLE),
        (Key::RoleSessionName, ONLY_ASSUME_ROLE),
    ],
    duration: (Duration::from_secs(15 * MINUTE), Duration::from_secs(36 * HOUR)),
};

const SSO: MethodRules = MethodRules {
    method: Method::Sso,
    keys: &[
        (
            Key::RoleArn,
            Rule::Refused {
                why: "sso sessions get the role of their SSO profile (sso_role_name)",
                fix: Some(
                    "use method = \"assume-role\" with the SSO profile as source_profile to assume another role",
                ),
            },
        ),
        (Key::ExternalId, FROM_IDENTITY_CENTER),
        (Key::RoleSessionName, FROM_IDENTITY_CENTER),
        (Key::MfaSerial, FROM_IDENTITY_CENTER),
        (Key::MfaCommand, FROM_IDENTITY_CENTER),
        (Key::Duration, FROM_IDENTITY_CENTER),
    ],
    duration: (Duration::from_secs(15 * MINUTE), Duration::from_secs(12 * HOUR)),
};

const FROM_SIGN_IN: Rule = Rule::Refused {
    why: "login sessions take this from the sign-in service (`aws login`), not from credd",
    fix: None,
};

const LOGIN: MethodRules = MethodRules {
    method: Method::Login,
    keys: &[
        (
            Key::RoleArn,
            Rule::Refused {
                why: "login sessions serve the identity that ran `aws login`",
                fix: Some(
                    "use method = \"assume-role\" with the login profile as source_profile to assume a role",
                ),
            },
        ),
        (Key::ExternalId, FROM_SIGN_IN),
        (Key::RoleSessionName, FROM_SIGN_IN),
        (Key::MfaSerial, FROM_SIGN_IN),
        (Key::MfaCommand, FROM_SIGN_IN),
        (Key::Duration, FROM_SIGN_IN),
    ],
    duration: (Duration::from_secs(15 * MINUTE), Duration::from_secs(15 * MINUTE)),
};

/// Every method, in the order an unknown `method` lists them.
pub(super) const METHODS: [&MethodRules; 4] = [&ASSUME_ROLE, &SESSION_TOKEN, &SSO, &LOGIN];

/// `method`'s row.
pub(super) fn of(method: Method) -> &'static MethodRules {
    match method {
        Method::AssumeRole => &ASSUME_ROLE,
        Method::SessionToken => &SESSION_TOKEN,
        Method::Sso => &SSO,
        Method::Login => &LOGIN,
    }
}
