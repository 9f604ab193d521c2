//! The app's side of moa-server's `/v1` API: every request bound to the device's key by a DPoP
//! proof (RFC 9449), with the token the server gave the device at enrolment. The key and that
//! token live in the vault (the OS keyring) as one entry; a device without them enrols on first
//! use. The server's refusals arrive as their stable [`ErrorCode`].

use std::time::Duration;

use base64::Engine;
use moa_openbanking::Clock;
use moa_server::api::{self, ErrorCode};
use moa_server::dpop::DeviceKey;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use url::Url;

use crate::error::{Error, Result};
use crate::vault::{SecretKey, Vault};

/// The vault entry of the device's key, per environment.
const DEVICE_KEY: &str = "device-key";

/// The device's key and the token bound to it, as the vault keeps them.
#[derive(Serialize, Deserialize)]
struct StoredDevice {
    key: String,
    token: String,
}

/// A connection to one moa-server, as one enrolled device.
pub struct Server {
    base: Url,
    http: reqwest::Client,
    key: DeviceKey,
    token: String,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// Whether `url` may carry the app's requests: https, or http on loopback only.
pub fn acceptable_url(url: &Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        },
        _ => false,
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl Server {
    /// Connects to the server at `base` as this device: the key from the vault, or a new key
    /// enrolled now. `environment` names the vault entry.
    pub async fn connect(
        base: Url,
        vault: &Arc<dyn Vault>,
        environment: &str,
        clock: Arc<dyn Clock>,
        timeout: Duration,
    ) -> Result<Self> {
        if !acceptable_url(&base) {
            return Err(Error::Invalid("server_url_insecure"));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            // A redirect would carry the device's token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .https_only(base.scheme() == "https")
            .build()
            .map_err(|_| Error::Invalid("internal"))?;
        let entry = SecretKey {
            environment,
            name: DEVICE_KEY,
        };
        if let Some(stored) = vault.get(entry)?
            && let Ok(stored) = serde_json::from_str::<StoredDevice>(&stored)
            && let Ok(bytes) = b64().decode(stored.key)
            && let Ok(key) = DeviceKey::from_pkcs8(&bytes)
        {
            let server = Self {
                base: base.clone(),
                http: http.clone(),
                key,
                token: stored.token,
                clock: clock.clone(),
            };
            // The server may have forgotten the device (a new sandbox folder, a revocation).
            match server.get::<serde_json::Value>("/v1/me").await {
                Err(Error::Server(ErrorCode::UnknownDevice | ErrorCode::BadProof)) => {}
                _ => return Ok(server),
            }
        }
        let key = DeviceKey::generate().map_err(|_| Error::Invalid("internal"))?;
        let mut server = Self {
            base,
            http,
            key,
            token: String::new(),
            clock,
        };
        let enrolled: api::Enrolled = server
            .send(Method::POST, "/v1/devices", None::<&()>, None)
            .await?;
        server.token = enrolled.device_token;
        let stored = StoredDevice {
            key: b64().encode(server.key.pkcs8()),
            token: server.token.clone(),
        };
        vault.set(
            entry,
            &serde_json::to_string(&stored).map_err(|_| Error::Invalid("internal"))?,
        )?;
        Ok(server)
    }

    /// The server's address.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        idempotency_key: Option<&str>,
    ) -> Result<reqwest::RequestBuilder> {
        let url = self
            .base
            .join(path)
            .map_err(|_| Error::Invalid("internal"))?;
        let token = (!self.token.is_empty()).then_some(self.token.as_str());
        let proof = self
            .key
            .proof(method.as_str(), &url, token, self.clock.now())
            .map_err(|_| Error::Invalid("internal"))?;
        let mut request = self.http.request(method, url).header("DPoP", proof);
        if let Some(token) = token {
            request = request.header("Authorization", format!("DPoP {token}"));
        }
        if let Some(key) = idempotency_key {
            request = request.header(api::IDEMPOTENCY_KEY, key);
        }
        Ok(request)
    }

    async fn answer(response: reqwest::Response) -> Result<reqwest::Response> {
        if response.status().is_success() {
            return Ok(response);
        }
        let code = response
            .json::<api::ApiError>()
            .await
            .map(|e| e.code)
            .unwrap_or(ErrorCode::Internal);
        Err(Error::Server(code))
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
        idempotency_key: Option<&str>,
    ) -> Result<T> {
        let mut request = self.request(method, path, idempotency_key)?;
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = Self::answer(request.send().await.map_err(|_| Error::Unreachable)?).await?;
        response.json().await.map_err(|_| Error::Unreachable)
    }

    /// `GET path`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(Method::GET, path, None::<&()>, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T> {
        self.send(Method::POST, path, Some(body), None).await
    }

    /// `POST path` with a JSON body and an idempotency key.
    pub async fn post_once<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
        key: &str,
    ) -> Result<T> {
        self.send(Method::POST, path, Some(body), Some(key)).await
    }

    /// A request whose answer has no body.
    pub async fn call(&self, method: Method, path: &str) -> Result<()> {
        let response = self
            .request(method, path, None)?
            .send()
            .await
            .map_err(|_| Error::Unreachable)?;
        Self::answer(response).await?;
        Ok(())
    }

    /// An NDJSON stream: each line is passed to `each` as it arrives.
    pub async fn stream<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        mut each: impl FnMut(T),
    ) -> Result<()> {
        let response = self
            .request(method, path, None)?
            .send()
            .await
            .map_err(|_| Error::Unreachable)?;
        let mut response = Self::answer(response).await?;
        let mut buffer = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|_| Error::Unreachable)? {
            buffer.extend_from_slice(&chunk);
            while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buffer.drain(..=end).collect();
                if let Ok(value) = serde_json::from_slice::<T>(&line) {
                    each(value);
                }
            }
        }
        Ok(())
    }
}
