//! The local store: one SQLite file at an injected path, migrated by `PRAGMA user_version`.
//!
//! It holds what Moa knows between launches — environments, registered accounts, last known
//! balances with their times, transaction history, the transfer journal and an audit log. It
//! never holds a token, a code or a client secret: those live in the [`crate::vault`].
//!
//! Calls are synchronous and short (a few statements on a WAL database); bulk work such as
//! merging a year of history runs through [`Store::blocking`] off the async threads.
//!
//! One file per concept below this module: the schema, settings, environments, accounts,
//! balances, history and the audit log; the transfer journal is [`crate::journal`].

mod accounts;
mod audit;
mod balances;
mod environments;
mod history;
mod schema;
pub mod settings;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use rusqlite::Connection;

pub use accounts::{AccountDetails, AccountRecord, Upserted};
pub use audit::AuditEntry;
pub use balances::BalanceRecord;
pub use environments::{EnvironmentKind, EnvironmentRecord};
pub use history::{Direction, HistoryQuery, HistoryRow, Merged, StoredRow};
use schema::MIGRATIONS;

/// A store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite refused.
    #[error("local store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The store's folder could not be created.
    #[error("local store folder {path}: {source}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file of the store could not be made readable by this account only.
    #[error("local store file {path} cannot be made private: {source}")]
    Private {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A value in the store is not what this version wrote.
    #[error("local store holds an unreadable {0}")]
    Corrupt(&'static str),
}

type Result<T> = std::result::Result<T, StoreError>;

/// The local store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn parse_ts(value: Option<String>) -> Result<Option<DateTime<Utc>>> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(&v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| StoreError::Corrupt("time"))
        })
        .transpose()
}

impl Store {
    /// Opens (creating and migrating) the store at `path`. The file, and the `-wal` and `-shm`
    /// files SQLite keeps beside it, are readable by this account only (on Unix: 0600).
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(|source| StoreError::Folder {
                path: folder.to_owned(),
                source,
            })?;
        }
        let private = |file: &Path| {
            let path = file.to_owned();
            move |source| StoreError::Private { path, source }
        };
        crate::files::create_private_file(path).map_err(private(path))?;
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // A store made by an earlier version may have left these with the default mode.
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            let side = PathBuf::from(side);
            if side.exists() {
                crate::files::private_file(&side).map_err(private(&side))?;
            }
        }
        Self::setup(conn)
    }

    /// A store in memory, for tests.
    pub fn in_memory() -> Result<Self> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(conn: Connection) -> Result<Self> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // The journal must survive a crash: FULL puts each commit on disk before it returns.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", index + 1)?;
            tx.commit()?;
        }
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on a blocking thread: for bulk work that should not hold an async thread.
    pub async fn blocking<T, F>(&self, f: F) -> T
    where
        F: FnOnce(&Store) -> T + Send + 'static,
        T: Send + 'static,
    {
        let store = self.clone();
        match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(value) => value,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

/// What the store's unit tests share: a fixed time, an environment, an account.
#[cfg(test)]
pub(crate) mod fixtures {
    use chrono::{DateTime, TimeZone, Utc};

    use super::*;

    pub(crate) fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 1, 0, 0).unwrap()
    }

    pub(crate) fn env(store: &Store) -> i64 {
        store
            .save_environment(
                &EnvironmentRecord {
                    id: 0,
                    kind: EnvironmentKind::Sandbox,
                    base_url: "http://127.0.0.1:1".into(),
                    user_name: None,
                },
                now(),
            )
            .unwrap()
    }

    pub(crate) fn account(fintech: &str) -> AccountDetails {
        AccountDetails {
            fintech_use_num: fintech.into(),
            bank_code: "004".into(),
            bank_name: "KB국민은행".into(),
            alias: String::new(),
            account_num_masked: "123456***".into(),
            holder_name: "홍길동".into(),
            account_type: "1".into(),
            inquiry_agreed_at: Some(now()),
            transfer_agreed_at: None,
        }
    }
}
