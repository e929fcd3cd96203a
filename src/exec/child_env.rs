//! The command's environment, and the config file it reads: everything that makes its SDKs ask
//! credd's endpoint and nothing else.
//!
//! - Set: the endpoint's URL and token file (`AWS_CONTAINER_CREDENTIALS_FULL_URI`,
//!   `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`), `CREDD_SESSION`, and the session's region when
//!   neither `AWS_REGION` nor `AWS_DEFAULT_REGION` is set.
//! - Removed: every variable a default chain reads before the container provider, which would
//!   otherwise win ([`SHADOWING`]).
//! - The shared files: every SDK's default chain reads the profile `default` from
//!   `~/.aws/credentials` and `~/.aws/config` before it asks the container provider, so a
//!   `[default]` with keys, `credential_process`, SSO or a role would win and the command would
//!   silently run as `[default]`. The command gets an empty credentials file and a copy of the
//!   config whose `[default]` keeps its region and service settings but no key that chooses a
//!   credential provider ([`child_config`]).
//!
//! Pure: it says what to set and what to remove; `cli/exec.rs` applies it to the command, and
//! `rundir.rs` holds the files.

use std::path::Path;

use crate::paths::Env;
use crate::profile::{Document, Edit, FileKind};

/// Variables that would shadow the endpoint: the environment provider's keys, the profile
/// selectors (the profile they name would be read before the container provider), web identity
/// (read before it by botocore and the Rust SDK), and another container endpoint (a relative URI
/// wins over a full one, and a token in the environment is read when the file is not).
pub const SHADOWING: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
];

/// Keys of a config profile that make an SDK choose a credential provider for it, and so would
/// win over the endpoint when they sit in `[default]`. What stays (region, output, retries,
/// endpoints, `services`, s3 settings) changes no identity.
pub const CREDENTIAL_KEYS: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
    "x_security_token_expires",
    "aws_credential_expiration",
    "credential_process",
    "credential_source",
    "source_profile",
    "role_arn",
    "role_session_name",
    "external_id",
    "mfa_serial",
    "duration_seconds",
    "web_identity_token_file",
    "sso_session",
    "sso_start_url",
    "sso_region",
    "sso_account_id",
    "sso_role_name",
    "sso_registration_scopes",
    "login_session",
];

/// Where the command's SDKs are sent.
#[derive(Debug)]
pub struct Target<'a> {
    pub session: &'a str,
    pub region: Option<&'a str>,
    pub url: &'a str,
    pub token_file: &'a Path,
    pub credentials_file: &'a Path,
    pub config_file: &'a Path,
}

