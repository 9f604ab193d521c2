//! Access and refresh tokens: HS256 JWTs with the claims KFTC's carry.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The issuer KFTC writes into every token.
pub const ISSUER: &str = "https://www.openbanking.or.kr";

/// A token's claims.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// `user_seq_no` for 3-legged tokens, `client_use_code` for client credentials.
    pub aud: String,
    /// The granted scopes.
    pub scope: Vec<String>,
    /// Always [`ISSUER`].
    pub iss: String,
    /// Expiry, unix seconds.
    pub exp: i64,
    /// The token's id (a UUID), its key in the token table.
    pub jti: String,
}

/// Why a presented token is not one of ours.
#[derive(Debug, PartialEq, Eq)]
pub enum Invalid {
    /// Not three base64url parts of JSON.
    Malformed,
    /// The signature does not match.
    Signature,
}

const HEADER: &str = r#"{"typ":"JWT","alg":"HS256"}"#;

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key"))
}

/// Signs `claims` with `key`.
pub fn sign(key: &[u8], claims: &Claims) -> String {
    let header = URL_SAFE_NO_PAD.encode(HEADER);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let mut mac = mac(key);
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// Checks the signature of `token` and returns its claims. Expiry is the caller's to check,
/// against the center's clock.
pub fn verify(key: &[u8], token: &str) -> Result<Claims, Invalid> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Invalid::Malformed);
    };
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| Invalid::Malformed)?;
    let mut mac = mac(key);
    mac.update(header.as_bytes());
    mac.update(b".");
    mac.update(payload.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| Invalid::Signature)?;
    let header: serde_json::Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or(Invalid::Malformed)?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
        return Err(Invalid::Malformed);
    }
    URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|p| serde_json::from_slice(&p).ok())
        .ok_or(Invalid::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            aud: "1100000001".into(),
            scope: vec!["inquiry".into(), "login".into()],
            iss: ISSUER.into(),
            exp: 1_900_000_000,
            jti: "6f1c1f0e-3d1c-4c55-9a57-2f4c7f0f0a11".into(),
        }
    }

    #[test]
    fn a_signed_token_verifies_to_its_claims() {
        let token = sign(b"key", &claims());
        assert_eq!(verify(b"key", &token), Ok(claims()));
    }

    #[test]
    fn another_key_or_a_changed_payload_is_refused() {
        let token = sign(b"key", &claims());
        assert_eq!(verify(b"other", &token), Err(Invalid::Signature));
        let mut forged = claims();
        forged.aud = "1100000002".into();
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(verify(b"key", &tampered), Err(Invalid::Signature));
        assert_eq!(verify(b"key", "not.a"), Err(Invalid::Malformed));
        assert_eq!(verify(b"key", "a.b.c.d"), Err(Invalid::Malformed));
    }
}
