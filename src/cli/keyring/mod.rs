//! `credd keyring import|list|export|remove`: moving a profile's long-term keys between the
//! credentials file and the OS keyring, never holding them in neither.
//!
//! The order is what makes each move safe: the keys are written to their new home and read back
//! before they leave the old one. An import first reads the keys the way every SDK does and
//! refuses what any would read differently (`guard`), stores and verifies the keyring item, then
//! turns the two key lines into [`MARKER`] comments that keep their layout (every other byte
//! kept); an export writes the key lines back in their place, byte for byte. `remove` deletes the keyring item
//! only while the file holds the same key, unless told `--force`.

use std::path::Path;

mod guard;

use super::{Failure, runtime};
use crate::files::AwsFiles;
use crate::keyring::{self, Keyring, KeyringError, LongTermKey, MARKER};
use crate::paths::ProcessEnv;
use crate::profile::meta::{self, CredentialKind};
use crate::profile::{Document, Edit, EditError, FileKind, read_document, update};
use crate::secret::short_key_id;

/// What `credd keyring` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Import { profile: String, credential_process: bool },
    List { json: bool },
    Export { profile: String },
    Remove { profile: String, force: bool },
}

fn keyring_failure(e: KeyringError) -> Failure {
    Failure::failed(format!("{e}; fix: {}", e.fix()))
}

pub fn keyring(action: &Action) -> Result<(), Failure> {
    let files = AwsFiles::from_env(&ProcessEnv);
    let ring = keyring::system();
    let rt = runtime()?;
    match action {
        Action::Import { profile, credential_process } => {
            rt.block_on(import(&*ring, &files, profile, *credential_process))
        }
        Action::List { json } => rt.block_on(list(&*ring, &files, *json)),
        Action::Export { profile } => rt.block_on(export(&*ring, &files, profile)),
        Action::Remove { profile, force } => rt.block_on(remove(&*ring, &files, profile, *force)),
    }
}

/// The long-term key `profile` holds in the credentials file now.
fn key_in_file(path: &Path, profile: &str) -> Result<Option<LongTermKey>, Failure> {
    let doc = read_document(path, FileKind::Credentials).map_err(Failure::failed)?;
    let Some(doc) = doc else { return Ok(None) };
    long_term_key(&doc, path, profile)
}

/// The long-term key `profile` holds in `doc` (the credentials file at `path`).
fn long_term_key(doc: &Document, path: &Path, profile: &str) -> Result<Option<LongTermKey>, Failure> {
    let sections = doc.profile_only(profile);
    let Some(section) = sections.profile(profile) else { return Ok(None) };
    match meta::credential_kind(section) {
        CredentialKind::LongTerm => {}
        CredentialKind::Absent => return Ok(None),
        CredentialKind::Session => {
            return Err(Failure::failed(format!(
                "[{profile}] in {} holds a temporary session (ASIA…), not long-term keys; only long-term keys belong in the keyring",
                path.display()
            )));
        }
        CredentialKind::Inconsistent(_) => {
            return Err(Failure::failed(format!(
                "[{profile}] in {} holds incomplete keys; `credd doctor --profile {profile}` says what is wrong",
                path.display()
            )));
        }
    }
    let c = meta::credentials(section).expect("a long-term kind has both parts");
    Ok(Some(LongTermKey { access_key_id: c.access_key_id, secret_access_key: c.secret_access_key }))
}

/// The long-term key to import from `doc`, once [`guard::check`] has found nothing any SDK would
/// read differently: `None` when the profile holds no keys.
fn key_to_import(doc: &Document, path: &Path, profile: &str) -> Result<Option<LongTermKey>, Failure> {
    guard::check(doc, path, profile).map_err(|r| Failure::failed(r.to_string()))?;
    long_term_key(doc, path, profile)
}

/// `credential_process` as import writes it: this binary, by absolute path, since an SDK in a
/// GUI app may not have `~/.cargo/bin` on its PATH.
fn our_credential_process(profile: &str) -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let exe = exe.to_str()?;
    // The SDKs split the command line on whitespace (botocore with shlex); a path with spaces or
    // quotes would need quoting that not every SDK undoes.
    if exe.contains(|c: char| c.is_whitespace() || "'\"\\#;".contains(c)) {
        return None;
    }
    Some(format!("{exe} credential-process {profile}"))
}

/// Whether a `credential_process` value is the one import wrote for `profile`.
fn is_ours(value: &str, profile: &str) -> bool {
    let mut words = value.split_whitespace();
    let exe = words.next().unwrap_or_default();
    Path::new(exe).file_name().is_some_and(|n| n == "credd")
        && words.next() == Some("credential-process")
        && words.next() == Some(profile)
        && words.next().is_none()
}

