//! `credd console`'s machinery: turning credentials into a sign-in URL for the AWS console,
//! through the federation endpoint, as AWS documents it ("Enable custom identity broker access
//! to the AWS console", IAM User Guide).
//!
//! - here: the partitions and their endpoints, the console page to land on, the two URLs
//!   (`getSigninToken`'s request and the `login` URL) and the rules for `SessionDuration`;
//!   pure, with unit tests.
//! - `signin`: the one HTTPS `GET` that trades credentials for a sign-in token.
//! - `federate`: `sts:GetFederationToken`, for an IAM user's long-term keys, which the
//!   federation endpoint does not take.
//!
//! It is handed credentials and never finds them: which session a name is, making sure it is
//! fresh, and whether it needs GetFederationToken first are the CLI's (`cli/console.rs`), on
//! `credd export`'s path. Both URLs carry credentials (the first the secret key, the second a
//! token that signs anyone in for 15 minutes), so both only ever travel in a [`Secret`]: no log
//! line, error or Debug print holds one.

pub mod federate;
pub mod signin;

use std::time::Duration;

use crate::profile::meta::ProfileCredentials;
use crate::secret::Secret;

/// The `Issuer` the login URL names: where the console sends the user when the session ends.
const ISSUER: &str = "credd";

/// An AWS partition with a console of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partition {
    Aws,
    UsGov,
    China,
}

impl Partition {
    /// The partition a region belongs to: `cn-*` is China, `us-gov-*` GovCloud (US), anything
    /// else the commercial partition (the only one with a public console besides those two).
    pub fn of(region: &str) -> Partition {
        if region.starts_with("cn-") {
            Partition::China
        } else if region.starts_with("us-gov-") {
            Partition::UsGov
        } else {
            Partition::Aws
        }
    }

    /// The partition's federation endpoint, up to and including `/federation`.
    pub fn federation_endpoint(self) -> &'static str {
        match self {
            Partition::Aws => "https://signin.aws.amazon.com/federation",
            Partition::UsGov => "https://signin.amazonaws-us-gov.com/federation",
            Partition::China => "https://signin.amazonaws.cn/federation",
        }
    }

    fn console_host(self) -> &'static str {
        match self {
            Partition::Aws => "console.aws.amazon.com",
            Partition::UsGov => "console.amazonaws-us-gov.com",
            Partition::China => "console.amazonaws.cn",
        }
    }

    /// The console page to land on: the console's home (the last region the user chose), a
    /// region's home, or a service's page, as aws-vault and granted build them:
    /// `https://REGION.console.aws.amazon.com/SERVICE/home?region=REGION`.
    pub fn destination(self, region: Option<&str>, service: Option<&str>) -> String {
        let host = self.console_host();
        match (region, service) {
            (None, None) => format!("https://{host}/"),
            (None, Some(s)) => format!("https://{host}/{s}/home"),
            (Some(r), None) => format!("https://{r}.{host}/console/home?region={r}"),
            (Some(r), Some(s)) => format!("https://{r}.{host}/{s}/home?region={r}"),
        }
    }
}

/// Whether a `--service` can go into the console's path as it is: a service's path segment
/// (`ec2`, `s3`, `cloudwatch`, `ec2/v2`), never something that changes the URL's meaning.
pub fn valid_service(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('/')
        && !s.contains("..")
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
}

/// Where credd asks for a sign-in token: `CREDD_FEDERATION_ENDPOINT`, then the config's
/// `federation_endpoint`, then the partition's own.
pub fn endpoint(partition: Partition, from_env: Option<&str>, from_config: Option<&str>) -> String {
    from_env
        .filter(|e| !e.is_empty())
        .or(from_config)
        .map(|e| e.trim_end_matches('?').to_string())
        .unwrap_or_else(|| partition.federation_endpoint().to_string())
}

/// How the credentials handed to the federation endpoint were issued; it decides whether the
/// console session's length can be asked for (`SessionDuration`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Issued {
    /// `AssumeRole` with long-term keys, or an IAM Identity Center role: `SessionDuration` may
    /// ask for 15 minutes to 12 hours.
    Role,
    /// A role assumed with another role's session. The federation endpoint refuses
    /// `SessionDuration` for it (aws-sso-cli#1247), and AWS caps such a session at one hour.
    ChainedRole,
    /// `GetFederationToken`: the console session lasts as long as the token (its
    /// `DurationSeconds`); `SessionDuration` is for role sessions only.
    FederationToken,
    /// Credentials another tool wrote, of a kind credd cannot tell: sent as they are.
    Unknown,
}

