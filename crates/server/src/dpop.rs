//! DPoP (RFC 9449): the proof that binds each request to the device's key, made by the app and
//! checked by the server.
//!
//! The client half is [`DeviceKey`]: an Ed25519 key pair that never leaves the device (the app
//! keeps its PKCS#8 document in the OS keyring) and that signs one short-lived proof per request
//! with [`DeviceKey::proof`]. The server half is [`verify`], which checks a proof against the
//! request it arrived with ([`Expected`]) and names the key by its RFC 7638 thumbprint.
//!
//! Only `EdDSA` over Ed25519 is accepted: the app is the only client, so there is no reason to
//! open the door to the algorithm-confusion attacks (`none`, HMAC keyed with a public key) that a
//! general-purpose verifier must defend against. Replay detection is the caller's: [`verify`]
//! returns the proof's `jti` for it to store.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, OctetKeyPairParameters, OctetKeyPairType,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;
use uuid::Uuid;

/// The `typ` header every proof carries (RFC 9449 §4.2).
const PROOF_TYPE: &str = "dpop+jwt";

/// The longest `jti` accepted; the caller stores them, so their size is bounded here.
const MAX_JTI_LEN: usize = 128;

/// The longest proof looked at. A proof made by [`DeviceKey::proof`] is well under 1 KiB; the
/// bound keeps a hostile header from costing more than a few allocations.
const MAX_PROOF_LEN: usize = 4096;

/// The length of an Ed25519 public key, in bytes.
const ED25519_PUBLIC_KEY_LEN: usize = 32;

/// Why a proof was refused, or why a device key could not be made or used.
///
/// Neither the messages nor the variants ever carry the proof or the access token, so an error
/// can be logged as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopError {
    /// The proof is not a compact JWS with a JSON header and the required claims (`htm`, `htu`,
    /// `iat`), or it is unreasonably long.
    #[error("the DPoP proof is malformed")]
    Malformed,
    /// The header's `typ` is not `dpop+jwt`.
    #[error("the DPoP proof's type is not dpop+jwt")]
    WrongType,
    /// The header's `alg` is not `EdDSA`.
    #[error("the DPoP proof's algorithm is not supported")]
    UnsupportedAlgorithm,
    /// The header has no `jwk`, or it is not a public Ed25519 key (`kty` OKP, `crv` Ed25519, a
    /// 32-byte `x`, no private `d`).
    #[error("the DPoP proof's key is missing or not a public Ed25519 key")]
    BadKey,
    /// The signature does not verify with the key in the header.
    #[error("the DPoP proof's signature does not verify")]
    BadSignature,
    /// `htm` is not the request's method.
    #[error("the DPoP proof names another method")]
    WrongMethod,
    /// `htu` is not the request's URL (query and fragment aside).
    #[error("the DPoP proof names another URL")]
    WrongUrl,
    /// `iat` is further from now than the allowed skew, either way.
    #[error("the DPoP proof's issue time is too far from now")]
    Skewed,
    /// `jti` is missing, empty or longer than 128 characters.
    #[error("the DPoP proof's jti is missing, empty or too long")]
    MissingJti,
    /// An access token came with the request and `ath` is missing or is not its hash.
    #[error("the DPoP proof is not bound to the access token")]
    WrongTokenHash,
    /// The system's random generator failed while making a key.
    #[error("a device key could not be generated")]
    KeyGeneration,
    /// A stored device key is not a valid Ed25519 PKCS#8 document.
    #[error("the stored device key is not a valid Ed25519 PKCS#8 document")]
    BadDeviceKey,
    /// Signing a proof failed.
    #[error("a DPoP proof could not be signed")]
    Signing,
}

impl DpopError {
    /// A stable, snake_case code for this error, for API responses and metrics labels.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "dpop_malformed",
            Self::WrongType => "dpop_wrong_type",
            Self::UnsupportedAlgorithm => "dpop_unsupported_algorithm",
            Self::BadKey => "dpop_bad_key",
            Self::BadSignature => "dpop_bad_signature",
            Self::WrongMethod => "dpop_wrong_method",
            Self::WrongUrl => "dpop_wrong_url",
            Self::Skewed => "dpop_skewed",
            Self::MissingJti => "dpop_missing_jti",
            Self::WrongTokenHash => "dpop_wrong_token_hash",
            Self::KeyGeneration => "dpop_key_generation",
            Self::BadDeviceKey => "dpop_bad_device_key",
            Self::Signing => "dpop_signing",
        }
    }
}