async fn import(
    ring: &dyn Keyring,
    files: &AwsFiles,
    profile: &str,
    with_process: bool,
) -> Result<(), Failure> {
    let path = &files.credentials;
    let doc = read_document(path, FileKind::Credentials).map_err(Failure::failed)?;
    let found = match &doc {
        Some(doc) => key_to_import(doc, path, profile)?,
        None => None,
    };
    let held = ring.get(profile).await.map_err(keyring_failure)?;
    let Some(key) = found else {
        return Err(Failure::failed(match held {
            Some(k) => format!(
                "[{profile}] is already in the keyring (key {}); nothing to import",
                short_key_id(&k.access_key_id)
            ),
            None => format!("[{profile}] in {} holds no access keys to import", path.display()),
        }));
    };
    // The keyring's item may be the only copy of another key: putting this one would lose it.
    if let Some(other) = held.filter(|h| *h != key) {
        return Err(Failure::failed(format!(
            "the OS keyring already holds another key for [{profile}] ({}), and {} holds {}; importing would delete the keyring's for good. Fix: to keep the keyring's key, move [{profile}]'s key lines out of {} and run `credd keyring export {profile}`; to replace it, `credd keyring remove {profile} --force`, then import again",
            short_key_id(&other.access_key_id),
            path.display(),
            short_key_id(&key.access_key_id),
            path.display(),
        )));
    }
    ring.put(profile, &key).await.map_err(keyring_failure)?;
    match ring.get(profile).await.map_err(keyring_failure)? {
        Some(back) if back == key => {}
        _ => {
            return Err(Failure::failed(format!(
                "the keyring did not give back the key it was handed for [{profile}]; the credentials file is unchanged"
            )));
        }
    }
    // The file as it is at the write, not as it was read: if the keys changed in between (a
    // rotation by hand), the keyring holds the old key and the file keeps the new one; if the file
    // changed so that some SDK would read them differently, it is refused as it would have been.
    let mut changed_meanwhile = None;
    let prefix = keyring::held_note_prefix(profile);
    update(path, FileKind::Credentials, |doc| {
        changed_meanwhile = match key_to_import(doc, path, profile) {
            Ok(Some(now)) if now == key => None,
            Ok(_) => Some(format!(
                "the keys of [{profile}] changed in {} during the import; the file is unchanged, run the import again",
                path.display()
            )),
            Err(Failure::Failed(Some(why))) => Some(why),
            Err(_) => Some(format!("[{profile}] in {} cannot be imported now", path.display())),
        };
        if changed_meanwhile.is_some() {
            return Ok(());
        }
        // Each key line becomes a note keeping its layout, so export puts it back byte for byte.
        doc.hold_lines(profile, &prefix, &guard::KEY_LINES)
    })
    .map_err(Failure::failed)?;
    if let Some(why) = changed_meanwhile {
        return Err(Failure::failed(why));
    }
    println!(
        "moved the keys of [{profile}] (key {}) into the OS keyring; {} no longer holds them",
        short_key_id(&key.access_key_id),
        path.display()
    );
    if with_process {
        set_credential_process(files, profile)?;
    }
    Ok(())
}

/// Points the config profile at `credd credential-process`, unless it already gets credentials
/// some other way.
fn set_credential_process(files: &AwsFiles, profile: &str) -> Result<(), Failure> {
    const ELSEWHERE: [&str; 6] = [
        "credential_process",
        "role_arn",
        "sso_session",
        "sso_start_url",
        "web_identity_token_file",
        "credential_source",
    ];
    let Some(line) = our_credential_process(profile) else {
        println!(
            "note: add `credential_process = credd credential-process {profile}` to [profile {profile}] in {} so SDKs get short-lived sessions",
            files.config.display()
        );
        return Ok(());
    };
    let mut skipped = None;
    update(&files.config, FileKind::Config, |doc| {
        let sections = doc.profile_only(profile);
        skipped = sections
            .profile(profile)
            .and_then(|s| ELSEWHERE.iter().find(|k| s.get(k).is_some()).map(|k| k.to_string()));
        drop(sections);
        if skipped.is_some() {
            Ok(())
        } else {
            doc.edit_profile(profile, &[Edit::set("credential_process", &line)])
        }
    })
    .map_err(Failure::failed)?;
    match skipped {
        Some(k) => println!(
            "left [profile {profile}] in {} as it is: it sets {k}; `credd credential-process {profile}` hands out short-lived sessions of these keys",
            files.config.display()
        ),
        None => println!(
            "SDKs now get short-lived sessions: [profile {profile}] in {} has credential_process = {line}",
            files.config.display()
        ),
    }
    Ok(())
}

