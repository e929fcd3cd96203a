//! Reading an AWS shared file into a lossless [`Document`].
//!
//! The document keeps every byte of the file (BOM, line endings, comments, indentation, trailing
//! spaces) so that an edit can change only the lines of the keys it manages. Each line is also
//! classified exactly as aws-config's parser classifies it (`aws-runtime/src/env_config/parse.rs`
//! and `normalize.rs`), so the profiles credd reads are the profiles every SDK reads. Where
//! aws-config's behaviour differs from what people expect, it is the SDK that wins here, with two
//! deliberate exceptions: a UTF-8 BOM is skipped (aws-config fails on it), and invalid UTF-8 is an
//! error (aws-config silently reads it as an empty file, which for an editor would mean data loss).
//!
//! What this file does not own: editing (`edit.rs`), writing (`write.rs`), and what the values mean
//! (`meta.rs`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::secret::is_secret_key;

/// Which of the two shared files a document is. The rules for section headers differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Config,
    Credentials,
}

/// A line terminator, kept so that a CRLF file stays CRLF line by line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eol {
    Lf,
    CrLf,
    /// The last line of a file that does not end in a newline.
    None,
}

impl Eol {
    pub fn as_str(self) -> &'static str {
        match self {
            Eol::Lf => "\n",
            Eol::CrLf => "\r\n",
            Eol::None => "",
        }
    }
}

/// The section a header resolves to, after aws-config's normalisation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SectionId {
    /// `[profile x]` or `[default]` in config; `[x]` in credentials.
    Profile(String),
    /// `[sso-session x]` in config.
    SsoSession(String),
    /// Any other prefixed section in config, such as `[services x]`.
    Other { prefix: String, name: String },
}

/// Why every SDK ignores a section header. Its `Display` is the message for people; code that
/// needs the reason (doctor's finding codes) matches on the variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ignored {
    /// `[x]` in the config file, other than `[default]`: it needs a `profile ` prefix.
    NeedsPrefix(String),
    /// `[profile x]` in the credentials file, which takes bare names.
    BareNamesOnly(String),
    /// `[sso-session x]` and the like in the credentials file: config-only sections.
    ConfigOnly { prefix: String, name: String },
    /// A name after a prefix that SDKs do not accept.
    InvalidName(String),
    /// A bare profile name SDKs do not accept.
    InvalidProfileName(String),
    /// `[default]` in the config file when `[profile default]` also exists.
    ShadowedDefault,
}

impl std::fmt::Display for Ignored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ignored::NeedsPrefix(n) => {
                write!(
                    f,
                    "sections in the config file other than [default] need a prefix: write [profile {n}]"
                )
            }
            Ignored::BareNamesOnly(n) => {
                write!(f, "the credentials file takes bare names: write [{n}], not [profile {n}]")
            }
            Ignored::ConfigOnly { prefix, name } => {
                write!(f, "[{prefix} {name}] belongs in the config file, not the credentials file")
            }
            Ignored::InvalidName(n) => write!(f, "`{n}` is not a valid name"),
            Ignored::InvalidProfileName(n) => write!(f, "`{n}` is not a valid profile name"),
            Ignored::ShadowedDefault => {
                f.write_str("[default] is ignored because [profile default] also exists")
            }
        }
    }
}

/// A header's meaning: the section it opens, or why every SDK ignores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Header {
    Section(SectionId),
    Ignored(Ignored),
}

/// How one line was read. Kept small (24 bytes): a generated file has tens of thousands of
/// lines, and headers, the one large kind, are one line in five.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineKind {
    Blank,
    Comment,
    /// A `[...]` header.
    Header(Box<Header>),
    /// `key = value`. `key` is the lowercased key, in the document's text (read it with
    /// [`Document::key`]); `value` is the byte range of the value within the line's text (after
    /// trimming and comment stripping), so an edit can replace exactly that span.
    Property {
        header: u32,
        key: Span,
        value: std::ops::Range<u32>,
    },
    /// An indented line that continues the property above it (or holds one of its sub-properties).
    Continuation {
        header: u32,
        property: u32,
    },
}

impl LineKind {
    /// The section a header line opens, if SDKs read it.
    pub fn section(&self) -> Option<&SectionId> {
        match self {
            LineKind::Header(h) => match &**h {
                Header::Section(s) => Some(s),
                Header::Ignored(_) => None,
            },
            _ => None,
        }
    }
}

