//! The store's schema: its migrations, applied in order by `PRAGMA user_version`. A migration
//! once released never changes; a change of schema is a new one at the end.

/// Every migration, oldest first; the store's `user_version` counts those applied.
pub(super) const MIGRATIONS: &[&str] = &[
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