async fn list(ring: &dyn Keyring, files: &AwsFiles, json: bool) -> Result<(), Failure> {
    let held = ring.list().await.map_err(keyring_failure)?;
    let doc = read_document(&files.credentials, FileKind::Credentials).map_err(Failure::failed)?;
    let marked: Vec<&str> = doc.as_ref().map(|d| d.noted_profiles(MARKER)).unwrap_or_default();
    if json {
        let v: Vec<serde_json::Value> = held
            .iter()
            .map(|h| {
                serde_json::json!({
                    "profile": h.profile,
                    "access_key_id": h.access_key_id,
                    "marked_in_file": marked.contains(&h.profile.as_str()),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v).expect("plain values"));
        return Ok(());
    }
    if held.is_empty() {
        println!(
            "the OS keyring holds no keys for credd (`credd keyring import PROFILE` moves a profile's keys there)"
        );
        return Ok(());
    }
    print!("{}", table(&held, &marked));
    Ok(())
}

/// `credd keyring list`'s table: one line per held profile.
fn table(held: &[keyring::Held], marked: &[&str]) -> String {
    let width = held.iter().map(|h| h.profile.len()).max().unwrap_or(0).max(7);
    let mut out = format!("{:width$}  KEY ID\n", "PROFILE");
    for h in held {
        let note = if marked.contains(&h.profile.as_str()) {
            ""
        } else {
            "  (the credentials file does not mark it)"
        };
        // A key ID is shown escaped: one with a line break would otherwise break the table.
        let id = h.access_key_id.as_deref().map(|k| k.escape_debug().to_string());
        out += &format!("{:width$}  {}{note}\n", h.profile, id.as_deref().unwrap_or("(locked)"));
    }
    out
}

async fn export(ring: &dyn Keyring, files: &AwsFiles, profile: &str) -> Result<(), Failure> {
    let Some(key) = ring.get(profile).await.map_err(keyring_failure)? else {
        return Err(Failure::failed(format!("the OS keyring holds no keys for [{profile}]")));
    };
    if let Some(other) = key_in_file(&files.credentials, profile)?
        && other != key
    {
        return Err(Failure::failed(format!(
            "[{profile}] in {} holds another key ({}) than the keyring's ({}); export writes over no key. Fix: to put the keyring's key back, move [{profile}]'s key lines out of {} and export again; to keep the file's key and drop the keyring's, `credd keyring remove {profile} --force`",
            files.credentials.display(),
            short_key_id(&other.access_key_id),
            short_key_id(&key.access_key_id),
            files.credentials.display(),
        )));
    }
    let edits = [
        ("aws_access_key_id", key.access_key_id.as_str()),
        ("aws_secret_access_key", key.secret_access_key.expose()),
    ];
    // Where import found the keys, as they were laid out; a file imported before the notes kept
    // the layout has one marker line, and the keys go there.
    let prefix = keyring::held_note_prefix(profile);
    update(&files.credentials, FileKind::Credentials, |doc| {
        if doc.unhold_lines(profile, &prefix, &edits) {
            doc.note_profile(profile, MARKER, None)
        } else if edits.iter().any(|(_, v)| v.contains('\n')) {
            // Taken by an import before issue 25 with its continuation lines: put back as it was
            // read, so the keys are in the file again; doctor then says what to fix.
            doc.restore_at_note(profile, MARKER, &edits)
        } else {
            doc.set_at_note(profile, MARKER, &edits)
        }
    })
    .map_err(Failure::failed)?;
    match key_in_file(&files.credentials, profile)? {
        Some(back) if back == key => {}
        _ => {
            return Err(Failure::failed(
                "the keys did not read back from the credentials file; the keyring still holds them",
            ));
        }
    }
    // The config's credential_process goes only if it is the one import wrote.
    update(&files.config, FileKind::Config, |doc| {
        let sections = doc.profile_only(profile);
        let ours = sections
            .profile(profile)
            .and_then(|s| s.get("credential_process"))
            .is_some_and(|v| is_ours(v, profile));
        drop(sections);
        if ours {
            doc.edit_profile(profile, &[Edit::remove("credential_process")])
        } else {
            Ok::<(), EditError>(())
        }
    })
    .map_err(Failure::failed)?;
    println!(
        "wrote the keys of [{profile}] (key {}) back to {}; the keyring keeps a copy until `credd keyring remove {profile}`",
        short_key_id(&key.access_key_id),
        files.credentials.display()
    );
    Ok(())
}

async fn remove(ring: &dyn Keyring, files: &AwsFiles, profile: &str, force: bool) -> Result<(), Failure> {
    let Some(key) = ring.get(profile).await.map_err(keyring_failure)? else {
        return Err(Failure::failed(format!("the OS keyring holds no keys for [{profile}]")));
    };
    let in_file = key_in_file(&files.credentials, profile)?;
    if in_file.as_ref() != Some(&key) && !force {
        let shown = short_key_id(&key.access_key_id);
        let path = files.credentials.display();
        return Err(Failure::failed(match in_file {
            None => format!(
                "the keyring holds the only copy of [{profile}]'s key {shown}; run `credd keyring export {profile}` first, or pass --force to delete it for good"
            ),
            // Export would refuse to write over the file's key, so it is not the way out here.
            Some(other) => format!(
                "the keyring holds the only copy of [{profile}]'s key {shown}, and {path} holds another ({}). Fix: to keep {shown}, move [{profile}]'s key lines out of {path} and run `credd keyring export {profile}`; to delete {shown} for good, pass --force",
                short_key_id(&other.access_key_id)
            ),
        }));
    }
    ring.delete(profile).await.map_err(keyring_failure)?;
    update(&files.credentials, FileKind::Credentials, |doc| doc.note_profile(profile, MARKER, None))
        .map_err(Failure::failed)?;
    println!(
        "deleted the keys of [{profile}] (key {}) from the OS keyring",
        short_key_id(&key.access_key_id)
    );
    Ok(())
}

#[cfg(test)]
mod tests;
