//! The checks of one profile beyond its key material: is its session expired or about to be,
//! does its `source_profile` chain end somewhere (and within STS's cap on chained durations), is
//! its region one AWS has. The environment's expiry and region are checked here too.
//!
//! Which profiles are examined, and in what order, is `checks.rs`'s.

use chrono::{DateTime, Utc};

use super::{Finding, Severity, Source};
use crate::finding::Code;
use crate::paths::Env;
use crate::profile::Sections;
use crate::profile::parse::Section;
use crate::regions;

pub(super) fn check_expiry(
    at: DateTime<Utc>,
    origin: &str,
    profile: Option<&str>,
    source: Source,
    now: DateTime<Utc>,
    out: &mut Vec<Finding>,
) {
    if at <= now {
        out.push(Finding::new(
            Code::SessionExpired,
            Severity::Error,
            profile,
            source,
            format!(
                "the session expired at {} ({origin})",
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            "get a new session (or let credd keep it fresh: add a [[session]] for it)".into(),
        ));
    } else if at - now < chrono::Duration::minutes(15) {
        out.push(Finding::new(
            Code::SessionExpiring,
            Severity::Warn,
            profile,
            source,
            format!("the session expires in {} min ({origin})", (at - now).num_minutes()),
            "refresh it soon; credd can do it ahead of time".into(),
        ));
    }
}

pub(super) fn check_region(
    region: &str,
    profile: Option<&str>,
    source: Source,
    what: &str,
    out: &mut Vec<Finding>,
) -> bool {
    if regions::known(region) {
        return true;
    }
    let fix = match regions::suggest(region) {
        Some(r) => format!("did you mean \"{r}\"? set {what} = {r}"),
        None => format!("set {what} to a region such as us-east-1"),
    };
    out.push(Finding::new(
        Code::RegionInvalid,
        Severity::Error,
        profile,
        source,
        format!("\"{region}\" is not an AWS region"),
        fix,
    ));
    false
}

pub(super) fn check_role(name: &str, p: &Section, merged: &Sections, out: &mut Vec<Finding>) {
    if p.get("role_arn").is_none() {
        return;
    }
    let Some(source) = p.get("source_profile") else { return };
    let mut chain = vec![name.to_string()];
    let mut cur = source.to_string();
    loop {
        if chain.contains(&cur) {
            chain.push(cur);
            out.push(Finding::new(
                Code::SourceProfileCycle,
                Severity::Error,
                Some(name),
                Source::ConfigFile,
                format!("source profiles loop: {}", chain.join(" → ")),
                "point one of them at a profile with keys".into(),
            ));
            return;
        }
        let Some(next) = merged.profile(&cur) else {
            let names: Vec<&str> = merged.profile_names().collect();
            let fix = crate::config::did_you_mean(&cur, names.iter().copied())
                .map(|m| format!("did you mean \"{m}\"?"))
                .unwrap_or_else(|| format!("create [{cur}] with `aws configure --profile {cur}`"));
            out.push(Finding::new(
                Code::SourceProfileMissing,
                Severity::Error,
                Some(name),
                Source::ConfigFile,
                format!("source_profile \"{cur}\" does not exist"),
                fix,
            ));
            return;
        };
        chain.push(cur.clone());
        match (next.get("role_arn"), next.get("source_profile")) {
            (Some(_), Some(s)) if s != cur => cur = s.to_string(),
            _ => break,
        }
    }
    // Chained: the source is itself a role, and STS caps chained sessions at one hour.
    let chained = chain.len() > 2;
    let asked: Option<u64> = p.get("duration_seconds").and_then(|d| d.parse().ok());
    if chained && asked.is_some_and(|d| d > 3600) {
        out.push(Finding::new(
            Code::RoleChainDuration,
            Severity::Error,
            Some(name),
            Source::ConfigFile,
            format!(
                "duration_seconds = {} on a chained role ({}); STS allows 3600 at most",
                asked.unwrap(),
                chain.join(" → ")
            ),
            "set duration_seconds = 3600 or less".into(),
        ));
    }
}

pub(super) fn check_profile_region(
    name: &str,
    p: &Section,
    important: bool,
    env: &dyn Env,
    out: &mut Vec<Finding>,
) {
    let from_env = env.var("AWS_REGION").or_else(|| env.var("AWS_DEFAULT_REGION")).filter(|r| !r.is_empty());
    let own = p.get("region");
    if let Some(r) = own
        && !check_region(r, Some(name), Source::ConfigFile, "region", out)
    {
        return;
    }
    if !important {
        return;
    }
    let Some(region) = from_env.as_deref().or(own) else {
        // Only the profile in use gets here, and without a region its SDK calls fail.
        out.push(Finding::new(
            Code::RegionMissing,
            Severity::Error,
            Some(name),
            Source::ConfigFile,
            "no region is set for this profile or in the environment; many commands fail with \"You must specify a region\"".into(),
            format!("aws configure set region us-east-1 --profile {name}"),
        ));
        return;
    };
    let regional = env.var("AWS_STS_REGIONAL_ENDPOINTS").as_deref() == Some("regional")
        || p.get("sts_regional_endpoints") == Some("regional");
    if regions::opt_in(region) && !regional {
        out.push(Finding::new(
            Code::RegionOptIn,
            Severity::Warn,
            Some(name),
            Source::ConfigFile,
            format!("{region} is an opt-in region: session tokens from the global STS endpoint are invalid there unless the account issues v2 tokens"),
            format!("aws configure set sts_regional_endpoints regional --profile {name} (or make global-endpoint tokens valid in all regions under IAM → Account settings)"),
        ));
    }
}
