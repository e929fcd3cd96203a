//! The keyring verbs on an in-memory keyring and real files in a temp dir.

use super::*;

#[test]
fn only_the_line_import_writes_counts_as_ours() {
    assert!(is_ours("/home/u/.cargo/bin/credd credential-process work", "work"));
    assert!(is_ours("credd  credential-process work", "work"));
    for other in [
        "credd credential-process other",
        "credd credential-process work --min-ttl 1h",
        "aws-vault exec work --json",
        "/opt/notcredd credential-process work",
    ] {
        assert!(!is_ours(other, "work"), "{other}");
    }
}

use crate::keyring::memory::Memory;
use crate::secret::Secret;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// A temp dir with the two AWS files, and an in-memory keyring.
struct Fixture {
    _dir: tempfile::TempDir,
    files: AwsFiles,
    ring: Memory,
}

impl Fixture {
    fn new(credentials: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let files =
            AwsFiles { config: dir.path().join("config"), credentials: dir.path().join("credentials") };
        std::fs::write(&files.credentials, credentials).unwrap();
        Fixture { _dir: dir, files, ring: Memory::default() }
    }

    fn credentials(&self) -> String {
        std::fs::read_to_string(&self.files.credentials).unwrap()
    }

    fn held(&self, profile: &str) -> Option<LongTermKey> {
        self.ring.items.lock().unwrap().get(profile).cloned()
    }

    fn import(&self, profile: &str) -> Result<(), String> {
        message(runtime().unwrap().block_on(import(&self.ring, &self.files, profile, false)))
    }

    fn export(&self, profile: &str) -> Result<(), String> {
        message(runtime().unwrap().block_on(export(&self.ring, &self.files, profile)))
    }

    fn remove(&self, profile: &str) -> Result<(), String> {
        message(runtime().unwrap().block_on(remove(&self.ring, &self.files, profile, false)))
    }
}

fn message(r: Result<(), Failure>) -> Result<(), String> {
    r.map_err(|f| match f {
        Failure::Failed(Some(m)) => m,
        other => panic!("{other:?}"),
    })
}

fn key(id: &str) -> LongTermKey {
    LongTermKey { access_key_id: id.into(), secret_access_key: Secret::new(SECRET) }
}

/// `import` refused with `code`, and neither the file nor the keyring changed.
fn refused(text: &str, profile: &str, code: crate::finding::Code) -> String {
    let f = Fixture::new(text);
    let err = f.import(profile).expect_err("refused");
    assert!(err.contains(&format!("[{code}]")), "{err}");
    assert!(err.contains("fix: "), "{err}");
    assert_eq!(f.credentials(), text);
    assert!(f.ring.items.lock().unwrap().is_empty());
    err
}

#[test]
fn issue25_an_indented_comment_under_a_key_is_refused_as_doctor_does() {
    use crate::finding::Code;
    let text = format!(
        "[comm]\naws_access_key_id=AKIACOMMCOMMCOMM0002\n   # indented comment\naws_secret_access_key={SECRET}\n"
    );
    refused(&text, "comm", Code::KeyWhitespace);
    // An inline comment: aws-config cuts it, botocore reads it as part of the key.
    let text =
        format!("[c]\naws_access_key_id = AKIACOMMCOMMCOMM0002  # mine\naws_secret_access_key = {SECRET}\n");
    refused(&text, "c", Code::KeyWhitespace);
}

#[test]
fn issue25_a_repeated_section_or_key_is_refused_and_both_pairs_stay() {
    use crate::finding::Code;
    let text = format!(
        "[dup]\naws_access_key_id = AKIADUPDUPDUPDUP0001\naws_secret_access_key = {SECRET}\n[other]\nregion = x\n[dup]\naws_access_key_id = AKIADUPDUPDUPDUP0002\naws_secret_access_key = {SECRET}\n"
    );
    let err = refused(&text, "dup", Code::SectionRepeated);
    assert!(err.contains("line 6"), "{err}");
    let text = format!(
        "[dup]\naws_access_key_id = AKIADUPDUPDUPDUP0001\naws_access_key_id = AKIADUPDUPDUPDUP0002\naws_secret_access_key = {SECRET}\n"
    );
    refused(&text, "dup", Code::KeyRepeated);
}

#[test]
fn issue25_import_speaks_doctors_codes() {
    use crate::finding::Code;
    let text =
        format!("[profile x]\naws_access_key_id = AKIAXXXXXXXXXXXX0001\naws_secret_access_key = {SECRET}\n");
    refused(&text, "x", Code::ProfilePrefixInCredentials);
    let text = format!(
        "[t]\naws_access_key_id = AKIAXXXXXXXXXXXX0001\naws_secret_access_key = {SECRET}\naws_session_token = old\n"
    );
    refused(&text, "t", Code::SessionTokenUnexpected);
}

#[test]
fn issue25_a_second_import_never_overwrites_the_keyrings_only_copy() {
    let f = Fixture::new(&format!(
        "[work]\naws_access_key_id = AKIAWORKWORKWORK0001\naws_secret_access_key = {SECRET}\n"
    ));
    f.import("work").unwrap();
    let second =
        format!("[work]\naws_access_key_id = AKIAWORKWORKWORK0002\naws_secret_access_key = {SECRET}\n");
    std::fs::write(&f.files.credentials, &second).unwrap();
    let err = f.import("work").expect_err("refused");
    assert!(err.contains("already holds another key"), "{err}");
    assert_eq!(f.held("work"), Some(key("AKIAWORKWORKWORK0001")));
    assert_eq!(f.credentials(), second);
}

#[test]
fn issue25_export_and_remove_refusals_never_send_you_to_each_other() {
    let text =
        format!("[work]\naws_access_key_id = AKIAWORKWORKWORK0002\naws_secret_access_key = {SECRET}\n");
    let f = Fixture::new(&text);
    f.ring.items.lock().unwrap().insert("work".into(), key("AKIAWORKWORKWORK0001"));
    let export_err = f.export("work").expect_err("refused");
    let remove_err = f.remove("work").expect_err("refused");
    // Each says the way out that the other verb does not refuse.
    assert!(export_err.contains("`credd keyring remove work --force`"), "{export_err}");
    assert!(!remove_err.contains("export work` first"), "{remove_err}");
    assert!(remove_err.contains("--force") && remove_err.contains("move [work]'s key lines"), "{remove_err}");
    assert_eq!(f.credentials(), text);
    assert_eq!(f.held("work"), Some(key("AKIAWORKWORKWORK0001")));
}

#[test]
fn issue25_a_crlf_file_comes_back_byte_for_byte() {
    let text = format!(
        "# mine\r\n[work]\r\nregion = x\r\naws_access_key_id = AKIAWORKWORKWORK0001\r\naws_secret_access_key = {SECRET}\r\n\r\n[b]\r\nk = 1\r\n"
    );
    let f = Fixture::new(&text);
    f.import("work").unwrap();
    let imported = f.credentials();
    assert!(!imported.replace("\r\n", "").contains('\n'), "{imported:?}");
    f.export("work").unwrap();
    assert_eq!(f.credentials(), text);
}

#[test]
fn issue25_list_shows_a_line_break_in_a_key_id_escaped() {
    let held = [keyring::Held { profile: "comm".into(), access_key_id: Some("AKIA0002\n# c".into()) }];
    let shown = table(&held, &["comm"]);
    assert_eq!(shown.lines().count(), 2, "{shown}");
    assert!(shown.contains("AKIA0002\\n# c"), "{shown}");
}