/// The public half of a device key as a JSON Web Key (RFC 8037): always `kty` OKP and `crv`
/// Ed25519, so only `x` varies.
///
/// It serialises as `{"kty":"OKP","crv":"Ed25519","x":"…"}`; deserialising checks all of that
/// and refuses a key that carries its private part `d`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "JwkWire", into = "JwkWire")]
pub struct Jwk {
    /// The public key, base64url without padding; always 32 bytes, canonically encoded.
    x: String,
}

impl Jwk {
    /// The key from its 32 raw bytes.
    fn from_public_key(public_key: &[u8]) -> Jwk {
        Jwk {
            x: URL_SAFE_NO_PAD.encode(public_key),
        }
    }

    /// The public key, base64url without padding (the JWK's `x` member).
    pub fn x(&self) -> &str {
        &self.x
    }

    /// The RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order
    /// without whitespace, base64url without padding.
    pub fn thumbprint(&self) -> String {
        // `x` is base64url, so it needs no JSON escaping and `format!` yields the canonical form.
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, self.x);
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// The same key in jsonwebtoken's model, for a proof's header.
    fn to_header_jwk(&self) -> jsonwebtoken::jwk::Jwk {
        jsonwebtoken::jwk::Jwk {
            common: CommonParameters::default(),
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: self.x.clone(),
            }),
        }
    }
}

/// A JWK as it travels, before it is checked to be a public Ed25519 key.
#[derive(Serialize, Deserialize)]
struct JwkWire {
    kty: String,
    crv: String,
    x: String,
    /// Read only to refuse it: a proof must never carry a private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    d: Option<serde_json::Value>,
}

impl TryFrom<JwkWire> for Jwk {
    type Error = DpopError;

    fn try_from(wire: JwkWire) -> Result<Jwk, DpopError> {
        if wire.kty != "OKP" || wire.crv != "Ed25519" || wire.d.is_some() {
            return Err(DpopError::BadKey);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(&wire.x)
            .map_err(|_| DpopError::BadKey)?;
        if bytes.len() != ED25519_PUBLIC_KEY_LEN {
            return Err(DpopError::BadKey);
        }
        // The thumbprint hashes `x` as written, so one key must have exactly one spelling.
        let jwk = Jwk::from_public_key(&bytes);
        if jwk.x != wire.x {
            return Err(DpopError::BadKey);
        }
        Ok(jwk)
    }
}

impl From<Jwk> for JwkWire {
    fn from(jwk: Jwk) -> JwkWire {
        JwkWire {
            kty: "OKP".to_owned(),
            crv: "Ed25519".to_owned(),
            x: jwk.x,
            d: None,
        }
    }
}

/// The device's Ed25519 key pair, which signs a DPoP proof for every request the app makes.
///
/// Its `Debug` shows only the thumbprint, never the private key.
pub struct DeviceKey {
    /// The PKCS#8 v2 document ring made, which holds the private key.
    pkcs8: Vec<u8>,
    /// The public half, worked out once.
    jwk: Jwk,
}

impl DeviceKey {
    /// A new key pair from the system's random generator.
    pub fn generate() -> Result<DeviceKey, DpopError> {
        let document = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .map_err(|_| DpopError::KeyGeneration)?;
        DeviceKey::from_pkcs8(document.as_ref())
    }

    /// A key pair from a PKCS#8 document saved earlier with [`DeviceKey::pkcs8`].
    pub fn from_pkcs8(bytes: &[u8]) -> Result<DeviceKey, DpopError> {
        let key_pair = Ed25519KeyPair::from_pkcs8(bytes).map_err(|_| DpopError::BadDeviceKey)?;
        Ok(DeviceKey {
            pkcs8: bytes.to_vec(),
            jwk: Jwk::from_public_key(key_pair.public_key().as_ref()),
        })
    }

    /// The PKCS#8 document holding the private key, to be saved in the OS keyring.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public half as a JWK.
    pub fn jwk(&self) -> Jwk {
        self.jwk.clone()
    }

    /// The RFC 7638 thumbprint of the public half: the name the server knows this device by.
    pub fn thumbprint(&self) -> String {
        self.jwk.thumbprint()
    }

    /// A DPoP proof for one request: `method` exactly as sent (methods are case-sensitive),
    /// the `url` it is sent to, and the access token it carries, if any.
    ///
    /// The proof names the URL without its query and fragment; `now` becomes its `iat`.
    pub fn proof(
        &self,
        method: &str,
        url: &Url,
        access_token: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, DpopError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(PROOF_TYPE.to_owned());
        header.jwk = Some(self.jwk.to_header_jwk());
        let htu = target_uri(url);
        let claims = ClaimsOut {
            jti: Uuid::new_v4().to_string(),
            htm: method,
            htu: htu.as_str(),
            iat: now.timestamp(),
            ath: access_token.map(token_hash),
        };
        // jsonwebtoken reads the key with ring's `from_pkcs8_maybe_unchecked`, which takes the
        // PKCS#8 v2 document ring generated.
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(&self.pkcs8))
            .map_err(|_| DpopError::Signing)
    }
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKey")
            .field("thumbprint", &self.thumbprint())
            .finish_non_exhaustive()
    }
}

