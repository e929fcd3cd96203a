//! The properties credd's parsers must hold for *any* input, one function per format, each taking
//! arbitrary bytes. The cargo-fuzz targets in `fuzz/` call them, and so does their stable twin
//! `tests/fuzz_corpus.rs` (seed corpora and random bytes), so CI checks them without nightly.
//!
//! A parse error is an answer, not a failure. A failure panics with the property that broke.
//! credd itself never calls this module; it lives in the library so both callers share it.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use crate::envfile::EnvFile;
use crate::profile::parse::{Eol, LineKind};
use crate::profile::{Document, Edit, FileKind, SectionId};
use crate::protocol::{PROTOCOL, RequestFrame};

/// The edit each shared-file input gets: the keys a refresh writes, and one removal.
const EDITS: &[(&str, Option<&str>)] =
    &[("aws_access_key_id", Some("ASIAFUZZ")), ("aws_session_token", Some("FUZZ/TOKEN+=")), ("region", None)];

/// `~/.aws/config` or `credentials` (first byte picks): parsing never panics, render gives back
/// every byte, an edit touches only its keys' lines, and the result reads back as edited.
pub fn shared_file(data: &[u8]) {
    let Some((&pick, bytes)) = data.split_first() else { return };
    let kind = if pick & 1 == 0 { FileKind::Credentials } else { FileKind::Config };
    let Ok(before) = Document::parse_bytes(bytes, kind, Path::new("fuzz")) else { return };
    assert_eq!(before.render(), bytes, "render(parse(x)) != x");
    let sections = before.sections();
    let names: Vec<String> = sections.profile_names().map(str::to_string).collect();
    let pick = usize::from(pick >> 1);
    let profile = names.get(pick % (names.len() + 1)).cloned().unwrap_or_else(|| "fuzz-new".into());
    let edits: Vec<Edit> = EDITS.iter().map(|(k, v)| Edit::set_or_remove(k, *v)).collect();
    let mut after = before.clone();
    // A refusal is safe (nothing is written); only an accepted edit must be exact.
    if after.edit_profile(&profile, &edits).is_err() {
        return;
    }
    let keys = EDITS.iter().map(|(k, _)| k.to_string()).collect();
    if let Err(why) = edit_is_local(&before, &after, &profile, &keys) {
        panic!("edit of [{profile}] was not local: {why}");
    }
    let reread = Document::parse_bytes(&after.render(), kind, Path::new("fuzz"))
        .unwrap_or_else(|e| panic!("the edited file does not parse: {e}"));
    let reread = reread.sections();
    for (k, v) in EDITS {
        assert_eq!(reread.profile(&profile).and_then(|p| p.get(k)), *v, "[{profile}] {k} reads back wrong");
    }
    keyring_round_trip(&before, &profile);
}

/// An SSO token cache file: parsing never panics; what parses renders to bytes that parse to the
/// same fields, in the same order, and render the same again; and a refresh changes only
/// `accessToken`, `expiresAt` and `refreshToken`, keeping every other field where it was.
pub fn sso_cache(data: &[u8]) {
    use crate::sso::cache::{CachedToken, NewToken};
    let Ok(token) = CachedToken::parse(data, Path::new("fuzz")) else { return };
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("in range");
    let _ = (token.refresh(now), token.expires_at(), token.grant());
    let rendered = token.render();
    let again = CachedToken::parse(&rendered, Path::new("fuzz"))
        .unwrap_or_else(|e| panic!("the rendering does not parse: {e}"));
    assert!(again == token, "render then parse changed the fields");
    assert_eq!(again.render(), rendered, "rendering is not stable");
    let mut refreshed = token.clone();
    let new = NewToken {
        access_token: "FUZZ-ACCESS".into(),
        expires_in: std::time::Duration::from_secs(3600),
        refresh_token: None,
    };
    refreshed.apply(&new, now);
    let keys = |t: &CachedToken| -> Vec<(String, String)> {
        let v: serde_json::Value = serde_json::from_slice(&t.render()).expect("renders JSON");
        v.as_object()
            .expect("an object")
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "accessToken" | "expiresAt"))
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect()
    };
    assert_eq!(keys(&refreshed), keys(&token), "a refresh changed another field, or moved one");
    assert_eq!(refreshed.access_token().map(|s| s.expose().to_string()).as_deref(), Some("FUZZ-ACCESS"));
    assert_eq!(refreshed.expires_at(), Some(now + chrono::Duration::hours(1)));
}

