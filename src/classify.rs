//! What a failure means: an STS error, or a file credd cannot read or write (`file_failure`), as
//! retryable or fatal, which doctor finding it is, and what fixes it. The refresh engine, the kept
//! tokens' rooms and `credd doctor` all use this, so status, notifications and doctor always agree
//! on a cause.
//!
//! The code comes from the SDK when it parsed one, and otherwise from the raw response body:
//! moto (and some proxies) answer auth failures in a shape for which the SDK's `code()` is `None`.
//! The body is only searched for `<Code>` and `<Message>`; it is never logged whole.

use std::fmt;

use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use chrono::{DateTime, Utc};

use crate::finding::Code;
use crate::profile::WriteError;

/// Whether trying again, unchanged, can succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Throttling, 5xx, timeouts, connection errors: back off and try again.
    Retryable,
    /// Bad or revoked keys, denied access, expired source token, bad parameters: retrying changes
    /// nothing until the user does.
    Fatal,
}

/// A failed STS call, classified. Holds no secret: only codes, messages and the server's date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshError {
    pub retry: Retry,
    /// STS's error code, e.g. `InvalidClientTokenId`.
    pub code: Option<String>,
    /// The doctor finding this maps to, e.g. `key-unknown`.
    pub finding: Option<Code>,
    pub message: String,
    pub http_status: Option<u16>,
    /// The server's `Date` header, for clock-skew checks.
    pub server_date: Option<DateTime<Utc>>,
    /// The access key ID that was used (not secret), so a fix can name it shortened.
    pub key_id: Option<Box<str>>,
    /// The fix, when the code that failed knows it better than [`fix_for`] can (the SSO
    /// session's own `aws sso login` command).
    pub fix: Option<Box<str>>,
    /// For a local error retrying cannot fix (a directory credd may not write, a file that does
    /// not parse): the path whose change is worth another try. The daemon watches it; nothing
    /// else retries the session.
    pub blocked_at: Option<Box<std::path::Path>>,
}

impl fmt::Display for RefreshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(c) => write!(f, "{c}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for RefreshError {}

impl RefreshError {
    /// A failure that may well pass by itself: a malformed reply, a full disk, a busy file.
    pub fn transient(message: &str) -> Self {
        RefreshError {
            retry: Retry::Retryable,
            code: None,
            finding: None,
            message: message.to_string(),
            http_status: None,
            server_date: None,
            key_id: None,
            fix: None,
            blocked_at: None,
        }
    }

    /// A failure before any STS call: a broken or missing source profile, a bad MFA command.
    pub fn local(finding: Code, message: String) -> Self {
        RefreshError {
            retry: Retry::Fatal,
            code: None,
            finding: Some(finding),
            message,
            http_status: None,
            server_date: None,
            key_id: None,
            fix: None,
            blocked_at: None,
        }
    }

    pub fn is_fatal(&self) -> bool {
        self.retry == Retry::Fatal
    }
}

/// Codes that retrying cannot fix, with their doctor finding.
const FATAL: &[(&str, Code)] = &[
    ("InvalidClientTokenId", Code::KeyUnknown),
    ("UnrecognizedClientException", Code::KeyUnknown),
    ("InvalidAccessKeyId", Code::KeyUnknown),
    ("SignatureDoesNotMatch", Code::SecretMismatch),
    ("IncompleteSignature", Code::SecretMismatch),
    ("ExpiredToken", Code::TokenExpired),
    ("ExpiredTokenException", Code::TokenExpired),
    ("AccessDenied", Code::AccessDenied),
    ("AccessDeniedException", Code::AccessDenied),
    ("RegionDisabledException", Code::RegionOptIn),
    ("MissingAuthenticationToken", Code::KeyUnknown),
    ("ValidationError", Code::InvalidRequest),
    ("MalformedPolicyDocument", Code::InvalidRequest),
    ("PackedPolicyTooLarge", Code::InvalidRequest),
];

/// Codes worth retrying whatever their HTTP status says.
const RETRYABLE: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalError",
    "IDPCommunicationError",
    "RequestTimeout",
];

/// Local time differs from the server's by more than this: requests are rejected as skewed.
pub const SKEW_FATAL: chrono::Duration = chrono::Duration::minutes(5);

fn tag<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = body.find(&open)? + open.len();
    let len = body[start..].find(&close)?;
    Some(body[start..start + len].trim())
}

fn server_date(resp: &HttpResponse) -> Option<DateTime<Utc>> {
    let raw = resp.headers().get("date")?;
    DateTime::parse_from_rfc2822(raw).ok().map(|d| d.with_timezone(&Utc))
}

