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

use crate::error::{Code, Error, Result};
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

/// Whether `url` may carry the app's requests: https, or http on loopback only, and no user
/// name or password in it — the rule moa-server applies to its center.
pub fn acceptable_url(url: &Url) -> bool {
    moa_openbanking::client::is_secure_base_url(url)
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
            return Err(Error::Invalid(Code::ServerUrlInsecure));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            // A redirect would carry the device's token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .https_only(base.scheme() == "https")
            .build()
            .map_err(|_| Error::Invalid(Code::Internal))?;
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
        let key = DeviceKey::generate().map_err(|_| Error::Invalid(Code::Internal))?;
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
            &serde_json::to_string(&stored).map_err(|_| Error::Invalid(Code::Internal))?,
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
            .map_err(|_| Error::Invalid(Code::Internal))?;
        let token = (!self.token.is_empty()).then_some(self.token.as_str());
        let proof = self
            .key
            .proof(method.as_str(), &url, token, self.clock.now())
            .map_err(|_| Error::Invalid(Code::Internal))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::MemoryVault;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn a_server_must_be_https_unless_it_is_on_this_machine() {
        let ok = |u: &str| acceptable_url(&Url::parse(u).unwrap());
        assert!(ok("https://moa.example.com"));
        assert!(ok("http://127.0.0.1:8420"));
        assert!(ok("http://[::1]:8420"));
        assert!(ok("http://localhost:8420"));
        assert!(!ok("http://moa.example.com"));
        assert!(!ok("http://0.0.0.0:8420"));
        assert!(!ok("http://192.168.0.10:8420"));
        assert!(!ok("https://device:token@moa.example.com"));
        assert!(!ok("ftp://127.0.0.1"));
    }

    /// A server that answers its enrolment with a 307 elsewhere: the device's proof, and later
    /// its token, would follow a redirect; the client stops instead.
    #[tokio::test]
    async fn a_redirect_from_the_server_is_not_followed() {
        let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let elsewhere_addr = elsewhere.local_addr().unwrap();
        let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = Url::parse(&format!("http://{}", server.local_addr().unwrap())).unwrap();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = server.accept().await {
                let mut buf = vec![0; 8192];
                let _ = sock.read(&mut buf).await;
                let reply = format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://{elsewhere_addr}/v1/devices\r\n\
                     Content-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = sock.write_all(reply.as_bytes()).await;
            }
        });
        let vault: Arc<dyn Vault> = Arc::new(MemoryVault::new());
        let connected = Server::connect(
            base,
            &vault,
            "test",
            Arc::new(moa_openbanking::SystemClock),
            Duration::from_secs(2),
        )
        .await;
        assert!(connected.is_err());
        let arrived = tokio::time::timeout(Duration::from_millis(200), elsewhere.accept()).await;
        assert!(arrived.is_err(), "a request followed the redirect");
    }
}