/// Where a piece of text sits in a document's text buffer. 32-bit: a document is at most 4 GB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

/// One line of the file: where its text (without terminator) sits, its terminator, and its
/// classification. Read the text with [`Document::text`].
#[derive(Clone, Debug)]
pub struct Line {
    pub text: Span,
    pub eol: Eol,
    pub kind: LineKind,
}

/// A parsed shared file that can be written back byte for byte.
///
/// The file's text is held once, in one buffer the lines point into; an edited line's new text
/// is appended to it, so every span stays valid. (A line per `String` cost about three times the
/// file's size in a 5,000-profile file.)
#[derive(Clone)]
pub struct Document {
    pub kind: FileKind,
    pub bom: bool,
    buf: String,
    // Private, so that parsing and `edit_profile` (which parses its result) are the only ways a
    // document changes: a document always reads as it renders, and writers rely on it.
    pub(super) lines: Vec<Line>,
}

// The text may hold secrets; Debug shows only the classification.
impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Document")
            .field("kind", &self.kind)
            .field("bom", &self.bom)
            .field("lines", &self.lines)
            .finish()
    }
}

/// What was wrong with a file, where, and what to do about it. Never quotes the line, which may
/// hold a secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}: {message} ({fix})", path = .path.display())]
pub struct ParseError {
    pub path: PathBuf,
    /// 1-based, as editors count.
    pub line: usize,
    pub message: String,
    pub fix: String,
}

const WHITESPACE: &[char] = &[' ', '\t'];

// Trimming spaces and tabs byte by byte: `trim_matches(&[' ', '\t'])` matches char by char
// through a general searcher, and every line of a large file is trimmed several times. Both
// are ASCII, so a byte test cannot split a character.
fn trim_ws_start(s: &str) -> &str {
    let skip = s.bytes().take_while(|b| matches!(b, b' ' | b'\t')).count();
    &s[skip..]
}

fn trim_ws_end(s: &str) -> &str {
    let keep = s.len() - s.bytes().rev().take_while(|b| matches!(b, b' ' | b'\t')).count();
    &s[..keep]
}

fn trim_ws(s: &str) -> &str {
    trim_ws_end(trim_ws_start(s))
}
const COMMENT: &[char] = &['#', ';'];
const BOM: char = '\u{feff}';

/// Splits into lines the way `str::lines` does, but keeps the terminators.
fn split_lines(text: &str) -> impl Iterator<Item = (&str, Eol)> {
    text.split_inclusive('\n').map(|piece| {
        if let Some(body) = piece.strip_suffix("\r\n") {
            (body, Eol::CrLf)
        } else if let Some(body) = piece.strip_suffix('\n') {
            (body, Eol::Lf)
        } else {
            (piece, Eol::None)
        }
    })
}

/// aws-config's `prepare_line`: trim spaces and tabs, then cut a comment. In headers any `#` or
/// `;` starts a comment; in properties only one that follows whitespace does.
fn prepare_line(line: &str, comments_need_whitespace: bool) -> (&str, usize) {
    let trimmed_start = line.len() - trim_ws_start(line).len();
    let line = trim_ws(line);
    // Jump from one `#`/`;` to the next (a byte search) instead of walking every character: a
    // generated file holds thousands of 300-character tokens with none in them. A comment starts
    // at one that follows whitespace (any Unicode whitespace, as aws-config's `is_whitespace`).
    let mut cut = line.len();
    let mut from = 0;
    // `#` and `;` are ASCII, so a byte search cannot land inside a multi-byte character.
    while let Some(found) = memchr::memchr2(b'#', b';', &line.as_bytes()[from..]) {
        let idx = from + found;
        let after_space = line[..idx].chars().next_back().is_some_and(char::is_whitespace);
        if after_space || !comments_need_whitespace {
            cut = idx;
            break;
        }
        from = idx + 1;
    }
    (trim_ws(&line[..cut]), trimmed_start)
}

enum PropertyError {
    NoEquals,
    NoName,
}

