//! The server's database: a SQLite file or a PostgreSQL database, migrated in order when it
//! opens. Every query of the server lives below this module, one file per concept — devices and
//! their proofs, people and their sealed tokens, registrations in progress, accounts, the
//! transfer journal, the audit log and the `bank_tran_id` counters — written once in SQL both
//! databases take (`store::db`), so nothing above this module knows which one it runs on.

mod accounts;
mod audit;
mod claims;
pub(crate) mod db;
mod devices;
mod journal;
mod people;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rusqlite::Connection;

pub use accounts::{AccountDetails, AccountRecord, AccountState};
pub use audit::AuditEntry;
pub use claims::Claim;
pub use devices::{DeviceRecord, PendingRegistration};
pub use journal::{
    CallRecord, Change, JournalError, LegId, LegKind, NewTransfer, TransferOrder, TransferRecord,
    TransferState,
};
pub use people::PersonRecord;

/// What went wrong in the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database folder could not be made.
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A stored value did not parse: the database was edited or damaged.
    #[error("corrupt {0} in the database")]
    Corrupt(&'static str),
    /// Another server process holds this database: exactly one may run a journal.
    #[error("another moa-server holds the database lock {0}")]
    Locked(PathBuf),
    /// PostgreSQL failed; its SQLSTATE, or why there was none (never a value of the query).
    #[error("database: {0}")]
    Postgres(String),
}

/// The server's results from the database.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

