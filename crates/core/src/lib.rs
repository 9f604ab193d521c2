//! Moa without its window: everything the app decides, tested headless against a real
//! moa-server and its center.
//!
//! - [`store`]: the local SQLite store — a cache of what the server said (accounts, balances,
//!   history, the app's view of its transfers), for a first paint from disk and reading
//!   offline. Never a secret.
//! - [`files`]: the data folder kept private to the person's account, and the exports a person
//!   saves.
//! - [`vault`]: the device's key, in the OS keyring.
//! - [`server`]: the client of moa-server's `/v1` API, every request bound to the device key.
//! - [`registration`]: the consent flow's two ends, through the server.
//! - [`sync`]: balances streamed from the server, history merged incrementally.
//! - [`transfer`]: transfers asked of the server, their progress followed.
//!
//! [`Moa`] ties them together. It has no Tauri dependency.
#![deny(missing_docs)]

pub mod dashboard;
pub mod error;
pub mod files;
pub mod journal;
pub mod registration;
pub mod server;
pub mod store;
pub mod sync;
pub mod transfer;
pub mod vault;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use moa_openbanking::{Clock, SystemClock};
use tokio::sync::RwLock;

pub use error::{Code, Error, Result};
pub use server::Server;
pub use store::{EnvironmentKind, Store};
pub use vault::{KeyringVault, MemoryVault, SecretKey, Vault};

use crate::store::EnvironmentRecord;

/// How to open Moa.
#[derive(Clone)]
pub struct Options {
    /// The app's data folder: the store, and the sandbox's server and center, live here.
    pub data_dir: PathBuf,
    /// Where the device key goes.
    pub vault: Arc<dyn Vault>,
    /// The clock every decision reads; tests move it.
    pub clock: Arc<dyn Clock>,
    /// Latency of the sandbox's banks (a few milliseconds, like a real link, by default).
    pub sandbox_latency: Duration,
    /// Per-request timeout towards the server.
    pub timeout: Duration,
    /// How the sandbox's in-process server runs.
    pub sandbox_server: moa_server::Options,
    /// Whether the sandbox's center serves its admin API (faults, bank status, the clock, the
    /// ledger). Off in the app; [`Options::new`] turns it on only when the environment variable
    /// [`SANDBOX_ADMIN_ENV`] is `1`, which the end-to-end harness sets.
    pub sandbox_admin: bool,
}

/// The environment variable that lets the app's sandbox center serve its admin API, for the
/// end-to-end tests, which read its ledger and set banks down: `MOA_SANDBOX_ADMIN=1`. Read
/// once, by [`Options::new`].
pub const SANDBOX_ADMIN_ENV: &str = "MOA_SANDBOX_ADMIN";

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("data_dir", &self.data_dir)
            .field("vault", &self.vault)
            .field("timeout", &self.timeout)
            .field("sandbox_admin", &self.sandbox_admin)
            .finish_non_exhaustive()
    }
}

impl Options {
    /// Defaults for the app: the OS keyring and the system clock.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            vault: Arc::new(KeyringVault::new("kr.moa.app")),
            clock: Arc::new(SystemClock),
            sandbox_latency: SANDBOX_LATENCY,
            timeout: Duration::from_secs(15),
            sandbox_server: moa_server::Options::default(),
            sandbox_admin: std::env::var_os(SANDBOX_ADMIN_ENV).is_some_and(|v| v == "1"),
        }
    }
}

/// What the sandbox's banks take to answer by default: a real link's few milliseconds.
#[cfg(feature = "sandbox")]
const SANDBOX_LATENCY: Duration = moa_testbed::DEFAULT_LATENCY;
#[cfg(not(feature = "sandbox"))]
const SANDBOX_LATENCY: Duration = Duration::ZERO;

/// The in-process server and center of the sandbox, in a build that has one.
#[cfg(feature = "sandbox")]
type Sandbox = moa_server::sandbox::Sandbox;
/// A build without the sandbox never holds one.
#[cfg(not(feature = "sandbox"))]
enum Sandbox {}

/// Stops the sandbox's server and center.
#[cfg(feature = "sandbox")]
async fn stop(sandbox: Sandbox) {
    sandbox.shutdown().await;
}

