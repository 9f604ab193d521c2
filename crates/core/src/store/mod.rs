//! The local store: one SQLite file at an injected path, migrated by `PRAGMA user_version`.
//!
//! It holds what Moa knows between launches — environments, registered accounts, last known
//! balances with their times, transaction history, the transfer journal and an audit log. It
//! never holds a token, a code or a client secret: those live in the [`crate::vault`].
//!
//! Calls are synchronous and short (a few statements on a WAL database); bulk work such as
//! merging a year of history runs through [`Store::blocking`] off the async threads.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use moa_server::api::StaleCode;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

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

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- A center Moa talks to, and who the person is there. No secrets: those are in the vault.
CREATE TABLE environments (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT NOT NULL UNIQUE,     -- sandbox / kftc_test / kftc_production
    base_url           TEXT NOT NULL,
    client_id          TEXT NOT NULL,
    client_use_code    TEXT NOT NULL,
    redirect_uri       TEXT NOT NULL,
    collection_account TEXT NOT NULL,            -- contract account numbers (약정계좌)
    payout_account     TEXT NOT NULL,
    user_seq_no        TEXT,
    user_name          TEXT,
    updated_at         TEXT NOT NULL
);

CREATE TABLE accounts (
    id                 INTEGER PRIMARY KEY,
    environment_id     INTEGER NOT NULL REFERENCES environments(id),
    fintech_use_num    TEXT NOT NULL,
    bank_code          TEXT NOT NULL,
    bank_name          TEXT NOT NULL,
    alias              TEXT NOT NULL DEFAULT '',
    account_num_masked TEXT NOT NULL,
    holder_name        TEXT NOT NULL,
    account_type       TEXT NOT NULL DEFAULT '',
    inquiry_agreed_at  TEXT,                     -- RFC 3339, NULL when not agreed
    transfer_agreed_at TEXT,
    state              TEXT NOT NULL DEFAULT 'active',  -- active / cancelled
    registered_at      TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (environment_id, fintech_use_num)
);

-- The last good balance of an account, and why it may be stale. A failed refresh writes the
-- stale columns only: the last good value is never erased.
CREATE TABLE balances (
    account_id     INTEGER PRIMARY KEY REFERENCES accounts(id),
    balance        INTEGER,
    available      INTEGER,
    product_name   TEXT,
    as_of          TEXT,
    source         TEXT NOT NULL DEFAULT 'balance',
    stale_code     TEXT,
    stale_message  TEXT,
    attempted_at   TEXT
);

-- History rows have no id in the API: a row is its account, date, time, direction, amount,
-- after-balance and text, plus an occurrence number for identical rows.
CREATE TABLE transactions (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    tran_date     TEXT NOT NULL,
    tran_time     TEXT NOT NULL,
    inout_type    TEXT NOT NULL,
    tran_type     TEXT NOT NULL,
    print_content TEXT NOT NULL,
    tran_amt      INTEGER NOT NULL,
    after_balance INTEGER NOT NULL,
    branch_name   TEXT NOT NULL DEFAULT '',
    occurrence    INTEGER NOT NULL DEFAULT 1,
    UNIQUE (account_id, tran_date, tran_time, inout_type, tran_amt, after_balance, print_content, occurrence)
);
CREATE INDEX transactions_in_order ON transactions (account_id, tran_date, tran_time, id);

CREATE TABLE history_sync (
    account_id     INTEGER PRIMARY KEY REFERENCES accounts(id),
    synced_through TEXT NOT NULL,                -- yyyy-mm-dd, inclusive
    synced_at      TEXT NOT NULL
);

-- Places where the after-balance chain breaks: rows are missing between two rows.
CREATE TABLE history_gaps (
    account_id     INTEGER NOT NULL REFERENCES accounts(id),
    before_row     INTEGER NOT NULL REFERENCES transactions(id),
    after_row      INTEGER NOT NULL REFERENCES transactions(id),
    missing_amount INTEGER NOT NULL,
    detected_at    TEXT NOT NULL,
    PRIMARY KEY (account_id, before_row, after_row)
);

