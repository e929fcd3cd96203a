//! What botocore (the aws CLI, boto3) refuses in a file that credd's own reading accepts.
//!
//! credd reads the shared files by aws-config's rules, which merge a repeated `[section]` and let
//! a repeated key win. botocore reads them with Python's `configparser.RawConfigParser` in its
//! strict mode, then parses each value that opens with an empty line as sub-properties
//! (`botocore.configloader.raw_config_parse`), and raises `ConfigParseError` ("Unable to parse
//! config file") on: a section header repeated (names compared exactly), a key repeated within
//! a section (compared lowercased, also across two `[DEFAULT]`s), a line before any header (a
//! UTF-8 BOM included: Python does not skip it), a line that is neither a header, a comment nor
//! `key = value` / `key: value`, a key with no name, and a sub-property without `=`. Each was
//! checked against botocore 1.44 on Python 3.11; `tests/doctor.rs` holds the two to each other
//! with a property test over generated files.
//!
//! This file owns only that model and the finding it makes. The SDKs' shared rules (and the
//! files aws-config refuses) stay in `profile::parse`; doctor runs this check only on a file
//! that reading accepted, so no problem is reported twice.

use std::collections::HashMap;
use std::path::Path;

use super::{Finding, Severity, Source};
use crate::finding::Code;
use crate::profile::Document;

/// Why botocore refuses a file, at the first line it refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `[name]` opened a second time.
    SectionDuplicated { name: String, first: usize },
    /// `key` set twice in one section.
    KeyDuplicated { section: String, key: String, first: usize },
    /// A line before any `[section]` header (a BOM counts as text).
    BeforeAnySection,
    /// Neither a header, a comment, nor `key = value`.
    NotAProperty,
    /// `= value` with nothing before it.
    NoName,
    /// A sub-property line (under `key =`) without `=`.
    SubPropertyNotAProperty { key: String },
}

