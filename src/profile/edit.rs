//! Editing a [`Document`]: set or remove keys in one profile, touching nothing else.
//!
//! The rules that make an edit safe for a file people also edit by hand:
//! - Only the managed keys' own lines (the property line and its continuation lines) change. Every
//!   other byte (comments, blank lines, order, indentation, other profiles, unknown keys, CRLF)
//!   stays as it was.
//! - When a profile appears in several sections, the line that SDKs read (the last one) is the one
//!   changed; a removal removes every occurrence, so an older value cannot resurface.
//! - A replaced value keeps its line's layout: `key=value`, `key = value  # note` stay that way.
//! - After the edit, what changed is parsed again (the edited line, or the whole document when
//!   lines were added or removed) and the result compared with the intent: if anything but the
//!   edited keys would read differently, the edit is refused. This is the guard that keeps a bug
//!   here from ever reaching the disk.

use std::path::Path;

use super::parse::{Document, Eol, FileKind, Line, LineKind, SectionId, is_identifier};

/// One change to a key of one profile.
#[derive(Clone, Debug)]
pub enum Edit {
    /// Set a key. The value is plain text here; callers expose secrets only at this point.
    Set(String, EditValue),
    Remove(String),
}

/// A value to write, whose Debug never shows it (it may be a secret).
#[derive(Clone)]
pub struct EditValue(pub String);

impl std::fmt::Debug for EditValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<value>")
    }
}

impl Edit {
    pub fn set(key: &str, value: &str) -> Edit {
        Edit::Set(key.to_ascii_lowercase(), EditValue(value.to_string()))
    }

    pub fn remove(key: &str) -> Edit {
        Edit::Remove(key.to_ascii_lowercase())
    }

    /// `Some(value)`: set the key to it; `None`: remove the key.
    pub fn set_or_remove(key: &str, value: Option<&str>) -> Edit {
        match value {
            Some(v) => Edit::set(key, v),
            None => Edit::remove(key),
        }
    }

