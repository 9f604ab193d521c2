//! The HTTP client: which center to talk to, timeouts, the request shapes of docs/protocol.md §1
//! (JSON bodies, query strings, form-encoded token requests), and the token endpoint.
//!
//! The service APIs are methods on [`Client`] too, defined next to their request and answer types
//! in [`user`](crate::user), [`account`](crate::account), [`inquiry`](crate::inquiry),
//! [`transfer`](crate::transfer), [`fund_return`](crate::fund_return) and [`bank`](crate::bank).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use reqwest::header::CONTENT_TYPE;
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::{Host, Url};

use crate::clock::{Clock, SystemClock};
use crate::codes::RspCode;
use crate::consent::{AuthorizeRequest, PkceVerifier};
use crate::envelope::decode_answer_accepting;
use crate::error::Error;
use crate::token::{
    AccessToken, AuthorizationCode, ClientSecret, RefreshToken, Scope, Scopes, Token, TokenResponse,
};
use crate::wire;

/// `Content-Type` of JSON requests, exactly as docs/protocol.md §1 gives it.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=UTF-8";
/// `Content-Type` of token requests, exactly as docs/protocol.md §1 gives it.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=UTF-8";

/// KFTC's test host.
pub const KFTC_TEST_BASE_URL: &str = "https://testapi.openbanking.or.kr";
/// KFTC's production host.
pub const KFTC_PRODUCTION_BASE_URL: &str = "https://openapi.openbanking.or.kr";

/// The default time to wait for one answer. Transfers can take the center tens of seconds when
/// a bank is slow; a shorter wait only turns more transfers into "outcome unknown".
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long to wait for a connection to the center before giving up on the call.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Which open banking center to talk to. KFTC's two hosts are fixed here; anything else is a
/// testbed, which [`Client::new`] accepts only over https or on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environment {
    /// A local center (the testbed) or any other base URL: https, or http on loopback.
    Custom(Url),
    /// `https://testapi.openbanking.or.kr`.
    KftcTest,
    /// `https://openapi.openbanking.or.kr`.
    KftcProduction,
}

impl Environment {
    /// The base URL that API paths are appended to.
    pub fn base_url(&self) -> Url {
        match self {
            Environment::Custom(url) => url.clone(),
            Environment::KftcTest => fixed_url(KFTC_TEST_BASE_URL),
            Environment::KftcProduction => fixed_url(KFTC_PRODUCTION_BASE_URL),
        }
    }
}

#[allow(clippy::expect_used)]
fn fixed_url(s: &str) -> Url {
    Url::parse(s).expect("the KFTC host constants are valid URLs")
}

/// Whether `url` may carry the institution's client secret and people's tokens: https to any
/// host, or plain http to this machine only (a testbed), where there is no network to listen
/// in on. A URL with a user name or password in it is refused too: it would put a credential
/// wherever the URL is printed.
pub fn is_secure_base_url(url: &Url) -> bool {
    if !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => is_loopback(url),
        _ => false,
    }
}

/// Whether `url` names this machine: `127.0.0.0/8`, `[::1]` or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// `base` with `path` appended to its own path (so a base like `http://host/prefix` keeps its
/// prefix, which `Url::join` with an absolute path would drop).
pub(crate) fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}{path}"));
    url.set_query(None);
    url
}

/// A request body or query with `tran_dtime` added, so callers never build request times by hand.
#[derive(Serialize)]
pub(crate) struct Stamped<'a, T: Serialize> {
    #[serde(flatten)]
    pub(crate) body: &'a T,
    pub(crate) tran_dtime: String,
}

/// An institution's credentials for the token endpoint.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    /// The client id.
    pub client_id: String,
    /// The client secret (prints as `***`).
    pub client_secret: ClientSecret,
}

impl ClientCredentials {
    /// Credentials from an id and a secret.
    pub fn new(client_id: impl Into<String>, client_secret: ClientSecret) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
        }
    }
}