const MIGRATIONS: &[&str] = &[
    r#"
-- A person, as the center knows them (user_seq_no), with their KFTC tokens sealed (AEAD) by the
-- server's key: a dump of this table alone reveals no token.
CREATE TABLE people (
    id               INTEGER PRIMARY KEY,
    user_seq_no      TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL DEFAULT '',
    token            BLOB,
    token_expires_at TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

-- A device: the thumbprint of its DPoP key and the hash of the token bound to it. It is linked
-- to a person when a consent flow it began completes.
CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    thumbprint   TEXT NOT NULL UNIQUE,
    token_hash   TEXT NOT NULL UNIQUE,
    person_id    INTEGER REFERENCES people(id),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT,
    revoked_at   TEXT
);

-- DPoP proof ids seen, kept until their proof could no longer be accepted anyway.
CREATE TABLE proof_ids (
    thumbprint TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (thumbprint, jti)
) WITHOUT ROWID;

-- A consent flow in progress: its single-use state, bound to the device, and its PKCE
-- verifier, sealed.
CREATE TABLE registrations (
    state      TEXT PRIMARY KEY,
    device_id  TEXT NOT NULL REFERENCES devices(id),
    verifier   BLOB NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE accounts (
    id                 INTEGER PRIMARY KEY,
    person_id          INTEGER NOT NULL REFERENCES people(id),
    fintech_use_num    TEXT NOT NULL UNIQUE,
    bank_code          TEXT NOT NULL,
    bank_name          TEXT NOT NULL,
    alias              TEXT NOT NULL DEFAULT '',
    account_num_masked TEXT NOT NULL,
    holder_name        TEXT NOT NULL,
    account_type       TEXT NOT NULL DEFAULT '',
    inquiry_agreed_at  TEXT,
    transfer_agreed_at TEXT,
    state              TEXT NOT NULL DEFAULT 'active',  -- active / cancelled
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX accounts_of_person ON accounts (person_id);

-- The transfer journal: each saga's state, written before every call it makes. The
-- idempotency key is the app's: the same key from the same person is the same transfer.
CREATE TABLE transfers (
    id               TEXT PRIMARY KEY,
    person_id        INTEGER NOT NULL REFERENCES people(id),
    idempotency_key  TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    from_account     INTEGER NOT NULL REFERENCES accounts(id),
    to_account       INTEGER REFERENCES accounts(id),
    to_bank_code     TEXT NOT NULL,
    to_account_num   TEXT NOT NULL DEFAULT '',
    to_holder_name   TEXT NOT NULL,
    amount           INTEGER NOT NULL CHECK (amount > 0),
    memo             TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL,
    version          INTEGER NOT NULL DEFAULT 0,
    withdraw_id      TEXT,
    withdraw_date    TEXT,
    deposit_id       TEXT,
    deposit_date     TEXT,
    refund_id        TEXT,
    refund_date      TEXT,
    deposit_attempts INTEGER NOT NULL DEFAULT 0,
    failure_code     TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (person_id, idempotency_key)
);
CREATE INDEX transfers_open ON transfers (state);
CREATE INDEX transfers_of_person ON transfers (person_id, created_at);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL,                       -- device / consent / sync / transfer
    subject TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT ''
);

-- Counters behind bank_tran_id, so that an id is never issued twice in a day.
CREATE TABLE tran_id_counters (
    client_use_code TEXT NOT NULL,
    day             TEXT NOT NULL,
    next            INTEGER NOT NULL,
    PRIMARY KEY (client_use_code, day)
) WITHOUT ROWID;
"#,
    r#"
-- A leg's date is the one the center filed it under once the center said so (dated = 1); until
-- then, the day the saga sent it, and the center may have filed it on the next.
ALTER TABLE transfers ADD COLUMN withdraw_dated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE transfers ADD COLUMN deposit_dated  INTEGER NOT NULL DEFAULT 0;
ALTER TABLE transfers ADD COLUMN refund_dated   INTEGER NOT NULL DEFAULT 0;
-- Settling an unknown outcome: how many times the center was asked about the leg out, and when
-- to ask next. Kept here so that the backoff survives a restart.
ALTER TABLE transfers ADD COLUMN checks        INTEGER NOT NULL DEFAULT 0;
ALTER TABLE transfers ADD COLUMN next_check_at TEXT;
-- The institution's contract accounts when the transfer was made: the saga finishes it with
-- those, whatever the configuration says later.
ALTER TABLE transfers ADD COLUMN collection_account TEXT NOT NULL DEFAULT '';
ALTER TABLE transfers ADD COLUMN payout_account     TEXT NOT NULL DEFAULT '';
CREATE INDEX transfers_due ON transfers (state, next_check_at);

-- Every call the saga made to the center, and every question about one, with what came back:
-- appended, never changed.
CREATE TABLE transfer_calls (
    id           INTEGER PRIMARY KEY,
    transfer_id  TEXT NOT NULL REFERENCES transfers(id),
    leg          TEXT NOT NULL,          -- withdraw / deposit / refund
    call         TEXT NOT NULL,          -- send / result
    bank_tran_id TEXT NOT NULL,
    date         TEXT NOT NULL,          -- the business date asked about or sent under
    request      TEXT NOT NULL,          -- what was asked, without account numbers
    answer       TEXT NOT NULL,          -- rsp_code[/bank_rsp_code], or why there was none
    at           TEXT NOT NULL
);
CREATE INDEX transfer_calls_of_transfer ON transfer_calls (transfer_id, id);
CREATE TRIGGER transfer_calls_are_kept BEFORE UPDATE ON transfer_calls
BEGIN SELECT RAISE(ABORT, 'transfer_calls is append-only'); END;
CREATE TRIGGER transfer_calls_are_never_deleted BEFORE DELETE ON transfer_calls
BEGIN SELECT RAISE(ABORT, 'transfer_calls is append-only'); END;
"#,
    r#"
-- The order transfers were journaled in, named the same on every backend (SQLite's rowid).
ALTER TABLE transfers ADD COLUMN seq INTEGER;
UPDATE transfers SET seq = rowid;
CREATE TRIGGER transfers_seq AFTER INSERT ON transfers
BEGIN UPDATE transfers SET seq = NEW.rowid WHERE rowid = NEW.rowid; END;
"#,
    CLAIMS_SQLITE,
    r#"
-- Each device's request budget (`devices::spend_request`), shared by every replica: a token
-- bucket in thousandths of a request, when it was last filled (milliseconds since the epoch),
-- and whether the last request fit.
CREATE TABLE rate_buckets (
    device_id TEXT PRIMARY KEY,
    tokens    INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    ok        INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    CALL_CLAIMS,
];

/// Who runs a transfer (`store::claims`): the replica, its presence key, until when, and a
/// fencing token raised by every claim.
const CLAIMS_SQLITE: &str = r#"
ALTER TABLE transfers ADD COLUMN claimed_by  TEXT;
ALTER TABLE transfers ADD COLUMN claim_key   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE transfers ADD COLUMN lease_until TEXT;
ALTER TABLE transfers ADD COLUMN fence       INTEGER NOT NULL DEFAULT 0;
ALTER TABLE transfers ADD COLUMN claim_round TEXT;
"#;

/// Under which claim each call was made: its fence and the replica that held it (empty for
/// calls logged before claims existed). The same SQL on both backends.
const CALL_CLAIMS: &str = r#"
ALTER TABLE transfer_calls ADD COLUMN fence   BIGINT;
ALTER TABLE transfer_calls ADD COLUMN replica TEXT;
"#;

/// The server's database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: db::Db,
    /// Held for the process's life: one server per database file.
    _lock: Option<Arc<std::fs::File>>,
    /// Who this store's process is when it claims a transfer.
    replica: Arc<claims::Replica>,
    /// SQLite's per-person renewal locks (`people::RenewalLock`).
    renewals: Arc<std::sync::Mutex<std::collections::HashMap<i64, Arc<tokio::sync::Mutex<()>>>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

pub(crate) fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) fn parse_ts(value: Option<String>) -> Result<Option<DateTime<Utc>>> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(&v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| StoreError::Corrupt("time"))
        })
        .transpose()
}