    pub fn key(&self) -> &str {
        match self {
            Edit::Set(k, _) | Edit::Remove(k) => k,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EditError {
    #[error("`{0}` is not a profile name SDKs accept (letters, digits and _-/.%@:+ only)")]
    BadProfileName(String),
    #[error("`{0}` is not a valid key name")]
    BadKey(String),
    #[error("the value for `{key}` {why}")]
    BadValue { key: String, why: &'static str },
    /// The self-check failed: the edit would have changed something it does not own. A bug in
    /// credd, reported instead of written.
    #[error("refusing to write: the edit to [{profile}] would also change {what}; this is a credd bug")]
    WouldChangeOthers { profile: String, what: String },
    /// A session was about to be written over a long-term key (see
    /// `meta::is_long_term_key`). Refused wherever the session came from.
    #[error(
        "{place} holds long-term keys (an AKIA… key, or a key without a session token); credd never writes a session over them"
    )]
    LongTermKey { place: String },
}

/// What one edit changed, which decides how much is parsed again.
enum Changed {
    Nothing,
    /// The value of the property on this line, in place.
    InPlace(usize),
    /// Lines were added or removed, or a line's layout changed.
    Lines,
}

/// Every key a name SDKs accept, and every value one that reads back as itself.
fn check_edits(edits: &[Edit]) -> Result<(), EditError> {
    for e in edits {
        if !is_identifier(e.key()) || e.key().is_empty() {
            return Err(EditError::BadKey(e.key().to_string()));
        }
        if let Edit::Set(k, v) = e {
            check_value(k, &v.0)?;
        }
    }
    Ok(())
}

/// A value survives a round trip only if the parser will read it back unchanged.
fn check_value(key: &str, value: &str) -> Result<(), EditError> {
    let bad = |why| Err(EditError::BadValue { key: key.to_string(), why });
    if value.is_empty() {
        return bad("is empty (an empty value opens a sub-property block)");
    }
    if value.contains(['\n', '\r']) {
        return bad("contains a line break");
    }
    if value.starts_with([' ', '\t']) || value.ends_with([' ', '\t']) {
        return bad("has leading or trailing whitespace");
    }
    let mut prev_ws = false;
    for ch in value.chars() {
        if (ch == '#' || ch == ';') && prev_ws {
            return bad("has a `#` or `;` after whitespace, which would read as a comment");
        }
        prev_ws = ch.is_whitespace();
    }
    Ok(())
}

impl Document {
    /// Applies `edits` to profile `profile`, creating the profile at the end of the file if needed
    /// (only when there is something to set). Fails without changing `self` if any edit is invalid
    /// or the result would read differently anywhere else.
    pub fn edit_profile(&mut self, profile: &str, edits: &[Edit]) -> Result<(), EditError> {
        if !is_identifier(profile) || profile.is_empty() {
            return Err(EditError::BadProfileName(profile.to_string()));
        }
        check_edits(edits)?;
        let id = SectionId::Profile(profile.to_string());
        let mut work = self.clone();
        let reparse = |work: Document| {
            work.reparsed().map_err(|e| EditError::WouldChangeOthers {
                profile: profile.to_string(),
                what: format!("how line {} parses", e.line),
            })
        };
        // A value replaced in place moves no line and changes no other line's reading, so that
        // line alone is parsed again. Adding or removing lines shifts the indices lines keep of
        // their header and property, and the whole document is parsed again. A refresh of an
        // existing session replaces values only, so a large file is not parsed again at all.
        for e in edits {
            let changed = match e {
                Edit::Set(k, v) => work.set_one(&id, profile, k, &v.0),
                Edit::Remove(k) => work.remove_one(&id, k),
            };
            match changed {
                Changed::Nothing => {}
                Changed::InPlace(line) => {
                    if !work.property_reads_as_recorded(line) {
                        return Err(EditError::WouldChangeOthers {
                            profile: profile.to_string(),
                            what: format!("how line {} parses", line + 1),
                        });
                    }
                }
                Changed::Lines => work = reparse(work)?,
            }
        }
        // The guard: compute what the profile should read as, and compare with what it does read
        // as; and every other section must read exactly as it did.
        let mut expected = self.profile_only(profile);
        for e in edits {
            match e {
                Edit::Set(k, v) => {
                    let s = expected.map.entry(id.clone()).or_default();
                    let value = std::borrow::Cow::Borrowed(v.0.as_str());
                    s.props.insert(k.as_str(), super::parse::Property { value, line: 0 });
                }
                Edit::Remove(k) => {
                    if let Some(s) = expected.map.get_mut(&id) {
                        s.props.remove(k.as_str());
                    }
                }
            }
        }
        let refused =
            |what: &str| EditError::WouldChangeOthers { profile: profile.to_string(), what: what.into() };
        if !reads_same(&expected, &work.profile_only(profile)) {
            return Err(refused("its own keys beyond the edit"));
        }
        if !self.others_read_alike(&work, &id) {
            return Err(refused("other sections"));
        }
        *self = work;
        Ok(())
    }

    /// Sets the comment line of `profile` that starts with `tag`: every such line in the
    /// profile's sections is removed, and for `Some(note)` the line `# {note}` (which must start
    /// with `tag`) goes just after the profile's last header. A profile not in the file is left
    /// alone. A comment changes no reading, and the guard checks exactly that.
    pub fn note_profile(&mut self, profile: &str, tag: &str, note: Option<&str>) -> Result<(), EditError> {
        self.note_profile_before(profile, tag, note, &[])
    }

    /// [`Document::note_profile`], placing the note just above the first line of `keys` in the
    /// profile when there is one: so removing those keys afterwards leaves the note where they were.
    pub fn note_profile_before(
        &mut self,
        profile: &str,
        tag: &str,
        note: Option<&str>,
        keys: &[&str],
    ) -> Result<(), EditError> {
        if note.is_some_and(|n| !n.starts_with(tag) || n.contains(['\n', '\r'])) {
            return Err(EditError::BadValue { key: "#".into(), why: "is not a one-line note with its tag" });
        }
        let id = SectionId::Profile(profile.to_string());
        let mut work = self.clone();
        let tagged = |doc: &Document, i: usize| {
            doc.is_tagged(&doc.lines[i], tag) && doc.enclosing_section(i) == Some(&id)
        };
        let doomed: Vec<usize> = (0..work.lines.len()).filter(|&i| tagged(&work, i)).collect();
        for i in doomed.iter().rev() {
            work.lines.remove(*i);
        }
        let header = (0..work.lines.len()).rev().find(|&i| work.lines[i].kind.section() == Some(&id));
        let first_key = keys.iter().flat_map(|k| work.key_lines(&id, k)).min();
        if let (Some(note), Some(h)) = (note, header) {
            let eol = work.dominant_eol();
            let line = work.new_line(&format!("# {note}"), eol, LineKind::Comment);
            match first_key {
                // A key line always has its terminator here: the note's line comes before it.
                Some(k) => work.lines.insert(k, line),
                None => work.insert_after(h, line),
            }
        } else if doomed.is_empty() {
            return Ok(());
        }
        let work = work.reparsed().map_err(|e| EditError::WouldChangeOthers {
            profile: profile.to_string(),
            what: format!("how line {} parses", e.line),
        })?;
        if !reads_same(&self.profile_only(profile), &work.profile_only(profile))
            || !self.others_read_alike(&work, &id)
        {
            return Err(EditError::WouldChangeOthers {
                profile: profile.into(),
                what: "what it reads as".into(),
            });
        }
        *self = work;
        Ok(())
    }

    /// Sets keys where the profile's `tag` note is, in place of the note: what undoes an import
    /// byte for byte. Without such a note, or where keys placed there would not read as set
    /// (the profile holds the key again further down), the keys go wherever
    /// [`Document::edit_profile`] puts them and the note is dropped.
    pub fn set_at_note(&mut self, profile: &str, tag: &str, edits: &[(&str, &str)]) -> Result<(), EditError> {
        let id = SectionId::Profile(profile.to_string());
        let at = (0..self.lines.len())
            .find(|&i| self.is_tagged(&self.lines[i], tag) && self.enclosing_section(i) == Some(&id));
        let sets: Vec<Edit> = edits.iter().map(|(k, v)| Edit::set(k, v)).collect();
        let fallback = |doc: &mut Document| {
            doc.edit_profile(profile, &sets)?;
            doc.note_profile(profile, tag, None)
        };
        let Some(at) = at else { return fallback(self) };
        check_edits(&sets)?;
        let mut work = self.clone();
        let eol = work.dominant_eol();
        let note = work.lines.remove(at);
        for (n, (k, v)) in edits.iter().enumerate() {
            let mut line = work.new_line(&format!("{k} = {v}"), eol, LineKind::Blank);
            // The last key line ends the way the note did (a file without a final newline).
            if n + 1 == edits.len() {
                line.eol = note.eol;
            }
            work.lines.insert(at + n, line);
        }
        let Ok(work) = work.reparsed() else { return fallback(self) };
        let mut expected = self.profile_only(profile);
        if let Some(s) = expected.map.get_mut(&id) {
            for (k, v) in edits {
                let value = std::borrow::Cow::Borrowed(*v);
                s.props.insert(k, super::parse::Property { value, line: 0 });
            }
        }
        if !reads_same(&expected, &work.profile_only(profile)) || !self.others_read_alike(&work, &id) {
            return fallback(self);
        }
        *self = work;
        Ok(())
    }

    /// The profiles with a comment line starting with `tag` in one of their sections.
    pub fn noted_profiles(&self, tag: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let mut current = None;
        for line in &self.lines {
            match &line.kind {
                LineKind::Header(_) => current = line.kind.section(),
                LineKind::Comment if self.is_tagged(line, tag) => {
                    if let Some(SectionId::Profile(p)) = current
                        && out.last() != Some(&p.as_str())
                    {
                        out.push(p);
                    }
                }
                _ => {}
            }
        }
        out
    }

    pub(super) fn is_tagged(&self, line: &Line, tag: &str) -> bool {
        matches!(line.kind, LineKind::Comment)
            && self.text(line).trim_start()[1..].trim_start().starts_with(tag)
    }

    /// The section a line sits in, comments and blank lines included: the last header above it.
    pub(super) fn enclosing_section(&self, idx: usize) -> Option<&SectionId> {
        self.lines[(0..=idx).rev().find(|&j| matches!(self.lines[j].kind, LineKind::Header(_)))?]
            .kind
            .section()
    }

    /// Whether every section but `id` reads the same in `other`. Only headers, properties and
    /// continuations make up what a section reads as (blank and comment lines end nothing), so
    /// those lines outside `id`, in order, must match one for one: the same text, read the same
    /// way, in the same section. This checks the whole file without resolving it, which for a
    /// large file was most of an edit's time and memory.
    pub(super) fn others_read_alike(&self, other: &Document, id: &SectionId) -> bool {
        fn outside<'a>(doc: &'a Document, id: &'a SectionId) -> impl Iterator<Item = usize> + 'a {
            (0..doc.lines.len()).filter(move |&i| {
                !matches!(doc.lines[i].kind, LineKind::Blank | LineKind::Comment)
                    && doc.section_of(i) != Some(id)
            })
        }
        let (mut a, mut b) = (outside(self, id), outside(other, id));
        loop {
            match (a.next(), b.next()) {
                (None, None) => return true,
                (Some(i), Some(j)) if self.reads_like(i, other, j) => {}
                _ => return false,
            }
        }
    }

    /// Whether line `i` here and line `j` of `other` read the same: same text, same kind, same
    /// section (and for a continuation, the same property line).
    fn reads_like(&self, i: usize, other: &Document, j: usize) -> bool {
        let (x, y) = (&self.lines[i], &other.lines[j]);
        let kinds = match (&x.kind, &y.kind) {
            (LineKind::Header(p), LineKind::Header(q)) => p == q,
            (LineKind::Property { key: k, value: v, .. }, LineKind::Property { key: l, value: w, .. }) => {
                self.key(*k) == other.key(*l) && v == w
            }
            (LineKind::Continuation { property: p, .. }, LineKind::Continuation { property: q, .. }) => {
                self.text(&self.lines[*p as usize]) == other.text(&other.lines[*q as usize])
            }
            _ => false,
        };
        kinds && self.text(x) == other.text(y) && self.section_of(i) == other.section_of(j)
    }

    /// The document as its rendering reads: line kinds made true again after lines moved.
    pub(super) fn reparsed(self) -> Result<Document, super::parse::ParseError> {
        let (bytes, kind) = (self.render(), self.kind);
        drop(self);
        Document::parse_vec(bytes, kind, Path::new("<edit>"))
    }

    /// Lines that belong to the profile `id` and carry `key`, in file order.
    pub(super) fn key_lines(&self, id: &SectionId, key: &str) -> Vec<usize> {
        (0..self.lines.len())
            .filter(|&i| {
                matches!(&self.lines[i].kind, LineKind::Property { key: k, .. } if self.key(*k) == key)
                    && self.section_of(i) == Some(id)
            })
            .collect()
    }

    pub(super) fn continuations_of(&self, property: usize) -> Vec<usize> {
        (property + 1..self.lines.len())
            .filter(|&i| {
                matches!(self.lines[i].kind, LineKind::Continuation { property: p, .. } if p as usize == property)
            })
            .collect()
    }

    /// Sets `key` in the profile, and says what changed: one property's value in place, or
    /// lines added, removed or re-laid out, which leaves line kinds stale until the document is
    /// parsed again.
    fn set_one(&mut self, id: &SectionId, profile: &str, key: &str, value: &str) -> Changed {
        if let Some(&winner) = self.key_lines(id, key).last() {
            let continuations = self.continuations_of(winner);
            let LineKind::Property { value: span, .. } = &self.lines[winner].kind else { unreachable!() };
            let (start, end) = (span.start as usize, span.end as usize);
            let block = start == end;
            let old = self.text(&self.lines[winner]);
            let text = if block {
                // `key =` opened a sub-property block; the whole block is this key's.
                format!("{} {value}", old[..start].trim_end())
            } else {
                format!("{}{value}{}", &old[..start], &old[end..])
            };
            self.set_text(winner, &text);
            if !block {
                // The value is checked to read back as itself, so it ends where it was written.
                let LineKind::Property { value: span, .. } = &mut self.lines[winner].kind else {
                    unreachable!()
                };
                *span = span.start..span.start + value.len() as u32;
            }
            let structural = block || !continuations.is_empty();
            for c in continuations.into_iter().rev() {
                self.lines.remove(c);
            }
            return if structural { Changed::Lines } else { Changed::InPlace(winner) };
        }
        let eol = self.dominant_eol();
        let last_header = (0..self.lines.len()).rev().find(|&i| self.lines[i].kind.section() == Some(id));
        match last_header {
            Some(h) => {
                let body_end = (h + 1..self.lines.len())
                    .take_while(|&i| !matches!(self.lines[i].kind, LineKind::Header(_)))
                    .filter(|&i| {
                        matches!(
                            self.lines[i].kind,
                            LineKind::Property { .. } | LineKind::Continuation { .. }
                        )
                    })
                    .last()
                    .unwrap_or(h);
                let line = self.new_line(&format!("{key} = {value}"), eol, LineKind::Blank);
                self.insert_after(body_end, line);
                Changed::Lines
            }
            None => {
                let header = match (self.kind, profile) {
                    (FileKind::Config, "default") => "[default]".to_string(),
                    (FileKind::Config, p) => format!("[profile {p}]"),
                    (FileKind::Credentials, p) => format!("[{p}]"),
                };
                let mut at = self.lines.len().checked_sub(1);
                if let Some(last) = at
                    && !matches!(self.lines[last].kind, LineKind::Blank)
                {
                    let blank = self.new_line("", eol, LineKind::Blank);
                    self.insert_after(last, blank);
                    at = Some(last + 1);
                }
                let header = self.new_line(&header, eol, LineKind::Blank);
                let h = match at {
                    Some(a) => {
                        self.insert_after(a, header);
                        a + 1
                    }
                    None => {
                        self.lines.push(header);
                        0
                    }
                };
                let line = self.new_line(&format!("{key} = {value}"), eol, LineKind::Blank);
                self.insert_after(h, line);
                Changed::Lines
            }
        }
    }

    /// Inserts after line `at`. If `at` was the file's unterminated last line, the file keeps
    /// ending without a newline: `at` gains one and the new last line goes without.
    fn insert_after(&mut self, at: usize, mut line: Line) {
        if self.lines[at].eol == Eol::None {
            // A bare `\r` ending that line would merge with a `\n` into one CRLF terminator and
            // change how the line reads (fuzzing found a continuation turning blank); `\r\n`
            // after it keeps its text exactly as it was.
            let ends_in_cr = self.text(&self.lines[at]).ends_with('\r');
            self.lines[at].eol = if ends_in_cr { Eol::CrLf } else { line.eol };
            line.eol = Eol::None;
        }
        self.lines.insert(at + 1, line);
    }

    /// Removes every line of `key` in the profile. Each line owns its terminator, so removing the
    /// unterminated last line leaves the line before it exactly as it was.
    fn remove_one(&mut self, id: &SectionId, key: &str) -> Changed {
        let mut doomed: Vec<usize> = Vec::new();
        for p in self.key_lines(id, key) {
            doomed.push(p);
            doomed.extend(self.continuations_of(p));
        }
        doomed.sort_unstable();
        let changed = if doomed.is_empty() { Changed::Nothing } else { Changed::Lines };
        for i in doomed.into_iter().rev() {
            self.lines.remove(i);
        }
        changed
    }
}

/// Same sections, same keys, same values; where each sits (`line`) may move.
pub(super) fn reads_same(expected: &super::parse::Sections, actual: &super::parse::Sections) -> bool {
    expected.map.len() == actual.map.len()
        && expected.map.values().zip(actual.map.values()).all(|(a, b)| {
            a.props.len() == b.props.len()
                && a.props.iter().zip(&b.props).all(|((ka, pa), (kb, pb))| ka == kb && pa.value == pb.value)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        Document::parse(text, FileKind::Credentials, Path::new("t")).unwrap()
    }

    fn edited(text: &str, profile: &str, edits: &[Edit]) -> String {
        let mut d = doc(text);
        d.edit_profile(profile, edits).unwrap();
        String::from_utf8(d.render()).unwrap()
    }

    #[test]
    fn replaces_only_the_value_and_keeps_layout() {
        let text = "# top\n[dev]\naws_session_token=OLD   # mine\nregion = x\n";
        let out = edited(text, "dev", &[Edit::set("aws_session_token", "NEW")]);
        assert_eq!(out, "# top\n[dev]\naws_session_token=NEW   # mine\nregion = x\n");
    }

    #[test]
    fn edits_the_winning_occurrence() {
        let text = "[dev]\nk = 1\n[other]\nk = 9\n[dev]\nk = 2\n";
        let out = edited(text, "dev", &[Edit::set("k", "3")]);
        assert_eq!(out, "[dev]\nk = 1\n[other]\nk = 9\n[dev]\nk = 3\n");
    }

    #[test]
    fn adds_key_after_the_last_property_of_the_last_section() {
        let text = "[dev]\na = 1\n\n# about prod\n[prod]\na = 2\n";
        let out = edited(text, "dev", &[Edit::set("b", "x")]);
        assert_eq!(out, "[dev]\na = 1\nb = x\n\n# about prod\n[prod]\na = 2\n");
    }

    #[test]
    fn adds_profile_at_end_keeping_crlf_and_missing_final_newline() {
        let out = edited("[a]\r\nk = 1", "b", &[Edit::set("k", "2"), Edit::set("j", "3")]);
        assert_eq!(out, "[a]\r\nk = 1\r\n\r\n[b]\r\nk = 2\r\nj = 3");
        let out = edited("", "b", &[Edit::set("k", "2")]);
        assert_eq!(out, "[b]\nk = 2\n");
    }

    #[test]
    fn removes_every_occurrence_with_continuations() {
        let text = "[dev]\nk = 1\n  more\nj = 2\n[dev]\nk = 3";
        let out = edited(text, "dev", &[Edit::remove("k")]);
        assert_eq!(out, "[dev]\nj = 2\n[dev]\n");
    }

    #[test]
    fn refuses_values_that_would_not_read_back() {
        let mut d = doc("[a]\n");
        for bad in ["", "a\nb", " x", "x #y", "x ;y"] {
            assert!(d.edit_profile("a", &[Edit::set("k", bad)]).is_err(), "{bad:?}");
        }
        assert!(d.edit_profile("a b", &[Edit::set("k", "v")]).is_err());
        assert!(d.edit_profile("a", &[Edit::set("k#", "v")]).is_err());
        assert_eq!(d.render(), b"[a]\n");
    }

    #[test]
    fn sub_property_block_is_replaced_whole() {
        let text = "[a]\nk =\n  x = 1\n  y = 2\nj = 3\n";
        let out = edited(text, "a", &[Edit::set("k", "v")]);
        assert_eq!(out, "[a]\nk = v\nj = 3\n");
    }

    #[test]
    fn the_guard_sees_any_change_outside_the_profile() {
        let base = "[a]\nk = 1\n[dev]\nk = 2\n# c\n[b]\nk = 3\n  more\n";
        let alike = |other: &str| doc(base).others_read_alike(&doc(other), &SectionId::Profile("dev".into()));
        // Changes inside [dev], and to blank or comment lines, read the same elsewhere.
        assert!(alike("[a]\nk = 1\n[dev]\nk = 9\nj = 1\n\n# other\n[b]\nk = 3\n  more\n"));
        // A value, a key, a continuation, a header, or a line moved between sections does not.
        for other in [
            "[a]\nk = 2\n[dev]\nk = 2\n[b]\nk = 3\n  more\n",
            "[a]\nj = 1\n[dev]\nk = 2\n[b]\nk = 3\n  more\n",
            "[a]\nk = 1\n[dev]\nk = 2\n[b]\nk = 3\n  less\n",
            "[a]\nk = 1\n[dev]\nk = 2\n[c]\nk = 3\n  more\n",
            "[a]\n[dev]\nk = 2\nk = 1\n[b]\nk = 3\n  more\n",
            "[a]\nk = 1\n[dev]\nk = 2\n[b]\nk = 3\n  more\n[a]\nk = 4\n",
        ] {
            assert!(!alike(other), "{other:?}");
        }
    }

    #[test]
    fn an_in_place_edit_is_checked_by_parsing_its_line_again() {
        let mut d = doc("[a]\nk = old # note\nj = 2\n");
        assert!(d.property_reads_as_recorded(1));
        // Text that no longer reads as the recorded key and value span is caught.
        for text in ["k = newer # note", "x = old # note", "k = old#note", "  k = old # note", "# k = old"] {
            let mut e = d.clone();
            e.set_text(1, text);
            assert!(!e.property_reads_as_recorded(1), "{text:?}");
        }
        d.set_text(1, "k = new # note");
        assert!(d.property_reads_as_recorded(1));
    }

    #[test]
    fn ignored_sections_are_never_edited() {
        let text = "[profile dev]\nk = 1\n";
        let out = edited(text, "dev", &[Edit::set("k", "2")]);
        assert_eq!(out, "[profile dev]\nk = 1\n\n[dev]\nk = 2\n");
    }

    #[test]
    fn a_note_replaces_its_own_kind_and_nothing_else() {
        let text = "# top\n[work]\nregion = x\n; other note\n[b]\nk = 1";
        let mut d = doc(text);
        d.note_profile("work", "tag:", Some("tag: first")).unwrap();
        assert_eq!(d.render(), b"# top\n[work]\n# tag: first\nregion = x\n; other note\n[b]\nk = 1");
        d.note_profile("work", "tag:", Some("tag: second")).unwrap();
        assert_eq!(d.render(), b"# top\n[work]\n# tag: second\nregion = x\n; other note\n[b]\nk = 1");
        assert_eq!(d.noted_profiles("tag:"), ["work"]);
        d.note_profile("work", "tag:", None).unwrap();
        assert!(d.noted_profiles("tag:").is_empty());
        assert_eq!(String::from_utf8(d.render()).unwrap(), text);
        // No such profile: nothing to note. A note without its tag, or on two lines, is refused.
        d.note_profile("gone", "tag:", Some("tag: x")).unwrap();
        assert_eq!(String::from_utf8(d.render()).unwrap(), text);
        assert!(d.note_profile("work", "tag:", Some("untagged")).is_err());
        assert!(d.note_profile("work", "tag:", Some("tag: a\n[evil]")).is_err());
    }

    #[test]
    fn keys_set_at_the_note_undo_an_import_byte_for_byte() {
        let original = "# top\r\n[work]\r\nregion = x\r\naws_access_key_id = AKIAX\r\naws_secret_access_key = s3\r\n[b]\r\nk = 1";
        let mut d = doc(original);
        let keys = ["aws_access_key_id", "aws_secret_access_key"];
        d.note_profile_before("work", "tag:", Some("tag: held"), &keys).unwrap();
        d.edit_profile("work", &[Edit::remove(keys[0]), Edit::remove(keys[1])]).unwrap();
        assert_eq!(d.render(), b"# top\r\n[work]\r\nregion = x\r\n# tag: held\r\n[b]\r\nk = 1");
        d.set_at_note("work", "tag:", &[("aws_access_key_id", "AKIAX"), ("aws_secret_access_key", "s3")])
            .unwrap();
        assert_eq!(String::from_utf8(d.render()).unwrap(), original);
        // A key already further down would win over lines put at the note: they go there instead.
        let mut d = doc("[work]\n# tag: held\nregion = x\naws_access_key_id = OLD\n");
        d.set_at_note("work", "tag:", &[("aws_access_key_id", "NEW")]).unwrap();
        assert_eq!(d.render(), b"[work]\nregion = x\naws_access_key_id = NEW\n");
    }
}