/// Python's `str.isspace`: Unicode whitespace plus the four information separators.
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// The lines as Python reads text (universal newlines): `\r\n`, `\r` and `\n` each end one.
fn py_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(['\r', '\n']) {
        out.push(&rest[..at]);
        let skip = if rest[at..].starts_with("\r\n") { 2 } else { 1 };
        rest = &rest[at + skip..];
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// The first line (1-based) botocore refuses, and why; `None` when it parses the file.
pub fn refusal(text: &str) -> Option<(usize, Refusal)> {
    let mut reader = Reader::default();
    for (idx, line) in py_lines(text).into_iter().enumerate() {
        if let Err(raised) = reader.line(idx + 1, line) {
            return Some(raised);
        }
    }
    if reader.first_error.is_some() {
        return reader.first_error;
    }
    sub_property_refusal(&reader.names, &reader.values)
}

/// One option's value: the first line's, then each continuation (blank ones included).
struct Value {
    /// Its section's index in `names`; `None` for `[DEFAULT]`.
    section: Option<usize>,
    key: String,
    pieces: Vec<(usize, String)>,
}

/// `configparser` reading a file line by line, in strict mode.
#[derive(Default)]
struct Reader<'a> {
    names: Vec<&'a str>,
    values: Vec<Value>,
    // configparser's state: the section (`Some(None)` is `[DEFAULT]`), the option a continuation
    // would extend (an index into `values`), and the indentation of the line that opened it.
    section: Option<Option<usize>>,
    section_name: &'a str,
    option: Option<usize>,
    indent_level: usize,
    // configparser's `elements_added`: what strict mode refuses to see twice, with its line.
    sections_seen: HashMap<&'a str, usize>,
    keys_seen: HashMap<(&'a str, String), usize>,
    // A line that is not a property does not stop configparser: it raises at the end, unless a
    // duplicate raises first.
    first_error: Option<(usize, Refusal)>,
}

impl<'a> Reader<'a> {
    /// Reads one line; `Err` when configparser raises on it at once.
    fn line(&mut self, lineno: usize, line: &'a str) -> Result<(), (usize, Refusal)> {
        let value = line.trim_matches(py_space);
        if value.starts_with(['#', ';']) {
            return Ok(());
        }
        // A continuation needs an option with a name (configparser's `optname` is truthy).
        let extendable = self.option.filter(|&o| !self.values[o].key.is_empty());
        if value.is_empty() {
            if let Some(o) = extendable {
                self.values[o].pieces.push((lineno, String::new()));
            }
            return Ok(());
        }
        let indent = line.chars().take_while(|c| py_space(*c)).count();
        if let Some(o) = extendable
            && indent > self.indent_level
        {
            self.values[o].pieces.push((lineno, value.to_string()));
            return Ok(());
        }
        self.indent_level = indent;
        // `\[(?P<header>.+)\]`, matched at the start: the name runs to the last `]`.
        let header =
            value.strip_prefix('[').and_then(|rest| rest.rfind(']').filter(|&i| i > 0).map(|i| &rest[..i]));
        match header {
            Some(name) => self.header(lineno, name),
            None => self.property(lineno, value),
        }
    }

    fn header(&mut self, lineno: usize, name: &'a str) -> Result<(), (usize, Refusal)> {
        if let Some(&first) = self.sections_seen.get(name) {
            let dup = Refusal::SectionDuplicated { name: name.to_string(), first };
            return Err(self.raise(lineno, dup));
        }
        self.section = Some(if name == "DEFAULT" {
            None
        } else {
            self.sections_seen.insert(name, lineno);
            self.names.push(name);
            Some(self.names.len() - 1)
        });
        self.section_name = name;
        self.option = None;
        Ok(())
    }

    fn property(&mut self, lineno: usize, value: &str) -> Result<(), (usize, Refusal)> {
        let Some(current) = self.section else {
            return Err(self.raise(lineno, Refusal::BeforeAnySection));
        };
        // `(?P<option>.*?)\s*(?P<vi>[=:])\s*(?P<value>.*)$`: the first `=` or `:` divides.
        let Some(at) = value.find(['=', ':']) else {
            self.first_error.get_or_insert((lineno, Refusal::NotAProperty));
            return Ok(());
        };
        let key = value[..at].trim_end_matches(py_space).to_lowercase();
        if key.is_empty() {
            self.first_error.get_or_insert((lineno, Refusal::NoName));
        }
        if let Some(&first) = self.keys_seen.get(&(self.section_name, key.clone())) {
            let dup = Refusal::KeyDuplicated { section: self.section_name.to_string(), key, first };
            return Err(self.raise(lineno, dup));
        }
        self.keys_seen.insert((self.section_name, key.clone()), lineno);
        let first_piece = value[at + 1..].trim_matches(py_space).to_string();
        self.values.push(Value { section: current, key, pieces: vec![(lineno, first_piece)] });
        self.option = Some(self.values.len() - 1);
        Ok(())
    }

    /// What configparser raises on `lineno`: the first line it could not parse before, if any.
    fn raise(&mut self, lineno: usize, why: Refusal) -> (usize, Refusal) {
        self.first_error.take().unwrap_or((lineno, why))
    }
}

/// The first sub-property botocore cannot parse, once configparser has read the file.
fn sub_property_refusal(names: &[&str], values: &[Value]) -> Option<(usize, Refusal)> {
    // botocore then reads every named section's options, `[DEFAULT]`'s included unless the
    // section sets the key itself, and parses a value that opens with an empty line (after
    // configparser trims its end) as `key = value` lines.
    for s in 0..names.len() {
        let own = values.iter().filter(|v| v.section == Some(s));
        let inherited = values.iter().filter(|v| {
            v.section.is_none() && !values.iter().any(|o| o.section == Some(s) && o.key == v.key)
        });
        for v in own.chain(inherited) {
            let end = v.pieces.iter().rposition(|(_, p)| !p.is_empty()).unwrap_or(0);
            let pieces = &v.pieces[..=end];
            if !pieces[0].1.is_empty() || pieces.len() < 2 {
                continue;
            }
            for (line, piece) in &pieces[1..] {
                // `str.splitlines` also ends a line at these; a piece is already one file line.
                let subs = piece.split([
                    '\u{b}', '\u{c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}', '\u{2029}',
                ]);
                if subs.map(|l| l.trim_matches(py_space)).any(|l| !l.is_empty() && !l.contains('=')) {
                    return Some((*line, Refusal::SubPropertyNotAProperty { key: v.key.clone() }));
                }
            }
        }
    }
    None
}

/// The finding for a file credd read but botocore would refuse, if it would.
pub fn check(doc: &Document, path: &Path, source: Source) -> Option<Finding> {
    let bytes = doc.render();
    let text = String::from_utf8_lossy(&bytes);
    let (line, why) = refusal(&text)?;
    let at = format!("{}:{line}", path.display());
    let tail = "the aws CLI and boto3 fail on the whole file (`Unable to parse config file`)";
    let (code, message, fix) = match why {
        Refusal::SectionDuplicated { name, first } => (
            Code::SectionDuplicated,
            format!(
                "{at}: [{name}] is already opened at line {first}; {tail}, though the Rust and Go SDKs merge the two"
            ),
            format!(
                "merge the two [{name}] sections of {} into one (keep the one at line {first})",
                path.display()
            ),
        ),
        Refusal::KeyDuplicated { section, key, first } => (
            Code::KeyDuplicated,
            format!("{at}: `{key}` is already set in [{section}] at line {first}; {tail}"),
            format!(
                "remove one of the two `{key}` lines of [{section}] in {} (lines {first} and {line})",
                path.display()
            ),
        ),
        Refusal::BeforeAnySection => (
            Code::FileUnparseable,
            format!("{at}: text before any [section] header (a UTF-8 BOM counts); {tail}"),
            format!("re-save {} as UTF-8 without a BOM, or move line {line} under a header", path.display()),
        ),
        Refusal::NotAProperty => (
            Code::FileUnparseable,
            format!("{at}: neither a [section], a comment nor `key = value`; {tail}"),
            format!("fix line {line} of {}: add `= value`, or start it with #", path.display()),
        ),
        Refusal::NoName => (
            Code::FileUnparseable,
            format!("{at}: nothing before the `=`; {tail}"),
            format!("put the key name before the `=` on line {line} of {}", path.display()),
        ),
        Refusal::SubPropertyNotAProperty { key } => (
            Code::FileUnparseable,
            format!("{at}: a sub-property of `{key}` without `=`; {tail}"),
            format!(
                "write line {line} of {} as `name = value`, or give `{key}` a value on its own line",
                path.display()
            ),
        ),
    };
    Some(Finding::new(code, Severity::Error, None, source, message, fix))
}

/// The credential keys botocore would read a trailing comment into.
const KEYS: [&str; 3] = ["aws_access_key_id", "aws_secret_access_key", "aws_session_token"];

/// Key lines that botocore reads differently from the other SDKs: `key = AKIA…  # note` is
/// `AKIA…  # note` to botocore (no inline comments), and the bare key to aws-config. The aws CLI
/// then sends a key STS has never heard of. One finding per such line, for `profile` alone
/// when given (what `credd keyring import` asks before it moves a key).
pub fn inline_comments(doc: &Document, path: &Path, source: Source, profile: Option<&str>) -> Vec<Finding> {
    let sections = doc.sections();
    let mut out = Vec::new();
    for name in sections.profile_names().filter(|n| profile.is_none_or(|p| p == *n)) {
        let Some(section) = sections.profile(name) else { continue };
        for key in KEYS {
            let Some(line) = section.line_of(key) else { continue };
            if crate::profile::strict::beyond_value(doc, line).is_some() {
                out.push(Finding::new(
                    Code::KeyWhitespace,
                    Severity::Error,
                    Some(name),
                    source,
                    format!(
                        "{}:{line}: a comment after the {key} is part of it for botocore (the aws CLI, boto3), which has no inline comments; the other SDKs cut it off",
                        path.display()
                    ),
                    format!("move the comment onto a line of its own ({}:{line})", path.display()),
                ));
            }
        }
    }
    out
}
#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 25 (found by a new user): doctor said "no problems" for a key whose line ends in a
    /// comment, which botocore sends to STS as part of the key.
    #[test]
    fn issue25_a_comment_after_a_key_is_part_of_it_for_botocore() {
        let text = "[a]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE # my key\naws_secret_access_key = s\n[b]\naws_access_key_id = AKIAB\n";
        let doc = Document::parse(text, crate::profile::FileKind::Credentials, Path::new("/k")).unwrap();
        let found = inline_comments(&doc, Path::new("/k"), Source::CredentialsFile, None);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].code, found[0].profile.as_deref()), (Code::KeyWhitespace, Some("a")));
        assert!(found[0].message.starts_with("/k:2:"), "{}", found[0].message);
        assert!(inline_comments(&doc, Path::new("/k"), Source::CredentialsFile, Some("b")).is_empty());
    }

    /// Each case was run through `botocore.configloader.raw_config_parse` (botocore 1.44).
    #[test]
    fn issue25_what_botocore_refuses() {
        let refused = |t: &str| refusal(t).map(|(line, _)| line);
        assert_eq!(refused("[dup]\na=1\n[dup]\nb=2\n"), Some(3));
        assert_eq!(refused("[dup]\na=1\nA=2\n"), Some(3));
        assert_eq!(refused("a=1\n[dup]\n"), Some(1));
        assert_eq!(refused("\u{feff}[x]\na=1\n"), Some(1));
        assert_eq!(refused("[x]\ns3 =\n  max = 1\ns3 =\n  max = 2\n"), Some(4));
        assert_eq!(refused("[x]\ns3 =\n  foo\n"), Some(3));
        assert_eq!(refused("[x]\nfoo\n"), Some(2));
        assert_eq!(refused("[x]\n=1\n"), Some(2));
        assert_eq!(refused("[x]\ra=1\ra=2\n"), Some(3));
        assert_eq!(refused("[DEFAULT]\ns3 =\n  foo\n[x]\n"), Some(3));
        assert_eq!(refused("[x] # c\na=1\n[x] ; c\n"), Some(3));
        for ok in [
            "# x\n[dup]\nb=2\n",
            "[Dup]\n[dup]\n",
            "[dup]\n[ dup ]\n",
            "[default]\n[DEFAULT]\n",
            "[x]\na: 1\n",
            "[x]\na=%(b)s\n",
            "[x]\ns3 =\n  a = 1\n  a = 2\n",
            "[x]\n  a=1\n",
            "[x]\ns3 =\n  # c\n  a=1\n",
            "[DEFAULT]\ns3 =\n  foo\n",
            "[x] y\n",
            "[x]\r\na=1\r\n\r\n[y]\r\na=1\r\n",
            "[x]\na = 1\n  continued\n",
        ] {
            assert_eq!(refusal(ok), None, "{ok:?}");
        }
    }
}