/// An `aws login` token cache file: parsing never panics; what parses renders to bytes that
/// parse to the same fields and expiry, and render the same again; and a refresh changes only
/// `accessToken`'s keys and expiry and `refreshToken` (its `accountId`, and every other field,
/// stay where they were), with the expiry read back as written.
pub fn login_cache(data: &[u8]) {
    use crate::login::cache::{LoginCache, NewTokens};
    let Ok(token) = LoginCache::parse(data, Path::new("fuzz")) else { return };
    let _ = (token.credentials(), token.grant(), token.sign_in_region(), format!("{token:?}"));
    let rendered = token.render();
    let again = LoginCache::parse(&rendered, Path::new("fuzz"))
        .unwrap_or_else(|e| panic!("the rendering does not parse: {e}"));
    assert!(again == token, "render then parse changed the fields or the expiry");
    assert_eq!(again.render(), rendered, "rendering is not stable");
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("in range");
    let mut refreshed = token.clone();
    let new = NewTokens {
        access_key_id: "ASIAFUZZ".into(),
        secret_access_key: "FUZZ-SECRET".into(),
        session_token: "FUZZ-SESSION".into(),
        expires_in: std::time::Duration::from_secs(900),
        refresh_token: "FUZZ-REFRESH".into(),
    };
    refreshed.apply(&new, now);
    let reread = LoginCache::parse(&refreshed.render(), Path::new("fuzz"))
        .unwrap_or_else(|e| panic!("the refreshed file does not parse: {e}"));
    assert!(reread == refreshed, "the refreshed file reads back differently");
    let fields = |t: &LoginCache| -> Vec<(String, String)> {
        let v: serde_json::Value = serde_json::from_slice(&t.render()).expect("renders JSON");
        let mut out = Vec::new();
        for (k, v) in v.as_object().expect("an object") {
            match (k.as_str(), v.as_object()) {
                ("refreshToken", _) => {}
                ("accessToken", Some(access)) => out.extend(
                    access
                        .iter()
                        .filter(|(k, _)| {
                            !matches!(
                                k.as_str(),
                                "accessKeyId" | "secretAccessKey" | "sessionToken" | "expiresAt"
                            )
                        })
                        .map(|(k, v)| (format!("accessToken.{k}"), v.to_string())),
                ),
                _ => out.push((k.clone(), v.to_string())),
            }
        }
        out
    };
    assert_eq!(fields(&refreshed), fields(&token), "a refresh changed another field, or moved one");
    let creds = reread.credentials();
    assert_eq!(
        (creds.access_key_id.as_str(), creds.session_token.expose(), creds.account_id.as_str()),
        ("ASIAFUZZ", "FUZZ-SESSION", token.account_id())
    );
    assert_eq!(reread.grant().refresh_token.expose(), "FUZZ-REFRESH");
    assert_eq!(reread.expires_at(), now + chrono::Duration::seconds(900));
}

/// What a document reads as: every section's keys and values, positions left out.
fn reading(doc: &Document) -> Vec<(SectionId, Vec<(String, String)>)> {
    let s = doc.sections();
    s.map
        .iter()
        .map(|(id, sec)| {
            (id.clone(), sec.props.iter().map(|(k, p)| (k.to_string(), p.value.to_string())).collect())
        })
        .collect()
}

