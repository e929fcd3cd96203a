//! Where a renewed session's credentials come from, as aws-config's profile chain models it: one
//! base source, then the method credd renews with. [`Source`] is the base: long-term keys in the
//! AWS files, the current credentials of another session (role chaining), or a source of a kind
//! credd knows (`kinds::Source`: keys in the OS keyring, an SSO profile's role credentials).
//! [`Renewal`] is the method: an STS call made with the source's credentials, or the source's
//! own credentials, written where the session lives. A new kind of credentials (a login session,
//! `credential_process`, web identity) is one more `kinds::Source` variant, fetched in its room.

use super::RefreshError;
use crate::config::{Method, Settings};
use crate::files::Loaded;
use crate::finding::Code;
use crate::kinds::Dirs;
pub use crate::kinds::Fetched;
use crate::paths::Env;
use crate::profile::Sections;
use crate::profile::meta::{self, ProfileCredentials};
use crate::sessions::{Host, Managed};

/// Where the credentials come from, found in the files as read now.
pub enum Source {
    /// Keys in the AWS files: a profile's long-term keys, or for a chained session its source
    /// session's current credentials.
    Keys(ProfileCredentials),
    /// A source of a kind credd knows (`kinds::Source`), fetched in its room, with the endpoint
    /// override of the service it calls.
    Kind(crate::kinds::Source, Option<String>),
}

impl Source {
    /// The source of `managed`, as `loaded` has it: a kind's (an SSO profile, a profile held in
    /// the OS keyring), else keys in the files.
    pub fn find(loaded: &Loaded, managed: &Managed, env: &dyn Env) -> Result<Source, RefreshError> {
        let settings = &managed.settings;
        let profile = &settings.source_profile;
        // A source session that lives in an env file only (the shared MFA session): its keys.
        if let Some(path) = &managed.source_file {
            return crate::envfile::read_credentials(path).map(Source::Keys).map_err(|why| RefreshError {
                fix: Some(
                    format!("give it a code: `credd mfa {profile} CODE`, or `credd refresh {profile}`")
                        .into(),
                ),
                ..RefreshError::local(
                    Code::SourceProfileMissing,
                    format!("its source session \"{profile}\" holds no credentials yet ({why})"),
                )
            });
        }
        if let Some(kind) = crate::kinds::Source::find(loaded, profile, &Dirs::from_env(env)) {
            let kind = kind?;
            let url =
                kind.service().and_then(|(service, p)| super::endpoint::service_url(service, p, loaded, env));
            return Ok(Source::Kind(kind, url));
        }
        match keys(loaded, settings) {
            Ok(k) => Ok(Source::Keys(k)),
            // A source that is itself a session credd refreshes has simply not been issued yet:
            // say so, and name its refresh, not `aws configure`.
            Err(e) if managed.chained => Err(RefreshError {
                fix: Some(
                    format!(
                        "refresh it first: `credd refresh {profile}` (or `credd mfa {profile} CODE` if it takes an MFA code)"
                    )
                    .into(),
                ),
                ..RefreshError::local(
                    e.finding.unwrap_or(Code::SourceProfileMissing),
                    format!("its source session \"{profile}\" holds no credentials yet"),
                )
            }),
            Err(e) => Err(e),
        }
    }

    /// Fetches the credentials: from the files at once, or over the kind's own calls.
    pub async fn fetch(self, timeout: std::time::Duration) -> Result<Fetched, RefreshError> {
        match self {
            Source::Keys(k) => Ok(Fetched::Keys(k)),
            Source::Kind(kind, url) => kind.fetch(url, timeout).await,
        }
    }
}

/// How credd renews a session from its source's credentials.
pub enum Renewal {
    /// An STS call signed with them.
    Sts(Box<dyn super::Provider>),
    /// The source's own credentials are the session, written where it lives (`method = "sso"`).
    AsIs,
}

impl Renewal {
    pub fn of(settings: &Settings) -> Renewal {
        match settings.method {
            Method::AssumeRole => Renewal::Sts(Box::new(super::AssumeRole {
                role_arn: settings.role_arn.clone().unwrap_or_default(),
                external_id: settings.external_id.clone(),
                session_name: settings.role_session_name.clone().unwrap_or_else(|| "credd".into()),
                duration: settings.duration,
            })),
            Method::SessionToken => {
                Renewal::Sts(Box::new(super::SessionToken { duration: settings.duration }))
            }
            // Every other method is a kind's own (`kinds::Issuer::of_method`): the source's
            // credentials as they are.
            _ => Renewal::AsIs,
        }
    }
}

/// The keys to call STS with: the source's long-term keys, or for a chained session the source
/// session's current credentials.
pub fn keys(files: &Loaded, m: &Settings) -> Result<ProfileCredentials, RefreshError> {
    let merged = files.merged_profile(&m.source_profile);
    let Some(section) = merged.profile(&m.source_profile) else {
        return Err(RefreshError::local(
            Code::SourceProfileMissing,
            format!("source profile \"{}\" no longer exists", m.source_profile),
        ));
    };
    meta::credentials(section).ok_or_else(|| {
        RefreshError::local(
            Code::SourceProfileMissing,
            format!("source profile \"{}\" has no complete access key", m.source_profile),
        )
    })
}

/// What the source of `m` signs in with, hashed: its keys, or what its kind signs in with (an
/// SSO profile's cached token). A change (new keys, a new sign-in) retries a session stuck on
/// the old one.
pub fn fingerprint(loaded: &Loaded, merged: &Sections, m: &Managed, host: &Host) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let source = merged.profile(&m.settings.source_profile)?;
    match meta::credentials(source) {
        Some(c) => (c.access_key_id.as_str(), c.secret_access_key.expose()).hash(&mut h),
        None => crate::kinds::fingerprint(loaded, merged, &m.settings.source_profile, &host.dirs, &mut h)?,
    }
    Some(h.finish())
}