/// Splits `key = value`, returning the byte ranges of the key and the value in `line`.
fn parse_property(line: &str) -> Result<(std::ops::Range<usize>, std::ops::Range<usize>), PropertyError> {
    let (prepared, offset) = prepare_line(line, true);
    let (k, v) = prepared.split_once('=').ok_or(PropertyError::NoEquals)?;
    let key_start = offset + (k.len() - trim_ws_start(k).len());
    let k = trim_ws(k);
    if k.is_empty() {
        return Err(PropertyError::NoName);
    }
    let value_start_in_v = v.len() - trim_ws_start(v).len();
    let value = trim_ws(v);
    let v_start = offset + (prepared.len() - v.len());
    let start = v_start + value_start_in_v;
    Ok((key_start..key_start + k.len(), start..start + value.len()))
}

/// aws-config's identifier rule for profile names and keys.
pub fn is_identifier(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c))
}

/// Resolves a header's inner text (between `[` and `]`) to a section, as aws-config's
/// `SectionPair::parse` and `valid_for` do.
fn resolve_header(inner: &str, kind: FileKind) -> Result<SectionId, Ignored> {
    let input = trim_ws(inner);
    let (prefix, suffix) = match input.split_once(WHITESPACE) {
        Some((p, s)) => (Some(p.trim()), s.trim()),
        None => (None, input.trim()),
    };
    match (kind, prefix) {
        (FileKind::Config, Some(prefix)) => {
            if !is_identifier(suffix) {
                return Err(Ignored::InvalidName(suffix.to_string()));
            }
            Ok(match prefix {
                "profile" => SectionId::Profile(suffix.to_string()),
                "sso-session" => SectionId::SsoSession(suffix.to_string()),
                _ => SectionId::Other { prefix: prefix.to_string(), name: suffix.to_string() },
            })
        }
        (FileKind::Config, None) if suffix == "default" => Ok(SectionId::Profile(suffix.into())),
        (FileKind::Config, None) => Err(Ignored::NeedsPrefix(suffix.to_string())),
        (FileKind::Credentials, Some("profile")) => Err(Ignored::BareNamesOnly(suffix.to_string())),
        (FileKind::Credentials, Some(prefix)) => {
            Err(Ignored::ConfigOnly { prefix: prefix.to_string(), name: suffix.to_string() })
        }
        (FileKind::Credentials, None) if is_identifier(suffix) => Ok(SectionId::Profile(suffix.to_string())),
        (FileKind::Credentials, None) => Err(Ignored::InvalidProfileName(suffix.to_string())),
    }
}

impl Document {
    /// An empty document, as for a file that does not exist yet.
    pub fn empty(kind: FileKind) -> Self {
        Document { kind, bom: false, buf: String::new(), lines: Vec::new() }
    }