/// The range `SessionDuration` takes for a role session.
pub const SESSION_DURATION: (Duration, Duration) = (Duration::from_secs(900), Duration::from_secs(43_200));

/// The range `GetFederationToken` takes (an account's root user gets at most one hour).
pub const FEDERATION_DURATION: (Duration, Duration) =
    (Duration::from_secs(900), Duration::from_secs(129_600));

/// Why a `--duration` cannot be asked for these credentials, or `None` when it can.
pub fn duration_refused(issued: Issued, d: Duration) -> Option<String> {
    let range = |(lo, hi): (Duration, Duration)| {
        format!("{} to {}", humantime::format_duration(lo), humantime::format_duration(hi))
    };
    match issued {
        Issued::Role if !(SESSION_DURATION.0..=SESSION_DURATION.1).contains(&d) => {
            Some(format!("a role's console session lasts {}", range(SESSION_DURATION)))
        }
        Issued::FederationToken if !(FEDERATION_DURATION.0..=FEDERATION_DURATION.1).contains(&d) => {
            Some(format!("a GetFederationToken session lasts {}", range(FEDERATION_DURATION)))
        }
        Issued::ChainedRole => Some(
            "it is a role assumed from another session (role chaining): the federation endpoint refuses a SessionDuration for it, and AWS ends it within an hour"
                .into(),
        ),
        Issued::Unknown => Some(
            "credd does not know how these credentials were issued, and the federation endpoint refuses a SessionDuration for any but a role's".into(),
        ),
        Issued::Role | Issued::FederationToken => None,
    }
}

/// The `getSigninToken` request: `BASE?Action=getSigninToken[&SessionDuration=S]&Session=JSON`,
/// where the JSON is `{"sessionId", "sessionKey", "sessionToken"}`. `session_duration` is
/// only ever `Some` for [`Issued::Role`] (see [`duration_refused`]).
pub fn signin_request(base: &str, creds: &ProfileCredentials, session_duration: Option<Duration>) -> Secret {
    let session = serde_json::json!({
        "sessionId": creds.access_key_id,
        "sessionKey": creds.secret_access_key.expose(),
        "sessionToken": creds.session_token.as_ref().map(Secret::expose).unwrap_or_default(),
    });
    let mut url = format!("{base}?Action=getSigninToken");
    if let Some(d) = session_duration {
        url.push_str(&format!("&SessionDuration={}", d.as_secs()));
    }
    url.push_str("&Session=");
    url.push_str(&encode(&session.to_string()));
    Secret::new(url)
}

