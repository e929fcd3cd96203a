//! A proptest generator of AWS shared files, biased towards the constructs that trip parsers:
//! comments with and without whitespace, continuations, sub-properties, CRLF, repeated sections,
//! case, odd spacing, invalid names and lines that must be rejected.
//!
//! Each header string maps to a distinct section, so files never contain two spellings of one
//! section: for those aws-config's merge order is a HashMap's, i.e. random, and no reader can
//! agree with it.

use proptest::prelude::*;

pub const KEYS: &[&str] = &[
    "aws_access_key_id",
    "AWS_Secret_Access_Key",
    "aws_session_token",
    "region",
    "s3",
    "x_security_token_expires",
    "k.y",
    "bad key",
    "Role_Arn",
];

pub const CREDENTIAL_HEADERS: &[&str] = &[
    "[default]",
    "[dev]",
    "[ Prod ]",
    "[profile x]",
    "[a-b.c@d]",
    "[bad name]",
    "[dev-long-term] # c",
    "[Dev];c",
];

pub const CONFIG_HEADERS: &[&str] = &[
    "[default]",
    "[profile default]",
    "[profile dev]",
    "[profile\tProd ]",
    "[sso-session s1]",
    "[services svc]",
    "[loose]",
    "[profile bad name]",
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9/+=]{1,24}",
        Just(String::new()),
        Just("value#not-comment".to_string()),
        Just("value # comment".to_string()),
        Just("value\t; comment".to_string()),
        Just("a=b=c".to_string()),
        Just("  spaced   ".to_string()),
        Just("ünï\u{a0}code".to_string()),
        Just("2026-05-01T17:00:00Z".to_string()),
    ]
}

fn line(headers: &'static [&'static str]) -> impl Strategy<Value = String> {
    let key = prop::sample::select(KEYS);
    prop_oneof![
        20 => (key.clone(), value(), prop::sample::select(&[" = ", "=", "  =\t", " ="][..]))
            .prop_map(|(k, v, eq)| format!("{k}{eq}{v}")),
        8 => prop::sample::select(headers).prop_map(str::to_string),
        5 => prop::sample::select(&["", "  ", "\t"][..]).prop_map(str::to_string),
        5 => prop::sample::select(&["# comment", "; comment", "#", ";;", "#[dev]"][..])
            .prop_map(str::to_string),
        // A property with its continuation or sub-property lines.
        4 => (key.clone(), prop_oneof![Just(String::new()), Just("first".to_string())],
              prop::collection::vec((prop::sample::select(&["  ", "\t", " "][..]), prop_oneof![
                  Just("sub = 1".to_string()),
                  Just("continued text".to_string()),
                  Just("other=2 # c".to_string()),
                  Just("# looks like a comment".to_string()),
              ]), 1..4))
            .prop_map(|(k, v, conts)| {
                let mut out = format!("{k} = {v}");
                for (ws, t) in conts {
                    // Under an empty value every indented line must be a sub-property; mostly
                    // keep it that way so that most files parse.
                    let t = if v.is_empty() && !t.contains('=') { "sub = 3".to_string() } else { t };
                    out.push('\n');
                    out.push_str(ws);
                    out.push_str(&t);
                }
                out
            }),
        // A stray indented line: valid only right after a property.
        1 => prop::sample::select(&["  continued", "\tsub = 2"][..]).prop_map(str::to_string),
        1 => prop::sample::select(&["nonsense", "= novalue", "[unterminated", "  [indented]"][..])
            .prop_map(str::to_string),
    ]
}

/// A whole file: lines, each with LF or CRLF, optionally without a final newline.
pub fn file(headers: &'static [&'static str]) -> impl Strategy<Value = String> {
    (prop::collection::vec((line(headers), prop::bool::weighted(0.2)), 0..30), any::<bool>()).prop_map(
        |(lines, final_newline)| {
            let mut out = String::new();
            let n = lines.len();
            for (i, (l, crlf)) in lines.into_iter().enumerate() {
                out.push_str(&l);
                if i + 1 < n || final_newline {
                    out.push_str(if crlf { "\r\n" } else { "\n" });
                }
            }
            out
        },
    )
}

/// A file that starts with a header, so most generated files parse.
pub fn mostly_valid_file(headers: &'static [&'static str]) -> impl Strategy<Value = String> {
    (prop::sample::select(headers), file(headers)).prop_map(|(h, rest)| format!("{h}\n{rest}"))
}
