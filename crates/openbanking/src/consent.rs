//! The user's consent: building the authorize page URL (with `state` and PKCE), and reading the
//! callback the page redirects to.
//!
//! The page itself runs in a browser or webview; this module only makes the URL that opens it and
//! checks the URL it ends on.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use rand::distributions::{Alphanumeric, Slice};
use sha2::{Digest, Sha256};
use url::Url;

use crate::codes::Lang;
use crate::token::{AuthorizationCode, Scopes};

/// The anti-forgery `state` of one authorization attempt: 32 letters and digits, as in KFTC's
/// samples. Use it once.
#[derive(Clone, PartialEq, Eq)]
pub struct State(String);

impl State {
    /// A fresh random state from the operating system's generator.
    pub fn generate() -> Self {
        Self::generate_with(&mut rand::rngs::OsRng)
    }

    /// A fresh state from `rng` (inject a seeded one in tests).
    pub fn generate_with<R: Rng + ?Sized>(rng: &mut R) -> Self {
        Self(
            (0..32)
                .map(|_| char::from(rng.sample(Alphanumeric)))
                .collect(),
        )
    }

    /// Wraps a state kept from earlier (e.g. read back from the journal).
    pub fn from_string(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The state as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares without exiting early, so timing does not tell how much of a forged state matched.
    fn matches(&self, other: &str) -> bool {
        let a = self.0.as_bytes();
        let b = other.as_bytes();
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "State({})", self.0)
    }
}

/// A PKCE code verifier (RFC 7636): 64 characters of the unreserved set. Secret until the token
/// exchange.
#[derive(Clone, PartialEq, Eq)]
pub struct PkceVerifier(String);

const UNRESERVED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

impl PkceVerifier {
    /// A fresh verifier from the operating system's generator.
    pub fn generate() -> Self {
        Self::generate_with(&mut rand::rngs::OsRng)
    }

    /// A fresh verifier from `rng`.
    pub fn generate_with<R: Rng + ?Sized>(rng: &mut R) -> Self {
        // UNRESERVED is a non-empty constant, so Slice::new cannot fail.
        #[allow(clippy::expect_used)]
        let dist = Slice::new(UNRESERVED).expect("non-empty alphabet");
        Self((0..64).map(|_| char::from(*rng.sample(dist))).collect())
    }

    /// Wraps a verifier kept from earlier.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The S256 challenge: BASE64URL(SHA-256(verifier)) without padding.
    pub fn challenge(&self) -> PkceChallenge {
        PkceChallenge(URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.as_bytes())))
    }

    /// The verifier itself, for the token request.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier(***)")
    }
}

impl fmt::Display for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A PKCE S256 code challenge, sent on the authorize URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkceChallenge(String);

impl PkceChallenge {
    /// The challenge as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `auth_type`: how much of the identity check the page runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthType {
    /// `0`: first authentication, identity check and consent.
    #[default]
    First,
    /// `1`: re-authentication.
    Reauth,
    /// `2`: skip the identity check (a user already known to the center).
    SkipIdentityCheck,
}

impl AuthType {
    fn code(self) -> &'static str {
        match self {
            AuthType::First => "0",
            AuthType::Reauth => "1",
            AuthType::SkipIdentityCheck => "2",
        }
    }
}

/// Every parameter of the authorize page (docs/protocol.md §2.1) plus PKCE.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    /// The institution's client id.
    pub client_id: String,
    /// The registered callback, matched exactly by the center.
    pub redirect_uri: String,
    /// The scopes asked for, e.g. `login inquiry transfer`.
    pub scope: Scopes,
    /// The anti-forgery state, echoed on the callback.
    pub state: State,
    /// How much identity checking to do.
    pub auth_type: AuthType,
    /// Free text echoed on the callback.
    pub client_info: Option<String>,
    /// The page's language.
    pub lang: Option<Lang>,
    /// `cellphone_cert_yn`: offer the phone identity check.
    pub cellphone_cert_yn: Option<bool>,
    /// `authorized_cert_yn`: offer the certificate identity check.
    pub authorized_cert_yn: Option<bool>,
    /// `account_hold_auth_yn`: check that the user holds the account.
    pub account_hold_auth_yn: Option<bool>,
    /// `register_info` (seen as `A`; its meaning is not documented).
    pub register_info: Option<String>,
    /// The PKCE challenge, sent as `code_challenge` with `code_challenge_method=S256`.
    pub code_challenge: Option<PkceChallenge>,
}

