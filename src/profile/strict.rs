//! Where botocore reads a shared file differently from aws-config, which `parse.rs` follows:
//! what an edit that moves a value must rule out first, so that the value it moves is the one
//! every SDK reads.
//!
//! botocore reads the files with Python's `configparser` (strict, no inline comments):
//! - a section header repeated in one file, or a key repeated in one section, fails the whole
//!   file (`ConfigParseError`), where aws-config merges them (last wins);
//! - `key = value  # note` reads as `value  # note`, where aws-config cuts the comment.
//!
//! Pure: it reads a [`Document`] and says what it found. Whether that refuses an edit, and with
//! which finding code, is the caller's decision.

use std::collections::BTreeMap;

use super::parse::{Document, LineKind, SectionId};

/// A header or key seen a second time: botocore refuses the file over it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Repeat {
    /// The section's header again, on 1-based `line`; `first` is where it opened.
    Section { id: SectionId, line: usize, first: usize },
    /// `key` again in the same section (under any of its headers).
    Key { id: SectionId, key: String, line: usize, first: usize },
}

impl Repeat {
    pub fn line(&self) -> usize {
        match self {
            Repeat::Section { line, .. } | Repeat::Key { line, .. } => *line,
        }
    }
}

fn shown(id: &SectionId) -> String {
    match id {
        SectionId::Profile(p) => format!("[{p}]"),
        SectionId::SsoSession(n) => format!("[sso-session {n}]"),
        SectionId::Other { prefix, name } => format!("[{prefix} {name}]"),
    }
}

impl std::fmt::Display for Repeat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Repeat::Section { id, line, first } => {
                write!(f, "line {line}: {} appears again (first on line {first})", shown(id))
            }
            Repeat::Key { id, key, line, first } => {
                write!(f, "line {line}: `{key}` appears again in {} (first on line {first})", shown(id))
            }
        }
    }
}

/// Every repeated header and key, in file order. Sections every SDK ignores are not counted: what
/// they hold reaches no SDK's profile.
pub fn repeats(doc: &Document) -> Vec<Repeat> {
    let mut out = Vec::new();
    let mut headers: BTreeMap<&SectionId, usize> = BTreeMap::new();
    let mut keys: BTreeMap<(&SectionId, &str), usize> = BTreeMap::new();
    for (i, line) in doc.lines().iter().enumerate() {
        match &line.kind {
            LineKind::Header(_) => {
                let Some(id) = line.kind.section() else { continue };
                match headers.get(id) {
                    Some(&first) => out.push(Repeat::Section { id: id.clone(), line: i + 1, first }),
                    None => {
                        headers.insert(id, i + 1);
                    }
                }
            }
            LineKind::Property { key, .. } => {
                let Some(id) = doc.section_of(i) else { continue };
                let key = doc.key(*key);
                match keys.get(&(id, key)) {
                    Some(&first) => {
                        out.push(Repeat::Key { id: id.clone(), key: key.to_string(), line: i + 1, first })
                    }
                    None => {
                        keys.insert((id, key), i + 1);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// What botocore reads on a property line beyond aws-config's value (an inline comment, which
/// botocore keeps as part of the value), when there is something. `line` is 1-based.
pub fn beyond_value(doc: &Document, line: usize) -> Option<&str> {
    let l = doc.lines().get(line.checked_sub(1)?)?;
    let LineKind::Property { value, .. } = &l.kind else { return None };
    let rest = doc.text(l)[value.end as usize..].trim_matches([' ', '\t']);
    (!rest.is_empty()).then_some(rest)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::profile::FileKind;

    fn doc(text: &str) -> Document {
        Document::parse(text, FileKind::Credentials, Path::new("t")).unwrap()
    }

    #[test]
    fn issue25_repeated_sections_and_keys_are_found_where_botocore_fails() {
        let d = doc("[a]\nk = 1\n[b]\nk = 2\n[a]\nj = 3\nK = 4\n[profile a]\nk = 5\n");
        let found: Vec<String> = repeats(&d).iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "line 5: [a] appears again (first on line 1)",
                "line 7: `k` appears again in [a] (first on line 2)"
            ]
        );
        assert!(repeats(&doc("[a]\nk = 1\n  more\n[b]\nk = 2\n")).is_empty());
    }

    #[test]
    fn issue25_an_inline_comment_is_what_botocore_reads_beyond_the_value() {
        let d = doc("[a]\nk = v   # note\nj=w  \nm = x#y\n");
        assert_eq!(beyond_value(&d, 2), Some("# note"));
        assert_eq!(beyond_value(&d, 3), None);
        assert_eq!(beyond_value(&d, 4), None);
        assert_eq!(beyond_value(&d, 1), None);
    }
}
