//! The DPoP proof (RFC 9449) a login session's refresh carries: a compact ES256 JWT signed with
//! the cache file's `dpopKey`, whose header holds the key's public half as a JWK, and whose
//! payload names the request (`htm`, `htu`), when it was made (`iat`) and a one-time id (`jti`).
//!
//! Built as botocore's `_build_dpop_header` and aws-config's `login::dpop` build it: header
//! `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","x","y","crv":"P-256"}}`, payload
//! `{"htm","htu","iat","jti"}`, both compact JSON, base64url without padding, and the signature
//! as the fixed 64-byte `r || s`. [`DpopKey::proof`] is pure given its inputs (but for ECDSA's
//! random nonce); the caller picks the time and the id. The key itself is never printed: its
//! Debug shows only the public coordinates. Sending the proof is `signin`'s.

use std::fmt;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64_simd::{STANDARD, URL_SAFE_NO_PAD};

/// A P-256 private key, from the cache file's PEM.
pub struct DpopKey {
    pair: EcdsaKeyPair,
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let jwk = self.jwk();
        f.debug_struct("DpopKey").field("x", &jwk.x).field("y", &jwk.y).finish_non_exhaustive()
    }
}

/// Why a `dpopKey` is not a usable key. Says nothing of the key's bytes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the dpopKey is not PEM (no base64 body between its BEGIN and END lines)")]
    NotPem,
    #[error("the dpopKey is not a P-256 private key (SEC1 or PKCS#8)")]
    NotP256,
}

/// The public half, as the JWK in the proof's header: base64url of the 32-byte coordinates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jwk {
    pub x: String,
    pub y: String,
}

impl DpopKey {
    /// Reads a PEM private key as botocore does: every line that is not a `-----BEGIN`/`-----END`
    /// line is base64 of the DER. SEC1 (`EC PRIVATE KEY`, what the AWS CLI writes) and PKCS#8
    /// (`PRIVATE KEY`) both load. A PEM whose line ends were written as a literal `\n` (seen
    /// from other writers; aws-config undoes it too) reads the same.
    pub fn from_pem(pem: &str) -> Result<DpopKey, KeyError> {
        let pem = pem.replace("\\n", "\n");
        let body: String = pem
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("-----BEGIN") && !l.starts_with("-----END"))
            .collect();
        if body.is_empty() {
            return Err(KeyError::NotPem);
        }
        let der = STANDARD.decode_to_vec(body.as_bytes()).map_err(|_| KeyError::NotPem)?;
        let pair = EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
            .map_err(|_| KeyError::NotP256)?;
        Ok(DpopKey { pair })
    }

    /// The key's public coordinates (the uncompressed point is `04 || x || y`).
    pub fn jwk(&self) -> Jwk {
        let point = self.pair.public_key().as_ref();
        let (x, y) = point[1..].split_at(32);
        Jwk { x: URL_SAFE_NO_PAD.encode_to_string(x), y: URL_SAFE_NO_PAD.encode_to_string(y) }
    }

    /// The `DPoP` header's value for a `method` request to `url` at `iat` (seconds since the
    /// epoch), with the one-time id `jti`. `htu` is `url` without its query and fragment
    /// (RFC 9449 section 4.2).
    pub fn proof(&self, method: &str, url: &str, iat: i64, jti: &str) -> String {
        let jwk = self.jwk();
        // serde_json keeps insertion order (preserve_order): the members come out in botocore's.
        let header = serde_json::json!({
            "typ": "dpop+jwt",
            "alg": "ES256",
            "jwk": {"kty": "EC", "x": jwk.x, "y": jwk.y, "crv": "P-256"},
        });
        let payload = serde_json::json!({"htm": method, "htu": htu(url), "iat": iat, "jti": jti});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode_to_string(header.to_string()),
            URL_SAFE_NO_PAD.encode_to_string(payload.to_string())
        );
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let sig = self.pair.sign(&rng, input.as_bytes()).expect("ECDSA signing with a loaded P-256 key");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode_to_string(sig.as_ref()))
    }
}