/// Nothing to stop in a build without the sandbox.
#[cfg(not(feature = "sandbox"))]
async fn stop(sandbox: Sandbox) {
    match sandbox {}
}

/// Moa's core: open once per process.
pub struct Moa {
    store: Store,
    options: Options,
    active: RwLock<Option<Active>>,
}

struct Active {
    env: EnvironmentRecord,
    server: Arc<Server>,
    /// The in-process server and center of the sandbox; stop with Moa.
    sandbox: Option<Sandbox>,
}

impl std::fmt::Debug for Moa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Moa")
            .field("data_dir", &self.options.data_dir)
            .finish_non_exhaustive()
    }
}

use store::settings::ACTIVE_ENVIRONMENT;
pub use store::settings::SANDBOX_CENTER_URL;

/// The environment used last time (the sandbox on first launch, or an institution's server in
/// a build without the sandbox), as the store records it.
pub fn last_environment(store: &Store) -> Result<EnvironmentKind> {
    let first = if SANDBOX_AVAILABLE {
        EnvironmentKind::Sandbox
    } else {
        EnvironmentKind::Server
    };
    Ok(store
        .setting(ACTIVE_ENVIRONMENT)?
        .and_then(|k| EnvironmentKind::parse(&k))
        .unwrap_or(first))
}

/// Whether this build has the sandbox environment (the `sandbox` feature, on by default).
/// Without it Moa talks only to an institution's moa-server.
pub const SANDBOX_AVAILABLE: bool = cfg!(feature = "sandbox");

/// The store of a data folder, as [`Moa::open`] opens it. The folder is made private to the
/// person's account first, with every file already in it ([`files::private_data_dir`]).
pub fn open_store(data_dir: &std::path::Path) -> Result<Store> {
    files::private_data_dir(data_dir).map_err(|source| store::StoreError::Folder {
        path: data_dir.to_owned(),
        source,
    })?;
    Ok(Store::open(&data_dir.join("moa.db"))?)
}

impl Moa {
    /// Opens the store in the data folder and connects to the environment used last time
    /// (the sandbox on first launch).
    pub async fn open(options: Options) -> Result<Self> {
        let store = open_store(&options.data_dir)?;
        Self::open_with_store(options, store).await
    }

    /// [`Moa::open`] with the data folder's store already open ([`open_store`]): the app reads
    /// its dashboard before the core starts, and opens the store once.
    pub async fn open_with_store(options: Options, store: Store) -> Result<Self> {
        let kind = last_environment(&store)?;
        let moa = Self {
            store,
            options,
            active: RwLock::new(None),
        };
        match kind {
            EnvironmentKind::Sandbox => moa.fall_back().await?,
            EnvironmentKind::Server => {
                let url = moa
                    .store
                    .environment(EnvironmentKind::Server)?
                    .map(|e| e.base_url);
                // A server out of reach must not keep the app from opening: it falls back to
                // the sandbox, and Settings shows which is active.
                let connected = match url {
                    Some(url) => moa.use_server(&url).await,
                    None => Err(Error::NotConfigured("server")),
                };
                if connected.is_err() {
                    moa.fall_back().await?;
                }
            }
        }
        Ok(moa)
    }

    /// Where Moa goes when it has no server to talk to: the sandbox.
    #[cfg(feature = "sandbox")]
    async fn fall_back(&self) -> Result<()> {
        self.use_sandbox().await
    }

    /// Without a sandbox there is nowhere to fall back to: no environment is active until the
    /// person names a server.
    #[cfg(not(feature = "sandbox"))]
    async fn fall_back(&self) -> Result<()> {
        Ok(())
    }

