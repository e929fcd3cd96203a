//! credd reads exactly the profiles aws-config reads: for a corpus of real-world files and for
//! thousands of generated ones. This is the contract that lets credd edit files the SDKs read.

mod common;

use std::path::Path;

use common::filegen;
use common::reference::compare;
use proptest::test_runner::{Config, TestRunner};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");

fn cases() -> u32 {
    std::env::var("CREDD_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000)
}

#[test]
fn corpus_agrees_with_aws_config() {
    let mut checked = 0;
    for entry in std::fs::read_dir(CORPUS).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let (config, credentials) = match path.extension().and_then(|e| e.to_str()) {
            Some("config") => (text.as_str(), ""),
            Some("credentials") => ("", text.as_str()),
            _ => continue,
        };
        let parsed =
            compare(config, credentials, filegen::KEYS).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(parsed, "{}: corpus files must parse", path.display());
        checked += 1;
    }
    assert!(checked >= 9, "corpus went missing: {checked} files");
    eprintln!("corpus: {checked} files agree with aws-config");
}

#[test]
fn corpus_pairs_merge_like_aws_config() {
    // The credentials file layered over the config file, as SDKs do.
    let config = std::fs::read_to_string(Path::new(CORPUS).join("aws-configure.config")).unwrap();
    for creds in ["aws-configure.credentials", "aws-mfa.credentials", "saml2aws.credentials"] {
        let credentials = std::fs::read_to_string(Path::new(CORPUS).join(creds)).unwrap();
        assert!(compare(&config, &credentials, filegen::KEYS).unwrap(), "{creds}");
    }
}

#[test]
fn generated_files_agree_with_aws_config() {
    let parsed = std::cell::Cell::new(0u32);
    let rejected = std::cell::Cell::new(0u32);
    let check = |(config, credentials): (String, String)| {
        match compare(&config, &credentials, filegen::KEYS) {
            Ok(true) => parsed.set(parsed.get() + 1),
            Ok(false) => rejected.set(rejected.get() + 1),
            Err(e) => return Err(proptest::test_runner::TestCaseError::fail(e)),
        }
        Ok(())
    };
    // Anything goes (many files are rejected, by both readers)...
    let anything = (filegen::file(filegen::CONFIG_HEADERS), filegen::file(filegen::CREDENTIAL_HEADERS));
    TestRunner::new(Config { cases: cases(), ..Config::default() }).run(&anything, check).unwrap();
    // ...and files that start with a header, so most parse and the values are compared.
    let mostly_valid = (
        filegen::mostly_valid_file(filegen::CONFIG_HEADERS),
        filegen::mostly_valid_file(filegen::CREDENTIAL_HEADERS),
    );
    TestRunner::new(Config { cases: cases(), ..Config::default() }).run(&mostly_valid, check).unwrap();
    let (p, r) = (parsed.get(), rejected.get());
    eprintln!(
        "agreement with aws-config: {} generated file pairs ({p} read identically, {r} rejected by both)",
        p + r
    );
    // The generator must exercise both sides, or this test proves nothing.
    assert!(p * 5 > p + r && r * 5 > p + r, "generator is lopsided: {p} parsed, {r} rejected");
}

#[test]
fn bom_is_skipped_and_kept() {
    // aws-config rejects a BOM; credd reads past it (and writes it back, see the edit tests).
    let text = "\u{feff}[dev]\nregion = x\n";
    let doc =
        credd::profile::Document::parse(text, credd::profile::FileKind::Credentials, Path::new("c")).unwrap();
    assert_eq!(doc.sections().profile("dev").unwrap().get("region"), Some("x"));
    assert_eq!(doc.render(), text.as_bytes());
}
