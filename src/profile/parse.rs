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

/// How one line was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineKind {
    Blank,
    Comment,
    /// A `[...]` header. `section` is `None` when every SDK ignores the section (for example
    /// `[profile x]` in the credentials file); `reason` then says why.
    Header {
        section: Option<SectionId>,
        ignored_because: Option<Ignored>,
    },
    /// `key = value`. `key` is lowercased; `value` is the byte range of the value within the line's
    /// text (after trimming and comment stripping), so an edit can replace exactly that span.
    Property {
        header: usize,
        key: String,
        value: std::ops::Range<usize>,
    },
    /// An indented line that continues the property above it (or holds one of its sub-properties).
    Continuation {
        header: usize,
        property: usize,
    },
}

/// One line of the file: its text without terminator, its terminator, and its classification.
#[derive(Clone)]
pub struct Line {
    pub text: String,
    pub eol: Eol,
    pub kind: LineKind,
}

// Line text may hold a secret; Debug shows only the classification.
impl fmt::Debug for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Line").field("kind", &self.kind).field("eol", &self.eol).finish()
    }
}

/// A parsed shared file that can be written back byte for byte.
#[derive(Clone, Debug)]
pub struct Document {
    pub kind: FileKind,
    pub bom: bool,
    pub lines: Vec<Line>,
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
const COMMENT: &[char] = &['#', ';'];
const BOM: char = '\u{feff}';

/// Splits into lines the way `str::lines` does, but keeps the terminators.
fn split_lines(text: &str) -> Vec<(&str, Eol)> {
    text.split_inclusive('\n')
        .map(|piece| {
            if let Some(body) = piece.strip_suffix("\r\n") {
                (body, Eol::CrLf)
            } else if let Some(body) = piece.strip_suffix('\n') {
                (body, Eol::Lf)
            } else {
                (piece, Eol::None)
            }
        })
        .collect()
}

/// aws-config's `prepare_line`: trim spaces and tabs, then cut a comment. In headers any `#` or
/// `;` starts a comment; in properties only one that follows whitespace does.
fn prepare_line(line: &str, comments_need_whitespace: bool) -> (&str, usize) {
    let trimmed_start = line.len() - line.trim_start_matches(WHITESPACE).len();
    let line = line.trim_matches(WHITESPACE);
    // Jump from one `#`/`;` to the next (a byte search) instead of walking every character: a
    // generated file holds thousands of 300-character tokens with none in them. A comment starts
    // at one that follows whitespace (any Unicode whitespace, as aws-config's `is_whitespace`).
    let mut cut = line.len();
    let mut from = 0;
    // `#` and `;` are ASCII, so a byte search cannot land inside a multi-byte character.
    while let Some(found) = line.as_bytes()[from..].iter().position(|&b| b == b'#' || b == b';') {
        let idx = from + found;
        let after_space = line[..idx].chars().next_back().is_some_and(char::is_whitespace);
        if after_space || !comments_need_whitespace {
            cut = idx;
            break;
        }
        from = idx + 1;
    }
    (line[..cut].trim_matches(WHITESPACE), trimmed_start)
}

enum PropertyError {
    NoEquals,
    NoName,
}

/// Splits `key = value`, returning the lowercased key and the value's byte range in `line`.
fn parse_property(line: &str) -> Result<(String, std::ops::Range<usize>), PropertyError> {
    let (prepared, offset) = prepare_line(line, true);
    let (k, v) = prepared.split_once('=').ok_or(PropertyError::NoEquals)?;
    let k = k.trim_matches(WHITESPACE);
    if k.is_empty() {
        return Err(PropertyError::NoName);
    }
    let value_start_in_v = v.len() - v.trim_start_matches(WHITESPACE).len();
    let value = v.trim_matches(WHITESPACE);
    let v_start = offset + (prepared.len() - v.len());
    let start = v_start + value_start_in_v;
    Ok((k.to_ascii_lowercase(), start..start + value.len()))
}

/// aws-config's identifier rule for profile names and keys.
pub fn is_identifier(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c))
}

