//! The sandbox: a moa-server whose center is a testbed in the same process, both on loopback,
//! with their databases in one folder. The app's default, `moa-server sandbox`, and the tests
//! all run the same code path as production; only the center's address differs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use moa_openbanking::{ClientSecret, ClientUseCode};

use crate::seal::SealingKey;
use crate::{App, Options, Settings, Spawned};

/// The callback the sandbox's institution has registered with the testbed: the app's consent
/// window intercepts it before it leaves, so nothing needs to serve it.
pub const REDIRECT_URI: &str = "http://127.0.0.1/moa-consent/callback";

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// The folder of the center's database (`sandbox-center.db`) and the sealing key.
    pub dir: PathBuf,
    /// The server's database: by default a SQLite file in `dir`.
    pub database: crate::store::Database,
    /// Where the server listens (port 0 for a free one).
    pub addr: SocketAddr,
    /// Latency of the testbed's banks.
    pub latency: Duration,
    /// How the server runs.
    pub options: Options,
    /// Whether the center serves its admin API (faults, bank status, the clock, the ledger):
    /// off unless a test or a harness turns it on.
    pub center_admin: bool,
}

impl SandboxOptions {
    /// A sandbox in `dir`, on a free loopback port, with banks answering like a real link.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        Self {
            database: crate::store::Database::Sqlite(dir.join("moa-server.db")),
            dir,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            latency: moa_testbed::DEFAULT_LATENCY,
            options: Options::default(),
            center_admin: false,
        }
    }
}

/// A running sandbox: the server and its center.
#[derive(Debug)]
pub struct Sandbox {
    /// The server.
    pub server: Spawned,
    /// The in-process center, with its manifest and admin access.
    pub center: moa_testbed::Spawned,
}

impl Sandbox {
    /// Stops both.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
        self.center.shutdown().await;
    }
}

/// Why a sandbox did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The testbed did not start.
    #[error("the sandbox center did not start: {0}")]
    Center(String),
    /// The folder, the key or the server's database failed.
    #[error("the sandbox server did not start: {0}")]
    Server(String),
}

/// Starts a testbed and a server whose center it is.
pub async fn start(options: SandboxOptions) -> Result<Sandbox, SandboxError> {
    crate::files::private_dir(&options.dir).map_err(|e| SandboxError::Server(e.to_string()))?;
    let mut config = moa_testbed::Config::file(options.dir.join("sandbox-center.db"));
    config.latency = options.latency;
    config.admin = options.center_admin;
    let center = moa_testbed::spawn(config)
        .await
        .map_err(|e| SandboxError::Center(e.to_string()))?;
    for file in [
        "sandbox-center.db",
        "sandbox-center.db-wal",
        "sandbox-center.db-shm",
    ] {
        let path = options.dir.join(file);
        if path.exists() {
            let _ = crate::files::private_file(&path);
        }
    }
    let institution = center
        .manifest
        .institutions
        .first()
        .cloned()
        .ok_or_else(|| SandboxError::Center("the sandbox has no institution".into()))?;
    let key_path = options.dir.join("sealing.key");
    if !key_path.exists() {
        SealingKey::generate()
            .map_err(|e| SandboxError::Server(e.to_string()))?
            .to_file(&key_path)
            .map_err(|e| SandboxError::Server(e.to_string()))?;
    }
    let sealing_key =
        SealingKey::from_file(&key_path).map_err(|e| SandboxError::Server(e.to_string()))?;
    let settings = Settings {
        center: url::Url::parse(&center.base_url)
            .map_err(|e| SandboxError::Center(e.to_string()))?,
        client_id: institution.client_id,
        client_secret: ClientSecret::new(institution.client_secret),
        client_use_code: ClientUseCode::parse(&institution.client_use_code)
            .map_err(|e| SandboxError::Center(e.to_string()))?,
        redirect_uri: REDIRECT_URI.into(),
        collection_account: institution.collection_account.account_num,
        payout_account: institution.payout_account.account_num,
        database: options.database.clone(),
        sealing_key,
        public_url: None,
    };
    let app = match App::open(settings, options.options).await {
        Ok(app) => app,
        Err(e) => {
            center.shutdown().await;
            return Err(SandboxError::Server(e.to_string()));
        }
    };
    let server = match crate::spawn(app, options.addr).await {
        Ok(server) => server,
        Err(e) => {
            center.shutdown().await;
            return Err(SandboxError::Server(e.to_string()));
        }
    };
    Ok(Sandbox { server, center })
}