-- The transfer journal: each saga's state, written before every call it makes.
CREATE TABLE transfers (
    id               TEXT PRIMARY KEY,
    environment_id   INTEGER NOT NULL REFERENCES environments(id),
    from_account     INTEGER NOT NULL REFERENCES accounts(id),
    to_account       INTEGER REFERENCES accounts(id),
    to_bank_code     TEXT NOT NULL,
    to_account_num   TEXT NOT NULL DEFAULT '',
    to_holder_name   TEXT NOT NULL,
    amount           INTEGER NOT NULL CHECK (amount > 0),
    memo             TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL,
    withdraw_id      TEXT,
    withdraw_date    TEXT,
    deposit_id       TEXT,
    deposit_date     TEXT,
    refund_id        TEXT,
    refund_date      TEXT,
    failure_code     TEXT,
    failure_message  TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    deposit_attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX transfers_open ON transfers (state);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL,                       -- consent / sync / transfer / environment
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
-- The app became a client of moa-server: the center's details, the person's number at the
-- center and the bank_tran_id counters moved to the server. A transfer remembers the
-- server's id for it; its local id is the idempotency key the app sent.
ALTER TABLE environments DROP COLUMN client_id;
ALTER TABLE environments DROP COLUMN client_use_code;
ALTER TABLE environments DROP COLUMN redirect_uri;
ALTER TABLE environments DROP COLUMN collection_account;
ALTER TABLE environments DROP COLUMN payout_account;
ALTER TABLE environments DROP COLUMN user_seq_no;
ALTER TABLE transfers ADD COLUMN server_id TEXT;
DROP TABLE tran_id_counters;
"#,
];

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

/// Which moa-server an environment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentKind {
    /// The server and the testbed inside the app.
    Sandbox,
    /// An institution's moa-server, by its URL.
    Server,
}

impl EnvironmentKind {
    /// The name stored and shown in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sandbox => "sandbox",
            Self::Server => "server",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Sandbox, Self::Server]
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

/// An environment as stored: which moa-server, and who the person is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentRecord {
    /// Row id.
    pub id: i64,
    /// Which server.
    pub kind: EnvironmentKind,
    /// Its base URL.
    pub base_url: String,
    /// The registered person's name.
    pub user_name: Option<String>,
}

/// A registered account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountRecord {
    /// Row id.
    pub id: i64,
    /// Environment row id.
    pub environment_id: i64,
    /// 24-digit fintech use number.
    pub fintech_use_num: String,
    /// Bank code.
    pub bank_code: String,
    /// Bank name.
    pub bank_name: String,
    /// The person's name for it.
    pub alias: String,
    /// Masked number, e.g. `1002123456***`.
    pub account_num_masked: String,
    /// Holder's name.
    pub holder_name: String,
    /// `1` demand, `2` savings, ….
    pub account_type: String,
    /// When inquiry consent was given, if it was.
    pub inquiry_agreed_at: Option<DateTime<Utc>>,
    /// When transfer (withdraw) consent was given, if it was.
    pub transfer_agreed_at: Option<DateTime<Utc>>,
    /// `active` or `cancelled`.
    pub state: String,
}

/// What registration learned of an account from `user/me`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountUpsert {
    /// 24-digit fintech use number.
    pub fintech_use_num: String,
    /// Bank code.
    pub bank_code: String,
    /// Bank name.
    pub bank_name: String,
    /// The center's alias, if any.
    pub alias: String,
    /// Masked number.
    pub account_num_masked: String,
    /// Holder's name.
    pub holder_name: String,
    /// Account type code.
    pub account_type: String,
    /// Inquiry consent time.
    pub inquiry_agreed_at: Option<DateTime<Utc>>,
    /// Transfer consent time.
    pub transfer_agreed_at: Option<DateTime<Utc>>,
}

/// Whether an upsert added an account or refreshed one already known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// New to the store.
    Added,
    /// Known; its details were updated.
    Updated,
}

/// The last known balance of an account and how fresh it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BalanceRecord {
    /// Account row id.
    pub account_id: i64,
    /// Last good balance, whole won (may be negative for overdrafts).
    pub balance: Option<i64>,
    /// Last good withdrawable amount.
    pub available: Option<i64>,
    /// Product name the bank reported.
    pub product_name: Option<String>,
    /// When the last good value was read.
    pub as_of: Option<DateTime<Utc>>,
    /// Why the value is stale, when the last refresh failed: a stable code. A code this
    /// version does not know reads as [`StaleCode::Internal`].
    pub stale_code: Option<StaleCode>,
}

/// One history row as the API gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// Date.
    pub tran_date: NaiveDate,
    /// Time.
    pub tran_time: NaiveTime,
    /// `입금`, `출금`, ….
    pub inout_type: String,
    /// `급여`, `이체`, ….
    pub tran_type: String,
    /// The text on the statement.
    pub print_content: String,
    /// Amount, whole won.
    pub tran_amt: i64,
    /// Balance after it.
    pub after_balance: i64,
    /// Branch.
    pub branch_name: String,
}

impl HistoryRow {
    /// Whether the row added money to the account.
    pub fn is_deposit(&self) -> bool {
        self.inout_type.contains("입금")
    }
}

