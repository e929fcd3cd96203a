//! `src/lib.rs`'s layout is a table of layers, from the command line down to the leaves, and
//! says that a module imports only from rows below its own. This test holds it to that: every
//! top-level module of `src/` is in exactly one row, and no `crate::` path in a module's code
//! (comments aside) names a module in its own row or a row above. So the arrows between the
//! top-level modules run one way, and there is no import cycle among them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The rows of the layout, top first: each `//! - ` line's backticked names before its first
/// `: `, without a trailing `/`.
fn rows(lib: &str) -> Vec<Vec<String>> {
    let layout = lib.split("# Layout").nth(1).expect("lib.rs has a # Layout section");
    let layout = layout.split("\n//! #").next().unwrap_or(layout);
    let mut out = Vec::new();
    for line in layout.lines() {
        let Some(row) = line.strip_prefix("//! - ") else { continue };
        let head = row.split(": ").next().unwrap_or_default();
        let names: Vec<String> =
            head.split('`').skip(1).step_by(2).map(|n| n.trim_end_matches('/').to_string()).collect();
        assert!(!names.is_empty(), "a layout row without a module: {line}");
        out.push(names);
    }
    out
}

/// The code of a file without its comments (a `//` inside a string is rare enough here, and
/// would only hide a path, never invent one).
fn code(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut cut = line;
        if let Some(i) = line.find("//")
            && line[..i].matches('"').count() % 2 == 0
        {
            cut = &line[..i];
        }
        out.push_str(cut);
        out.push('\n');
    }
    out
}

/// The top-level modules a file's code names: `crate::m`, and `crate::{m, n::x}` groups.
fn named(code: &str) -> Vec<String> {
    let ident =
        |s: &str| s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Only the first segment of each item in the group, at depth one.
            let mut depth = 1;
            let mut item_start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 1 => break,
                    '}' => depth -= 1,
                    ',' if depth == 1 => item_start = true,
                    c if c.is_whitespace() => {}
                    _ if item_start && depth == 1 => {
                        out.push(ident(&group[j..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.push(ident(rest));
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every upward (or sideways) import, as `file: a (row i) imports b (row j)`.
fn violations(rows: &[Vec<String>], sources: &[(String, String)]) -> Vec<String> {
    let row_of: BTreeMap<&str, usize> =
        rows.iter().enumerate().flat_map(|(i, r)| r.iter().map(move |m| (m.as_str(), i))).collect();
    let mut out = Vec::new();
    for (file, text) in sources {
        let module = file.split('/').next().unwrap_or_default().trim_end_matches(".rs");
        let Some(&own) = row_of.get(module) else { continue };
        for m in named(&code(text)) {
            match row_of.get(m.as_str()) {
                Some(&row) if m != module && row <= own => {
                    out.push(format!("{file}: `{module}` (row {}) imports `{m}` (row {})", own + 1, row + 1))
                }
                _ => {}
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn sources() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

fn lib() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap()
}

#[test]
fn every_module_is_in_exactly_one_row() {
    let lib = lib();
    let rows = rows(&lib);
    let mut listed: Vec<&str> = rows.iter().flatten().map(String::as_str).collect();
    listed.sort();
    let before = listed.len();
    listed.dedup();
    assert_eq!(before, listed.len(), "a module is in two rows: {rows:?}");
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.split("mod ").nth(1).filter(|_| !l.starts_with("//")))
        .map(|m| m.trim_end_matches(';'))
        .collect();
    let mut declared_sorted = declared.clone();
    declared_sorted.sort();
    assert_eq!(listed, declared_sorted, "lib.rs's table and its `mod` lines disagree");
}

#[test]
fn imports_point_down_the_table() {
    let lib = lib();
    let bad = violations(&rows(&lib), &sources());
    assert!(bad.is_empty(), "imports against lib.rs's layer table:\n{}", bad.join("\n"));
}

/// The check can fail: an import from a row above, a sideways one and one inside a `use` group
/// are each caught; a comment and an import from below are not.
#[test]
fn the_check_sees_upward_imports() {
    let lib = "//! # Layout\n//! - `top/`: a\n//! - `mid`, `side`: b\n//! - `low`: c\n";
    let rows = rows(lib);
    assert_eq!(rows, [vec!["top".to_string()], vec!["mid".into(), "side".into()], vec!["low".into()]]);
    let src = |f: &str, t: &str| (f.to_string(), t.to_string());
    let got = violations(
        &rows,
        &[
            src("mid.rs", "use crate::top::X;\n// crate::top in a comment\nuse crate::low::Y;\n"),
            src("side.rs", "fn f() { crate::mid::g() }\n"),
            src("low.rs", "use crate::{paths, mid::Z};\n"),
            src("top/a.rs", "use crate::{mid, low::{A, B}};\n"),
        ],
    );
    assert_eq!(
        got,
        [
            "low.rs: `low` (row 3) imports `mid` (row 2)",
            "mid.rs: `mid` (row 2) imports `top` (row 1)",
            "side.rs: `side` (row 2) imports `mid` (row 2)",
        ]
    );
}