/// A client of one open banking center. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    timeout: Duration,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client of the center at `environment`, with rustls and the default timeout.
    ///
    /// A base URL that is not https (plain http is allowed to loopback only) is refused. The
    /// client follows no redirect: a token request carries the client secret in its body and
    /// every other call a bearer token, and on a 307 or 308 an HTTP client sends the same body
    /// again to wherever the answer points. A redirect is answered as [`Error::Http`] instead.
    pub fn new(environment: Environment) -> Result<Self, Error> {
        let base = environment.base_url();
        if !is_secure_base_url(&base) {
            return Err(Error::InvalidRequest(
                "the center's address must be https (plain http only to this machine) and \
                 carry no user name or password"
                    .into(),
            ));
        }
        // A connect timeout shorter than the call's own makes an unreachable center fail as
        // `Connect` (nothing sent, safe to retry) rather than as a timeout of unknown outcome.
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(base.scheme() == "https")
            .build()
            .map_err(|_| Error::InvalidRequest("cannot build the HTTP client".into()))?;
        Ok(Self {
            http,
            base,
            timeout: DEFAULT_TIMEOUT,
            clock: Arc::new(SystemClock),
        })
    }

    /// A client of the center at `base_url` (e.g. the testbed's).
    pub fn with_base_url(base_url: &str) -> Result<Self, Error> {
        let url = Url::parse(base_url)
            .map_err(|_| Error::InvalidRequest("the center's address is not a URL".into()))?;
        Self::new(Environment::Custom(url))
    }

    /// A copy of this client that waits `timeout` for each answer. Use it for one call to
    /// override the default: `client.with_timeout(Duration::from_secs(60)).withdraw(…)`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self {
            timeout,
            ..self.clone()
        }
    }

    /// A copy of this client that reads `clock` for `tran_dtime` and token issue times.
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            ..self.clone()
        }
    }

    /// The URL of this center's consent page for `request`.
    pub fn authorize_url(&self, request: &AuthorizeRequest) -> Url {
        request.url(&self.base)
    }

    /// The center's base URL.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The time each call waits for its answer.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The clock this client reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Now, in Korea, as the `tran_dtime` of a request.
    pub(crate) fn tran_dtime(&self) -> String {
        let now: NaiveDateTime = self.clock.now_kst();
        wire::format_dtime(&now)
    }

    /// `body` with the request time added as `tran_dtime`.
    pub(crate) fn stamp<'a, T: Serialize>(&self, body: &'a T) -> Stamped<'a, T> {
        Stamped {
            body,
            tran_dtime: self.tran_dtime(),
        }
    }

    /// `GET path?query` with the bearer token.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        token: &AccessToken,
        query: &(impl Serialize + ?Sized),
    ) -> Result<T, Error> {
        let rb = self
            .http
            .get(join(&self.base, endpoint))
            .bearer_auth(token.expose_secret())
            .query(query);
        self.send(endpoint, rb, &[]).await
    }

    /// `POST path` with a JSON body and the bearer token.
    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        token: &AccessToken,
        body: &(impl Serialize + ?Sized),
    ) -> Result<T, Error> {
        self.post_accepting(endpoint, token, body, &[]).await
    }

    /// As [`post`](Self::post), decoding answers whose code is in `accept` instead of refusing.
    pub(crate) async fn post_accepting<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        token: &AccessToken,
        body: &(impl Serialize + ?Sized),
        accept: &[RspCode],
    ) -> Result<T, Error> {
        let json = serde_json::to_vec(body)
            .map_err(|e| Error::InvalidRequest(format!("cannot encode the body: {e}")))?;
        let rb = self
            .http
            .post(join(&self.base, endpoint))
            .bearer_auth(token.expose_secret())
            .header(CONTENT_TYPE, JSON_CONTENT_TYPE)
            .body(json);
        self.send(endpoint, rb, accept).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        rb: reqwest::RequestBuilder,
        accept: &[RspCode],
    ) -> Result<T, Error> {
        let resp = rb
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| Error::transport(endpoint, e))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Error::transport(endpoint, e))?;
        decode_answer_accepting(endpoint, status, &bytes, accept)
    }

    async fn token(&self, form: &[(&str, &str)]) -> Result<Token, Error> {
        const ENDPOINT: &str = "/oauth/2.0/token";
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let issued_at = self.clock.now();
        let rb = self
            .http
            .post(join(&self.base, ENDPOINT))
            .header(CONTENT_TYPE, FORM_CONTENT_TYPE)
            .body(body);
        let answer: TokenResponse = self.send(ENDPOINT, rb, &[]).await?;
        Ok(Token::from_response(answer, issued_at))
    }

    /// Exchanges the callback's code for the user's tokens (`grant_type=authorization_code`),
    /// with the PKCE verifier when the authorize URL carried a challenge.
    pub async fn exchange_code(
        &self,
        credentials: &ClientCredentials,
        code: &AuthorizationCode,
        redirect_uri: &str,
        verifier: Option<&PkceVerifier>,
    ) -> Result<Token, Error> {
        let mut form = vec![
            ("code", code.expose_secret()),
            ("client_id", credentials.client_id.as_str()),
            ("client_secret", credentials.client_secret.expose_secret()),
            ("redirect_uri", redirect_uri),
            ("grant_type", "authorization_code"),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier", v.expose_secret()));
        }
        self.token(&form).await
    }

    /// Renews the user's tokens (`grant_type=refresh_token`) for `scope`.
    pub async fn refresh_token(
        &self,
        credentials: &ClientCredentials,
        refresh_token: &RefreshToken,
        scope: &Scopes,
    ) -> Result<Token, Error> {
        let scope = scope.to_string();
        self.token(&[
            ("client_id", credentials.client_id.as_str()),
            ("client_secret", credentials.client_secret.expose_secret()),
            ("refresh_token", refresh_token.expose_secret()),
            ("scope", &scope),
            ("grant_type", "refresh_token"),
        ])
        .await
    }

    /// Gets the institution's own `oob` token (`grant_type=client_credentials`).
    pub async fn client_credentials(
        &self,
        credentials: &ClientCredentials,
    ) -> Result<Token, Error> {
        self.token(&[
            ("client_id", credentials.client_id.as_str()),
            ("client_secret", credentials.client_secret.expose_secret()),
            ("scope", Scope::Oob.code()),
            ("grant_type", "client_credentials"),
        ])
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_have_the_documented_hosts() {
        assert_eq!(
            Environment::KftcTest.base_url().as_str(),
            "https://testapi.openbanking.or.kr/"
        );
        assert_eq!(
            Environment::KftcProduction.base_url().as_str(),
            "https://openapi.openbanking.or.kr/"
        );
    }

    #[test]
    fn paths_are_appended_to_the_base_path() {
        let base = Url::parse("http://127.0.0.1:3000").expect("url");
        assert_eq!(
            join(&base, "/v2.0/user/me").as_str(),
            "http://127.0.0.1:3000/v2.0/user/me"
        );
        let prefixed = Url::parse("http://127.0.0.1:3000/ob/").expect("url");
        assert_eq!(join(&prefixed, "/v2.0/user/me").path(), "/ob/v2.0/user/me");
    }

    #[test]
    fn per_call_timeout_does_not_change_the_original() {
        let c = Client::with_base_url("http://127.0.0.1:1").expect("client");
        let slow = c.with_timeout(Duration::from_secs(90));
        assert_eq!(c.timeout(), DEFAULT_TIMEOUT);
        assert_eq!(slow.timeout(), Duration::from_secs(90));
    }

    #[test]
    fn a_center_must_be_https_unless_it_is_on_this_machine() {
        for good in [
            "https://testapi.openbanking.or.kr",
            "https://testbed.example.com:8443/ob",
            "http://127.0.0.1:3000",
            "http://127.8.9.10:3000",
            "http://[::1]:3000",
            "http://localhost:3000",
        ] {
            assert!(Client::with_base_url(good).is_ok(), "{good}");
        }
        for bad in [
            "http://testapi.openbanking.or.kr",
            "http://10.0.0.5:3000",
            // Reaches this machine's listeners on Linux, yet is no loopback address.
            "http://0.0.0.0:3000",
            "http://[::ffff:10.0.0.5]:3000",
            "http://localhost.example.com",
            "ftp://127.0.0.1",
            "file:///etc/passwd",
            "https://user:pass@testapi.openbanking.or.kr",
        ] {
            let refused = Client::with_base_url(bad).expect_err(bad);
            assert!(matches!(refused, Error::InvalidRequest(_)), "{bad}");
            assert!(!refused.to_string().contains("user:pass"), "{refused}");
        }
        assert!(Client::new(Environment::KftcProduction).is_ok());
    }

    #[test]
    fn credentials_debug_hides_the_secret() {
        let c = ClientCredentials::new("id", ClientSecret::new("hunter2"));
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