/// A stored history row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredRow {
    /// Row id.
    pub id: i64,
    /// `yyyy-mm-dd`.
    pub tran_date: NaiveDate,
    /// `HH:MM:SS`.
    pub tran_time: NaiveTime,
    /// `입금`, `출금`, ….
    pub inout_type: String,
    /// `급여`, `이체`, ….
    pub tran_type: String,
    /// The text on the statement.
    pub print_content: String,
    /// Amount.
    pub tran_amt: i64,
    /// Balance after it.
    pub after_balance: i64,
    /// Branch.
    pub branch_name: String,
}

/// What merging a batch of history did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Merged {
    /// Rows new to the store.
    pub inserted: usize,
    /// Rows it already had.
    pub known: usize,
    /// Breaks in the after-balance chain found in the account's whole history afterwards.
    pub gaps: usize,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// `consent`, `sync`, `transfer`, `environment`.
    pub kind: String,
    /// What it is about (an account, a transfer id).
    pub subject: String,
    /// What happened, for a person to read.
    pub detail: String,
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

    /// A setting, if set.
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .lock()
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Sets a setting.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.lock().execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    // --- environments -------------------------------------------------------------------

    /// Saves an environment's details, keeping the registered person when the center stays
    /// the same. Returns its row id.
    pub fn save_environment(&self, env: &EnvironmentRecord, now: DateTime<Utc>) -> Result<i64> {
        let conn = self.lock();
        // Another server knows other people and accounts: what was cached of the last one
        // leaves the dashboard.
        let previous: Option<(i64, String)> = conn
            .query_row(
                "SELECT id, base_url FROM environments WHERE kind = ?1",
                [env.kind.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((id, url)) = &previous
            && *url != env.base_url
            && env.kind == EnvironmentKind::Server
        {
            conn.execute(
                "UPDATE accounts SET state = 'cancelled', updated_at = ?2 WHERE environment_id = ?1",
                params![id, ts(&now)],
            )?;
            conn.execute(
                "UPDATE environments SET user_name = NULL WHERE id = ?1",
                [id],
            )?;
        }
        conn.execute(
            "INSERT INTO environments (kind, base_url, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (kind) DO UPDATE SET base_url = excluded.base_url,
                updated_at = excluded.updated_at",
            params![env.kind.as_str(), env.base_url, ts(&now)],
        )?;
        Ok(conn.query_row(
            "SELECT id FROM environments WHERE kind = ?1",
            [env.kind.as_str()],
            |r| r.get(0),
        )?)
    }

    /// The environment of `kind`, if saved.
    pub fn environment(&self, kind: EnvironmentKind) -> Result<Option<EnvironmentRecord>> {
        let conn = self.lock();
        let row = conn
            .query_row(
                "SELECT id, base_url, user_name FROM environments WHERE kind = ?1",
                [kind.as_str()],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row.map(|(id, base_url, user_name)| EnvironmentRecord {
            id,
            kind,
            base_url,
            user_name,
        }))
    }

    /// Records who registered in environment `id`.
    pub fn set_person(&self, environment_id: i64, user_name: Option<&str>) -> Result<()> {
        self.lock().execute(
            "UPDATE environments SET user_name = ?2 WHERE id = ?1",
            params![environment_id, user_name],
        )?;
        Ok(())
    }

    // --- accounts -----------------------------------------------------------------------

    const ACCOUNT_COLUMNS: &'static str =
        "id, environment_id, fintech_use_num, bank_code, bank_name,
        alias, account_num_masked, holder_name, account_type, inquiry_agreed_at,
        transfer_agreed_at, state";

    fn account_from(
        r: &Row<'_>,
    ) -> rusqlite::Result<(AccountRecord, Option<String>, Option<String>)> {
        Ok((
            AccountRecord {
                id: r.get(0)?,
                environment_id: r.get(1)?,
                fintech_use_num: r.get(2)?,
                bank_code: r.get(3)?,
                bank_name: r.get(4)?,
                alias: r.get(5)?,
                account_num_masked: r.get(6)?,
                holder_name: r.get(7)?,
                account_type: r.get(8)?,
                inquiry_agreed_at: None,
                transfer_agreed_at: None,
                state: r.get(11)?,
            },
            r.get(9)?,
            r.get(10)?,
        ))
    }

    fn finish_account(
        raw: (AccountRecord, Option<String>, Option<String>),
    ) -> Result<AccountRecord> {
        let (mut account, inquiry, transfer) = raw;
        account.inquiry_agreed_at = parse_ts(inquiry)?;
        account.transfer_agreed_at = parse_ts(transfer)?;
        Ok(account)
    }

    /// Adds an account, or updates the one with the same fintech number: registering again
    /// never duplicates. A cancelled account registered again is active again.
    pub fn upsert_account(
        &self,
        environment_id: i64,
        a: &AccountUpsert,
        now: DateTime<Utc>,
    ) -> Result<(i64, Upserted)> {
        let conn = self.lock();
        let existing: Option<i64> = conn
            .query_row(
                "SELECT id FROM accounts WHERE environment_id = ?1 AND fintech_use_num = ?2",
                params![environment_id, a.fintech_use_num],
                |r| r.get(0),
            )
            .optional()?;
        let inquiry = a.inquiry_agreed_at.as_ref().map(ts);
        let transfer = a.transfer_agreed_at.as_ref().map(ts);
        match existing {
            Some(id) => {
                conn.execute(
                    "UPDATE accounts SET bank_code = ?2, bank_name = ?3,
                        alias = CASE WHEN ?4 = '' THEN alias ELSE ?4 END,
                        account_num_masked = ?5, holder_name = ?6, account_type = ?7,
                        inquiry_agreed_at = ?8, transfer_agreed_at = ?9, state = 'active',
                        updated_at = ?10
                     WHERE id = ?1",
                    params![
                        id,
                        a.bank_code,
                        a.bank_name,
                        a.alias,
                        a.account_num_masked,
                        a.holder_name,
                        a.account_type,
                        inquiry,
                        transfer,
                        ts(&now)
                    ],
                )?;
                Ok((id, Upserted::Updated))
            }
            None => {
                conn.execute(
                    "INSERT INTO accounts (environment_id, fintech_use_num, bank_code, bank_name,
                        alias, account_num_masked, holder_name, account_type, inquiry_agreed_at,
                        transfer_agreed_at, registered_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
                    params![
                        environment_id,
                        a.fintech_use_num,
                        a.bank_code,
                        a.bank_name,
                        a.alias,
                        a.account_num_masked,
                        a.holder_name,
                        a.account_type,
                        inquiry,
                        transfer,
                        ts(&now)
                    ],
                )?;
                Ok((conn.last_insert_rowid(), Upserted::Added))
            }
        }
    }

    /// Active accounts of an environment, in registration order.
    pub fn accounts(&self, environment_id: i64) -> Result<Vec<AccountRecord>> {
        let conn = self.lock();
        let sql = format!(
            "SELECT {} FROM accounts WHERE environment_id = ?1 AND state = 'active' ORDER BY id",
            Self::ACCOUNT_COLUMNS
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([environment_id], Self::account_from)?;
        rows.map(|r| Self::finish_account(r?)).collect()
    }

    /// One account by row id, whatever its state.
    pub fn account(&self, id: i64) -> Result<Option<AccountRecord>> {
        let conn = self.lock();
        let sql = format!(
            "SELECT {} FROM accounts WHERE id = ?1",
            Self::ACCOUNT_COLUMNS
        );
        let raw = conn
            .prepare_cached(&sql)?
            .query_row([id], Self::account_from)
            .optional()?;
        raw.map(Self::finish_account).transpose()
    }

    /// Marks an account cancelled: it leaves the dashboard, its history stays.
    pub fn cancel_account(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        self.lock().execute(
            "UPDATE accounts SET state = 'cancelled', updated_at = ?2 WHERE id = ?1",
            params![id, ts(&now)],
        )?;
        Ok(())
    }

    /// Marks every account of an environment cancelled and forgets the person (sign out).
    pub fn sign_out(&self, environment_id: i64, now: DateTime<Utc>) -> Result<()> {
        let conn = self.lock();
        conn.execute(
            "UPDATE accounts SET state = 'cancelled', updated_at = ?2 WHERE environment_id = ?1",
            params![environment_id, ts(&now)],
        )?;
        conn.execute(
            "UPDATE environments SET user_name = NULL WHERE id = ?1",
            [environment_id],
        )?;
        Ok(())
    }

    /// Sets the person's own name for an account.
    pub fn set_alias(&self, id: i64, alias: &str) -> Result<()> {
        self.lock().execute(
            "UPDATE accounts SET alias = ?2 WHERE id = ?1",
            params![id, alias],
        )?;
        Ok(())
    }

    // --- balances -----------------------------------------------------------------------

    /// Records a fresh balance: the new last good value, no longer stale.
    pub fn record_balance(
        &self,
        account_id: i64,
        balance: i64,
        available: Option<i64>,
        product_name: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.lock().execute(
            "INSERT INTO balances (account_id, balance, available, product_name, as_of, attempted_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)
             ON CONFLICT (account_id) DO UPDATE SET balance = excluded.balance,
                available = excluded.available,
                product_name = COALESCE(excluded.product_name, product_name),
                as_of = excluded.as_of, attempted_at = excluded.attempted_at,
                stale_code = NULL, stale_message = NULL",
            params![account_id, balance, available, product_name, ts(&at)],
        )?;
        Ok(())
    }

    /// Records a failed refresh: the last good value stays, marked stale with a reason. (The
    /// `stale_message` column of older versions, which held words, is cleared.)
    pub fn record_stale(&self, account_id: i64, code: StaleCode, at: DateTime<Utc>) -> Result<()> {
        self.lock().execute(
            "INSERT INTO balances (account_id, stale_code, attempted_at)
             VALUES (?1, ?2, ?3)
             ON CONFLICT (account_id) DO UPDATE SET stale_code = excluded.stale_code,
                stale_message = NULL, attempted_at = excluded.attempted_at",
            params![account_id, code.as_str(), ts(&at)],
        )?;
        Ok(())
    }

    /// The last known balance of every active account of an environment.
    pub fn balances(&self, environment_id: i64) -> Result<Vec<BalanceRecord>> {
        self.read_balances(
            "a.environment_id = ?1 AND a.state = 'active'",
            environment_id,
        )
    }

    /// The last known balance of one account.
    pub fn balance(&self, account_id: i64) -> Result<Option<BalanceRecord>> {
        Ok(self.read_balances("a.id = ?1", account_id)?.pop())
    }

    /// Balances of the accounts `filter` selects (with `?1` bound to `id`), by account id.
    fn read_balances(&self, filter: &str, id: i64) -> Result<Vec<BalanceRecord>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT a.id, b.balance, b.available, b.product_name, b.as_of, b.stale_code
             FROM accounts a LEFT JOIN balances b ON b.account_id = a.id
             WHERE {filter} ORDER BY a.id"
        ))?;
        let rows = stmt.query_map([id], |r| {
            Ok((
                BalanceRecord {
                    account_id: r.get(0)?,
                    balance: r.get(1)?,
                    available: r.get(2)?,
                    product_name: r.get(3)?,
                    as_of: None,
                    stale_code: r
                        .get::<_, Option<String>>(5)?
                        .map(|c| StaleCode::parse(&c).unwrap_or(StaleCode::Internal)),
                },
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (mut record, as_of) = row?;
            record.as_of = parse_ts(as_of)?;
            Ok(record)
        })
        .collect()
    }

    // --- history ------------------------------------------------------------------------

    /// Merges rows fetched from the API (any order) into an account's history. Rows already
    /// stored are recognised by their identity, so a re-sync never duplicates; identical rows
    /// within one fetch are told apart by their occurrence number, so real repeated purchases
    /// are never merged. The fetch must cover whole days. Afterwards the after-balance chain of
    /// the account is checked and its gaps recorded.
    pub fn merge_history(
        &self,
        account_id: i64,
        rows: &[HistoryRow],
        now: DateTime<Utc>,
    ) -> Result<Merged> {
        let mut sorted: Vec<&HistoryRow> = rows.iter().collect();
        // Oldest first, keeping the API's order within the same second.
        sorted.sort_by_key(|r| (r.tran_date, r.tran_time));
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut merged = Merged::default();
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO transactions (account_id, tran_date, tran_time, inout_type,
                    tran_type, print_content, tran_amt, after_balance, branch_name, occurrence)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            let mut seen: std::collections::HashMap<
                (NaiveDate, NaiveTime, &str, i64, i64, &str),
                i64,
            > = std::collections::HashMap::new();
            for row in sorted {
                let key = (
                    row.tran_date,
                    row.tran_time,
                    row.inout_type.as_str(),
                    row.tran_amt,
                    row.after_balance,
                    row.print_content.as_str(),
                );
                let occurrence = seen.entry(key).and_modify(|n| *n += 1).or_insert(1);
                let changed = insert.execute(params![
                    account_id,
                    row.tran_date.to_string(),
                    row.tran_time.format("%H:%M:%S").to_string(),
                    row.inout_type,
                    row.tran_type,
                    row.print_content,
                    row.tran_amt,
                    row.after_balance,
                    row.branch_name,
                    *occurrence
                ])?;
                if changed == 1 {
                    merged.inserted += 1;
                } else {
                    merged.known += 1;
                }
            }
        }
        merged.gaps = check_chain(&tx, account_id, now)?;
        tx.commit()?;
        Ok(merged)
    }

    /// A page of an account's stored history, newest first, with filters.
    pub fn history(&self, account_id: i64, query: &HistoryQuery) -> Result<Vec<StoredRow>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, tran_date, tran_time, inout_type, tran_type, print_content, tran_amt,
                after_balance, branch_name
             FROM transactions
             WHERE account_id = ?1
               AND (?2 IS NULL OR tran_date >= ?2) AND (?3 IS NULL OR tran_date <= ?3)
               AND (?4 IS NULL OR (?4 = 'in' AND inout_type LIKE '%입금%')
                               OR (?4 = 'out' AND inout_type NOT LIKE '%입금%'))
               AND (?5 IS NULL OR print_content LIKE '%' || ?5 || '%' OR tran_type LIKE '%' || ?5 || '%')
             ORDER BY tran_date DESC, tran_time DESC, id DESC
             LIMIT ?6 OFFSET ?7",
        )?;
        let direction = query.direction.map(|d| match d {
            Direction::In => "in",
            Direction::Out => "out",
        });
        let search = query
            .search
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| s.replace(['%', '_'], ""));
        let rows = stmt.query_map(
            params![
                account_id,
                query.from.map(|d| d.to_string()),
                query.to.map(|d| d.to_string()),
                direction,
                search,
                i64::from(query.limit),
                i64::from(query.offset)
            ],
            stored_row,
        )?;
        rows.map(|r| r?).collect()
    }

    /// How many rows an account's history holds, and the newest date.
    pub fn history_extent(&self, account_id: i64) -> Result<(u64, Option<NaiveDate>)> {
        let conn = self.lock();
        let (count, newest): (i64, Option<String>) = conn.query_row(
            "SELECT COUNT(*), MAX(tran_date) FROM transactions WHERE account_id = ?1",
            [account_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let newest = newest
            .map(|d| {
                d.parse::<NaiveDate>()
                    .map_err(|_| StoreError::Corrupt("date"))
            })
            .transpose()?;
        Ok((count.max(0) as u64, newest))
    }

    /// The balance at the end of every day the account's history has rows for, oldest first:
    /// the after-balance of each day's last row.
    pub fn daily_balances(&self, account_id: i64) -> Result<Vec<(NaiveDate, i64)>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT tran_date, after_balance FROM transactions t
             WHERE account_id = ?1 AND id = (
                SELECT id FROM transactions WHERE account_id = ?1 AND tran_date = t.tran_date
                ORDER BY tran_time DESC, id DESC LIMIT 1)
             ORDER BY tran_date",
        )?;
        let rows = stmt.query_map([account_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        rows.map(|row| {
            let (date, balance) = row?;
            Ok((
                date.parse().map_err(|_| StoreError::Corrupt("date"))?,
                balance,
            ))
        })
        .collect()
    }

    /// Through which day an account's history is known complete, if it was ever synced.
    pub fn synced_through(&self, account_id: i64) -> Result<Option<NaiveDate>> {
        let value: Option<String> = self
            .lock()
            .query_row(
                "SELECT synced_through FROM history_sync WHERE account_id = ?1",
                [account_id],
                |r| r.get(0),
            )
            .optional()?;
        value
            .map(|d| d.parse().map_err(|_| StoreError::Corrupt("date")))
            .transpose()
    }

    /// Records that an account's history is known through `day`.
    pub fn set_synced_through(
        &self,
        account_id: i64,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.lock().execute(
            "INSERT INTO history_sync (account_id, synced_through, synced_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (account_id) DO UPDATE SET synced_through = excluded.synced_through,
                synced_at = excluded.synced_at",
            params![account_id, day.to_string(), ts(&now)],
        )?;
        Ok(())
    }

    /// The recorded gaps of an account's history: `(before_row, after_row, missing_amount)`.
    pub fn history_gaps(&self, account_id: i64) -> Result<Vec<(i64, i64, i64)>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT before_row, after_row, missing_amount FROM history_gaps WHERE account_id = ?1 ORDER BY before_row",
        )?;
        let rows = stmt.query_map([account_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    // --- audit --------------------------------------------------------------------------

    /// Appends to the audit log. Callers pass no secrets; details are for a person to read.
    pub fn audit(&self, kind: &str, subject: &str, detail: &str, at: DateTime<Utc>) -> Result<()> {
        self.lock().execute(
            "INSERT INTO audit_log (at, kind, subject, detail) VALUES (?1, ?2, ?3, ?4)",
            params![ts(&at), kind, subject, detail],
        )?;
        Ok(())
    }

    /// The newest `limit` audit entries, newest first.
    pub fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT at, kind, subject, detail FROM audit_log ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        rows.map(|row| {
            let (at, kind, subject, detail) = row?;
            Ok(AuditEntry {
                at: parse_ts(Some(at))?.ok_or(StoreError::Corrupt("time"))?,
                kind,
                subject,
                detail,
            })
        })
        .collect()
    }
}

/// Which way money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Deposits.
    In,
    /// Withdrawals.
    Out,
}

