//! `credd export` and `credd credential-process`: reading a session's current credentials from
//! where the daemon says they are, and printing them in the formats of
//! `aws configure export-credentials` (plus dotenv, fish and JSON).
//!
//! The daemon never sends secrets over its socket; it makes sure the session is fresh and names
//! the file. This process, running as the same user, reads the keys from that file.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::ipc::protocol::{ExportLocation, Origin};
use crate::profile::meta::{self, ProfileCredentials};
use crate::profile::{FileKind, read_document};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `export AWS_…=…` lines for sh, bash and zsh (`eval "$(credd export dev)"`).
    Env,
    /// `AWS_…=…` lines for .env files.
    Dotenv,
    /// `set -gx AWS_… …` for fish.
    Fish,
    /// `$Env:AWS_…="…"` for PowerShell.
    Powershell,
    /// The credential_process JSON, pretty-printed.
    Json,
    /// The credential_process JSON, one line (what `credential_process =` expects).
    CredentialProcess,
}

/// A session's credentials, ready to print. Secret parts stay redacted in Debug.
#[derive(Debug, Clone)]
pub struct Exported {
    pub name: String,
    pub creds: ProfileCredentials,
    pub expires_at: Option<DateTime<Utc>>,
    pub region: Option<String>,
}

/// Reads the credentials at `loc`.
pub fn read(loc: &ExportLocation) -> Result<Exported, String> {
    let path = std::path::Path::new(&loc.path);
    let creds = match loc.origin {
        Origin::EnvFile => crate::envfile::read_credentials(path)?,
        Origin::CredentialsFile | Origin::Shell => {
            let doc = read_document(path, FileKind::Credentials).map_err(|e| e.to_string())?;
            let sections = doc.map(|d| d.sections()).unwrap_or_default();
            let profile = loc.profile.as_deref().unwrap_or(&loc.name);
            sections
                .profile(profile)
                .and_then(meta::credentials)
                .ok_or_else(|| format!("profile [{profile}] in {} holds no complete credentials", loc.path))?
        }
    };
    Ok(Exported { name: loc.name.clone(), creds, expires_at: loc.expires_at, region: loc.region.clone() })
}

fn sh_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

/// The variables to set, in order.
fn vars(e: &Exported) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("AWS_ACCESS_KEY_ID", e.creds.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", e.creds.secret_access_key.expose().to_string()),
    ];
    if let Some(t) = &e.creds.session_token {
        v.push(("AWS_SESSION_TOKEN", t.expose().to_string()));
    }
    if let Some(at) = e.expires_at {
        v.push(("AWS_CREDENTIAL_EXPIRATION", at.to_rfc3339_opts(SecondsFormat::Secs, true)));
    }
    if let Some(r) = &e.region {
        v.push(("AWS_REGION", r.clone()));
    }
    v.push(("CREDD_SESSION", e.name.clone()));
    v
}

pub fn render(e: &Exported, format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Env => {
            vars(e).iter().for_each(|(k, v)| out.push_str(&format!("export {k}={}\n", sh_quote(v))))
        }
        Format::Dotenv => vars(e).iter().for_each(|(k, v)| out.push_str(&format!("{k}={v}\n"))),
        Format::Fish => {
            vars(e).iter().for_each(|(k, v)| out.push_str(&format!("set -gx {k} {};\n", sh_quote(v))))
        }
        Format::Powershell => vars(e)
            .iter()
            .for_each(|(k, v)| out.push_str(&format!("$Env:{k}=\"{}\"\n", v.replace('"', "`\"")))),
        Format::Json | Format::CredentialProcess => {
            let mut m = serde_json::Map::new();
            m.insert("Version".into(), 1.into());
            m.insert("AccessKeyId".into(), e.creds.access_key_id.clone().into());
            m.insert("SecretAccessKey".into(), e.creds.secret_access_key.expose().into());
            if let Some(t) = &e.creds.session_token {
                m.insert("SessionToken".into(), t.expose().into());
            }
            if let Some(at) = e.expires_at {
                m.insert("Expiration".into(), at.to_rfc3339_opts(SecondsFormat::Secs, true).into());
            }
            let v = serde_json::Value::Object(m);
            out = if format == Format::Json {
                serde_json::to_string_pretty(&v)
            } else {
                serde_json::to_string(&v)
            }
            .expect("serializes");
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn sample() -> Exported {
        Exported {
            name: "dev".into(),
            creds: ProfileCredentials {
                access_key_id: "ASIAEXAMPLE".into(),
                secret_access_key: Secret::new("se'cret"),
                session_token: Some(Secret::new("tok")),
            },
            expires_at: Some(DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z").unwrap().into()),
            region: Some("eu-west-1".into()),
        }
    }

    #[test]
    fn formats() {
        let e = sample();
        let env = render(&e, Format::Env);
        assert!(env.contains("export AWS_SECRET_ACCESS_KEY='se'\\''cret'\n"), "{env}");
        assert!(
            env.contains("export CREDD_SESSION='dev'\n") && env.contains("export AWS_REGION='eu-west-1'\n")
        );
        assert!(render(&e, Format::Dotenv).starts_with("AWS_ACCESS_KEY_ID=ASIAEXAMPLE\n"));
        assert!(render(&e, Format::Fish).contains("set -gx AWS_SESSION_TOKEN 'tok';\n"));
        assert!(render(&e, Format::Powershell).contains("$Env:AWS_ACCESS_KEY_ID=\"ASIAEXAMPLE\"\n"));
        let cp: serde_json::Value = serde_json::from_str(&render(&e, Format::CredentialProcess)).unwrap();
        assert_eq!(cp["Version"], 1);
        assert_eq!(cp["Expiration"], "2030-01-01T00:00:00Z");
        assert_eq!(cp["SecretAccessKey"], "se'cret");
        assert_eq!(render(&e, Format::CredentialProcess).lines().count(), 1);
        assert!(!format!("{e:?}").contains("se'cret"), "Debug redacts");
    }
}
