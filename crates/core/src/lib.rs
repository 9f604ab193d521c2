//! Moa without its window: everything the app decides, tested headless against the testbed.
//!
//! - [`store`]: the local SQLite store (accounts, balances, history, the transfer journal, an
//!   audit log) — never a secret.
//! - [`vault`]: tokens and the client secret, in the OS keyring.
//! - [`center`]: the connection to the active open banking center, with token refresh.
//! - [`registration`]: the consent flow's two ends.
//! - [`sync`]: balances refreshed concurrently, history merged incrementally.
//! - [`transfer`]: the crash-safe transfer saga.
//!
//! [`Moa`] ties them together. It has no Tauri dependency.
#![deny(missing_docs)]

pub mod center;
pub mod error;
pub mod journal;
pub mod registration;
pub mod store;
pub mod sync;
pub mod transfer;
pub mod vault;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use moa_openbanking::{Client, Clock, Environment, SystemClock};
use tokio::sync::RwLock;

pub use center::Center;
pub use error::{Error, Result};
pub use store::{EnvironmentKind, Store};
pub use vault::{KeyringVault, MemoryVault, SecretKey, Vault};

use crate::registration::Pending;
use crate::store::EnvironmentRecord;

/// The callback the app registers with a center: a loopback address that nothing serves, since
/// the app intercepts the navigation to it before it leaves the webview.
pub const REDIRECT_URI: &str = "http://127.0.0.1/callback";

/// How to open Moa.
#[derive(Clone)]
pub struct Options {
    /// The app's data folder: the store and the sandbox's center live here.
    pub data_dir: PathBuf,
    /// Where secrets go.
    pub vault: Arc<dyn Vault>,
    /// The clock every decision reads; tests move it.
    pub clock: Arc<dyn Clock>,
    /// Latency of the sandbox's banks (a few milliseconds, like a real link, by default).
    pub sandbox_latency: Duration,
    /// Per-call timeout towards the center.
    pub timeout: Duration,
    /// How patiently unknown transfer outcomes are settled.
    pub settle: transfer::SettlePolicy,
    /// Called at each step of a transfer; crash tests stop the process there.
    pub hooks: Arc<dyn transfer::Hooks>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("data_dir", &self.data_dir)
            .field("vault", &self.vault)
            .field("timeout", &self.timeout)
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
            sandbox_latency: moa_testbed::DEFAULT_LATENCY,
            timeout: Duration::from_secs(10),
            settle: transfer::SettlePolicy::default(),
            hooks: Arc::new(transfer::NoHooks),
        }
    }
}

/// An institution's credentials for KFTC's hosts, as the person enters them in Settings.
#[derive(Debug, Clone)]
pub struct KftcCredentials {
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret: goes straight to the vault.
    pub client_secret: moa_openbanking::ClientSecret,
    /// 이용기관코드.
    pub client_use_code: String,
    /// The callback registered with KFTC.
    pub redirect_uri: String,
    /// Collection contract account number.
    pub collection_account: String,
    /// Payout contract account number.
    pub payout_account: String,
}

/// Moa's core: open once per process.
pub struct Moa {
    store: Store,
    options: Options,
    active: RwLock<Option<Active>>,
    pending: Pending,
}

struct Active {
    center: Arc<Center>,
    /// The in-process center of the sandbox; stops with Moa.
    sandbox: Option<moa_testbed::Spawned>,
}

impl std::fmt::Debug for Moa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Moa")
            .field("data_dir", &self.options.data_dir)
            .finish_non_exhaustive()
    }
}

/// The settings key of the active environment.
const ACTIVE_ENVIRONMENT: &str = "environment";

/// The environment used last time (the sandbox on first launch), as the store records it.
pub fn last_environment(store: &Store) -> Result<EnvironmentKind> {
    Ok(store
        .setting(ACTIVE_ENVIRONMENT)?
        .and_then(|k| EnvironmentKind::parse(&k))
        .unwrap_or(EnvironmentKind::Sandbox))
}