/// Filters and paging for [`Store::history`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    /// From this day, inclusive.
    pub from: Option<NaiveDate>,
    /// To this day, inclusive.
    pub to: Option<NaiveDate>,
    /// Only deposits or only withdrawals.
    pub direction: Option<Direction>,
    /// Text that the row's content or type contains.
    pub search: Option<String>,
    /// Rows to return at most.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u32,
}

impl Default for HistoryQuery {
    fn default() -> Self {
        Self {
            from: None,
            to: None,
            direction: None,
            search: None,
            limit: 100,
            offset: 0,
        }
    }
}

fn stored_row(r: &Row<'_>) -> rusqlite::Result<Result<StoredRow>> {
    let date: String = r.get(1)?;
    let time: String = r.get(2)?;
    Ok((|| {
        Ok(StoredRow {
            id: r.get(0)?,
            tran_date: date.parse().map_err(|_| StoreError::Corrupt("date"))?,
            tran_time: NaiveTime::parse_from_str(&time, "%H:%M:%S")
                .map_err(|_| StoreError::Corrupt("time"))?,
            inout_type: r.get(3)?,
            tran_type: r.get(4)?,
            print_content: r.get(5)?,
            tran_amt: r.get(6)?,
            after_balance: r.get(7)?,
            branch_name: r.get(8)?,
        })
    })())
}

