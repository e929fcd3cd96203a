//! Random files plus random edits: every byte outside the edited keys' own lines stays identical,
//! the edited keys read back as set (by credd and by aws-config), and nothing else changes.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::filegen;
use common::reference::compare;
use credd::profile::{Document, Edit, FileKind};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

const PROFILES: &[&str] = &["default", "dev", "Prod", "x", "new-one", "a-b.c@d", "Dev"];
const MANAGED: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
    "x_security_token_expires",
    "region",
    "s3",
];

fn cases() -> u32 {
    std::env::var("CREDD_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000)
}

fn edits() -> impl Strategy<Value = Vec<(String, Option<String>)>> {
    prop::collection::vec(
        (
            prop::sample::select(MANAGED).prop_map(str::to_string),
            prop::option::weighted(0.8, "[A-Za-z0-9/+=]{1,40}"),
        ),
        1..5,
    )
}

fn check(
    kind: FileKind,
    text: &str,
    profile: &str,
    raw: &[(String, Option<String>)],
) -> Result<u32, TestCaseError> {
    let Ok(before) = Document::parse(text, kind, Path::new("f")) else {
        return Ok(0);
    };
    let edits: Vec<Edit> = raw.iter().map(|(k, v)| Edit::set_or_remove(k, v.as_deref())).collect();
    let mut after = before.clone();
    if let Err(e) = after.edit_profile(profile, &edits) {
        return Err(TestCaseError::fail(format!("edit refused: {e}")));
    }
    let keys: BTreeSet<String> = raw.iter().map(|(k, _)| k.clone()).collect();
    credd::invariants::edit_is_local(&before, &after, profile, &keys).map_err(TestCaseError::fail)?;
    // The edited keys read back as set; the last edit of a key wins.
    let mut want: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    for (k, v) in raw {
        want.insert(k, v.as_deref());
    }
    let sections = after.sections();
    for (k, v) in &want {
        let got = sections.profile(profile).and_then(|p| p.get(k));
        prop_assert_eq!(got, *v, "key {}", k);
    }
    // And aws-config reads the result exactly as credd does.
    let rendered = String::from_utf8(after.render()).unwrap();
    let (config, creds) = match kind {
        FileKind::Config => (rendered.as_str(), ""),
        FileKind::Credentials => ("", rendered.as_str()),
    };
    let bom_free = !rendered.starts_with('\u{feff}');
    if bom_free {
        compare(config, creds, MANAGED).map_err(TestCaseError::fail)?;
    }
    Ok(raw.len() as u32)
}

fn run(kind: FileKind, headers: &'static [&'static str]) -> (u32, u32) {
    let mut runner = TestRunner::new(Config { cases: cases(), ..Config::default() });
    let files = std::cell::Cell::new(0u32);
    let applied = std::cell::Cell::new(0u32);
    let strategy =
        (filegen::mostly_valid_file(headers), prop::sample::select(PROFILES), edits(), any::<bool>());
    runner
        .run(&strategy, |(text, profile, raw, bom)| {
            let text = if bom { format!("\u{feff}{text}") } else { text };
            let n = check(kind, &text, profile, &raw)?;
            if n > 0 {
                files.set(files.get() + 1);
                applied.set(applied.get() + n);
            }
            Ok(())
        })
        .unwrap();
    (files.get(), applied.get())
}

#[test]
fn random_edits_keep_every_other_byte() {
    let (f1, e1) = run(FileKind::Credentials, filegen::CREDENTIAL_HEADERS);
    let (f2, e2) = run(FileKind::Config, filegen::CONFIG_HEADERS);
    eprintln!(
        "edits: {} random edits on {} generated files kept every untouched byte identical",
        e1 + e2,
        f1 + f2
    );
    assert!(f1 * 3 > cases() && f2 * 3 > cases(), "too few files parsed: {f1}, {f2}");
}

#[test]
fn corpus_edits_keep_every_other_byte() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let kind = match path.extension().and_then(|e| e.to_str()) {
            Some("config") => FileKind::Config,
            Some("credentials") => FileKind::Credentials,
            _ => continue,
        };
        let text = std::fs::read_to_string(&path).unwrap();
        for profile in ["default", "dev", "saml", "new-one", "spaced"] {
            let raw = vec![
                ("aws_session_token".to_string(), Some("NEWTOKEN".to_string())),
                ("aws_access_key_id".to_string(), Some("ASIANEW".to_string())),
                ("region".to_string(), None),
            ];
            check(kind, &text, profile, &raw).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}