/// What to change in the inherited environment: the variables to remove, then those to set.
#[derive(Debug, PartialEq, Eq)]
pub struct Changes {
    pub remove: Vec<&'static str>,
    pub set: Vec<(&'static str, String)>,
}

/// The changes for `target`, given the environment `credd exec` was started with.
pub fn changes(parent: &dyn Env, target: &Target<'_>) -> Changes {
    let mut set = vec![
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", target.url.to_string()),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", target.token_file.display().to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", target.credentials_file.display().to_string()),
        ("AWS_CONFIG_FILE", target.config_file.display().to_string()),
        ("CREDD_SESSION", target.session.to_string()),
    ];
    // Both or neither: botocore reads AWS_DEFAULT_REGION and the Go and Rust SDKs AWS_REGION,
    // so setting only the unset one could send two SDKs in one command to two regions.
    let unset = |k| parent.var(k).is_none_or(|v| v.is_empty());
    if let Some(r) = target.region
        && unset("AWS_REGION")
        && unset("AWS_DEFAULT_REGION")
    {
        set.push(("AWS_REGION", r.to_string()));
        set.push(("AWS_DEFAULT_REGION", r.to_string()));
    }
    Changes { remove: SHADOWING.to_vec(), set }
}

/// The command's config file: `original` (the user's config, if any) with every
/// [`CREDENTIAL_KEYS`] key removed from `[default]`, every other byte kept. An original that
/// does not parse, or whose `[default]` cannot be edited without changing another profile, gives
/// an empty file and the reason: the command then still reaches the endpoint, but without the
/// config's settings.
pub fn child_config(original: Option<&[u8]>, path: &Path) -> (Vec<u8>, Option<String>) {
    let Some(bytes) = original else { return (Vec::new(), None) };
    let mut doc = match Document::parse_bytes(bytes, FileKind::Config, path) {
        Ok(d) => d,
        Err(e) => return (Vec::new(), Some(format!("{e}; the command gets an empty config file"))),
    };
    let edits: Vec<Edit> = CREDENTIAL_KEYS.iter().map(|k| Edit::remove(k)).collect();
    match doc.edit_profile("default", &edits) {
        Ok(()) => (doc.render(), None),
        Err(e) => {
            (Vec::new(), Some(format!("{}: {e}; the command gets an empty config file", path.display())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn target(region: Option<&str>) -> Target<'_> {
        Target {
            session: "dev",
            region,
            url: "http://127.0.0.1:9/credentials",
            token_file: Path::new("/run/t"),
            credentials_file: Path::new("/run/c"),
            config_file: Path::new("/run/cfg"),
        }
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_endpoint_is_set_and_shadows_removed() {
        let c = changes(&env(&[]), &target(Some("eu-west-1")));
        let set: HashMap<_, _> = c.set.iter().cloned().collect();
        assert_eq!(set["AWS_CONTAINER_CREDENTIALS_FULL_URI"], "http://127.0.0.1:9/credentials");
        assert_eq!(set["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], "/run/t");
        assert_eq!(set["CREDD_SESSION"], "dev");
        assert_eq!(
            (set["AWS_REGION"].as_str(), set["AWS_DEFAULT_REGION"].as_str()),
            ("eu-west-1", "eu-west-1")
        );
        for k in ["AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CREDENTIAL_EXPIRATION"] {
            assert!(c.remove.contains(&k), "{k}");
        }
        assert!(!c.remove.iter().any(|r| set.contains_key(r)), "nothing set is removed again");
    }

    #[test]
    fn a_region_already_chosen_is_kept() {
        for parent in [env(&[("AWS_REGION", "us-west-2")]), env(&[("AWS_DEFAULT_REGION", "us-west-2")])] {
            let c = changes(&parent, &target(Some("eu-west-1")));
            assert!(!c.set.iter().any(|(k, _)| k.contains("REGION")), "{:?}", c.set);
        }
        let c = changes(&env(&[]), &target(None));
        assert!(!c.set.iter().any(|(k, _)| k.contains("REGION")));
    }

    #[test]
    fn default_loses_its_credentials_and_keeps_the_rest() {
        let original = "# mine\n[default]\nregion = eu-central-1\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalr\ncredential_process = /bin/false\ns3 =\n  addressing_style = path\n\n[profile work]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n[sso-session corp]\nsso_start_url = https://x\nsso_region = us-east-1\n";
        let (out, warning) = child_config(Some(original.as_bytes()), Path::new("/c"));
        assert_eq!(warning, None);
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.starts_with("# mine\n[default]\nregion = eu-central-1\ns3 =\n  addressing_style = path\n"),
            "{out}"
        );
        assert!(!out.contains("AKIA") && !out.contains("wJalr") && !out.contains("/bin/false"), "{out}");
        assert!(out.contains("[profile work]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n"));
        assert!(out.contains("[sso-session corp]\nsso_start_url = https://x\nsso_region = us-east-1\n"));
        let (out, _) =
            child_config(Some(b"[profile default]\nsso_session = corp\noutput = json\n"), Path::new("/c"));
        assert_eq!(String::from_utf8(out).unwrap(), "[profile default]\noutput = json\n");
    }

    #[test]
    fn no_config_or_a_broken_one_gives_an_empty_file() {
        assert_eq!(child_config(None, Path::new("/c")), (Vec::new(), None));
        let (out, warning) = child_config(Some(b"[default\nregion = x\n"), Path::new("/c"));
        assert!(out.is_empty());
        assert!(warning.unwrap().contains("empty config file"));
    }
}