/// The claims a proof is made with.
#[derive(Serialize)]
struct ClaimsOut<'a> {
    jti: String,
    htm: &'a str,
    htu: &'a str,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    ath: Option<String>,
}

/// The claims a proof is read with; `jti` is optional here so that its absence gets its own
/// error.
#[derive(Deserialize)]
struct ClaimsIn {
    jti: Option<String>,
    htm: String,
    htu: String,
    iat: i64,
    ath: Option<String>,
}

/// The `ath` claim for an access token: base64url (no padding) of its SHA-256.
pub fn token_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// The URL as a proof names it (`htu`): no query, no fragment, no credentials. Parsing with
/// `url` has already lower-cased the scheme and host and dropped a default port.
fn target_uri(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    // These fail only for URLs without a host, which have no credentials to drop.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url
}

/// The request a proof must match.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The request's method, compared exactly.
    pub method: &'a str,
    /// The request's URL as the client addressed it (the public URL behind a proxy); its query
    /// and fragment are ignored.
    pub url: &'a Url,
    /// The access token the request carries, to which the proof must then be bound by `ath`.
    pub access_token: Option<&'a str>,
    /// The server's clock.
    pub now: DateTime<Utc>,
    /// How far `iat` may be from `now`, either way; a proof exactly at the bound is accepted.
    pub max_skew: TimeDelta,
}

/// What a verified proof says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The RFC 7638 thumbprint of the key that signed the proof.
    pub thumbprint: String,
    /// The proof's unique id, for the caller's replay check.
    pub jti: String,
    /// When the client says it made the proof.
    pub iat: DateTime<Utc>,
}

/// Checks a DPoP proof against the request it came with, per RFC 9449 §4.3, except for the
/// replay check on `jti`, which is the caller's.
///
/// When the request carries no access token, an `ath` in the proof is ignored.
pub fn verify(proof: &str, expected: &Expected<'_>) -> Result<Verified, DpopError> {
    if proof.len() > MAX_PROOF_LEN || proof.split('.').count() != 3 {
        return Err(DpopError::Malformed);
    }
    let jwk = checked_header(proof)?;

    let key = DecodingKey::from_ed_components(jwk.x()).map_err(|_| DpopError::BadKey)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    // A proof is not an access token: it has no `exp` or `aud`, and its age is checked below
    // against the injected clock rather than jsonwebtoken's.
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<ClaimsIn>(proof, &key, &validation)
        .map_err(|error| match error.kind() {
            ErrorKind::InvalidSignature => DpopError::BadSignature,
            ErrorKind::InvalidAlgorithm => DpopError::UnsupportedAlgorithm,
            _ => DpopError::Malformed,
        })?
        .claims;

    let jti = match claims.jti {
        Some(jti) if !jti.is_empty() && jti.chars().count() <= MAX_JTI_LEN => jti,
        _ => return Err(DpopError::MissingJti),
    };
    if claims.htm != expected.method {
        return Err(DpopError::WrongMethod);
    }
    let htu = Url::parse(&claims.htu).map_err(|_| DpopError::WrongUrl)?;
    if target_uri(&htu) != target_uri(expected.url) {
        return Err(DpopError::WrongUrl);
    }
    let iat = DateTime::from_timestamp(claims.iat, 0).ok_or(DpopError::Skewed)?;
    let skew = expected.now.signed_duration_since(iat);
    if skew > expected.max_skew || skew < -expected.max_skew {
        return Err(DpopError::Skewed);
    }
    if let Some(token) = expected.access_token
        && claims.ath.as_deref() != Some(token_hash(token).as_str())
    {
        return Err(DpopError::WrongTokenHash);
    }

    Ok(Verified {
        thumbprint: jwk.thumbprint(),
        jti,
        iat,
    })
}

/// A proof's header as first read, loosely, so that each refusal gets its own reason.
#[derive(Deserialize)]
struct RawHeader {
    alg: Option<String>,
    typ: Option<String>,
    jwk: Option<serde_json::Value>,
}