/// Walks an account's history oldest first and records every place where a row's
/// after-balance does not follow from the previous one: rows are missing there.
fn check_chain(conn: &Connection, account_id: i64, now: DateTime<Utc>) -> Result<usize> {
    conn.execute(
        "DELETE FROM history_gaps WHERE account_id = ?1",
        [account_id],
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, inout_type, tran_amt, after_balance FROM transactions
         WHERE account_id = ?1 ORDER BY tran_date, tran_time, id",
    )?;
    let rows = stmt.query_map([account_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let mut gaps = Vec::new();
    let mut previous: Option<(i64, i64)> = None;
    for row in rows {
        let (id, inout, amount, after) = row?;
        let delta = if inout.contains("입금") {
            amount
        } else {
            -amount
        };
        if let Some((prev_id, prev_after)) = previous {
            let expected = prev_after + delta;
            if expected != after {
                gaps.push((prev_id, id, after - expected));
            }
        }
        previous = Some((id, after));
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO history_gaps (account_id, before_row, after_row, missing_amount, detected_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (before, after, missing) in &gaps {
        insert.execute(params![account_id, before, after, missing, ts(&now)])?;
    }
    Ok(gaps.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 1, 0, 0).unwrap()
    }

    fn env(store: &Store) -> i64 {
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

    fn account(fintech: &str) -> AccountUpsert {
        AccountUpsert {
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

    fn row(day: u32, time: &str, deposit: bool, amount: i64, after: i64, text: &str) -> HistoryRow {
        HistoryRow {
            tran_date: NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
            tran_time: NaiveTime::parse_from_str(time, "%H%M%S").unwrap(),
            inout_type: if deposit { "입금" } else { "출금" }.into(),
            tran_type: "체크카드".into(),
            print_content: text.into(),
            tran_amt: amount,
            after_balance: after,
            branch_name: String::new(),
        }
    }

    #[test]
    fn registering_an_account_again_updates_it_instead_of_adding_another() {
        let store = Store::in_memory().unwrap();
        let env = env(&store);
        let (id, first) = store.upsert_account(env, &account("1"), now()).unwrap();
        assert_eq!(first, Upserted::Added);
        store.cancel_account(id, now()).unwrap();
        assert!(store.accounts(env).unwrap().is_empty());
        let mut again = account("1");
        again.transfer_agreed_at = Some(now());
        let (same, second) = store.upsert_account(env, &again, now()).unwrap();
        assert_eq!((same, second), (id, Upserted::Updated));
        let listed = store.accounts(env).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].transfer_agreed_at, Some(now()));
    }

    #[test]
    fn a_failed_refresh_keeps_the_last_good_balance_and_says_why() {
        let store = Store::in_memory().unwrap();
        let env = env(&store);
        let (id, _) = store.upsert_account(env, &account("1"), now()).unwrap();
        store
            .record_balance(id, 50_000, Some(50_000), Some("통장"), now())
            .unwrap();
        let later = now() + chrono::TimeDelta::minutes(5);
        store.record_stale(id, StaleCode::BankDown, later).unwrap();
        let b = store.balance(id).unwrap().unwrap();
        assert_eq!((b.balance, b.as_of), (Some(50_000), Some(now())));
        assert_eq!(b.stale_code, Some(StaleCode::BankDown));
        store
            .record_balance(id, 40_000, Some(40_000), None, later)
            .unwrap();
        let b = store.balance(id).unwrap().unwrap();
        assert_eq!(
            (b.balance, b.stale_code, b.product_name.as_deref()),
            (Some(40_000), None, Some("통장"))
        );
    }

    #[test]
    fn history_merges_without_duplicates_and_keeps_identical_purchases_apart() {
        let store = Store::in_memory().unwrap();
        let env = env(&store);
        let (id, _) = store.upsert_account(env, &account("1"), now()).unwrap();
        let day1 = vec![
            row(1, "090000", true, 10_000, 10_000, "급여"),
            // Two identical coffees in the same second: after-balances differ, so both stay.
            row(1, "100000", false, 4_500, 5_500, "스타벅스"),
            row(1, "100000", false, 4_500, 1_000, "스타벅스"),
        ];
        let merged = store.merge_history(id, &day1, now()).unwrap();
        assert_eq!((merged.inserted, merged.known, merged.gaps), (3, 0, 0));
        // A re-sync with overlap adds only what is new.
        let mut again = day1.clone();
        again.push(row(2, "080000", false, 1_000, 0, "GS25"));
        let merged = store.merge_history(id, &again, now()).unwrap();
        assert_eq!((merged.inserted, merged.known, merged.gaps), (1, 3, 0));
        assert_eq!(store.history_extent(id).unwrap().0, 4);
    }

    #[test]
    fn rows_truly_identical_are_kept_by_their_occurrence() {
        let store = Store::in_memory().unwrap();
        let env = env(&store);
        let (id, _) = store.upsert_account(env, &account("1"), now()).unwrap();
        // A bank that reports a zero-balance account's two identical rows.
        let rows = vec![
            row(1, "100000", true, 500, 500, "이자"),
            row(1, "100000", true, 500, 500, "이자"),
        ];
        let merged = store.merge_history(id, &rows, now()).unwrap();
        assert_eq!(merged.inserted, 2);
        assert_eq!(store.merge_history(id, &rows, now()).unwrap().inserted, 0);
    }

    #[test]
    fn a_break_in_the_after_balance_chain_is_recorded_as_a_gap() {
        let store = Store::in_memory().unwrap();
        let env = env(&store);
        let (id, _) = store.upsert_account(env, &account("1"), now()).unwrap();
        let rows = vec![
            row(1, "090000", true, 10_000, 10_000, "급여"),
            // 3,000 went out somewhere in between and is missing.
            row(2, "090000", false, 1_000, 6_000, "GS25"),
        ];
        let merged = store.merge_history(id, &rows, now()).unwrap();
        assert_eq!(merged.gaps, 1);
        let gaps = store.history_gaps(id).unwrap();
        assert_eq!(gaps[0].2, -3_000);
    }

    #[test]
    fn history_filters_by_direction_text_and_dates() {
        let store = Store::in_memory().unwrap();
        let env = env(&store);
        let (id, _) = store.upsert_account(env, &account("1"), now()).unwrap();
        let rows = vec![
            row(1, "090000", true, 10_000, 10_000, "급여"),
            row(2, "100000", false, 4_500, 5_500, "스타벅스"),
            row(3, "100000", false, 500, 5_000, "GS25"),
        ];
        store.merge_history(id, &rows, now()).unwrap();
        let q = |direction, search: Option<&str>, from: Option<u32>| HistoryQuery {
            direction,
            search: search.map(str::to_owned),
            from: from.map(|d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap()),
            ..HistoryQuery::default()
        };
        assert_eq!(
            store
                .history(id, &q(Some(Direction::In), None, None))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store
                .history(id, &q(Some(Direction::Out), None, None))
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            store.history(id, &q(None, Some("스타"), None)).unwrap()[0].tran_amt,
            4_500
        );
        let newest_first = store.history(id, &q(None, None, Some(2))).unwrap();
        assert_eq!(
            newest_first.iter().map(|r| r.tran_amt).collect::<Vec<_>>(),
            vec![500, 4_500]
        );
    }

    #[test]
    fn another_servers_url_takes_the_last_servers_accounts_off_the_dashboard() {
        let store = Store::in_memory().unwrap();
        let server = |url: &str| EnvironmentRecord {
            id: 0,
            kind: EnvironmentKind::Server,
            base_url: url.into(),
            user_name: None,
        };
        let id = store
            .save_environment(&server("https://a.example"), now())
            .unwrap();
        store.set_person(id, Some("홍길동")).unwrap();
        store.upsert_account(id, &account("1"), now()).unwrap();
        let same = store
            .save_environment(&server("https://a.example"), now())
            .unwrap();
        assert_eq!((same, store.accounts(id).unwrap().len()), (id, 1));
        store
            .save_environment(&server("https://b.example"), now())
            .unwrap();
        assert!(store.accounts(id).unwrap().is_empty());
        let env = store.environment(EnvironmentKind::Server).unwrap().unwrap();
        assert_eq!(
            (env.base_url.as_str(), env.user_name),
            ("https://b.example", None)
        );
    }
}