    /// The local store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.options.clock
    }

    /// The vault.
    pub fn vault(&self) -> &Arc<dyn Vault> {
        &self.options.vault
    }

    /// The active server.
    pub async fn server(&self) -> Result<Arc<Server>> {
        self.active
            .read()
            .await
            .as_ref()
            .map(|a| a.server.clone())
            .ok_or(Error::NotConfigured("active"))
    }

    /// The active environment's record, as the store has it now.
    pub async fn environment(&self) -> Result<EnvironmentRecord> {
        let kind = self
            .active
            .read()
            .await
            .as_ref()
            .map(|a| a.env.kind)
            .ok_or(Error::NotConfigured("active"))?;
        self.store
            .environment(kind)?
            .ok_or(Error::NotConfigured(kind.as_str()))
    }

    /// The sandbox's center, when the sandbox is active: its address and manifest, for tests
    /// and for the app's developer tools.
    #[cfg(feature = "sandbox")]
    pub async fn sandbox(&self) -> Option<(String, moa_testbed::Manifest)> {
        self.active
            .read()
            .await
            .as_ref()
            .and_then(|a| a.sandbox.as_ref())
            .map(|s| (s.center.base_url.clone(), s.center.manifest.clone()))
    }

    /// Switches to the sandbox: refused in a build without one ([`SANDBOX_AVAILABLE`]).
    #[cfg(not(feature = "sandbox"))]
    pub async fn use_sandbox(&self) -> Result<()> {
        Err(Error::Sandbox("this build has no sandbox"))
    }

    /// Switches to the sandbox: a moa-server and its center inside the app, their databases in
    /// the data folder.
    #[cfg(feature = "sandbox")]
    pub async fn use_sandbox(&self) -> Result<()> {
        self.close().await;
        let mut options = moa_server::sandbox::SandboxOptions::new(&self.options.data_dir);
        options.latency = self.options.sandbox_latency;
        options.center_admin = self.options.sandbox_admin;
        options.options = self.options.sandbox_server.clone();
        options.options.clock = self.options.clock.clone();
        let sandbox = moa_server::sandbox::start(options).await.map_err(|e| {
            Error::Sandbox(match e {
                moa_server::sandbox::SandboxError::Center(_) => "its center did not start",
                _ => "its server did not start",
            })
        })?;
        let url = match url::Url::parse(&sandbox.server.base_url) {
            Ok(url) => url,
            Err(_) => {
                sandbox.shutdown().await;
                return Err(Error::Sandbox("its server has no address"));
            }
        };
        // For the developer tools and the end-to-end tests only: see SANDBOX_CENTER_URL.
        self.store
            .set_setting(SANDBOX_CENTER_URL, &sandbox.center.base_url)?;
        match self.connect(EnvironmentKind::Sandbox, url).await {
            Ok((env, server)) => {
                self.activate(env, server, Some(sandbox)).await;
                Ok(())
            }
            Err(e) => {
                sandbox.shutdown().await;
                Err(e)
            }
        }
    }

    /// Switches to an institution's moa-server: https required, except on loopback.
    pub async fn use_server(&self, url: &str) -> Result<()> {
        let url =
            url::Url::parse(url.trim()).map_err(|_| Error::Invalid(Code::ServerUrlInvalid))?;
        if !server::acceptable_url(&url) {
            return Err(Error::Invalid(Code::ServerUrlInsecure));
        }
        let (env, server) = self.connect(EnvironmentKind::Server, url).await?;
        self.close().await;
        self.activate(env, server, None).await;
        Ok(())
    }

    async fn connect(
        &self,
        kind: EnvironmentKind,
        url: url::Url,
    ) -> Result<(EnvironmentRecord, Arc<Server>)> {
        let server = Server::connect(
            url.clone(),
            self.vault(),
            kind.as_str(),
            self.clock().clone(),
            self.options.timeout,
        )
        .await?;
        let now = self.clock().now();
        let record = EnvironmentRecord {
            id: 0,
            kind,
            base_url: url.to_string(),
            user_name: None,
        };
        self.store.save_environment(&record, now)?;
        let env = self
            .store
            .environment(kind)?
            .ok_or(Error::NotConfigured(kind.as_str()))?;
        Ok((env, Arc::new(server)))
    }

    async fn activate(
        &self,
        env: EnvironmentRecord,
        server: Arc<Server>,
        sandbox: Option<Sandbox>,
    ) {
        let kind = env.kind;
        *self.active.write().await = Some(Active {
            env,
            server,
            sandbox,
        });
        let now = self.clock().now();
        let _ = self.store.set_setting(ACTIVE_ENVIRONMENT, kind.as_str());
        let _ = self
            .store
            .audit("environment", kind.as_str(), "connected", now);
    }

    /// Stops the sandbox's server and center, if they run. Call before the process exits.
    pub async fn close(&self) {
        if let Some(Active {
            sandbox: Some(sandbox),
            ..
        }) = self.active.write().await.take()
        {
            stop(sandbox).await;
        }
    }
}