/// A fresh `jti`: a random (version 4) UUID, as botocore and aws-config send.
pub fn new_jti() -> String {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).expect("the system's random source");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// The URL a proof is for: without its query and fragment.
pub fn htu(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    /// A fresh key as the AWS CLI writes it: SEC1 DER in an `EC PRIVATE KEY` PEM.
    pub(crate) fn sec1_pem() -> String {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let der = pair.private_key().as_der().unwrap();
        let b64 = STANDARD.encode_to_string(der.as_ref());
        let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
        format!("-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----\n", lines.join("\n"))
    }

    fn part(jwt: &str, i: usize) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode_to_vec(jwt.split('.').nth(i).unwrap().as_bytes()).unwrap()
    }

    #[test]
    fn the_proof_verifies_against_its_own_jwk_and_names_the_request() {
        let key = DpopKey::from_pem(&sec1_pem()).unwrap();
        let url = "https://us-east-1.signin.aws.amazon.com/v1/token?x=1#f";
        let jwt = key.proof("POST", url, 1_800_000_000, "3f1c2a9e-0000-4000-8000-000000000001");
        assert_eq!(jwt.split('.').count(), 3);
        let header: serde_json::Value = serde_json::from_slice(&part(&jwt, 0)).unwrap();
        let payload: serde_json::Value = serde_json::from_slice(&part(&jwt, 1)).unwrap();
        assert_eq!(
            String::from_utf8(part(&jwt, 0)).unwrap(),
            format!(
                r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{{"kty":"EC","x":"{}","y":"{}","crv":"P-256"}}}}"#,
                header["jwk"]["x"].as_str().unwrap(),
                header["jwk"]["y"].as_str().unwrap()
            ),
            "botocore's member order, compact"
        );
        assert_eq!(
            payload,
            serde_json::json!({"htm": "POST", "htu": "https://us-east-1.signin.aws.amazon.com/v1/token",
                               "iat": 1_800_000_000, "jti": "3f1c2a9e-0000-4000-8000-000000000001"})
        );
        // The JWK is the key's public point, and the signature verifies under it.
        let x = URL_SAFE_NO_PAD.decode_to_vec(header["jwk"]["x"].as_str().unwrap()).unwrap();
        let y = URL_SAFE_NO_PAD.decode_to_vec(header["jwk"]["y"].as_str().unwrap()).unwrap();
        assert_eq!((x.len(), y.len()), (32, 32));
        let point = [&[4u8][..], &x, &y].concat();
        assert_eq!(point, key.pair.public_key().as_ref());
        let signed = jwt.rsplit_once('.').unwrap().0;
        let sig = part(&jwt, 2);
        assert_eq!(sig.len(), 64, "JWS ES256 is r || s, not DER");
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point).verify(signed.as_bytes(), &sig).unwrap();
        let mut forged = sig.clone();
        forged[10] ^= 1;
        assert!(
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
                .verify(signed.as_bytes(), &forged)
                .is_err()
        );
    }

    #[test]
    fn pkcs8_and_escaped_newlines_load_and_junk_does_not() {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let pkcs8 = pair.to_pkcs8v1().unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----",
            STANDARD.encode_to_string(pkcs8.as_ref())
        );
        assert_eq!(DpopKey::from_pem(&pem).unwrap().pair.public_key().as_ref(), pair.public_key().as_ref());
        assert_eq!(DpopKey::from_pem("").unwrap_err(), KeyError::NotPem);
        assert_eq!(
            DpopKey::from_pem("-----BEGIN X-----\n!!\n-----END X-----").unwrap_err(),
            KeyError::NotPem
        );
        assert_eq!(DpopKey::from_pem("AAAA").unwrap_err(), KeyError::NotP256);
    }

    #[test]
    fn jtis_are_v4_uuids_and_differ() {
        let (a, b) = (new_jti(), new_jti());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!("89ab".contains(&a[19..20]), "{a}");
    }

    #[test]
    fn debug_shows_only_the_public_half() {
        let pem = sec1_pem();
        let key = DpopKey::from_pem(&pem).unwrap();
        let shown = format!("{key:?}");
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        assert!(!shown.contains(&body[..40]) && shown.contains(&key.jwk().x), "{shown}");
    }
}