impl Store {
    /// Opens (creating and migrating) the database at `path`, and takes its lock file
    /// (`path` + `.lock`) for as long as the store lives: a second server on the same file is
    /// refused, so exactly one process runs the journal.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
            crate::files::private_dir(folder).map_err(|source| StoreError::Folder {
                path: folder.to_owned(),
                source,
            })?;
        }
        let lock_path = path.with_extension("db.lock");
        let lock = crate::files::lock_exclusive(&lock_path)
            .map_err(|_| StoreError::Locked(lock_path.clone()))?;
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        crate::files::private_file(path).map_err(|source| StoreError::Folder {
            path: path.to_owned(),
            source,
        })?;
        let mut store = Self::setup(conn)?;
        store._lock = Some(Arc::new(lock));
        Ok(store)
    }

    /// A database in memory, for tests.
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
        // One process per SQLite file (its lock file): claims a previous process left — it
        // died running them — belong to nobody now.
        conn.execute(
            "UPDATE transfers SET claimed_by = NULL, lease_until = NULL, claim_round = NULL
             WHERE claimed_by IS NOT NULL",
            [],
        )?;
        Ok(Self {
            db: db::Db::Sqlite(Arc::new(tokio::sync::Mutex::new(conn))),
            _lock: None,
            replica: Arc::new(claims::Replica::new(0, None)),
            renewals: Arc::default(),
        })
    }

    pub(crate) fn db(&self) -> &db::Db {
        &self.db
    }

    /// Whether the database answers: what `/readyz` asks.
    pub async fn ping(&self) -> Result<()> {
        self.db.query_one("SELECT 1", &[]).await?;
        Ok(())
    }

    /// Reserves `count` consecutive `bank_tran_id` serials of `client_use_code` on `day` and
    /// answers the first. A new day starts past every earlier day's serials: an id sent just
    /// before midnight may be filed by the center on the next day, and must not be issued again
    /// then.
    pub async fn reserve_tran_ids(
        &self,
        client_use_code: &str,
        day: chrono::NaiveDate,
        count: u64,
    ) -> Result<u64> {
        let day = day.to_string();
        let count = count as i64;
        let row = self
            .db
            .query_one(
                "INSERT INTO tran_id_counters (client_use_code, day, next)
                 VALUES (?1, ?2, ?3 + (SELECT COALESCE(MAX(next), 0) FROM tran_id_counters
                                       WHERE client_use_code = ?1 AND day < ?2))
                 ON CONFLICT (client_use_code, day) DO UPDATE SET next = tran_id_counters.next + ?3
                 RETURNING next - ?3",
                db::params![client_use_code, day.as_str(), count],
            )
            .await?;
        Ok(row.i64(0)?.max(0) as u64)
    }
}

