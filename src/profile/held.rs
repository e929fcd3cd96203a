//! Key lines whose values are held elsewhere (the OS keyring): each line replaced by a comment
//! that keeps the line's layout with the value left out, and put back from it byte for byte.
//!
//! A note reads `# {prefix}{layout}`, where `layout` is the key line's own text with the value
//! replaced by [`HELD`]: `aws_access_key_id=…`, `AWS_SECRET_ACCESS_KEY = …  `. So a line comes
//! back exactly as it was, in its place, with its terminator, whatever its spacing or case.
//!
//! What the notes say and which keys they stand for is the caller's; this file owns only the
//! lines, under the same guard as every edit: the profile must read as intended afterwards, and
//! every other section exactly as before.

use super::edit::{EditError, reads_same};
use super::parse::{Document, LineKind, SectionId};

/// What stands for the value in a note's layout.
pub const HELD: char = '…';

/// What the comment line left in place of a profile's keys starts with, after `# `: the
/// credentials file's own record that the profile's long-term keys are held elsewhere. Planning,
/// storing and the files' reading need only that (a held profile holds long-term keys, and no
/// session is written over it); where they are held is the keyring room's.
pub const MARKER: &str = "credd-keyring:";

impl Document {
    /// Replaces the line of each of `keys` in `profile` with `# {prefix}{layout}`. Refused, with
    /// the document unchanged, when a key has no line, more than one, or continuation lines: no
    /// layout then says what SDKs read.
    pub fn hold_lines(&mut self, profile: &str, prefix: &str, keys: &[&str]) -> Result<(), EditError> {
        let id = SectionId::Profile(profile.to_string());
        let mut work = self.clone();
        let bad = |key: &str, why| EditError::BadValue { key: key.to_string(), why };
        for key in keys {
            let [line] = work.key_lines(&id, key)[..] else {
                return Err(bad(key, "is not on exactly one line of the profile"));
            };
            if !work.continuations_of(line).is_empty() {
                return Err(bad(key, "has continuation lines"));
            }
            let LineKind::Property { value, .. } = &work.lines()[line].kind else { unreachable!() };
            let (start, end) = (value.start as usize, value.end as usize);
            let text = work.text(&work.lines()[line]);
            let note = format!("# {prefix}{}{HELD}{}", &text[..start], &text[end..]);
            if note.contains(['\n', '\r']) || text[..start].contains(HELD) {
                return Err(bad(key, "cannot be written down as a note"));
            }
            work.set_text(line, &note);
        }
        let work = work.reparsed().map_err(|e| EditError::WouldChangeOthers {
            profile: profile.to_string(),
            what: format!("how line {} parses", e.line),
        })?;
        let mut expected = self.profile_only(profile);
        if let Some(s) = expected.map.get_mut(&id) {
            for key in keys {
                s.props.remove(key);
            }
        }
        if !reads_same(&expected, &work.profile_only(profile)) || !self.others_read_alike(&work, &id) {
            return Err(EditError::WouldChangeOthers {
                profile: profile.into(),
                what: "what it reads as".into(),
            });
        }
        *self = work;
        Ok(())
    }

    /// Puts back each of `edits`' keys where its [`Document::hold_lines`] note is, in the note's
    /// layout. `false` (the document unchanged) when a key has no such note in `profile`, the
    /// profile holds one of the keys again, or the result would not read as `edits`.
    pub fn unhold_lines(&mut self, profile: &str, prefix: &str, edits: &[(&str, &str)]) -> bool {
        let id = SectionId::Profile(profile.to_string());
        let mut work = self.clone();
        for (key, value) in edits {
            if !work.key_lines(&id, key).is_empty() {
                return false;
            }
            let layout = |i: usize| {
                let line = &work.lines()[i];
                if !matches!(line.kind, LineKind::Comment) || work.enclosing_section(i) != Some(&id) {
                    return None;
                }
                let layout = work.text(line).strip_prefix('#')?.trim_start().strip_prefix(prefix)?;
                let (name, _) = layout.split_once('=')?;
                (name.trim().eq_ignore_ascii_case(key) && layout.matches(HELD).count() == 1)
                    .then(|| layout.replacen(HELD, value, 1))
            };
            let Some((at, text)) = (0..work.lines().len()).find_map(|i| layout(i).map(|t| (i, t))) else {
                return false;
            };
            work.set_text(at, &text);
        }
        let Ok(work) = work.reparsed() else { return false };
        let mut expected = self.profile_only(profile);
        let Some(s) = expected.map.get_mut(&id) else { return false };
        for (k, v) in edits {
            s.props.insert(k, super::parse::Property { value: std::borrow::Cow::Borrowed(*v), line: 0 });
        }
        if !reads_same(&expected, &work.profile_only(profile)) || !self.others_read_alike(&work, &id) {
            return false;
        }
        *self = work;
        true
    }
}