/// Resolves a header's inner text (between `[` and `]`) to a section, as aws-config's
/// `SectionPair::parse` and `valid_for` do.
fn resolve_header(inner: &str, kind: FileKind) -> Result<SectionId, Ignored> {
    let input = inner.trim_matches(WHITESPACE);
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
        Document { kind, bom: false, lines: Vec::new() }
    }

    /// Parses bytes read from `path` (used only for error messages).
    pub fn parse_bytes(bytes: &[u8], kind: FileKind, path: &Path) -> Result<Self, ParseError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Self::parse(text, kind, path),
            Err(e) => {
                let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
                Err(ParseError {
                    path: path.to_path_buf(),
                    line,
                    message: "the file is not valid UTF-8; every SDK would read it as empty".into(),
                    fix: "re-save the file as UTF-8".into(),
                })
            }
        }
    }

    /// Parses text with aws-config's rules. Errors are the ones aws-config raises, at the same line.
    pub fn parse(text: &str, kind: FileKind, path: &Path) -> Result<Self, ParseError> {
        let (bom, text) = match text.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let err = |line: usize, message: &str, fix: &str| ParseError {
            path: path.to_path_buf(),
            line: line + 1,
            message: message.to_string(),
            fix: fix.to_string(),
        };
        let mut lines = Vec::new();
        // Parser state, as in aws-config: the current header, the current property, and whether
        // that property opened a sub-property block (empty value).
        let mut header: Option<usize> = None;
        let mut property: Option<(usize, bool)> = None;
        for (idx, (text, eol)) in split_lines(text).into_iter().enumerate() {
            let kind_of_line = if text.trim_matches(WHITESPACE).is_empty() {
                LineKind::Blank
            } else if text.starts_with(COMMENT) {
                LineKind::Comment
            } else if text.starts_with('[') {
                let (prepared, _) = prepare_line(text, false);
                let inner = prepared
                    .strip_prefix('[')
                    .and_then(|p| p.strip_suffix(']'))
                    .ok_or_else(|| err(idx, "section header has no closing `]`", "write it as [name]"))?;
                header = Some(idx);
                property = None;
                match resolve_header(inner, kind) {
                    Ok(section) => LineKind::Header { section: Some(section), ignored_because: None },
                    Err(why) => LineKind::Header { section: None, ignored_because: Some(why) },
                }
            } else if text.starts_with(WHITESPACE) {
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
                if is_sub && !text.trim_matches(WHITESPACE).is_empty() {
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
                property = Some((idx, value.is_empty()));
                LineKind::Property { header: h, key, value }
            };
            lines.push(Line { text: text.to_string(), eol, kind: kind_of_line });
        }
        let mut doc = Document { kind, bom, lines };
        doc.apply_default_rule();
        Ok(doc)
    }

    /// In config, `[default]` is ignored when `[profile default]` exists anywhere in the file.
    fn apply_default_rule(&mut self) {
        if self.kind != FileKind::Config {
            return;
        }
        let is_prefixed_default = |l: &Line| {
            matches!(&l.kind, LineKind::Header { section: Some(SectionId::Profile(n)), .. }
                if n == "default" && header_has_prefix(&l.text))
        };
        if !self.lines.iter().any(is_prefixed_default) {
            return;
        }
        for line in &mut self.lines {
            let unprefixed_default = matches!(&line.kind,
                LineKind::Header { section: Some(SectionId::Profile(n)), .. }
                    if n == "default" && !header_has_prefix(&line.text));
            if unprefixed_default {
                line.kind =
                    LineKind::Header { section: None, ignored_because: Some(Ignored::ShadowedDefault) };
            }
        }
    }

    /// The file's bytes, exactly as they would be written.
    pub fn render(&self) -> Vec<u8> {
        let mut out = String::new();
        if self.bom {
            out.push(BOM);
        }
        for line in &self.lines {
            out.push_str(&line.text);
            out.push_str(line.eol.as_str());
        }
        out.into_bytes()
    }

    /// The section a line belongs to (for properties and continuations), if SDKs read it.
    pub fn section_of(&self, idx: usize) -> Option<&SectionId> {
        let header = match &self.lines[idx].kind {
            LineKind::Property { header, .. } | LineKind::Continuation { header, .. } => *header,
            LineKind::Header { .. } => idx,
            _ => return None,
        };
        match &self.lines[header].kind {
            LineKind::Header { section, .. } => section.as_ref(),
            _ => None,
        }
    }

    /// The resolved view: every section with its keys and winning values, as an SDK sees them.
    pub fn sections(&self) -> Sections {
        self.sections_where(|_| true)
    }

    /// The resolved view of one profile alone (it may appear under several headers): what a
    /// write to one profile of a large file needs, without resolving every other section.
    pub fn profile_only(&self, name: &str) -> Sections {
        self.sections_where(|id| matches!(id, SectionId::Profile(n) if n == name))
    }

    fn sections_where(&self, wanted: impl Fn(&SectionId) -> bool) -> Sections {
        let mut out = Sections::default();
        for (idx, line) in self.lines.iter().enumerate() {
            match &line.kind {
                LineKind::Header { section: Some(id), .. } if wanted(id) => {
                    out.map.entry(id.clone()).or_insert_with(|| Section { props: BTreeMap::new() });
                }
                LineKind::Property { key, value, .. } => {
                    let Some(id) = self.section_of(idx).filter(|id| wanted(id)) else {
                        continue;
                    };
                    if !is_identifier(key) {
                        continue; // aws-config drops keys that are not identifiers
                    }
                    let section = out.map.get_mut(id).expect("header seen first");
                    section.props.insert(
                        key.clone(),
                        Property { value: line.text[value.clone()].to_string(), line: idx + 1 },
                    );
                }
                LineKind::Continuation { property, .. } => {
                    let Some(id) = self.section_of(idx).filter(|id| wanted(id)) else {
                        continue;
                    };
                    let LineKind::Property { key, .. } = &self.lines[*property].kind else {
                        unreachable!("continuations point at properties")
                    };
                    if !is_identifier(key) {
                        continue;
                    }
                    let section = out.map.get_mut(id).expect("header seen first");
                    let prop = section.props.get_mut(key).expect("property seen first");
                    // Only the continuation of the property line that currently wins counts; a
                    // repeated key later replaces the whole value, continuations included.
                    if prop.line == *property + 1 {
                        prop.value.push('\n');
                        prop.value.push_str(line.text.trim_matches(WHITESPACE));
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
                LineKind::Header { section: None, ignored_because: Some(why) } => Some((i + 1, why)),
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

fn header_has_prefix(text: &str) -> bool {
    let (prepared, _) = prepare_line(text, false);
    let inner = prepared.trim_start_matches('[').trim_end_matches(']').trim_matches(WHITESPACE);
    inner.contains(WHITESPACE)
}

fn check_property(
    text: &str,
    idx: usize,
    what: &str,
    err: &dyn Fn(usize, &str, &str) -> ParseError,
) -> Result<(String, std::ops::Range<usize>), ParseError> {
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

/// One resolved key: its winning value and the 1-based line it came from.
#[derive(Clone, PartialEq, Eq)]
pub struct Property {
    pub value: String,
    pub line: usize,
}

/// The keys of one section, after merging repeated sections (last key wins).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Section {
    pub props: BTreeMap<String, Property>,
}

impl Section {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.props.get(&key.to_ascii_lowercase()).map(|p| p.value.as_str())
    }

    pub fn line_of(&self, key: &str) -> Option<usize> {
        self.props.get(&key.to_ascii_lowercase()).map(|p| p.line)
    }
}

// Values of secret keys are redacted; everything else helps debugging.
impl fmt::Debug for Section {
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
pub struct Sections {
    pub map: BTreeMap<SectionId, Section>,
}

impl Sections {
    pub fn profile(&self, name: &str) -> Option<&Section> {
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
    pub fn merged_with(mut self, other: &Sections) -> Sections {
        for (id, section) in &other.map {
            let target = self.map.entry(id.clone()).or_default();
            for (k, p) in &section.props {
                target.props.insert(k.clone(), p.clone());
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
