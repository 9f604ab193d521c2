//! moa-server: the institution's half of Moa, and the only part of it that talks to an open
//! banking center (KFTC or the testbed).
//!
//! It holds what a desktop app must never hold — the client secret, the institution's `oob`
//! token, each person's KFTC tokens (sealed at rest), the `bank_tran_id` issuer and the transfer
//! saga — and serves the app an API under `/v1` whose every request is bound to the device's key
//! by a DPoP proof (RFC 9449).
//!
//! - [`config`]: the TOML config and its checks; [`Settings`] is what a running server needs.
//! - [`api`]: the `/v1` wire types, shared with the app's core.
//! - [`dpop`] and [`auth`]: DPoP proofs, made by the app and checked here.
//! - [`store`]: the server's database; [`seal`]: AEAD sealing of tokens at rest.
//! - [`center`]: the connection to the center, with the tokens.
//! - [`registration`], [`sync`], [`saga`]: consent, reading money, moving money.
//! - [`routes`]: the HTTP API; [`metrics`]: Prometheus counters.
//! - [`sandbox`]: a server whose center is an in-process testbed (the `sandbox` feature, on by
//!   default).
#![deny(missing_docs)]

pub mod api;
pub mod app;
pub mod auth;
pub mod center;
pub mod config;
pub mod dpop;
pub mod error;
pub mod files;
pub mod metrics;
pub mod registration;
pub mod routes;
pub mod saga;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod seal;
pub mod store;
pub mod sync;

#[cfg(test)]
mod scratch;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use moa_openbanking::{ClientSecret, ClientUseCode};
use url::Url;

/// What a running server needs, checked and loaded: secrets read from their files.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The center's base URL (KFTC test, KFTC production, or a testbed).
    pub center: Url,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: ClientSecret,
    /// 이용기관코드.
    pub client_use_code: ClientUseCode,
    /// The callback registered with the center, which the app's consent window intercepts.
    pub redirect_uri: String,
    /// Collection contract account number (수납 약정계좌).
    pub collection_account: String,
    /// Payout contract account number (지급 약정계좌).
    pub payout_account: String,
    /// Where the data lives: a SQLite file, or a PostgreSQL database.
    pub database: store::Database,
    /// The key that seals tokens at rest.
    pub sealing_key: seal::SealingKey,
    /// The address the app reaches the server at, when it differs from what the server sees
    /// (behind a reverse proxy): DPoP proofs name it.
    pub public_url: Option<Url>,
}

pub use app::{App, Options};
pub use error::{Error, Result};

/// Serves `app` on `listener` until `shutdown` resolves, with the background work — unfinished
/// transfers resumed at start and every little while, tokens renewed before they expire.
pub async fn run(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let worker = tokio::spawn(background(app.clone()));
    let served = axum::serve(listener, routes::router(app))
        .with_graceful_shutdown(shutdown)
        .await;
    worker.abort();
    served
}

/// Resumes open transfers now and then, and renews tokens about to expire.
async fn background(app: Arc<App>) {
    let every = app.options().settle.resume_every;
    let mut ticks = 0u64;
    loop {
        if let Err(e) = saga::resume(&app).await {
            tracing::warn!(code = e.code().as_str(), "resuming transfers failed");
        }
        // Tokens are checked about every hour.
        if ticks.is_multiple_of((3600 / every.as_secs().max(1)).max(1))
            && let Err(e) = app.center().renew_expiring().await
        {
            tracing::warn!(code = e.code().as_str(), "token renewal failed");
        }
        ticks += 1;
        tokio::time::sleep(every).await;
    }
}

/// A server serving on a loopback port in a background task.
#[derive(Debug)]
pub struct Spawned {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Its state, for tests.
    pub app: Arc<App>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Spawned {
    /// Stops serving and waits until the server is done.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Serves `app` on `addr` (port 0 for a free one) in a background task.
pub async fn spawn(app: App, addr: SocketAddr) -> std::io::Result<Spawned> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let app = Arc::new(app);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(run(app.clone(), listener, async move {
        let _ = stopped.await;
    }));
    Ok(Spawned {
        base_url: format!("http://{addr}"),
        addr,
        app,
        stop,
        task,
    })
}
