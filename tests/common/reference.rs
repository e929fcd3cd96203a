//! aws-config as the reference reader: the profiles every Rust SDK would see for the same files,
//! compared key by key with what credd reads.

use std::collections::BTreeSet;
use std::path::Path;

use aws_config::profile::ProfileSet;
// aws-config still takes this (deprecated) alias in `profile::load`.
#[allow(deprecated)]
use aws_config::profile::profile_file::ProfileFiles;
use aws_types::os_shim_internal::{Env, Fs};
use credd::profile::{Document, FileKind, SectionId};

/// Loads the two files through `aws_config::profile::load`, in memory.
#[allow(deprecated)]
pub fn aws_load(config: &str, credentials: &str) -> Result<ProfileSet, String> {
    let fs = Fs::from_slice(&[("/h/.aws/config", config), ("/h/.aws/credentials", credentials)]);
    let env = Env::from_slice(&[("HOME", "/h")]);
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(aws_config::profile::load(&fs, &env, &ProfileFiles::default(), None))
        .map_err(|e| e.to_string())
}

/// Compares credd's reading with aws-config's. `extra_keys` are keys to probe besides the ones
/// credd found (aws-config cannot enumerate a profile's keys, so a key only it saw would hide).
pub fn compare(config: &str, credentials: &str, extra_keys: &[&str]) -> Result<bool, String> {
    let docs = (|| {
        let c = Document::parse(config, FileKind::Config, Path::new("config"))?;
        let k = Document::parse(credentials, FileKind::Credentials, Path::new("credentials"))?;
        Ok::<_, credd::profile::ParseError>((c, k))
    })();
    let ours = docs.as_ref().map(|(c, k)| c.sections().merged_with(&k.sections()));
    let theirs = aws_load(config, credentials);
    let (ours, theirs) = match (ours, theirs) {
        (Err(_), Err(_)) => return Ok(false),
        (Ok(_), Err(e)) => return Err(format!("aws-config rejects, credd accepts: {e}")),
        (Err(e), Ok(_)) => return Err(format!("credd rejects, aws-config accepts: {e}")),
        (Ok(o), Ok(t)) => (o, t),
    };
    let our_profiles: BTreeSet<&str> = ours.profile_names().collect();
    let their_profiles: BTreeSet<&str> = theirs.profiles().collect();
    if our_profiles != their_profiles {
        return Err(format!("profiles differ: credd {our_profiles:?}, aws-config {their_profiles:?}"));
    }
    let our_sso: BTreeSet<&str> = ours
        .map
        .keys()
        .filter_map(|k| match k {
            SectionId::SsoSession(n) => Some(n.as_str()),
            _ => None,
        })
        .collect();
    let their_sso: BTreeSet<&str> = theirs.sso_sessions().collect();
    if our_sso != their_sso {
        return Err(format!("sso-sessions differ: credd {our_sso:?}, aws-config {their_sso:?}"));
    }
    for name in our_profiles {
        let ours_p = ours.profile(name).unwrap();
        let theirs_p = theirs.get_profile(name).unwrap();
        let keys: BTreeSet<String> = ours_p
            .props
            .keys()
            .map(|k| k.to_string())
            .chain(extra_keys.iter().map(|k| k.to_ascii_lowercase()))
            .collect();
        for key in keys {
            if ours_p.get(&key) != theirs_p.get(&key) {
                return Err(format!(
                    "[{name}] {key}: credd {:?}, aws-config {:?}",
                    ours_p.get(&key),
                    theirs_p.get(&key)
                ));
            }
        }
    }
    for name in our_sso {
        let ours_s = ours.map.get(&SectionId::SsoSession(name.to_string())).unwrap();
        let theirs_s = theirs.sso_session(name).unwrap();
        for key in ours_s.props.keys().copied().chain(extra_keys.iter().copied()) {
            if ours_s.get(key) != theirs_s.get(&key.to_ascii_lowercase()) {
                return Err(format!("[sso-session {name}] {key} differs"));
            }
        }
    }
    Ok(true)
}