/// The URL that signs the browser in: `BASE?Action=login&Issuer=credd&Destination=…&SigninToken=…`.
pub fn login_url(base: &str, destination: &str, token: &Secret) -> Secret {
    Secret::new(format!(
        "{base}?Action=login&Issuer={ISSUER}&Destination={}&SigninToken={}",
        encode(destination),
        encode(token.expose())
    ))
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so any value is one query
/// parameter's value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> ProfileCredentials {
        ProfileCredentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Secret::new("se/cr+et"),
            session_token: Some(Secret::new("to&ken=")),
        }
    }

    #[test]
    fn partitions_and_their_endpoints() {
        let cases = [
            (
                "us-east-1",
                Partition::Aws,
                "https://signin.aws.amazon.com/federation",
                "console.aws.amazon.com",
            ),
            (
                "eu-west-1",
                Partition::Aws,
                "https://signin.aws.amazon.com/federation",
                "console.aws.amazon.com",
            ),
            (
                "us-gov-west-1",
                Partition::UsGov,
                "https://signin.amazonaws-us-gov.com/federation",
                "console.amazonaws-us-gov.com",
            ),
            (
                "cn-north-1",
                Partition::China,
                "https://signin.amazonaws.cn/federation",
                "console.amazonaws.cn",
            ),
            (
                "cn-northwest-1",
                Partition::China,
                "https://signin.amazonaws.cn/federation",
                "console.amazonaws.cn",
            ),
        ];
        for (region, partition, federation, console) in cases {
            assert_eq!(Partition::of(region), partition, "{region}");
            assert_eq!(partition.federation_endpoint(), federation);
            assert_eq!(partition.destination(None, None), format!("https://{console}/"));
        }
        // Every region credd knows falls in one of the three.
        for (r, _) in crate::regions::REGIONS {
            let p = Partition::of(r);
            assert_eq!(p == Partition::UsGov, r.starts_with("us-gov-"), "{r}");
        }
    }

    #[test]
    fn destinations() {
        let aws = Partition::Aws;
        assert_eq!(
            aws.destination(Some("eu-west-1"), None),
            "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"
        );
        assert_eq!(
            aws.destination(Some("eu-west-1"), Some("ec2")),
            "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1"
        );
        assert_eq!(aws.destination(None, Some("iam")), "https://console.aws.amazon.com/iam/home");
        assert_eq!(
            Partition::China.destination(Some("cn-north-1"), Some("s3")),
            "https://cn-north-1.console.amazonaws.cn/s3/home?region=cn-north-1"
        );
        assert!(valid_service("ec2") && valid_service("ec2/v2") && valid_service("cloudwatch"));
        for bad in ["", "/etc", "a?b", "x#y", "../x", "a b", "e%41"] {
            assert!(!valid_service(bad), "{bad}");
        }
    }

    #[test]
    fn the_environment_beats_the_config_beats_the_partition() {
        let p = Partition::UsGov;
        assert_eq!(endpoint(p, None, None), "https://signin.amazonaws-us-gov.com/federation");
        assert_eq!(endpoint(p, None, Some("http://127.0.0.1:1/federation")), "http://127.0.0.1:1/federation");
        assert_eq!(
            endpoint(p, Some("http://127.0.0.1:2/federation"), Some("http://127.0.0.1:1/federation")),
            "http://127.0.0.1:2/federation"
        );
        assert_eq!(endpoint(p, Some(""), Some("http://c/federation")), "http://c/federation");
    }

    #[test]
    fn the_documented_request_and_login_url() {
        let base = "https://signin.aws.amazon.com/federation";
        let req = signin_request(base, &creds(), None);
        let url = req.expose();
        assert!(url.starts_with(&format!("{base}?Action=getSigninToken&Session=")), "{url}");
        assert!(!url.contains("SessionDuration"));
        let json = url.split_once("&Session=").unwrap().1;
        let decoded = decode(json);
        let v: serde_json::Value = serde_json::from_str(&decoded).unwrap();
        assert_eq!(v["sessionId"], "ASIAEXAMPLE");
        assert_eq!(v["sessionKey"], "se/cr+et");
        assert_eq!(v["sessionToken"], "to&ken=");
        assert_eq!(v.as_object().unwrap().len(), 3);
        let with = signin_request(base, &creds(), Some(Duration::from_secs(7200)));
        assert!(with.expose().contains("?Action=getSigninToken&SessionDuration=7200&Session="));

        let login = login_url(
            base,
            "https://console.aws.amazon.com/ec2/home?region=eu-west-1",
            &Secret::new("t+k/n"),
        );
        assert_eq!(
            login.expose(),
            format!(
                "{base}?Action=login&Issuer=credd&Destination=https%3A%2F%2Fconsole.aws.amazon.com%2Fec2%2Fhome%3Fregion%3Deu-west-1&SigninToken=t%2Bk%2Fn"
            )
        );
        // Both are credentials: Debug and Display never show them.
        assert!(!format!("{req:?} {req} {login:?} {login}").contains("se/cr"));
        assert!(!format!("{login:?}").contains("SigninToken"));
    }

    #[test]
    fn which_sessions_may_ask_for_a_console_session_length() {
        let h = |s: u64| Duration::from_secs(s * 3600);
        assert_eq!(duration_refused(Issued::Role, h(12)), None);
        assert!(duration_refused(Issued::Role, h(13)).is_some());
        assert!(duration_refused(Issued::Role, Duration::from_secs(600)).is_some());
        assert_eq!(duration_refused(Issued::FederationToken, h(36)), None);
        assert!(duration_refused(Issued::FederationToken, h(37)).is_some());
        assert!(duration_refused(Issued::ChainedRole, h(1)).unwrap().contains("chaining"));
        assert!(duration_refused(Issued::Unknown, h(1)).is_some());
    }

    /// The inverse of `encode`, for the tests.
    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }
}
