//! Where to reach STS for a session: its region and, when one is set, an explicit endpoint URL,
//! resolved from the environment, the source profile and credd's config in the order the SDKs use.

use std::time::Duration;

use crate::config::Config;
use crate::config::Settings;
use crate::files::Loaded;
use crate::paths::Env;
use crate::profile::SectionId;

/// Where and how to reach STS.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub region: String,
    /// Whether `region` is one the session, its source profile or credd's config names, not
    /// the us-east-1 every SDK falls back to: only such a region is written where the session
    /// lives (an env file's `AWS_REGION` is the user's otherwise).
    region_named: bool,
    /// An explicit endpoint (moto, GovCloud, China, FIPS, a VPC endpoint), or the SDK's default.
    pub url: Option<String>,
    pub timeout: Duration,
}

/// Region: the session's, then the source profile's, then credd's default, then us-east-1.
/// Endpoint: `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, then the source profile's `endpoint_url`
/// (or its `services` section's `sts` entry).
pub fn endpoint(m: &Settings, files: &Loaded, config: &Config, env: &dyn Env) -> Endpoint {
    endpoint_for_profile(
        &m.source_profile,
        m.region.as_deref(),
        config.region.as_deref(),
        files,
        env,
        config.sts_timeout,
    )
}

/// [`endpoint`] for any profile: `region` beats the profile's own, `fallback_region` comes after.
pub fn endpoint_for_profile(
    profile: &str,
    region: Option<&str>,
    fallback_region: Option<&str>,
    files: &Loaded,
    env: &dyn Env,
    timeout: Duration,
) -> Endpoint {
    let merged = files.merged_profile(profile);
    let source = merged.profile(profile);
    let named = region
        .map(str::to_string)
        .or_else(|| source.and_then(|s| s.get("region")).map(str::to_string))
        .or_else(|| fallback_region.map(str::to_string));
    let url = service_url("sts", profile, files, env);
    Endpoint {
        region_named: named.is_some(),
        region: named.unwrap_or_else(|| "us-east-1".to_string()),
        url,
        timeout,
    }
}

impl Endpoint {
    /// The region, when something names it (see `region_named`).
    pub fn named_region(&self) -> Option<&str> {
        self.region_named.then_some(self.region.as_str())
    }
}

/// An explicit endpoint for `service` (its id as the `services` section spells it: `sts`,
/// `sso_oidc`, `sso`), as the SDKs resolve it for `profile`: `AWS_ENDPOINT_URL_<SERVICE>`,
/// `AWS_ENDPOINT_URL`, the profile's `endpoint_url`, then its `services` section's entry.
pub fn service_url(service: &str, profile: &str, files: &Loaded, env: &dyn Env) -> Option<String> {
    let merged = files.merged_profile(profile);
    let source = merged.profile(profile);
    let services_url = source.and_then(|s| s.get("services")).and_then(|svc| {
        let id = SectionId::Other { prefix: "services".into(), name: svc.to_string() };
        let services = files.merged_where(|s| *s == id);
        let entry = services.map.get(&id)?.get(service)?;
        entry.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == "endpoint_url").then(|| v.trim().to_string())
        })
    });
    env.var(&format!("AWS_ENDPOINT_URL_{}", service.to_ascii_uppercase()))
        .or_else(|| env.var("AWS_ENDPOINT_URL"))
        .filter(|u| !u.is_empty())
        .or_else(|| source.and_then(|s| s.get("endpoint_url")).map(str::to_string))
        .or(services_url)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::config::Method;

    fn files(config: &str, creds: &str) -> Loaded {
        Loaded::from_text(config, creds)
    }

    const LONG: &str = "aws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s\n";

    #[test]
    fn region_and_endpoint_resolution() {
        let m = Settings::new(Method::SessionToken, "base");
        let f = files(
            "[profile base]\nregion = eu-west-1\nservices = local\n[services local]\nsts =\n  endpoint_url = http://127.0.0.1:1\n",
            &format!("[base]\n{LONG}"),
        );
        let env: HashMap<String, String> = HashMap::new();
        let e = endpoint(&m, &f, &Config::default(), &env);
        assert_eq!((e.region.as_str(), e.url.as_deref()), ("eu-west-1", Some("http://127.0.0.1:1")));
        let env: HashMap<String, String> =
            [("AWS_ENDPOINT_URL_STS".to_string(), "http://127.0.0.1:2".to_string())].into();
        assert_eq!(endpoint(&m, &f, &Config::default(), &env).url.as_deref(), Some("http://127.0.0.1:2"));
        let e = endpoint(&m, &files("", ""), &Config::default(), &HashMap::new());
        assert_eq!((e.region.as_str(), e.named_region(), e.url.as_deref()), ("us-east-1", None, None));
    }
}