impl Document {
    /// Puts back keys whose values span lines (continuation lines every SDK but botocore reads as
    /// part of the value) in place of the profile's first `tag` note: what recovers keys an
    /// import of an earlier version took with their continuation lines. Each further line of a
    /// value goes on an indented line of its own, which reads back as the same value. Refused,
    /// with the document unchanged, without such a note or when the result would not read as
    /// `edits`.
    pub fn restore_at_note(
        &mut self,
        profile: &str,
        tag: &str,
        edits: &[(&str, &str)],
    ) -> Result<(), EditError> {
        let id = SectionId::Profile(profile.to_string());
        let refused =
            |what: &str| EditError::WouldChangeOthers { profile: profile.into(), what: what.into() };
        let at = (0..self.lines().len())
            .find(|&i| self.is_tagged(&self.lines()[i], tag) && self.enclosing_section(i) == Some(&id))
            .ok_or_else(|| refused("a profile without its note"))?;
        let mut work = self.clone();
        let eol = work.dominant_eol();
        let note = work.lines.remove(at);
        let mut texts = Vec::new();
        for (k, v) in edits {
            let mut parts = v.split('\n');
            texts.push(format!("{k} = {}", parts.next().unwrap_or_default()));
            texts.extend(parts.map(|p| format!("   {p}")));
        }
        for (n, text) in texts.iter().enumerate() {
            let mut line = work.new_line(text, eol, LineKind::Blank);
            if n + 1 == texts.len() {
                line.eol = note.eol;
            }
            work.lines.insert(at + n, line);
        }
        let work = work.reparsed().map_err(|_| refused("how the restored lines parse"))?;
        let mut expected = self.profile_only(profile);
        let s = expected.map.get_mut(&id).ok_or_else(|| refused("a profile that is gone"))?;
        for (k, v) in edits {
            s.props.insert(k, super::parse::Property { value: std::borrow::Cow::Borrowed(*v), line: 0 });
        }
        if !reads_same(&expected, &work.profile_only(profile)) || !self.others_read_alike(&work, &id) {
            return Err(refused("what it reads as"));
        }
        *self = work;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::profile::FileKind;

    use super::*;

    #[test]
    fn issue25_held_lines_come_back_in_their_layout_and_place() {
        let original =
            "[w]\r\nAWS_ACCESS_KEY_ID=AKIAX  \r\nregion = x\r\naws_secret_access_key =s3\r\n[b]\r\nk = 1";
        let mut d = Document::parse(original, FileKind::Credentials, Path::new("t")).unwrap();
        let keys = ["aws_access_key_id", "aws_secret_access_key"];
        d.hold_lines("w", "tag: held: ", &keys).unwrap();
        assert_eq!(
            String::from_utf8(d.render()).unwrap(),
            "[w]\r\n# tag: held: AWS_ACCESS_KEY_ID=…  \r\nregion = x\r\n# tag: held: aws_secret_access_key =…\r\n[b]\r\nk = 1"
        );
        assert!(d.unhold_lines(
            "w",
            "tag: held: ",
            &[("aws_access_key_id", "AKIAX"), ("aws_secret_access_key", "s3")]
        ));
        assert_eq!(String::from_utf8(d.render()).unwrap(), original);
        // A key with continuation lines has no one layout.
        let mut d = Document::parse("[w]\nk = a\n  # b\n", FileKind::Credentials, Path::new("t")).unwrap();
        assert!(d.hold_lines("w", "tag: ", &["k"]).is_err());
    }

    #[test]
    fn issue25_a_value_an_earlier_import_took_with_its_continuation_comes_back() {
        let mut d =
            Document::parse("[w]\r\n# tag: held\r\nregion = x\r\n", FileKind::Credentials, Path::new("t"))
                .unwrap();
        d.restore_at_note("w", "tag:", &[("k", "AKIA0002\n# indented comment"), ("s", "s3")]).unwrap();
        assert_eq!(
            String::from_utf8(d.render()).unwrap(),
            "[w]\r\nk = AKIA0002\r\n   # indented comment\r\ns = s3\r\nregion = x\r\n"
        );
        assert_eq!(d.profile_only("w").profile("w").unwrap().get("k"), Some("AKIA0002\n# indented comment"));
    }
}
