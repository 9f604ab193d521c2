//! A local open banking center that speaks KFTC's Open Banking API v2.0 wire protocol.
//!
//! The testbed holds participating banks with real accounts and a year of history, institutions
//! with their credentials and contract accounts, and people who register their accounts through
//! consent pages, exactly as at the real center. A client built against it works against KFTC's
//! hosts unchanged.
//!
//! Start it from a test on port 0 and talk HTTP to it:
//!
//! ```no_run
//! # async fn demo() -> Result<(), moa_testbed::Error> {
//! let testbed = moa_testbed::spawn(moa_testbed::Config::in_memory().with_admin()).await?;
//! let moa = &testbed.manifest.institutions[0];
//! println!("{} as {}", testbed.base_url, moa.client_id);
//! testbed.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! or call [`Testbed::router`] without a socket. [`harness`] holds what every harness that drives
//! it shares: a typed client of its admin API and the one checker of the money invariants.
#![deny(missing_docs)]

mod admin;
mod api;
pub mod clock;
pub mod db;
pub mod faults;
mod fixtures;
pub mod harness;
mod history;
pub mod host;
mod ledger;
pub mod manifest;
mod oauth;
mod pages;
mod schema;
pub mod seed;
mod session;
mod state;
mod token;
pub mod wire;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

pub use clock::Clock;
pub use db::DbLocation;
pub use manifest::Manifest;
pub use state::Testbed;

/// How to run a testbed.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where its database lives.
    pub db: DbLocation,
    /// How long every bank takes to answer, unless set per bank.
    pub latency: Duration,
    /// Per-bank answer latency, by `bank_code_std`.
    pub bank_latency: Vec<(String, Duration)>,
    /// Banks to start in another status than `Y` (`D`, `L` or `E`), for this run only.
    pub bank_status: Vec<(String, String)>,
    /// Faults scripted from the start.
    pub faults: Vec<faults::FaultRule>,
    /// How far the center's clock runs ahead of real time.
    pub clock_offset: chrono::TimeDelta,
    /// Whether the admin API (`/testbed/admin/…`) is served. Off by default: then its routes
    /// answer 404 like any unknown path, and nothing can move the center's money, clock or
    /// faults from outside. Tests, benchmarks and harnesses that drive the center turn it on.
    pub admin: bool,
}

impl Config {
    /// An in-memory testbed with no added latency: what unit and integration tests want.
    pub fn in_memory() -> Self {
        Self {
            db: DbLocation::Memory,
            latency: Duration::ZERO,
            bank_latency: Vec::new(),
            bank_status: Vec::new(),
            faults: Vec::new(),
            clock_offset: chrono::TimeDelta::zero(),
            admin: false,
        }
    }

    /// The same, with the admin API turned on.
    pub fn with_admin(mut self) -> Self {
        self.admin = true;
        self
    }

    /// A testbed on a database file, with the small default latency of a real bank link.
    pub fn file(path: impl Into<std::path::PathBuf>) -> Self {
        Self {
            db: DbLocation::File(path.into()),
            latency: DEFAULT_LATENCY,
            bank_latency: Vec::new(),
            bank_status: Vec::new(),
            faults: Vec::new(),
            clock_offset: chrono::TimeDelta::zero(),
            admin: false,
        }
    }
}

/// What a bank takes to answer when nobody says otherwise: small, but not zero, so that clients
/// meet real concurrency.
pub const DEFAULT_LATENCY: Duration = Duration::from_millis(3);

/// A testbed failure at start-up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database could not be opened, migrated or seeded.
    #[error(transparent)]
    Db(#[from] db::DbError),
    /// The socket could not be bound or served.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// The database holds something the testbed cannot read.
    #[error("database content: {0}")]
    Corrupt(String),
}

/// Serves `testbed` on `listener` until `shutdown` completes, then finishes open requests and
/// stops the testbed's background work (late transfers that have not landed never will).
///
/// Only requests addressed to the socket itself are served: see [`host::Allowed`]. A web page
/// that rebinds its own name to 127.0.0.1 (DNS rebinding) sends its name as `Host` and is
/// answered `421 Misdirected Request` before any handler runs.
pub async fn run(
    listener: tokio::net::TcpListener,
    testbed: Testbed,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let allowed = std::sync::Arc::new(host::Allowed::for_socket(listener.local_addr()?));
    let router = testbed
        .router()
        .layer(axum::middleware::from_fn(move |request, next| {
            host::check(allowed.clone(), request, next)
        }));
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await;
    testbed.stop_background();
    served
}

/// A testbed serving on 127.0.0.1 in a background task.
#[derive(Debug)]
pub struct Spawned {
    /// `http://127.0.0.1:PORT`, the base URL of every API.
    pub base_url: String,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The credentials and demo data a client needs.
    pub manifest: Manifest,
    /// The testbed itself, for direct access from tests.
    pub testbed: Testbed,
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

/// Opens a testbed and serves it on a free port of 127.0.0.1.
pub async fn spawn(config: Config) -> Result<Spawned, Error> {
    let testbed = Testbed::open(config).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let base_url = format!("http://{addr}");
    let manifest = testbed.manifest(&base_url).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(run(listener, testbed.clone(), async move {
        let _ = stopped.await;
    }));
    Ok(Spawned {
        base_url,
        addr,
        manifest,
        testbed,
        stop,
        task,
    })
}
