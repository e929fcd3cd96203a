//! The live checks: `GetCallerIdentity` once per distinct credential set (the environment's and
//! each profile's), concurrently, each with a timeout. A success names the identity; a failure is
//! classified by `refresh::classify`, the same code the daemon uses. Every response's `Date`
//! header is compared with the local clock.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;

use super::{Finding, Identity, Severity, Source};
use crate::files::Loaded;
use crate::finding::Code;
use crate::paths::Env;
use crate::profile::meta::{self, ProfileCredentials};
use crate::refresh::classify::{RefreshError, Retry, fix_for};
use crate::refresh::{CallContext, Endpoint, sts};
use crate::secret::{Secret, short_key_id};

/// How long one GetCallerIdentity may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// Skew above this is a warning; above `classify::SKEW_FATAL` (5 min) an error.
const SKEW_WARN: chrono::Duration = chrono::Duration::minutes(1);

/// One set of credentials to check, and where it came from.
pub struct CredSet {
    /// `None` for the environment's.
    pub profile: Option<String>,
    pub creds: ProfileCredentials,
    pub endpoint: Endpoint,
}

fn fingerprint(c: &ProfileCredentials) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (&c.access_key_id, c.secret_access_key.expose(), c.session_token.as_ref().map(Secret::expose))
        .hash(&mut h);
    h.finish()
}

/// The environment's credentials (if complete) and those of each profile in `profiles`, with
/// duplicates dropped.
/// `held` gives the keys of profiles the keyring holds, checked like keys in the files.
pub fn credential_sets(
    env: &dyn Env,
    files: &Loaded,
    profiles: &[&str],
    held: &std::collections::HashMap<String, ProfileCredentials>,
) -> Vec<CredSet> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let var = |k: &str| env.var(k).filter(|v| !v.is_empty());
    let env_region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
    if let (Some(key), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        let creds = ProfileCredentials {
            access_key_id: key,
            secret_access_key: Secret::new(secret),
            session_token: var("AWS_SECURITY_TOKEN").or_else(|| var("AWS_SESSION_TOKEN")).map(Secret::new),
        };
        seen.insert(fingerprint(&creds));
        let endpoint = crate::refresh::endpoint::endpoint_for_profile(
            "",
            env_region.as_deref(),
            None,
            files,
            env,
            TIMEOUT,
        );
        out.push(CredSet { profile: None, creds, endpoint });
    }
    let merged = files.merged();
    for name in profiles {
        let in_files = merged.profile(name).and_then(meta::credentials);
        let Some(creds) = in_files.or_else(|| held.get(*name).cloned()) else { continue };
        if !seen.insert(fingerprint(&creds)) {
            continue;
        }
        let endpoint = crate::refresh::endpoint::endpoint_for_profile(
            name,
            env_region.as_deref(),
            None,
            files,
            env,
            TIMEOUT,
        );
        out.push(CredSet { profile: Some(name.to_string()), creds, endpoint });
    }
    out
}

fn explain(e: &RefreshError, key: &str) -> String {
    let key = short_key_id(key);
    match e.finding {
        Some(Code::KeyUnknown) => format!(
            "STS does not know the access key {key} ({}): it was deleted or rotated, belongs to another partition, or has a typo",
            e.code.as_deref().unwrap_or("InvalidClientTokenId")
        ),
        Some(Code::SecretMismatch) => format!(
            "STS knows {key} but the secret does not match it ({}), and the clock is right: the secret is mistyped or belongs to another key",
            e.code.as_deref().unwrap_or("SignatureDoesNotMatch")
        ),
        Some(Code::TokenExpired) => format!(
            "the session token for {key} has expired ({})",
            e.code.as_deref().unwrap_or("ExpiredToken")
        ),
        Some(Code::ClockSkew) => format!("STS rejected the request as signed at the wrong time: {e}"),
        _ => format!("STS refused the credentials {key}: {e}"),
    }
}

/// Checks every set concurrently. Returns findings and the identities that worked.
pub async fn run(sets: Vec<CredSet>, now: DateTime<Utc>) -> (Vec<Finding>, Vec<Identity>) {
    let mut tasks = JoinSet::new();
    for set in sets {
        tasks.spawn(async move {
            let ctx = CallContext { source: set.creds.clone(), mfa: None, endpoint: set.endpoint.clone() };
            let (result, date) = sts::caller_identity(&ctx).await;
            (set, result, date)
        });
    }
    let mut findings = Vec::new();
    let mut identities = Vec::new();
    let mut worst_skew: Option<chrono::Duration> = None;
    while let Some(joined) = tasks.join_next().await {
        let Ok((set, result, date)) = joined else { continue };
        if let Some(d) = date {
            let skew = now - d;
            if worst_skew.is_none_or(|w| skew.abs() > w.abs()) {
                worst_skew = Some(skew);
            }
        }
        let profile = set.profile.as_deref();
        match result {
            Ok((arn, account)) => {
                identities.push(Identity { profile: profile.unwrap_or("env").to_string(), arn, account })
            }
            Err(e) if e.retry == Retry::Retryable && e.finding.is_none() => findings.push(Finding::new(
                Code::StsUnreachable,
                Severity::Warn,
                profile,
                Source::Sts,
                format!(
                    "could not check the credentials with STS at {}: {e}",
                    set.endpoint.url.as_deref().unwrap_or("the default endpoint")
                ),
                "check the network, proxy settings and AWS_ENDPOINT_URL*; or run `credd doctor --offline`"
                    .into(),
            )),
            Err(e) => {
                let code = e.finding.unwrap_or(Code::StsRejected);
                let fix = fix_for(
                    &RefreshError { key_id: Some(set.creds.access_key_id.as_str().into()), ..e.clone() },
                    profile.unwrap_or("the environment"),
                    "GetCallerIdentity",
                )
                .unwrap_or_else(|| "check the credentials with your AWS administrator".into());
                let fix = if profile.is_none() {
                    fix.replace(
                        "aws configure --profile the environment",
                        "export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY again",
                    )
                } else {
                    fix
                };
                findings.push(Finding::new(
                    code,
                    Severity::Error,
                    profile,
                    Source::Sts,
                    explain(&e, &set.creds.access_key_id),
                    fix,
                ));
            }
        }
    }
    if let Some(skew) = worst_skew
        && skew.abs() > SKEW_WARN
        && !findings.iter().any(|f| f.code == Code::ClockSkew)
    {
        let severity =
            if skew.abs() > crate::refresh::classify::SKEW_FATAL { Severity::Error } else { Severity::Warn };
        let direction = if skew > chrono::Duration::zero() { "ahead of" } else { "behind" };
        findings.push(Finding::new(
            Code::ClockSkew,
            severity,
            None,
            Source::Sts,
            format!("this machine's clock is {}s {direction} STS's; AWS rejects requests signed more than 5 minutes off", skew.num_seconds().abs()),
            "turn on time sync: `timedatectl set-ntp true`, or start chrony/ntpd".into(),
        ));
    }
    (findings, identities)
}
