//! The running server's state, shared by every request: settings, database, center, clock,
//! metrics, the per-device rate limit, and the saga's live progress.

use std::sync::Arc;
use std::time::Duration;

use moa_openbanking::{Client, Clock, Environment, SystemClock};
use tokio::sync::broadcast;

use crate::Settings;
use crate::api::ErrorCode;
use crate::center::Center;
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::saga::{Hooks, NoHooks, SettlePolicy};
use crate::store::{AccountRecord, Store};
use crate::sync::SyncLimits;

/// How the server runs, beyond its settings: what tests change.
#[derive(Clone)]
pub struct Options {
    /// The clock every decision reads.
    pub clock: Arc<dyn Clock>,
    /// Per-call timeout towards the center.
    pub timeout: Duration,
    /// How patiently unknown transfer outcomes are settled.
    pub settle: SettlePolicy,
    /// Called at each step of a transfer; crash tests stop the process there.
    pub hooks: Arc<dyn Hooks>,
    /// Fan-out bounds of balance refreshes and history paging.
    pub sync: SyncLimits,
    /// Requests a device may make per second, sustained; twice that in a burst.
    pub rate_per_second: u32,
    /// How long a replica's claim on a transfer lasts unless renewed; it is renewed a third of
    /// the way through while the transfer runs. Another replica may take a transfer over once
    /// the lease has run out.
    pub lease: Duration,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("timeout", &self.timeout)
            .field("settle", &self.settle)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            timeout: Duration::from_secs(10),
            settle: SettlePolicy::default(),
            hooks: Arc::new(NoHooks),
            sync: SyncLimits::default(),
            rate_per_second: 200,
            lease: Duration::from_secs(30),
        }
    }
}

/// The server's state.
pub struct App {
    store: Store,
    center: Center,
    options: Options,
    metrics: Metrics,
    limiter: Limiter,
    progress: broadcast::Sender<String>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("center", &self.center)
            .finish_non_exhaustive()
    }
}

impl App {
    /// Opens the database of `settings` and connects to its center.
    pub async fn open(settings: Settings, options: Options) -> Result<Self> {
        let store = Store::connect(&settings.database).await?;
        Self::with_store(settings, store, options)
    }

    /// As [`App::open`], on a database already open.
    pub fn with_store(settings: Settings, store: Store, options: Options) -> Result<Self> {
        let client = Client::new(Environment::Custom(settings.center.clone()))
            .map_err(Error::Center)?
            .with_timeout(options.timeout);
        let center = Center::new(settings, client, store.clone(), options.clock.clone());
        let (progress, _) = broadcast::channel(1024);
        let limiter = Limiter::new(
            options.rate_per_second,
            store.clone(),
            options.clock.clone(),
        );
        Ok(Self {
            store,
            center,
            limiter,
            options,
            metrics: Metrics::default(),
            progress,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        self.center.settings()
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The center.
    pub fn center(&self) -> &Center {
        &self.center
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.options.clock
    }

    /// How the server runs.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The per-device rate limit.
    pub fn limiter(&self) -> &Limiter {
        &self.limiter
    }

    /// Tells whoever watches that transfer `id` moved.
    pub fn moved(&self, id: &str) {
        let _ = self.progress.send(id.to_owned());
    }

    /// Transfers' moves, as they happen.
    pub fn watch(&self) -> broadcast::Receiver<String> {
        self.progress.subscribe()
    }

    /// The person's active account with this fintech use number; [`ErrorCode::NoSuchAccount`]
    /// for one they do not have or have cancelled.
    pub async fn active_account(
        &self,
        person_id: i64,
        fintech_use_num: &str,
    ) -> Result<AccountRecord> {
        let account = self.store().account_of(person_id, fintech_use_num).await?;
        Ok(account
            .filter(AccountRecord::is_active)
            .ok_or(ErrorCode::NoSuchAccount)?)
    }
}

/// A token bucket per device — `rate` requests a second sustained, `2 × rate` in a burst — kept
/// in the database, so the limit holds over the sum of a device's requests to every replica.
pub struct Limiter {
    rate: u32,
    store: Store,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

impl Limiter {
    fn new(rate: u32, store: Store, clock: Arc<dyn Clock>) -> Self {
        Self {
            rate: rate.max(1),
            store,
            clock,
        }
    }

    /// Spends one request of `device`'s bucket, or refuses with [`ErrorCode::RateLimited`].
    pub async fn check(&self, device: &str) -> Result<()> {
        let now = self.clock.now().timestamp_millis();
        let burst = self.rate.saturating_mul(2);
        if self
            .store
            .spend_request(device, now, self.rate, burst)
            .await?
        {
            Ok(())
        } else {
            Err(ErrorCode::RateLimited.into())
        }
    }
}