/// Checks the header's `alg`, `typ` and `jwk`, and returns the key the proof must verify with.
fn checked_header(proof: &str) -> Result<Jwk, DpopError> {
    let encoded = proof.split('.').next().ok_or(DpopError::Malformed)?;
    let raw: RawHeader = URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or(DpopError::Malformed)?;
    if raw.alg.as_deref() != Some("EdDSA") {
        return Err(DpopError::UnsupportedAlgorithm);
    }
    if raw.typ.as_deref() != Some(PROOF_TYPE) {
        return Err(DpopError::WrongType);
    }
    let jwk: Jwk = raw
        .jwk
        .and_then(|value| serde_json::from_value(value).ok())
        .ok_or(DpopError::BadKey)?;

    // jsonwebtoken reads the header again when it checks the signature; make sure its reading
    // agrees with the one above.
    let header = jsonwebtoken::decode_header(proof).map_err(|_| DpopError::Malformed)?;
    if header.alg != Algorithm::EdDSA {
        return Err(DpopError::UnsupportedAlgorithm);
    }
    if header.typ.as_deref() != Some(PROOF_TYPE) {
        return Err(DpopError::WrongType);
    }
    Ok(jwk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use serde_json::{Value, json};

    const SKEW_SECONDS: i64 = 60;
    const SKEW: TimeDelta = TimeDelta::seconds(SKEW_SECONDS);

    fn key() -> DeviceKey {
        DeviceKey::generate().expect("a key is generated")
    }

    fn url(text: &str) -> Url {
        Url::parse(text).expect("the test URL parses")
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).expect("the test time is in range")
    }

    const NOW: i64 = 1_760_000_000;

    fn expected<'a>(method: &'a str, url: &'a Url, access_token: Option<&'a str>) -> Expected<'a> {
        Expected {
            method,
            url,
            access_token,
            now: at(NOW),
            max_skew: SKEW,
        }
    }

    fn parts(proof: &str) -> Vec<String> {
        proof.split('.').map(str::to_owned).collect()
    }

    fn decode_json(part: &str) -> Value {
        let bytes = URL_SAFE_NO_PAD.decode(part).expect("the part is base64url");
        serde_json::from_slice(&bytes).expect("the part is JSON")
    }

    fn encode_json(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("the value serialises"))
    }

    /// Signs any header and claims with the device key by hand, to make proofs that
    /// [`DeviceKey::proof`] never would.
    fn sign_by_hand(key: &DeviceKey, header: &Value, claims: &Value) -> String {
        let key_pair = Ed25519KeyPair::from_pkcs8(key.pkcs8()).expect("the key parses");
        let message = format!("{}.{}", encode_json(header), encode_json(claims));
        let signature = key_pair.sign(message.as_bytes());
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }

    fn good_header(key: &DeviceKey) -> Value {
        json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": key.jwk()})
    }

    fn good_claims(htu: &str, iat: i64) -> Value {
        json!({"jti": "a-unique-id", "htm": "GET", "htu": htu, "iat": iat})
    }

    #[test]
    fn a_fresh_proof_verifies_and_names_the_keys_thumbprint() {
        let key = key();
        let target = url("https://moa.example/v1/accounts");
        let proof = key
            .proof("GET", &target, None, at(NOW))
            .expect("the proof is signed");

        let verified = verify(&proof, &expected("GET", &target, None)).expect("the proof verifies");

        assert_eq!(verified.thumbprint, key.thumbprint());
        assert_eq!(verified.iat, at(NOW));
        assert!(Uuid::parse_str(&verified.jti).is_ok(), "jti is a UUID");
    }

    #[test]
    fn each_proof_has_its_own_jti() {
        let key = key();
        let target = url("https://moa.example/v1/accounts");
        let expected = expected("GET", &target, None);
        let first = key.proof("GET", &target, None, at(NOW)).expect("signed");
        let second = key.proof("GET", &target, None, at(NOW)).expect("signed");

        let first = verify(&first, &expected).expect("verifies");
        let second = verify(&second, &expected).expect("verifies");

        assert_ne!(first.jti, second.jti);
    }

    #[test]
    fn a_proof_has_the_rfc_9449_header_and_claims() {
        let key = key();
        let target = url("https://user:pw@moa.example/v1/transfers?page=2#top");
        let proof = key
            .proof("POST", &target, Some("the-token"), at(NOW))
            .expect("signed");
        let parts = parts(&proof);
        assert_eq!(parts.len(), 3);

        assert_eq!(
            decode_json(&parts[0]),
            json!({
                "typ": "dpop+jwt",
                "alg": "EdDSA",
                "jwk": {"kty": "OKP", "crv": "Ed25519", "x": key.jwk().x()},
            })
        );
        let claims = decode_json(&parts[1]);
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], "https://moa.example/v1/transfers");
        assert_eq!(claims["iat"], NOW);
        assert_eq!(claims["ath"], token_hash("the-token"));
        let jti = claims["jti"].as_str().expect("jti is a string");
        assert_eq!(
            Uuid::parse_str(jti)
                .expect("jti is a UUID")
                .get_version_num(),
            4
        );
    }

    #[test]
    fn a_proof_without_a_token_has_no_ath() {
        let key = key();
        let target = url("https://moa.example/v1/accounts");
        let proof = key.proof("GET", &target, None, at(NOW)).expect("signed");

        let claims = decode_json(&parts(&proof)[1]);

        assert!(claims.get("ath").is_none());
    }

    #[test]
    fn jsonwebtoken_signs_with_rings_pkcs8_document() {
        // Checks the signature with ring itself, so that a mistake shared by jsonwebtoken's
        // signing and its verifying could not hide.
        let key = key();
        let target = url("https://moa.example/v1/accounts");
        let proof = key.proof("GET", &target, None, at(NOW)).expect("signed");
        let (message, signature) = proof.rsplit_once('.').expect("the proof has a signature");
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .expect("the signature is base64url");
        let public_key = URL_SAFE_NO_PAD
            .decode(key.jwk().x())
            .expect("x is base64url");

        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public_key)
            .verify(message.as_bytes(), &signature)
            .expect("ring accepts the signature");
    }

    #[test]
    fn the_thumbprint_is_sha256_of_the_canonical_jwk() {
        let key = key();
        let jwk = serde_json::to_value(key.jwk()).expect("the JWK serialises");
        let member = |name: &str| {
            jwk[name]
                .as_str()
                .expect("the member is a string")
                .to_owned()
        };
        let canonical = format!(
            "{{\"crv\":\"{}\",\"kty\":\"{}\",\"x\":\"{}\"}}",
            member("crv"),
            member("kty"),
            member("x")
        );

        let recomputed = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));

        assert_eq!(member("kty"), "OKP");
        assert_eq!(member("crv"), "Ed25519");
        assert_eq!(key.thumbprint(), recomputed);
    }

    #[test]
    fn the_thumbprint_matches_the_rfc_8037_example() {
        // RFC 8037, appendix A.2 and A.3.
        let jwk: Jwk = serde_json::from_value(json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        }))
        .expect("the example key reads");

        assert_eq!(
            jwk.thumbprint(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn the_token_hash_matches_the_rfc_9449_example() {
        // RFC 9449, section 7.1.
        assert_eq!(
            token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }

    #[test]
    fn a_key_round_trips_through_pkcs8() {
        let key = key();
        let target = url("https://moa.example/v1/accounts");

        let restored = DeviceKey::from_pkcs8(key.pkcs8()).expect("the document reads back");
        let proof = restored
            .proof("GET", &target, None, at(NOW))
            .expect("signed");

        assert_eq!(restored.thumbprint(), key.thumbprint());
        assert_eq!(restored.pkcs8(), key.pkcs8());
        let verified = verify(&proof, &expected("GET", &target, None)).expect("verifies");
        assert_eq!(verified.thumbprint, key.thumbprint());
    }

    #[test]
    fn a_damaged_pkcs8_document_is_refused() {
        let key = key();
        let mut document = key.pkcs8().to_vec();
        document.truncate(document.len() / 2);

        assert_eq!(
            DeviceKey::from_pkcs8(&document).err(),
            Some(DpopError::BadDeviceKey)
        );
        assert_eq!(
            DeviceKey::from_pkcs8(b"").err(),
            Some(DpopError::BadDeviceKey)
        );
    }

    #[test]
    fn two_keys_have_different_thumbprints() {
        assert_ne!(key().thumbprint(), key().thumbprint());
    }

    const ACCOUNTS: &str = "https://moa.example/v1/accounts";
    const TRANSFERS: &str = "https://moa.example/v1/transfers";

    /// A proof [`DeviceKey::proof`] signs, the request it comes with, and what [`verify`] says
    /// (`None`: it verifies).
    struct Sent {
        name: &'static str,
        /// `htm`, `htu`, the access token it is bound to, and `iat` in seconds from [`NOW`].
        signed: (&'static str, &'static str, Option<&'static str>, i64),
        /// The request's method, URL and access token.
        received: (&'static str, &'static str, Option<&'static str>),
        refusal: Option<DpopError>,
    }

    #[rustfmt::skip]
    const SENT: &[Sent] = &[
        Sent { name: "a proof for another method is refused", signed: ("GET", TRANSFERS, None, 0), received: ("POST", TRANSFERS, None), refusal: Some(DpopError::WrongMethod) },
        Sent { name: "the method is compared case-sensitively", signed: ("get", TRANSFERS, None, 0), received: ("GET", TRANSFERS, None), refusal: Some(DpopError::WrongMethod) },
        Sent { name: "a proof for another path is refused", signed: ("GET", ACCOUNTS, None, 0), received: ("GET", TRANSFERS, None), refusal: Some(DpopError::WrongUrl) },
        Sent { name: "a proof for the path without its trailing slash is refused", signed: ("GET", ACCOUNTS, None, 0), received: ("GET", "https://moa.example/v1/accounts/", None), refusal: Some(DpopError::WrongUrl) },
        Sent { name: "a proof for another host is refused", signed: ("GET", ACCOUNTS, None, 0), received: ("GET", "https://evil.example/v1/accounts", None), refusal: Some(DpopError::WrongUrl) },
        Sent { name: "a proof for another port is refused", signed: ("GET", "https://moa.example:8443/v1/accounts", None, 0), received: ("GET", ACCOUNTS, None), refusal: Some(DpopError::WrongUrl) },
        Sent { name: "a proof for another scheme is refused", signed: ("GET", "http://moa.example/v1/accounts", None, 0), received: ("GET", ACCOUNTS, None), refusal: Some(DpopError::WrongUrl) },
        Sent { name: "the query and fragment of the request are ignored", signed: ("GET", "https://moa.example/v1/accounts?page=1", None, 0), received: ("GET", "https://moa.example/v1/accounts?page=2#end", None), refusal: None },
        Sent { name: "a proof older than the skew is refused", signed: ("GET", ACCOUNTS, None, -SKEW_SECONDS - 1), received: ("GET", ACCOUNTS, None), refusal: Some(DpopError::Skewed) },
        Sent { name: "a proof further ahead than the skew is refused", signed: ("GET", ACCOUNTS, None, SKEW_SECONDS + 1), received: ("GET", ACCOUNTS, None), refusal: Some(DpopError::Skewed) },
        Sent { name: "a proof exactly the skew old is accepted", signed: ("GET", ACCOUNTS, None, -SKEW_SECONDS), received: ("GET", ACCOUNTS, None), refusal: None },
        Sent { name: "a proof exactly the skew ahead is accepted", signed: ("GET", ACCOUNTS, None, SKEW_SECONDS), received: ("GET", ACCOUNTS, None), refusal: None },
        Sent { name: "a proof bound to the token is accepted", signed: ("GET", ACCOUNTS, Some("the-token"), 0), received: ("GET", ACCOUNTS, Some("the-token")), refusal: None },
        Sent { name: "a proof bound to another token is refused", signed: ("GET", ACCOUNTS, Some("a-stolen-token"), 0), received: ("GET", ACCOUNTS, Some("the-token")), refusal: Some(DpopError::WrongTokenHash) },
        Sent { name: "a proof without ath is refused when a token comes with it", signed: ("GET", ACCOUNTS, None, 0), received: ("GET", ACCOUNTS, Some("the-token")), refusal: Some(DpopError::WrongTokenHash) },
        Sent { name: "an ath is ignored when no token comes with the request", signed: ("GET", ACCOUNTS, Some("the-token"), 0), received: ("GET", ACCOUNTS, None), refusal: None },
    ];

    /// Asserts what [`verify`] says of a proof, naming the case in every message.
    fn assert_verdict(
        name: &str,
        verdict: Result<Verified, DpopError>,
        refusal: Option<DpopError>,
    ) {
        match refusal {
            None => assert!(verdict.is_ok(), "{name}: {verdict:?}"),
            Some(refusal) => assert_eq!(verdict, Err(refusal), "{name}"),
        }
    }

    #[test]
    fn proofs_are_checked_against_the_request_they_come_with() {
        let key = key();
        for case in SENT {
            let (htm, htu, bound_to, iat) = case.signed;
            let proof = key
                .proof(htm, &url(htu), bound_to, at(NOW + iat))
                .expect("signed");
            let (method, target, token) = case.received;
            let target = url(target);

            let verdict = verify(&proof, &expected(method, &target, token));

            assert_verdict(case.name, verdict, case.refusal);
        }
    }

    /// A proof made by hand with the device key, checked against `GET` [`ACCOUNTS`] (or the
    /// method given) with no access token.
    struct HandMade {
        name: &'static str,
        make: fn(&DeviceKey) -> String,
        method: &'static str,
        refusal: Option<DpopError>,
    }

    fn signed_with_header(key: &DeviceKey, header: Value) -> String {
        sign_by_hand(key, &header, &good_claims(ACCOUNTS, NOW))
    }

    fn signed_with_claims(key: &DeviceKey, claims: Value) -> String {
        sign_by_hand(key, &good_header(key), &claims)
    }

    fn without(mut claims: Value, name: &str) -> Value {
        claims
            .as_object_mut()
            .expect("the claims are an object")
            .remove(name);
        claims
    }

    fn with_jti(jti: &str) -> Value {
        let mut claims = good_claims(ACCOUNTS, NOW);
        claims["jti"] = json!(jti);
        claims
    }

    /// A proof [`DeviceKey::proof`] signed for `GET` [`ACCOUNTS`], with its header (`part` 0) or
    /// claims (1) changed after signing.
    fn retouched(key: &DeviceKey, part: usize, change: impl FnOnce(Value) -> Value) -> String {
        let proof = key
            .proof("GET", &url(ACCOUNTS), None, at(NOW))
            .expect("signed");
        let mut parts = parts(&proof);
        parts[part] = encode_json(&change(decode_json(&parts[part])));
        parts.join(".")
    }

    /// The header and claims of a good proof but for its `alg`, as they are signed.
    fn signing_input(key: &DeviceKey, alg: &str) -> String {
        let header = json!({"typ": "dpop+jwt", "alg": alg, "jwk": key.jwk()});
        let claims = good_claims(ACCOUNTS, NOW);
        format!("{}.{}", encode_json(&header), encode_json(&claims))
    }

    const HAND_MADE: &[HandMade] = &[
        HandMade {
            name: "a proof carrying another key's JWK is refused",
            make: |key| {
                retouched(key, 0, |_| {
                    good_header(&DeviceKey::generate().expect("a key"))
                })
            },
            method: "GET",
            refusal: Some(DpopError::BadSignature),
        },
        HandMade {
            name: "a tampered payload is refused",
            make: |key| {
                retouched(key, 1, |mut claims| {
                    claims["htm"] = json!("DELETE");
                    claims
                })
            },
            method: "DELETE",
            refusal: Some(DpopError::BadSignature),
        },
        HandMade {
            name: "a default port and host case in htu are normalised",
            make: |key| {
                let htu = "HTTPS://MOA.example:443/v1/accounts?x=1";
                signed_with_claims(key, good_claims(htu, NOW))
            },
            method: "GET",
            refusal: None,
        },
        HandMade {
            name: "an htu that is not a URL is refused",
            make: |key| signed_with_claims(key, good_claims("/v1/accounts", NOW)),
            method: "GET",
            refusal: Some(DpopError::WrongUrl),
        },
        HandMade {
            name: "an iat out of chrono's range is refused",
            make: |key| signed_with_claims(key, good_claims(ACCOUNTS, i64::MAX)),
            method: "GET",
            refusal: Some(DpopError::Skewed),
        },
        HandMade {
            name: "an unsigned alg none proof is refused",
            make: |key| format!("{}.", signing_input(key, "none")),
            method: "GET",
            refusal: Some(DpopError::UnsupportedAlgorithm),
        },
        HandMade {
            name: "an HS256 proof keyed with the public key is refused",
            make: |key| {
                let message = signing_input(key, "HS256");
                let public_key = URL_SAFE_NO_PAD
                    .decode(key.jwk().x())
                    .expect("x is base64url");
                let mac = ring::hmac::sign(
                    &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &public_key),
                    message.as_bytes(),
                );
                format!("{message}.{}", URL_SAFE_NO_PAD.encode(mac.as_ref()))
            },
            method: "GET",
            refusal: Some(DpopError::UnsupportedAlgorithm),
        },
        HandMade {
            name: "a proof typed JWT is refused",
            make: |key| {
                signed_with_header(key, json!({"typ": "JWT", "alg": "EdDSA", "jwk": key.jwk()}))
            },
            method: "GET",
            refusal: Some(DpopError::WrongType),
        },
        HandMade {
            name: "a proof without typ is refused",
            make: |key| signed_with_header(key, json!({"alg": "EdDSA", "jwk": key.jwk()})),
            method: "GET",
            refusal: Some(DpopError::WrongType),
        },
        HandMade {
            name: "a JWK carrying the private key is refused",
            make: |key| {
                let mut jwk = serde_json::to_value(key.jwk()).expect("the JWK serialises");
                jwk["d"] = json!("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
                signed_with_header(key, json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": jwk}))
            },
            method: "GET",
            refusal: Some(DpopError::BadKey),
        },
        HandMade {
            name: "a proof without a JWK is refused",
            make: |key| signed_with_header(key, json!({"typ": "dpop+jwt", "alg": "EdDSA"})),
            method: "GET",
            refusal: Some(DpopError::BadKey),
        },
        HandMade {
            name: "a missing jti is refused",
            make: |key| signed_with_claims(key, without(good_claims(ACCOUNTS, NOW), "jti")),
            method: "GET",
            refusal: Some(DpopError::MissingJti),
        },
        HandMade {
            name: "an empty jti is refused",
            make: |key| signed_with_claims(key, with_jti("")),
            method: "GET",
            refusal: Some(DpopError::MissingJti),
        },
        HandMade {
            name: "an overlong jti is refused",
            make: |key| signed_with_claims(key, with_jti(&"j".repeat(MAX_JTI_LEN + 1))),
            method: "GET",
            refusal: Some(DpopError::MissingJti),
        },
        HandMade {
            name: "a jti of the longest length is accepted",
            make: |key| signed_with_claims(key, with_jti(&"j".repeat(MAX_JTI_LEN))),
            method: "GET",
            refusal: None,
        },
        HandMade {
            name: "a proof missing htm is malformed",
            make: |key| signed_with_claims(key, without(good_claims(ACCOUNTS, NOW), "htm")),
            method: "GET",
            refusal: Some(DpopError::Malformed),
        },
    ];

    #[test]
    fn proofs_made_by_hand_are_refused_for_what_is_wrong_with_them() {
        let key = key();
        let target = url(ACCOUNTS);
        for case in HAND_MADE {
            let proof = (case.make)(&key);

            let verdict = verify(&proof, &expected(case.method, &target, None));

            assert_verdict(case.name, verdict, case.refusal);
        }
    }

    #[test]
    fn the_hand_signed_proofs_of_these_tests_verify_when_nothing_is_wrong() {
        // The refusals that use `sign_by_hand` mean something only if it makes good proofs.
        let key = key();
        let proof = signed_with_claims(&key, good_claims(ACCOUNTS, NOW));
        let target = url(ACCOUNTS);

        let verified = verify(&proof, &expected("GET", &target, None)).expect("verifies");

        assert_eq!(verified.jti, "a-unique-id");
        assert_eq!(verified.thumbprint, key.thumbprint());
    }

    #[test]
    fn a_jwk_that_is_not_an_ed25519_key_is_refused() {
        let key = key();
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        for jwk in [
            json!({"kty": "EC", "crv": "Ed25519", "x": x}),
            json!({"kty": "OKP", "crv": "X25519", "x": x}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": format!("{x}=")}),
            json!({"kty": "OKP", "crv": "Ed25519"}),
            json!({"kty": "oct", "k": x}),
            json!("not an object"),
        ] {
            let proof =
                signed_with_header(&key, json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": jwk}));
            let target = url(ACCOUNTS);

            assert_eq!(
                verify(&proof, &expected("GET", &target, None)),
                Err(DpopError::BadKey),
                "{jwk}"
            );
        }
    }

    #[test]
    fn text_that_is_not_a_jws_is_malformed() {
        let target = url("https://moa.example/v1/accounts");
        let expected = expected("GET", &target, None);
        let too_long = format!("{}.b.c", "a".repeat(MAX_PROOF_LEN));

        for proof in ["", "abc", "a.b", "a.b.c.d", "!!.b.c", too_long.as_str()] {
            assert_eq!(
                verify(proof, &expected),
                Err(DpopError::Malformed),
                "{proof}"
            );
        }
    }

    #[test]
    fn the_debug_of_a_device_key_shows_only_its_thumbprint() {
        let key = key();
        let debug = format!("{key:?}");

        assert_eq!(
            debug,
            format!("DeviceKey {{ thumbprint: {:?}, .. }}", key.thumbprint())
        );
        assert!(!debug.contains(&STANDARD.encode(key.pkcs8())));
        assert!(!debug.contains(&URL_SAFE_NO_PAD.encode(key.pkcs8())));
    }

    #[test]
    fn error_messages_do_not_repeat_the_token() {
        let key = key();
        let target = url("https://moa.example/v1/accounts");
        let proof = key
            .proof("GET", &target, Some("a-stolen-token"), at(NOW))
            .expect("signed");

        let error = verify(&proof, &expected("GET", &target, Some("the-token")))
            .expect_err("the token differs");

        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("the-token"));
        assert!(!shown.contains(&proof));
        assert!(!shown.contains(&token_hash("the-token")));
    }

    #[test]
    fn error_codes_are_distinct_and_prefixed() {
        let errors = [
            DpopError::Malformed,
            DpopError::WrongType,
            DpopError::UnsupportedAlgorithm,
            DpopError::BadKey,
            DpopError::BadSignature,
            DpopError::WrongMethod,
            DpopError::WrongUrl,
            DpopError::Skewed,
            DpopError::MissingJti,
            DpopError::WrongTokenHash,
            DpopError::KeyGeneration,
            DpopError::BadDeviceKey,
            DpopError::Signing,
        ];
        let codes: std::collections::BTreeSet<&str> = errors.iter().map(DpopError::code).collect();

        assert_eq!(codes.len(), errors.len());
        assert!(codes.iter().all(|code| code.starts_with("dpop_")));
        assert_eq!(DpopError::BadSignature.code(), "dpop_bad_signature");
    }
}