    /// Parses bytes read from `path` (used only for error messages).
    pub fn parse_bytes(bytes: &[u8], kind: FileKind, path: &Path) -> Result<Self, ParseError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Self::parse(text, kind, path),
            Err(e) => Err(not_utf8(bytes, e, path)),
        }
    }

    /// [`Document::parse_bytes`], keeping `bytes` as the document's text instead of copying it.
    pub fn parse_vec(bytes: Vec<u8>, kind: FileKind, path: &Path) -> Result<Self, ParseError> {
        match String::from_utf8(bytes) {
            Ok(text) => Self::parse_owned(text, kind, path),
            Err(e) => Err(not_utf8(e.as_bytes(), e.utf8_error(), path)),
        }
    }

    /// Parses text with aws-config's rules. Errors are the ones aws-config raises, at the same line.
    pub fn parse(text: &str, kind: FileKind, path: &Path) -> Result<Self, ParseError> {
        Self::parse_owned(text.to_string(), kind, path)
    }

    fn parse_owned(mut buf: String, kind: FileKind, path: &Path) -> Result<Self, ParseError> {
        if u32::try_from(buf.len()).is_err() {
            return Err(ParseError {
                path: path.to_path_buf(),
                line: 1,
                message: "the file is larger than 4 GB".into(),
                fix: "this is not a credentials or config file; check the path".into(),
            });
        }
        let bom = buf.starts_with(BOM);
        let body = if bom { BOM.len_utf8() } else { 0 };
        let err = |line: usize, message: &str, fix: &str| ParseError {
            path: path.to_path_buf(),
            line: line + 1,
            message: message.to_string(),
            fix: fix.to_string(),
        };
        // Sized once: growing by doubling would, for a moment, hold twice the lines.
        let mut lines = Vec::with_capacity(memchr::memchr_iter(b'\n', buf.as_bytes()).count() + 1);
        // Keys written with capitals, lowercased, to append to the text once it is free.
        let mut lowered: Vec<(usize, String)> = Vec::new();
        // Parser state, as in aws-config: the current header, the current property, and whether
        // that property opened a sub-property block (empty value).
        let mut header: Option<u32> = None;
        let mut property: Option<(u32, bool)> = None;
        let mut at = body;
        for (idx, (text, eol)) in split_lines(&buf[body..]).enumerate() {
            let start = at;
            at += text.len() + eol.as_str().len();
            // Fits: the text is under 4 GB, so are its offsets and its number of lines.
            let span = Span { start: start as u32, len: text.len() as u32 };
            let line_no = idx as u32;
            let kind_of_line = if trim_ws(text).is_empty() {
                LineKind::Blank
            } else if text.starts_with(COMMENT) {
                LineKind::Comment
            } else if text.starts_with('[') {
                let (prepared, _) = prepare_line(text, false);
                let inner = prepared
                    .strip_prefix('[')
                    .and_then(|p| p.strip_suffix(']'))
                    .ok_or_else(|| err(idx, "section header has no closing `]`", "write it as [name]"))?;
                header = Some(line_no);
                property = None;
                LineKind::Header(Box::new(match resolve_header(inner, kind) {
                    Ok(section) => Header::Section(section),
                    Err(why) => Header::Ignored(why),
                }))
            } else if text.starts_with([' ', '\t']) {
                let Some(h) = header else {
                    return Err(err(
                        idx,
                        "indented line before any [section] header",
                        "remove the indentation, or move the line under a section",
                    ));
                };
                let Some((p, is_sub)) = property else {
                    return Err(err(
                        idx,
                        "indented line continues no property",
                        "remove the indentation, or put it under a `key =` line",
                    ));
                };
                if is_sub && !trim_ws(text).is_empty() {
                    check_property(text, idx, "sub-property", &err)?;
                }
                LineKind::Continuation { header: h, property: p }
            } else {
                let Some(h) = header else {
                    return Err(err(
                        idx,
                        "property before any [section] header",
                        "add a header such as [default] above it",
                    ));
                };
                let (key, value) = check_property(text, idx, "property", &err)?;
                property = Some((line_no, value.is_empty()));
                let raw = &text[key.clone()];
                if raw.bytes().any(|b| b.is_ascii_uppercase()) {
                    lowered.push((idx, raw.to_ascii_lowercase()));
                }
                let key = Span { start: (start + key.start) as u32, len: key.len() as u32 };
                LineKind::Property { header: h, key, value: value.start as u32..value.end as u32 }
            };
            lines.push(Line { text: span, eol, kind: kind_of_line });
        }
        buf.reserve_exact(lowered.iter().map(|(_, k)| k.len()).sum());
        for (idx, key) in lowered {
            let span = push_text(&mut buf, &key);
            if let LineKind::Property { key, .. } = &mut lines[idx].kind {
                *key = span;
            }
        }
        let mut doc = Document { kind, bom, buf, lines };
        doc.apply_default_rule();
        Ok(doc)
    }

    /// In config, `[default]` is ignored when `[profile default]` exists anywhere in the file.
    fn apply_default_rule(&mut self) {
        if self.kind != FileKind::Config {
            return;
        }
        let default_with_prefix = |doc: &Document, l: &Line, prefixed: bool| {
            matches!(l.kind.section(), Some(SectionId::Profile(n)) if n == "default")
                && header_has_prefix(doc.text(l)) == prefixed
        };
        if !self.lines.iter().any(|l| default_with_prefix(self, l, true)) {
            return;
        }
        let shadowed: Vec<usize> =
            (0..self.lines.len()).filter(|&i| default_with_prefix(self, &self.lines[i], false)).collect();
        for i in shadowed {
            self.lines[i].kind = LineKind::Header(Box::new(Header::Ignored(Ignored::ShadowedDefault)));
        }
    }

    /// The lines, in file order.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// Whether line `idx`, parsed again on its own, is the property its kind records: the same
    /// key and the same value span. Proves an in-place value edit: a property line's reading
    /// depends only on its own text, and what follows depends only on it being a property with a
    /// non-empty value.
    pub(super) fn property_reads_as_recorded(&self, idx: usize) -> bool {
        let line = &self.lines[idx];
        let LineKind::Property { key, value, .. } = &line.kind else { return false };
        let text = self.text(line);
        let opens_as_property = !trim_ws(text).is_empty()
            && !text.starts_with(COMMENT)
            && !text.starts_with('[')
            && !text.starts_with([' ', '\t']);
        match parse_property(text) {
            Ok((k, v)) => {
                opens_as_property
                    && text[k].to_ascii_lowercase() == self.key(*key)
                    && v.start as u32 == value.start
                    && v.end as u32 == value.end
                    && !v.is_empty()
            }
            Err(_) => false,
        }
    }

    /// A line's text, without its terminator.
    pub fn text(&self, line: &Line) -> &str {
        &self.buf[line.text.range()]
    }

    /// A property's lowercased key.
    pub fn key(&self, key: Span) -> &str {
        &self.buf[key.range()]
    }

    /// A line whose text is `text`, appended to the document's text; it is not placed yet.
    pub(super) fn new_line(&mut self, text: &str, eol: Eol, kind: LineKind) -> Line {
        self.buf.reserve_exact(text.len());
        Line { text: push_text(&mut self.buf, text), eol, kind }
    }

    /// Gives line `idx` the text `text`.
    pub(super) fn set_text(&mut self, idx: usize, text: &str) {
        self.buf.reserve_exact(text.len());
        self.lines[idx].text = push_text(&mut self.buf, text);
    }

    /// The file's bytes, exactly as they would be written.
    pub fn render(&self) -> Vec<u8> {
        let size = self.lines.iter().map(|l| l.text.len as usize + l.eol.as_str().len()).sum::<usize>();
        let mut out = String::with_capacity(size + BOM.len_utf8());
        if self.bom {
            out.push(BOM);
        }
        for line in &self.lines {
            out.push_str(self.text(line));
            out.push_str(line.eol.as_str());
        }
        out.into_bytes()
    }

    /// The section a line belongs to (for properties and continuations), if SDKs read it.
    pub fn section_of(&self, idx: usize) -> Option<&SectionId> {
        let header = match &self.lines[idx].kind {
            LineKind::Property { header, .. } | LineKind::Continuation { header, .. } => *header as usize,
            LineKind::Header(_) => idx,
            _ => return None,
        };
        self.lines[header].kind.section()
    }

    /// The resolved view: every section with its keys and winning values, as an SDK sees them.
    pub fn sections(&self) -> Sections<'_> {
        self.sections_where(|_| true)
    }

    /// The resolved view of one profile alone (it may appear under several headers): what a
    /// write to one profile of a large file needs, without resolving every other section.
    pub fn profile_only(&self, name: &str) -> Sections<'_> {
        self.sections_where(|id| matches!(id, SectionId::Profile(n) if n == name))
    }

    /// The resolved view of the sections `wanted` picks.
    pub fn sections_where(&self, wanted: impl Fn(&SectionId) -> bool) -> Sections<'_> {
        let mut out = Sections::default();
        // The section the lines under the latest header go to (`None`: ignored or not wanted).
        // Properties follow their header, so the map is looked up once per header, not per key.
        let mut current: Option<&mut Section<'_>> = None;
        for (idx, line) in self.lines.iter().enumerate() {
            match &line.kind {
                LineKind::Header(_) => {
                    current = match line.kind.section().filter(|id| wanted(id)) {
                        Some(id) => Some(out.map.entry(id.clone()).or_default()),
                        None => None,
                    };
                }
                LineKind::Property { key, value, .. } => {
                    let Some(section) = current.as_deref_mut() else { continue };
                    let key = self.key(*key);
                    if !is_identifier(key) {
                        continue; // aws-config drops keys that are not identifiers
                    }
                    let value = &self.text(line)[value.start as usize..value.end as usize];
                    section.props.insert(key, Property { value: Cow::Borrowed(value), line: idx + 1 });
                }
                LineKind::Continuation { property, .. } => {
                    let Some(section) = current.as_deref_mut() else { continue };
                    let LineKind::Property { key, .. } = &self.lines[*property as usize].kind else {
                        unreachable!("continuations point at properties")
                    };
                    let key = self.key(*key);
                    if !is_identifier(key) {
                        continue;
                    }
                    let prop = section.props.get_mut(key).expect("property seen first");
                    // Only the continuation of the property line that currently wins counts; a
                    // repeated key later replaces the whole value, continuations included.
                    if prop.line == *property as usize + 1 {
                        let value = prop.value.to_mut();
                        value.push('\n');
                        value.push_str(trim_ws(self.text(line)));
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Headers that SDKs ignore, with the reason and line: material for `doctor` and warnings.
    pub fn ignored_sections(&self) -> Vec<(usize, &Ignored)> {
        self.lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| match &l.kind {
                LineKind::Header(h) => match &**h {
                    Header::Ignored(why) => Some((i + 1, why)),
                    Header::Section(_) => None,
                },
                _ => None,
            })
            .collect()
    }

    /// The terminator new lines should use: CRLF when most existing lines use it.
    pub fn dominant_eol(&self) -> Eol {
        let crlf = self.lines.iter().filter(|l| l.eol == Eol::CrLf).count();
        let lf = self.lines.iter().filter(|l| l.eol == Eol::Lf).count();
        if crlf > lf { Eol::CrLf } else { Eol::Lf }
    }
}

/// Appends `text` to a document's buffer and says where it went.
fn push_text(buf: &mut String, text: &str) -> Span {
    let start = buf.len() as u32;
    buf.push_str(text);
    Span { start, len: text.len() as u32 }
}

fn not_utf8(bytes: &[u8], e: std::str::Utf8Error, path: &Path) -> ParseError {
    let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
    ParseError {
        path: path.to_path_buf(),
        line,
        message: "the file is not valid UTF-8; every SDK would read it as empty".into(),
        fix: "re-save the file as UTF-8".into(),
    }
}

fn header_has_prefix(text: &str) -> bool {
    let (prepared, _) = prepare_line(text, false);
    let inner = trim_ws(prepared.trim_start_matches('[').trim_end_matches(']'));
    inner.contains(WHITESPACE)
}

fn check_property(
    text: &str,
    idx: usize,
    what: &str,
    err: &dyn Fn(usize, &str, &str) -> ParseError,
) -> Result<(std::ops::Range<usize>, std::ops::Range<usize>), ParseError> {
    parse_property(text).map_err(|e| match e {
        PropertyError::NoEquals => err(
            idx,
            &format!("expected `key = value` but this {what} has no `=`"),
            "add `= value`, or start the line with # to make it a comment",
        ),
        PropertyError::NoName => {
            err(idx, &format!("this {what} has nothing before its `=`"), "put the key name before the `=`")
        }
    })
}

/// One resolved key: its winning value and the 1-based line it came from. The value is borrowed
/// from the document unless continuation lines made it up.
#[derive(Clone, PartialEq, Eq)]
pub struct Property<'a> {
    pub value: Cow<'a, str>,
    pub line: usize,
}

/// The keys of one section, after merging repeated sections (last key wins). It borrows from the
/// document it was resolved from: resolving a large file copies no values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Section<'a> {
    pub props: BTreeMap<&'a str, Property<'a>>,
}