/// The store of a data folder, as [`Moa::open`] opens it.
pub fn open_store(data_dir: &std::path::Path) -> Result<Store> {
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
            pending: Pending::default(),
        };
        match moa.activate(kind).await {
            // KFTC credentials gone from the keyring: fall back to the sandbox rather than fail.
            Err(Error::NotConfigured(_)) if kind != EnvironmentKind::Sandbox => {
                moa.activate(EnvironmentKind::Sandbox).await?;
            }
            other => other?,
        }
        Ok(moa)
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

    /// The active center.
    pub async fn center(&self) -> Result<Arc<Center>> {
        self.active
            .read()
            .await
            .as_ref()
            .map(|a| a.center.clone())
            .ok_or(Error::NotConfigured("active"))
    }

    /// The active environment's record, as the store has it now.
    pub async fn environment(&self) -> Result<EnvironmentRecord> {
        let kind = self.center().await?.environment().kind;
        self.store
            .environment(kind)?
            .ok_or(Error::NotConfigured(kind.as_str()))
    }

    /// The sandbox's center, when the sandbox is active: its manifest and admin access, for
    /// tests and for the app's developer tools.
    pub async fn sandbox(&self) -> Option<(String, moa_testbed::Manifest)> {
        self.active
            .read()
            .await
            .as_ref()
            .and_then(|a| a.sandbox.as_ref())
            .map(|s| (s.base_url.clone(), s.manifest.clone()))
    }

    /// Switches to the sandbox.
    pub async fn use_sandbox(&self) -> Result<()> {
        self.activate(EnvironmentKind::Sandbox).await
    }

    /// Saves KFTC credentials (the secret to the vault, the rest to the store) and switches to
    /// that host.
    pub async fn use_kftc(
        &self,
        kind: EnvironmentKind,
        credentials: KftcCredentials,
    ) -> Result<()> {
        let base_url = match kind {
            EnvironmentKind::KftcTest => Environment::KftcTest.base_url(),
            EnvironmentKind::KftcProduction => Environment::KftcProduction.base_url(),
            EnvironmentKind::Sandbox => return Err(Error::Invalid("not_a_kftc_environment")),
        };
        let record = EnvironmentRecord {
            id: 0,
            kind,
            base_url: base_url.to_string(),
            client_id: credentials.client_id,
            client_use_code: credentials.client_use_code,
            redirect_uri: credentials.redirect_uri,
            collection_account: credentials.collection_account,
            payout_account: credentials.payout_account,
            user_seq_no: None,
            user_name: None,
        };
        if moa_openbanking::ClientUseCode::parse(&record.client_use_code).is_err() {
            return Err(Error::Invalid("bad_client_use_code"));
        }
        self.vault().set(
            SecretKey {
                environment: kind.as_str(),
                name: center::CLIENT_SECRET,
            },
            credentials.client_secret.expose_secret(),
        )?;
        self.store.save_environment(&record, self.clock().now())?;
        self.activate(kind).await
    }

    async fn activate(&self, kind: EnvironmentKind) -> Result<()> {
        let now = self.clock().now();
        let (record, sandbox) = match kind {
            EnvironmentKind::Sandbox => {
                let (record, spawned) = self.start_sandbox(now).await?;
                (record, Some(spawned))
            }
            _ => (
                self.store
                    .environment(kind)?
                    .ok_or(Error::NotConfigured(kind.as_str()))?,
                None,
            ),
        };
        let base =
            url::Url::parse(&record.base_url).map_err(|_| Error::NotConfigured(kind.as_str()))?;
        let client = Client::new(Environment::Custom(base))?.with_timeout(self.options.timeout);
        let center = Center::new(
            record,
            client,
            &self.store,
            self.vault().clone(),
            self.clock().clone(),
        )?;
        let previous = self.active.write().await.replace(Active {
            center: Arc::new(center),
            sandbox,
        });
        if let Some(Active {
            sandbox: Some(old), ..
        }) = previous
        {
            old.shutdown().await;
        }
        self.store.set_setting(ACTIVE_ENVIRONMENT, kind.as_str())?;
        self.store
            .audit("environment", kind.as_str(), "connected", now)?;
        Ok(())
    }

    /// Starts the testbed on 127.0.0.1, its database in the data folder, and registers Moa's
    /// institution from its manifest.
    async fn start_sandbox(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(EnvironmentRecord, moa_testbed::Spawned)> {
        // A sandbox already running (a second activation) is stopped first by the caller.
        if let Some(active) = self.active.write().await.take()
            && let Some(old) = active.sandbox
        {
            old.shutdown().await;
        }
        let mut config = moa_testbed::Config::file(self.options.data_dir.join("sandbox-center.db"));
        config.latency = self.options.sandbox_latency;
        let spawned = moa_testbed::spawn(config)
            .await
            .map_err(|e| Error::Sandbox(e.to_string()))?;
        let institution = spawned
            .manifest
            .institutions
            .first()
            .cloned()
            .ok_or_else(|| Error::Sandbox("the sandbox has no institution".into()))?;
        self.vault().set(
            SecretKey {
                environment: EnvironmentKind::Sandbox.as_str(),
                name: center::CLIENT_SECRET,
            },
            &institution.client_secret,
        )?;
        let mut record = EnvironmentRecord {
            id: 0,
            kind: EnvironmentKind::Sandbox,
            base_url: spawned.base_url.clone(),
            client_id: institution.client_id,
            client_use_code: institution.client_use_code,
            redirect_uri: REDIRECT_URI.into(),
            collection_account: institution.collection_account.account_num,
            payout_account: institution.payout_account.account_num,
            user_seq_no: None,
            user_name: None,
        };
        record.id = self.store.save_environment(&record, now)?;
        let saved = self
            .store
            .environment(EnvironmentKind::Sandbox)?
            .unwrap_or(record);
        Ok((saved, spawned))
    }

    /// Stops the sandbox's center, if it runs. Call before the process exits.
    pub async fn close(&self) {
        if let Some(Active {
            sandbox: Some(sandbox),
            ..
        }) = self.active.write().await.take()
        {
            sandbox.shutdown().await;
        }
    }
}
