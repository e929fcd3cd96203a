//! `sts:GetFederationToken`: a temporary session for an IAM user, which the federation endpoint
//! takes where it refuses the user's long-term keys and their GetSessionToken sessions. aws-vault's
//! `login` does the same for a profile that assumes no role.
//!
//! STS accepts the call only when signed with the user's long-term keys. A federated session has
//! no permissions unless a session policy grants them, and then only those its user also has; the
//! inline policy below allows everything, so the console can do what the user can.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::profile::meta::ProfileCredentials;
use crate::refresh::{CallContext, Endpoint, RefreshError, classify, sts};

/// Allows everything: the intersection with the user's own policies is the user's permissions.
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// The federated user's name: `credd-USER`, cut to STS's 2–32 characters of `[\w+=,.@-]`.
pub fn name(user: &str) -> String {
    let cleaned: String = format!("credd-{user}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) { c } else { '-' })
        .take(32)
        .collect();
    cleaned
}

/// A federation token for the user whose long-term `keys` these are, lasting `duration`.
pub async fn token(
    keys: &ProfileCredentials,
    endpoint: Endpoint,
    name: &str,
    duration: Duration,
) -> Result<(ProfileCredentials, DateTime<Utc>), RefreshError> {
    let ctx = CallContext { source: keys.clone(), mfa: None, endpoint };
    let out = sts::client(&ctx)
        .get_federation_token()
        .name(name)
        .policy(ALLOW_ALL)
        .duration_seconds(i32::try_from(duration.as_secs()).unwrap_or(i32::MAX))
        .send()
        .await
        .map_err(|e| classify::sdk_error(&e))?;
    let c = out.credentials().ok_or_else(|| RefreshError::transient("STS answered without credentials"))?;
    Ok((
        ProfileCredentials {
            access_key_id: c.access_key_id().to_string(),
            secret_access_key: c.secret_access_key().into(),
            session_token: Some(c.session_token().into()),
        },
        crate::refresh::to_utc(c.expiration()),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_fit_sts() {
        assert_eq!(super::name("alice"), "credd-alice");
        assert_eq!(super::name("a b/c"), "credd-a-b-c");
        assert_eq!(super::name(&"x".repeat(40)).len(), 32);
    }
}
