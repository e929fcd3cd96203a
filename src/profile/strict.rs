//! Where botocore reads a shared file differently from aws-config, which `parse.rs` follows:
//! what an edit that moves a value must rule out first, so that the value it moves is the one
//! every SDK reads.
//!
//! botocore reads the files with Python's `configparser` (no inline comments): `key = value
//! # note` reads as `value  # note`, where aws-config cuts the comment. What botocore refuses
//! outright (a repeated section or key, text before any header) is `doctor::botocore`'s, the one
//! place that rule lives; `credd keyring import` asks it too.
//!
//! Pure: it reads a [`Document`] and says what it found. Whether that refuses an edit, and with
//! which finding code, is the caller's decision.

use super::parse::{Document, LineKind};

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
    fn issue25_an_inline_comment_is_what_botocore_reads_beyond_the_value() {
        let d = doc("[a]\nk = v   # note\nj=w  \nm = x#y\n");
        assert_eq!(beyond_value(&d, 2), Some("# note"));
        assert_eq!(beyond_value(&d, 3), None);
        assert_eq!(beyond_value(&d, 4), None);
        assert_eq!(beyond_value(&d, 1), None);
    }
}