/// `credd keyring import` then `export` on `profile`: the import leaves the profile without its
/// keys and marked, everything else reading as before; the export reads exactly as the original.
fn keyring_round_trip(before: &Document, profile: &str) {
    const KEYS: [&str; 2] = ["aws_access_key_id", "aws_secret_access_key"];
    let tag = crate::keyring::MARKER;
    let note = crate::keyring::marker_note(profile);
    let original = before.sections();
    let values: Vec<(&str, String)> = KEYS
        .iter()
        .filter_map(|k| original.profile(profile).and_then(|p| p.get(k)).map(|v| (*k, v.to_string())))
        .collect();
    let mut imported = before.clone();
    let import = imported
        .note_profile_before(profile, tag, Some(&note), &KEYS)
        .and_then(|()| imported.edit_profile(profile, &[Edit::remove(KEYS[0]), Edit::remove(KEYS[1])]));
    if import.is_err() {
        return;
    }
    let mut want = reading(before);
    for (id, props) in &mut want {
        if *id == SectionId::Profile(profile.to_string()) {
            props.retain(|(k, _)| !KEYS.contains(&k.as_str()));
        }
    }
    assert_eq!(reading(&imported), want, "the import of [{profile}] changed more than its keys");
    if original.profile(profile).is_some() {
        assert!(imported.noted_profiles(tag).contains(&profile), "the import of [{profile}] left no marker");
    }
    let sets: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut exported = imported.clone();
    if sets.is_empty() || exported.set_at_note(profile, tag, &sets).is_err() {
        return;
    }
    let mut back = reading(before);
    // A note the original already carried is dropped by the export; nothing else may differ.
    for (id, props) in &mut back {
        if *id == SectionId::Profile(profile.to_string()) {
            props.retain(|(k, _)| !KEYS.contains(&k.as_str()) || values.iter().any(|(vk, _)| vk == k));
        }
    }
    assert_eq!(reading(&exported), back, "import + export of [{profile}] does not read as the original");
}

/// The lines an edit of `keys` in `profile` may touch are its own; every other line of `before`
/// must stand in `after` in order with its text and terminator, and the only new lines allowed
/// are a new profile's blank line and header.
pub fn edit_is_local(
    before: &Document,
    after: &Document,
    profile: &str,
    keys: &BTreeSet<String>,
) -> Result<(), String> {
    let a = unowned(before, profile, keys);
    let b = unowned(after, profile, keys);
    if b.len() < a.len() {
        return Err(format!("lines were lost: {} before, {} after", a.len(), b.len()));
    }
    // Compared as bytes: when something is appended after a last line that had no terminator,
    // that line gains one (and a trailing `\r` of its text becomes part of a `\r\n`).
    let bytes = |l: &(String, Eol)| format!("{}{}", l.0, l.1.as_str());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        let (x, y) = (bytes(x), bytes(y));
        let appended_after = i + 1 == a.len() && a[i].1 == Eol::None && y.starts_with(&x);
        if x != y && !appended_after {
            return Err(format!("line {i} changed: {x:?} -> {y:?}"));
        }
    }
    let id = SectionId::Profile(profile.to_string());
    let existed = before.lines().iter().any(|l| l.kind.section() == Some(&id));
    let tail = &b[a.len()..];
    if existed && !tail.is_empty() {
        return Err(format!("{} unexpected new lines", tail.len()));
    }
    if !existed {
        if tail.len() > 2 {
            return Err("a new profile adds at most a blank line and a header".into());
        }
        if let Some(last) = tail.last()
            && !(last.0.starts_with('[') && last.0.contains(profile))
        {
            return Err(format!("the new profile's header is missing: {:?}", last.0));
        }
    }
    Ok(())
}

/// The lines that an edit of `keys` in `profile` does not own.
fn unowned(doc: &Document, profile: &str, keys: &BTreeSet<String>) -> Vec<(String, Eol)> {
    let id = SectionId::Profile(profile.to_string());
    let mut owned = HashSet::new();
    for (i, l) in doc.lines().iter().enumerate() {
        if let LineKind::Property { key, .. } = &l.kind
            && keys.contains(doc.key(*key))
            && doc.section_of(i) == Some(&id)
        {
            owned.insert(i);
        }
    }
    for (i, l) in doc.lines().iter().enumerate() {
        if let LineKind::Continuation { property, .. } = &l.kind
            && owned.contains(&(*property as usize))
        {
            owned.insert(i);
        }
    }
    doc.lines()
        .iter()
        .enumerate()
        .filter(|(i, _)| !owned.contains(i))
        .map(|(_, l)| (doc.text(l).to_string(), l.eol))
        .collect()
}