impl Section<'_> {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.prop(key).map(|p| &*p.value)
    }

    pub fn line_of(&self, key: &str) -> Option<usize> {
        self.prop(key).map(|p| p.line)
    }

    fn prop(&self, key: &str) -> Option<&Property<'_>> {
        if key.bytes().any(|b| b.is_ascii_uppercase()) {
            self.props.get(key.to_ascii_lowercase().as_str())
        } else {
            self.props.get(key)
        }
    }
}

// Values of secret keys are redacted; everything else helps debugging.
impl fmt::Debug for Section<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, p) in &self.props {
            if is_secret_key(k) {
                m.entry(k, &"<redacted>");
            } else {
                m.entry(k, &p.value);
            }
        }
        m.finish()
    }
}

/// Every section of one file (or of both files merged), keyed by what it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sections<'a> {
    pub map: BTreeMap<SectionId, Section<'a>>,
}

impl<'a> Sections<'a> {
    pub fn profile(&self, name: &str) -> Option<&Section<'a>> {
        self.map.get(&SectionId::Profile(name.to_string()))
    }

    pub fn profile_names(&self) -> impl Iterator<Item = &str> {
        self.map.keys().filter_map(|k| match k {
            SectionId::Profile(n) => Some(n.as_str()),
            _ => None,
        })
    }

    /// Merges `other` on top of `self`, the way aws-config layers the credentials file over the
    /// config file: for the same section, `other`'s keys win.
    pub fn merged_with(mut self, other: &Sections<'a>) -> Sections<'a> {
        for (id, section) in &other.map {
            let target = self.map.entry(id.clone()).or_default();
            for (k, p) in &section.props {
                target.props.insert(k, p.clone());
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, kind: FileKind) -> Document {
        Document::parse(text, kind, Path::new("test")).expect("parses")
    }

    #[test]
    fn render_is_lossless_for_awkward_input() {
        let text = "\u{feff}# c\r\n[default]  \r\naws_access_key_id = A ; not a comment\n\n\tx\n[b]\nk=v";
        let doc = parse(text, FileKind::Credentials);
        assert_eq!(doc.render(), text.as_bytes());
    }

    #[test]
    fn comments_need_whitespace_on_property_lines_only() {
        let doc = parse("[a]#c\nk = v#x ;y\nj = w\t# z\n", FileKind::Credentials);
        let s = doc.sections();
        let a = s.profile("a").unwrap();
        assert_eq!(a.get("k"), Some("v#x"));
        assert_eq!(a.get("j"), Some("w"));
    }

    #[test]
    fn continuation_and_sub_properties() {
        let doc = parse("[profile a]\ns3 =\n  max = 10\nk = a\n b\n  # kept as text\n", FileKind::Config);
        let s = doc.sections();
        let a = s.profile("a").unwrap();
        assert_eq!(a.get("s3"), Some("\nmax = 10"));
        assert_eq!(a.get("k"), Some("a\nb\n# kept as text"));
        // aws-config requires `=` in a sub-property block, even on a line that looks like a comment.
        assert!(Document::parse("[a]\ns3 =\n  # x\n", FileKind::Credentials, Path::new("t")).is_err());
    }

    #[test]
    fn keys_case_insensitive_names_case_sensitive_last_wins() {
        let doc = parse("[Dev]\nKEY = 1\n[dev]\nkey = 2\n[Dev]\nKey = 3\n", FileKind::Credentials);
        let s = doc.sections();
        assert_eq!(s.profile("Dev").unwrap().get("key"), Some("3"));
        assert_eq!(s.profile("dev").unwrap().get("key"), Some("2"));
    }

    #[test]
    fn config_default_rules() {
        let doc = parse("[default]\na = 1\n[profile default]\nb = 2\n[x]\nc = 3\n", FileKind::Config);
        let s = doc.sections();
        let d = s.profile("default").unwrap();
        assert_eq!(d.get("a"), None);
        assert_eq!(d.get("b"), Some("2"));
        assert!(s.profile("x").is_none());
        assert_eq!(doc.ignored_sections().len(), 2);
    }

    #[test]
    fn credentials_rejects_prefixed_sections() {
        let doc = parse("[profile a]\nk = 1\n[b]\nk = 2\n", FileKind::Credentials);
        let s = doc.sections();
        assert!(s.profile("a").is_none());
        assert_eq!(s.profile("b").unwrap().get("k"), Some("2"));
    }

    #[test]
    fn errors_name_the_line() {
        let e =
            Document::parse("[a]\nk = 1\nnonsense\n", FileKind::Credentials, Path::new("/f")).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.to_string().starts_with("/f:3: "), "{e}");
        let e = Document::parse("k = 1\n", FileKind::Credentials, Path::new("/f")).unwrap_err();
        assert_eq!(e.line, 1);
        let e = Document::parse("[a\n", FileKind::Credentials, Path::new("/f")).unwrap_err();
        assert!(e.message.contains("`]`"));
        let e =
            Document::parse_bytes(b"[a]\nk = \xff\n", FileKind::Credentials, Path::new("/f")).unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn errors_never_quote_the_line() {
        let e = Document::parse("[a]\nwJalrXUtnFEMI/K7MDENG\n", FileKind::Credentials, Path::new("/f"))
            .unwrap_err();
        assert!(!e.to_string().contains("wJalr"));
        assert!(!format!("{e:?}").contains("wJalr"));
    }

    #[test]
    fn debug_redacts_secret_values() {
        let doc =
            parse("[a]\naws_secret_access_key = SECRETVALUE\nregion = eu-west-1\n", FileKind::Credentials);
        let dbg = format!("{:?} {:?}", doc, doc.sections());
        assert!(!dbg.contains("SECRETVALUE"), "{dbg}");
        assert!(dbg.contains("eu-west-1"));
    }
}