impl AuthorizeRequest {
    /// A first-authentication request with no optional parameters.
    pub fn new(
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
        scope: Scopes,
        state: State,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            scope,
            state,
            auth_type: AuthType::First,
            client_info: None,
            lang: None,
            cellphone_cert_yn: None,
            authorized_cert_yn: None,
            account_hold_auth_yn: None,
            register_info: None,
            code_challenge: None,
        }
    }

    /// Adds the PKCE challenge of `verifier`.
    pub fn with_pkce(mut self, verifier: &PkceVerifier) -> Self {
        self.code_challenge = Some(verifier.challenge());
        self
    }

    /// The URL of `/oauth/2.0/authorize` under `base`.
    pub fn url(&self, base: &Url) -> Url {
        self.url_for(base, "/oauth/2.0/authorize")
    }

    /// The URL of `/oauth/2.0/authorize_account` (re-confirming registered accounts).
    pub fn account_url(&self, base: &Url) -> Url {
        self.url_for(base, "/oauth/2.0/authorize_account")
    }

    fn url_for(&self, base: &Url, path: &str) -> Url {
        let yn = |b: bool| if b { "Y" } else { "N" };
        let mut url = crate::client::join(base, path);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &self.client_id)
                .append_pair("redirect_uri", &self.redirect_uri)
                .append_pair("scope", &self.scope.to_string())
                .append_pair("state", self.state.as_str())
                .append_pair("auth_type", self.auth_type.code());
            if let Some(v) = &self.client_info {
                q.append_pair("client_info", v);
            }
            if let Some(v) = self.lang {
                q.append_pair("lang", v.authorize_param());
            }
            if let Some(v) = self.cellphone_cert_yn {
                q.append_pair("cellphone_cert_yn", yn(v));
            }
            if let Some(v) = self.authorized_cert_yn {
                q.append_pair("authorized_cert_yn", yn(v));
            }
            if let Some(v) = self.account_hold_auth_yn {
                q.append_pair("account_hold_auth_yn", yn(v));
            }
            if let Some(v) = &self.register_info {
                q.append_pair("register_info", v);
            }
            if let Some(c) = &self.code_challenge {
                q.append_pair("code_challenge", c.as_str())
                    .append_pair("code_challenge_method", "S256");
            }
        }
        url
    }
}

/// What a successful callback carries.
#[derive(Debug, Clone)]
pub struct Callback {
    /// The one-time code to exchange for tokens.
    pub code: AuthorizationCode,
    /// The scopes the user granted.
    pub scope: Scopes,
    /// The `client_info` sent on the authorize URL.
    pub client_info: Option<String>,
}

/// Why a callback URL was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// The URL could not be parsed.
    #[error("the callback URL is not a URL")]
    NotAUrl,
    /// The user or the center refused (`error`, `error_description`).
    #[error("authorization refused: {error} {description}")]
    Refused {
        /// The `error` parameter.
        error: String,
        /// The `error_description` parameter.
        description: String,
    },
    /// `state` was missing or not the one sent: possibly a forged callback.
    #[error("the callback's state does not match")]
    StateMismatch,
    /// No `code` parameter.
    #[error("the callback carries no code")]
    MissingCode,
}