/// credd's `config.toml`: never panics, and every error names the file and a position.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(errors) = crate::config::Config::parse(text, Path::new("fuzz.toml")) {
        assert!(!errors.is_empty(), "a failed parse with no error");
        for e in errors {
            let msg = e.to_string();
            assert!(msg.starts_with("fuzz.toml"), "an error that does not name the file: {msg}");
        }
    }
}

/// A dotenv file: render gives back every byte, and setting a key changes that key only.
pub fn env_file(data: &[u8]) {
    let Ok(before) = EnvFile::parse(data, Path::new("fuzz.env")) else { return };
    assert_eq!(before.render(), data, "render(parse(x)) != x");
    let mut after = before.clone();
    if after.set("AWS_SESSION_TOKEN", "FUZZ/TOKEN+=").is_err() {
        return;
    }
    let rendered = after.render();
    let reread = EnvFile::parse(&rendered, Path::new("fuzz.env"))
        .unwrap_or_else(|e| panic!("the edited env file does not parse: {e}"));
    assert_eq!(reread.get("AWS_SESSION_TOKEN").as_deref(), Some("FUZZ/TOKEN+="));
    for key in before.keys() {
        if key != "AWS_SESSION_TOKEN" {
            assert_eq!(reread.get(&key), before.get(&key), "{key} changed");
        }
    }
    // Every original line is still there, in order: appending may only add a terminator.
    let old = String::from_utf8_lossy(data);
    let new = String::from_utf8_lossy(&rendered);
    let kept = old.lines().filter(|l| !l.contains("AWS_SESSION_TOKEN")).count();
    let still = new.lines().filter(|l| !l.contains("AWS_SESSION_TOKEN")).count();
    assert_eq!(kept, still, "lines were lost or added");
}

/// One control-socket request line: decoding never panics, and what decodes re-encodes to the
/// same request.
pub fn control_frame(data: &[u8]) {
    let Ok(request) = crate::ipc::server::decode(data) else { return };
    let line = serde_json::to_vec(&RequestFrame { protocol: PROTOCOL, request: request.clone() })
        .expect("a decoded request serializes");
    let again = crate::ipc::server::decode(&line).unwrap_or_else(|e| panic!("re-decoding failed: {e:?}"));
    assert_eq!(again, request, "the request did not survive a round trip");
}

/// The token the `exec_request` seeds carry, so that mutations of them reach the later guards.
pub const EXEC_TOKEN: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// One request head for `credd exec`'s endpoint, on port 4242: finding the head's end and
/// parsing never panic; what parses is made of the input's own bytes and holds no CR or LF; and
/// a request passes the guards only if it is a GET of the one path, for the endpoint's own
/// loopback host, carrying exactly the token.
pub fn exec_request(data: &[u8]) {
    use crate::exec::request::{self, PATH};
    if let Some(end) = request::head_end(data) {
        assert!(data[..end].ends_with(b"\r\n\r\n"), "head_end is past a blank line");
        assert_eq!(request::head_end(&data[..end - 1]), None, "head_end found a later blank line");
    }
    let Ok(head) = request::parse(data) else { return };
    assert!(data.len() <= request::MAX_HEAD, "a head over the cap parsed");
    let parts = [head.method.as_bytes(), head.target.as_bytes()];
    for part in parts.into_iter().chain(head.host.map(str::as_bytes)).chain(head.authorization) {
        assert!(!part.contains(&b'\r') && !part.contains(&b'\n'), "a parsed part spans lines");
        assert!(memchr::memmem::find(data, part).is_some(), "a parsed part is not in the input");
    }
    let token = crate::secret::Secret::new(EXEC_TOKEN);
    if request::check(&head, 4242, &token).is_ok() {
        assert_eq!(head.method, "GET");
        assert_eq!(head.target, PATH);
        let host = head.host.expect("a Host").to_ascii_lowercase();
        assert!(host == "127.0.0.1:4242" || host == "localhost:4242", "host {host:?} passed");
        assert_eq!(head.authorization, Some(EXEC_TOKEN.as_bytes()), "a wrong token passed");
    }
}