/// Classifies a service response by code and status. Public for tests and for `doctor`.
pub fn classify(
    code: Option<&str>,
    status: Option<u16>,
    message: &str,
    skew: Option<chrono::Duration>,
) -> (Retry, Option<Code>) {
    let skewed = skew.is_some_and(|s| s.abs() > SKEW_FATAL)
        || message.contains("Signature expired")
        || message.contains("Signature not yet current");
    if let Some(code) = code {
        if skewed && matches!(code, "SignatureDoesNotMatch" | "InvalidSignatureException" | "AuthFailure") {
            // Retrying will not help until the clock is fixed; the engine re-checks slowly.
            return (Retry::Fatal, Some(Code::ClockSkew));
        }
        if let Some((_, finding)) = FATAL.iter().find(|(c, _)| *c == code) {
            return (Retry::Fatal, Some(*finding));
        }
        if RETRYABLE.contains(&code) {
            return (Retry::Retryable, None);
        }
    }
    match status {
        Some(429) | Some(500..=599) | None => (Retry::Retryable, None),
        Some(_) => (Retry::Fatal, None),
    }
}

/// What to say of an error response that carries no error code a service would send (an HTML
/// page from a proxy or a broken endpoint): its HTTP status, not the SDK's dump of the whole
/// response, which status, the log and notifications would otherwise carry.
pub fn no_error_code<E>(service: &str, err: &SdkError<E, HttpResponse>) -> String
where
    E: std::error::Error + Send + Sync + 'static,
{
    match (err, err.raw_response()) {
        (SdkError::ServiceError(_) | SdkError::ResponseError(_), Some(r)) => format!(
            "{service} answered HTTP {} without an error code it would send (a proxy, or a wrong endpoint?)",
            r.status().as_u16()
        ),
        _ => format!("{service} failed: {}", DisplayErrorContext(err)),
    }
}

/// Classifies any SDK error from an STS operation.
pub fn sdk_error<E>(err: &SdkError<E, HttpResponse>) -> RefreshError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut out = RefreshError::transient("");
    match err {
        SdkError::TimeoutError(_) => {
            out.message = "STS did not answer in time (sts_timeout)".into();
            return out;
        }
        SdkError::DispatchFailure(e) => {
            out.message = format!(
                "could not reach STS: {}",
                DisplayErrorContext(
                    e.as_connector_error().map(|c| c as &dyn std::error::Error).unwrap_or(&NoDetail)
                )
            );
            return out;
        }
        SdkError::ConstructionFailure(_) => {
            out.retry = Retry::Fatal;
            out.finding = Some(Code::InvalidRequest);
            out.message = format!("could not build the STS request: {}", DisplayErrorContext(err));
            return out;
        }
        _ => {}
    }
    let resp = err.raw_response();
    out.http_status = resp.map(|r| r.status().as_u16());
    out.server_date = resp.and_then(server_date);
    let body = resp.and_then(|r| r.body().bytes()).map(String::from_utf8_lossy).unwrap_or_default();
    let meta_code = err.as_service_error().and_then(|e| e.code()).map(str::to_string);
    out.code = meta_code.or_else(|| tag(&body, "Code").map(str::to_string));
    out.message = err
        .as_service_error()
        .and_then(|e| e.message())
        .map(str::to_string)
        .or_else(|| tag(&body, "Message").map(str::to_string))
        .unwrap_or_else(|| match out.http_status {
            Some(s) => format!("STS answered HTTP {s}"),
            None => "STS returned an unreadable response".to_string(),
        });
    let skew = out.server_date.map(|d| Utc::now() - d);
    let (retry, finding) = classify(out.code.as_deref(), out.http_status, &out.message, skew);
    out.retry = retry;
    out.finding = finding;
    out
}

/// What fixes an error, in one line, for status and notifications. `source` is the source
/// profile, `method` the STS call.
pub fn fix_for(err: &RefreshError, source: &str, method: &str) -> Option<String> {
    if let Some(fix) = &err.fix {
        return Some(fix.to_string());
    }
    let key = err.key_id.as_deref().map(crate::secret::short_key_id).unwrap_or_else(|| "in use".into());
    Some(match err.finding? {
        Code::KeyUnknown => format!(
            "the access key {key} in [{source}] was deleted, rotated or mistyped: create a new one and run `aws configure --profile {source}`"
        ),
        Code::SecretMismatch => format!(
            "the secret key in [{source}] does not belong to {key}: re-enter it with `aws configure --profile {source}`"
        ),
        Code::TokenExpired => format!("the session in [{source}] has expired: refresh it first"),
        Code::AccessDenied => format!(
            "[{source}] may not call {method} here: check the role's trust policy, your IAM permissions, and whether the role requires MFA"
        ),
        Code::ClockSkew => {
            let skew = err.server_date.map(|d| (Utc::now() - d).num_seconds().abs()).unwrap_or(0);
            format!(
                "this machine's clock is off by about {skew}s: turn on time sync (`timedatectl set-ntp true`, chrony or NTP)"
            )
        }
        Code::MfaRequired => "access was denied and this session sends no MFA code; if the role requires MFA, add mfa_serial (and mfa_command) to its [[session]] in credd's config".into(),
        Code::RegionOptIn => {
            "use a regional STS endpoint for this region, or enable the region for the account".into()
        }
        Code::InvalidRequest => {
            "check this session's settings (role_arn, duration, external_id) with `credd config check`".into()
        }
        Code::SourceProfileMissing => {
            format!("add the profile with `aws configure --profile {source}`, or fix source_profile")
        }
        Code::FileUnparseable => "fix the line named above; credd will not write a file it cannot parse".into(),
        _ => return None,
    })
}

