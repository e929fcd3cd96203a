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
    let err = refused(&text, "dup", Code::SectionDuplicated);
    assert!(err.contains("credentials:6:") && err.contains("line 1"), "{err}");
    let text = format!(
        "[dup]\naws_access_key_id = AKIADUPDUPDUPDUP0001\naws_access_key_id = AKIADUPDUPDUPDUP0002\naws_secret_access_key = {SECRET}\n"
    );
    refused(&text, "dup", Code::KeyDuplicated);
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
        "# mine\r\n[b]\r\nk = 1\r\n[work]\r\naws_access_key_id=AKIAWORKWORKWORK0001\r\nregion = x\r\n\r\naws_secret_access_key={SECRET}"
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

mod round_trip {
    use proptest::prelude::*;

    use super::*;

    /// One key line, and what makes some SDK read it differently than the others.
    #[derive(Clone, Debug)]
    struct KeyLine {
        upper: bool,
        sep: &'static str,
        trailing: &'static str,
        quoted: bool,
        inline_comment: bool,
        continuation: Option<&'static str>,
    }

    impl KeyLine {
        fn quirky(&self) -> bool {
            self.quoted || self.inline_comment || self.continuation.is_some()
        }

        fn render(&self, key: &str, value: &str, eol: &str) -> String {
            let key = if self.upper { key.to_ascii_uppercase() } else { key.to_string() };
            let value = if self.quoted { format!("\"{value}\"") } else { value.to_string() };
            let comment = if self.inline_comment { "  # mine" } else { "" };
            let mut out = format!("{key}{}{value}{comment}{}{eol}", self.sep, self.trailing);
            if let Some(c) = self.continuation {
                out += &format!("{c}{eol}");
            }
            out
        }
    }

    fn key_line() -> impl Strategy<Value = KeyLine> {
        (
            any::<bool>(),
            prop::sample::select(vec!["=", " = ", " =", "= ", "\t=\t"]),
            prop::sample::select(vec!["", "  ", "\t"]),
            prop::bool::weighted(0.15),
            prop::bool::weighted(0.15),
            prop::option::weighted(0.15, prop::sample::select(vec!["   # indented comment", "  more"])),
        )
            .prop_map(|(upper, sep, trailing, quoted, inline_comment, continuation)| KeyLine {
                upper,
                sep,
                trailing,
                quoted,
                inline_comment,
                continuation,
            })
    }

    /// Lines that are neither key: comments, blank lines, and `other` at most once.
    fn filler(other: &'static str) -> impl Strategy<Value = Vec<&'static str>> {
        prop::collection::vec(prop::sample::select(vec!["# note", "; note", "", other]), 0..3).prop_map(
            move |mut lines| {
                let mut seen = false;
                lines.retain(|l| !(*l == other && std::mem::replace(&mut seen, true)));
                lines
            },
        )
    }

    #[derive(Clone, Debug)]
    struct File {
        crlf: bool,
        final_newline: bool,
        before: Vec<&'static str>,
        id: KeyLine,
        between: Vec<&'static str>,
        secret: KeyLine,
        after: Vec<&'static str>,
        token: bool,
        repeated: bool,
        others: usize,
    }

    impl File {
        /// Whether every SDK reads the keys alike and botocore reads the file.
        fn clean(&self) -> bool {
            !self.id.quirky() && !self.secret.quirky() && !self.token && !self.repeated
        }

        fn render(&self) -> String {
            let eol = if self.crlf { "\r\n" } else { "\n" };
            let mut out = format!("# my keys{eol}");
            let lines = |ls: &[&str]| ls.iter().map(|l| format!("{l}{eol}")).collect::<String>();
            for i in 0..self.others {
                out += &format!("[other{i}]{eol}k = v{eol}  more{eol}{eol}");
            }
            out += &format!("[work]{eol}");
            out += &lines(&self.before);
            out += &self.id.render("aws_access_key_id", "AKIAWORKWORKWORK0001", eol);
            out += &lines(&self.between);
            out += &self.secret.render("aws_secret_access_key", SECRET, eol);
            if self.token {
                out += &format!("aws_session_token = leftover{eol}");
            }
            out += &lines(&self.after);
            if self.repeated {
                out += &format!("[work]{eol}region = eu-west-1{eol}");
            }
            out += &format!("[last]{eol}k = 1{eol}");
            if !self.final_newline {
                out.truncate(out.len() - eol.len());
            }
            out
        }
    }

    fn file() -> impl Strategy<Value = File> {
        (
            (
                any::<bool>(),
                any::<bool>(),
                filler("region = us-east-1"),
                key_line(),
                filler("output = json"),
                key_line(),
                filler("x_note = 1"),
            ),
            (prop::bool::weighted(0.1), prop::bool::weighted(0.15), 0..2usize),
        )
            .prop_map(
                |((crlf, final_newline, before, id, between, secret, after), (token, repeated, others))| {
                    File { crlf, final_newline, before, id, between, secret, after, token, repeated, others }
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// `import` then `export` gives back the file byte for byte, or `import` refuses and
        /// changes nothing.
        #[test]
        fn issue25_import_then_export_is_byte_identical_or_refused(spec in file()) {
            let text = spec.render();
            let f = Fixture::new(&text);
            match f.import("work") {
                Ok(()) => {
                    let imported = f.credentials();
                    prop_assert!(!imported.contains("AKIAWORKWORKWORK0001") && !imported.contains(SECRET));
                    f.export("work").unwrap();
                    prop_assert_eq!(f.credentials(), text);
                }
                Err(why) => {
                    prop_assert!(!spec.clean(), "a clean file was refused: {}", why);
                    prop_assert_eq!(f.credentials(), text);
                    prop_assert!(f.ring.items.lock().unwrap().is_empty());
                }
            }
        }
    }
}

#[test]
fn issue25_export_puts_back_a_key_an_earlier_import_took_with_its_continuation() {
    let old_import = "[comm]\n# credd-keyring: the keys of this profile are in the OS keyring; `credd keyring export comm` puts them back\n";
    let f = Fixture::new(old_import);
    let broken = LongTermKey {
        access_key_id: "AKIACOMMCOMMCOMM0002\n# indented comment".into(),
        secret_access_key: Secret::new(SECRET),
    };
    f.ring.items.lock().unwrap().insert("comm".into(), broken);
    f.export("comm").unwrap();
    let back = f.credentials();
    assert_eq!(
        back,
        format!(
            "[comm]\naws_access_key_id = AKIACOMMCOMMCOMM0002\n   # indented comment\naws_secret_access_key = {SECRET}\n"
        )
    );
    // The keys are in the file again, and import now refuses them as doctor does.
    assert!(f.import("comm").unwrap_err().contains("[key-whitespace]"));
}