/// Where the server keeps its data: a SQLite file (one server process), or a PostgreSQL
/// database (any number of replicas).
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user@host:port/name`).
    Postgres(String),
}

impl Database {
    /// A `postgres://` or `postgresql://` URL, or else a SQLite file's path.
    pub fn parse(value: &str) -> Self {
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            Database::Postgres(value.to_owned())
        } else {
            Database::Sqlite(PathBuf::from(value))
        }
    }
}

impl std::fmt::Debug for Database {
    /// A URL may carry a password: only its scheme shows.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Database::Postgres(_) => f.write_str("Postgres(postgres://***)"),
        }
    }
}

/// PostgreSQL's schema, in versions: the same tables as SQLite's, in PostgreSQL's types.
const POSTGRES_MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE people (
    id               BIGSERIAL PRIMARY KEY,
    user_seq_no      TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL DEFAULT '',
    token            BYTEA,
    token_expires_at TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    thumbprint   TEXT NOT NULL UNIQUE,
    token_hash   TEXT NOT NULL UNIQUE,
    person_id    BIGINT REFERENCES people(id),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT,
    revoked_at   TEXT
);
CREATE TABLE proof_ids (
    thumbprint TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (thumbprint, jti)
);
CREATE TABLE registrations (
    state      TEXT PRIMARY KEY,
    device_id  TEXT NOT NULL REFERENCES devices(id),
    verifier   BYTEA NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE accounts (
    id                 BIGSERIAL PRIMARY KEY,
    person_id          BIGINT NOT NULL REFERENCES people(id),
    fintech_use_num    TEXT NOT NULL UNIQUE,
    bank_code          TEXT NOT NULL,
    bank_name          TEXT NOT NULL,
    alias              TEXT NOT NULL DEFAULT '',
    account_num_masked TEXT NOT NULL,
    holder_name        TEXT NOT NULL,
    account_type       TEXT NOT NULL DEFAULT '',
    inquiry_agreed_at  TEXT,
    transfer_agreed_at TEXT,
    state              TEXT NOT NULL DEFAULT 'active',
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX accounts_of_person ON accounts (person_id);
CREATE TABLE transfers (
    id                 TEXT PRIMARY KEY,
    seq                BIGSERIAL,
    person_id          BIGINT NOT NULL REFERENCES people(id),
    idempotency_key    TEXT NOT NULL,
    request_hash       TEXT NOT NULL,
    from_account       BIGINT NOT NULL REFERENCES accounts(id),
    to_account         BIGINT REFERENCES accounts(id),
    to_bank_code       TEXT NOT NULL,
    to_account_num     TEXT NOT NULL DEFAULT '',
    to_holder_name     TEXT NOT NULL,
    amount             BIGINT NOT NULL CHECK (amount > 0),
    memo               TEXT NOT NULL DEFAULT '',
    state              TEXT NOT NULL,
    version            BIGINT NOT NULL DEFAULT 0,
    withdraw_id        TEXT,
    withdraw_date      TEXT,
    deposit_id         TEXT,
    deposit_date       TEXT,
    refund_id          TEXT,
    refund_date        TEXT,
    deposit_attempts   BIGINT NOT NULL DEFAULT 0,
    failure_code       TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    withdraw_dated     BIGINT NOT NULL DEFAULT 0,
    deposit_dated      BIGINT NOT NULL DEFAULT 0,
    refund_dated       BIGINT NOT NULL DEFAULT 0,
    checks             BIGINT NOT NULL DEFAULT 0,
    next_check_at      TEXT,
    collection_account TEXT NOT NULL DEFAULT '',
    payout_account     TEXT NOT NULL DEFAULT '',
    UNIQUE (person_id, idempotency_key)
);
CREATE INDEX transfers_open ON transfers (state);
CREATE INDEX transfers_of_person ON transfers (person_id, created_at);
CREATE INDEX transfers_due ON transfers (state, next_check_at);
CREATE TABLE transfer_calls (
    id           BIGSERIAL PRIMARY KEY,
    transfer_id  TEXT NOT NULL REFERENCES transfers(id),
    leg          TEXT NOT NULL,
    call         TEXT NOT NULL,
    bank_tran_id TEXT NOT NULL,
    date         TEXT NOT NULL,
    request      TEXT NOT NULL,
    answer       TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX transfer_calls_of_transfer ON transfer_calls (transfer_id, id);
CREATE FUNCTION transfer_calls_are_kept() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'transfer_calls is append-only'; END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER transfer_calls_are_kept BEFORE UPDATE OR DELETE ON transfer_calls
FOR EACH ROW EXECUTE FUNCTION transfer_calls_are_kept();
CREATE TABLE audit_log (
    id      BIGSERIAL PRIMARY KEY,
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT ''
);
CREATE TABLE tran_id_counters (
    client_use_code TEXT NOT NULL,
    day             TEXT NOT NULL,
    next            BIGINT NOT NULL,
    PRIMARY KEY (client_use_code, day)
);
"#,
    r#"
ALTER TABLE transfers ADD COLUMN claimed_by  TEXT;
ALTER TABLE transfers ADD COLUMN claim_key   BIGINT NOT NULL DEFAULT 0;
ALTER TABLE transfers ADD COLUMN lease_until TEXT;
ALTER TABLE transfers ADD COLUMN fence       BIGINT NOT NULL DEFAULT 0;
ALTER TABLE transfers ADD COLUMN claim_round TEXT;
"#,
    r#"
CREATE TABLE rate_buckets (
    device_id TEXT PRIMARY KEY,
    tokens    BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    ok        BIGINT NOT NULL
);
"#,
    CALL_CLAIMS,
];

impl Store {
    /// Opens the store of `database`, migrating it to this version's schema.
    pub async fn connect(database: &Database) -> Result<Self> {
        match database {
            Database::Sqlite(path) => Self::open(path),
            Database::Postgres(url) => Self::postgres(url).await,
        }
    }

    /// Connects to the PostgreSQL database at `url` with a pool, and migrates it. Replicas
    /// starting together migrate one at a time: the migration holds an advisory lock.
    pub async fn postgres(url: &str) -> Result<Self> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|_| StoreError::Postgres("the database URL does not parse".into()))?;
        let manager = deadpool_postgres::Manager::from_config(
            config.clone(),
            tokio_postgres::NoTls,
            deadpool_postgres::ManagerConfig {
                recycling_method: deadpool_postgres::RecyclingMethod::Fast,
            },
        );
        let pool = deadpool_postgres::Pool::builder(manager)
            .max_size(16)
            .build()
            .map_err(|_| StoreError::Postgres("the connection pool could not be made".into()))?;
        let mut store = Self {
            db: db::Db::Postgres(pool),
            _lock: None,
            replica: Arc::new(claims::Replica::new(0, None)),
            renewals: Arc::default(),
        };
        store.migrate_postgres().await?;
        store.replica = Arc::new(claims::Replica::present(&config).await?);
        Ok(store)
    }

    async fn migrate_postgres(&self) -> Result<()> {
        let mut tx = self.db.begin().await?;
        tx.execute("SELECT pg_advisory_xact_lock(4242)", &[])
            .await?;
        tx.execute(
            "CREATE TABLE IF NOT EXISTS moa_schema (version BIGINT NOT NULL)",
            &[],
        )
        .await?;
        let version = tx
            .query_opt("SELECT MAX(version) FROM moa_schema", &[])
            .await?
            .map(|r| r.opt_i64(0))
            .transpose()?
            .flatten()
            .unwrap_or(0) as usize;
        for (index, sql) in POSTGRES_MIGRATIONS.iter().enumerate().skip(version) {
            tx.batch(sql).await?;
            tx.execute(
                "INSERT INTO moa_schema (version) VALUES (?1)",
                db::params![(index + 1) as i64],
            )
            .await?;
        }
        tx.commit().await
    }
}