#[derive(Debug)]
struct NoDetail;
impl fmt::Display for NoDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection failed")
    }
}
impl std::error::Error for NoDetail {}

/// A file that does not parse (or an edit it refuses) waits for the user to fix it (a file that
/// does not parse waits for a change to that file); a full disk,
/// an unreadable file, a permission flicker or another program holding the file busy is retried
/// with backoff.
pub fn file_failure(e: WriteError) -> RefreshError {
    if let WriteError::Edit { source: crate::profile::EditError::LongTermKey { .. }, .. } = &e {
        return RefreshError {
            fix: e.fix().map(Into::into),
            ..RefreshError::local(Code::LongTermKeyInSessionProfile, e.to_string())
        };
    }
    // Permission denied, a read-only filesystem, a file where a directory should be: retrying
    // cannot help, so the session waits until that path changes (the daemon watches it).
    if let Some(at) = e.stuck_at() {
        return RefreshError {
            fix: e.fix().map(Into::into),
            blocked_at: Some(at.into()),
            ..RefreshError::local(Code::FileNotWritable, e.to_string())
        };
    }
    match e {
        // Fixing the file is a change to it: the session waits for that, and is written at
        // once when it comes, not at its next refresh.
        WriteError::Unparseable(p) => {
            let at = p.path.as_path().into();
            RefreshError {
                blocked_at: Some(at),
                ..RefreshError::local(Code::FileUnparseable, WriteError::Unparseable(p).to_string())
            }
        }
        WriteError::Edit { .. } => RefreshError::local(Code::FileUnparseable, e.to_string()),
        WriteError::Io { .. } | WriteError::Contended { .. } => RefreshError::transient(&e.to_string()),
        // Retried like the above, so a fix (`chmod`, a repaired link) is picked up; meanwhile
        // `status` names the finding and its fix.
        WriteError::Unreadable(u) => RefreshError {
            finding: Some(Code::FileUnreadable),
            fix: Some(u.fix().into()),
            ..RefreshError::transient(&u.message())
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_classify() {
        assert_eq!(
            classify(Some("InvalidClientTokenId"), Some(403), "", None),
            (Retry::Fatal, Some(Code::KeyUnknown))
        );
        assert_eq!(
            classify(Some("SignatureDoesNotMatch"), Some(403), "", None),
            (Retry::Fatal, Some(Code::SecretMismatch))
        );
        assert_eq!(
            classify(Some("ExpiredToken"), Some(400), "", None),
            (Retry::Fatal, Some(Code::TokenExpired))
        );
        assert_eq!(
            classify(Some("AccessDenied"), Some(403), "", None),
            (Retry::Fatal, Some(Code::AccessDenied))
        );
        assert_eq!(classify(Some("Throttling"), Some(400), "", None), (Retry::Retryable, None));
        assert_eq!(classify(None, Some(503), "", None), (Retry::Retryable, None));
        assert_eq!(classify(None, Some(429), "", None), (Retry::Retryable, None));
        assert_eq!(classify(Some("Weird"), Some(400), "", None), (Retry::Fatal, None));
    }

    #[test]
    fn skew_turns_a_signature_error_into_clock_skew() {
        let skew = Some(chrono::Duration::minutes(20));
        assert_eq!(
            classify(Some("SignatureDoesNotMatch"), Some(403), "", skew),
            (Retry::Fatal, Some(Code::ClockSkew))
        );
        let msg = "Signature expired: 20260101T000000Z is now earlier than 20260101T001500Z";
        assert_eq!(classify(Some("SignatureDoesNotMatch"), Some(403), msg, None).1, Some(Code::ClockSkew));
        assert_eq!(
            classify(Some("SignatureDoesNotMatch"), Some(403), "", Some(chrono::Duration::seconds(30))).1,
            Some(Code::SecretMismatch)
        );
    }

    #[test]
    fn tags_are_found_in_any_body_shape() {
        let moto = "<ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></Errors></ErrorResponse>";
        assert_eq!(tag(moto, "Code"), Some("InvalidClientTokenId"));
        assert_eq!(tag(moto, "Message"), Some("The security token included in the request is invalid."));
        assert_eq!(tag("<x/>", "Code"), None);
    }

    #[test]
    fn a_fix_the_failing_code_knows_beats_the_generic_one() {
        let missing = RefreshError::local(Code::SourceProfileMissing, "gone".into());
        let generic = "add the profile with `aws configure --profile dev`, or fix source_profile";
        assert_eq!(fix_for(&missing, "dev", "assume-role").as_deref(), Some(generic));
        let known = RefreshError { fix: Some("credd refresh dev".into()), ..missing };
        assert_eq!(fix_for(&known, "dev", "assume-role").as_deref(), Some("credd refresh dev"));
    }
}