/// Reads the callback URL the consent page redirected to and checks its `state`.
///
/// A refusal (`error=…`) is reported as [`CallbackError::Refused`] even without a state, since it
/// grants nothing. Comparing the URL's origin and path with the redirect URI is the caller's
/// job, as it is the caller who intercepted the navigation.
pub fn parse_callback(url: &str, expected: &State) -> Result<Callback, CallbackError> {
    let url = Url::parse(url).map_err(|_| CallbackError::NotAUrl)?;
    let mut code = None;
    let mut scope = None;
    let mut client_info = None;
    let mut state = None;
    let mut error = None;
    let mut description = None;
    for (k, v) in url.query_pairs() {
        let v = v.into_owned();
        match k.as_ref() {
            "code" => code = Some(v),
            "scope" => scope = Some(v),
            "client_info" => client_info = Some(v),
            "state" => state = Some(v),
            "error" => error = Some(v),
            "error_description" => description = Some(v),
            _ => {}
        }
    }
    if let Some(error) = error {
        return Err(CallbackError::Refused {
            error,
            description: description.unwrap_or_default(),
        });
    }
    match state {
        Some(s) if expected.matches(&s) => {}
        _ => return Err(CallbackError::StateMismatch),
    }
    let code = code
        .filter(|c| !c.is_empty())
        .ok_or(CallbackError::MissingCode)?;
    Ok(Callback {
        code: AuthorizationCode::new(code),
        scope: Scopes::parse(scope.as_deref().unwrap_or_default()),
        client_info: client_info.filter(|c| !c.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::Scope;
    use rand::SeedableRng;
    use std::collections::HashMap;

    fn request() -> AuthorizeRequest {
        AuthorizeRequest::new(
            "client-1",
            "http://localhost:8080/callback",
            Scopes::new([Scope::Login, Scope::Inquiry, Scope::Transfer]),
            State::from_string("abcdefghijklmnopqrstuvwxyz012345"),
        )
    }

    #[test]
    fn pkce_challenge_matches_rfc7636_appendix_b() {
        let v = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            v.challenge().as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn generated_state_and_verifier_have_the_right_shape() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let s = State::generate_with(&mut rng);
        assert_eq!(s.as_str().len(), 32);
        assert!(s.as_str().bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(State::generate(), State::generate());
        let v = PkceVerifier::generate_with(&mut rng);
        assert_eq!(v.expose_secret().len(), 64);
        assert!(v.expose_secret().bytes().all(|b| UNRESERVED.contains(&b)));
        assert_eq!(format!("{v:?}"), "PkceVerifier(***)");
    }

    #[test]
    fn authorize_url_carries_every_parameter() {
        let mut r = request().with_pkce(&PkceVerifier::new(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        ));
        r.auth_type = AuthType::SkipIdentityCheck;
        r.client_info = Some("app".into());
        r.lang = Some(Lang::En);
        r.cellphone_cert_yn = Some(true);
        r.authorized_cert_yn = Some(false);
        r.account_hold_auth_yn = Some(false);
        r.register_info = Some("A".into());
        let base = Url::parse("https://testapi.openbanking.or.kr").expect("url");
        let url = r.url(&base);
        assert_eq!(url.path(), "/oauth/2.0/authorize");
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        let expect = [
            ("response_type", "code"),
            ("client_id", "client-1"),
            ("redirect_uri", "http://localhost:8080/callback"),
            ("scope", "login inquiry transfer"),
            ("state", "abcdefghijklmnopqrstuvwxyz012345"),
            ("auth_type", "2"),
            ("client_info", "app"),
            ("lang", "eng"),
            ("cellphone_cert_yn", "Y"),
            ("authorized_cert_yn", "N"),
            ("account_hold_auth_yn", "N"),
            ("register_info", "A"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ];
        for (k, v) in expect {
            assert_eq!(q.get(k).map(String::as_str), Some(v), "{k}");
        }
        assert_eq!(q.len(), expect.len());
        assert!(url.as_str().contains("scope=login+inquiry+transfer"));
        assert_eq!(r.account_url(&base).path(), "/oauth/2.0/authorize_account");
    }

    #[test]
    fn authorize_url_omits_unset_options_and_keeps_a_base_path() {
        let base = Url::parse("http://127.0.0.1:9000/center/").expect("url");
        let url = request().url(&base);
        assert_eq!(url.path(), "/center/oauth/2.0/authorize");
        let keys: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        assert_eq!(
            keys,
            [
                "response_type",
                "client_id",
                "redirect_uri",
                "scope",
                "state",
                "auth_type"
            ]
        );
    }

    #[test]
    fn callback_with_the_right_state_yields_the_code() {
        let state = State::from_string("abcdefghijklmnopqrstuvwxyz012345");
        let cb = parse_callback(
            "http://localhost:8080/callback?code=XYZ&scope=inquiry%20login%20transfer\
             &client_info=app&state=abcdefghijklmnopqrstuvwxyz012345",
            &state,
        )
        .expect("accepted");
        assert_eq!(cb.code.expose_secret(), "XYZ");
        assert!(cb.scope.contains(&Scope::Transfer));
        assert_eq!(cb.client_info.as_deref(), Some("app"));
    }

    #[test]
    fn callback_with_another_state_or_none_is_refused() {
        let state = State::from_string("abcdefghijklmnopqrstuvwxyz012345");
        assert_eq!(
            parse_callback(
                "http://x/cb?code=XYZ&state=abcdefghijklmnopqrstuvwxyz012346",
                &state
            )
            .expect_err("forged"),
            CallbackError::StateMismatch
        );
        assert_eq!(
            parse_callback("http://x/cb?code=XYZ", &state).expect_err("no state"),
            CallbackError::StateMismatch
        );
        assert_eq!(
            parse_callback("http://x/cb?state=abcdefghijklmnopqrstuvwxyz012345", &state)
                .expect_err("no code"),
            CallbackError::MissingCode
        );
        assert_eq!(
            parse_callback("not a url", &state).expect_err("junk"),
            CallbackError::NotAUrl
        );
    }

    #[test]
    fn callback_error_is_reported_as_a_refusal() {
        let state = State::from_string("s");
        assert_eq!(
            parse_callback(
                "http://x/cb?error=access_denied&error_description=user%20cancelled",
                &state
            )
            .expect_err("refused"),
            CallbackError::Refused {
                error: "access_denied".into(),
                description: "user cancelled".into()
            }
        );
    }
}
