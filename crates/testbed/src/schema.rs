//! The database schema and its migrations, applied in order by `PRAGMA user_version`.

use rusqlite::Connection;

/// Each entry moves the schema one version up. Never edit a released entry: add another.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Participating banks and how they behave.
CREATE TABLE banks (
    code       TEXT PRIMARY KEY,           -- bank_code_std, 3 digits
    name       TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'Y',  -- Y available, D outage, L not yet open, E terminated
    latency_ms INTEGER                     -- NULL: the testbed's default latency
);

-- Institutions (이용기관) that call the center.
CREATE TABLE institutions (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL,
    client_id          TEXT NOT NULL UNIQUE,
    client_secret      TEXT NOT NULL,
    client_use_code    TEXT NOT NULL UNIQUE,
    redirect_uris      TEXT NOT NULL,      -- JSON array
    scopes             TEXT NOT NULL,      -- space separated, what the institution may ask for
    collection_account INTEGER NOT NULL REFERENCES accounts(id),
    payout_account     INTEGER NOT NULL REFERENCES accounts(id)
);

-- People who hold accounts (the demo seed's customers).
CREATE TABLE people (
    id         INTEGER PRIMARY KEY,
    user_name  TEXT NOT NULL,
    birth_date TEXT NOT NULL,              -- yyyyMMdd
    cell_no    TEXT NOT NULL UNIQUE,
    user_ci    TEXT NOT NULL UNIQUE
);

-- Every bank account: people's and institutions' contract accounts. Whole won.
CREATE TABLE accounts (
    id           INTEGER PRIMARY KEY,
    bank_code    TEXT NOT NULL REFERENCES banks(code),
    account_num  TEXT NOT NULL,
    holder_name  TEXT NOT NULL,
    person_id    INTEGER REFERENCES people(id),
    account_type TEXT NOT NULL,            -- 1 demand, 2 savings, 6 trust, T combined
    product_name TEXT NOT NULL,
    issue_date   TEXT NOT NULL,
    maturity_date TEXT,
    state        TEXT NOT NULL DEFAULT 'active',  -- active, closed, suspended, dormant
    balance      INTEGER NOT NULL CHECK (balance >= 0),
    UNIQUE (bank_code, account_num)
);

-- Each account's history, oldest first by (tran_date, tran_time, id); after_balance chains.
CREATE TABLE transactions (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    tran_date     TEXT NOT NULL,
    tran_time     TEXT NOT NULL,
    inout_type    TEXT NOT NULL,           -- 입금 / 출금
    tran_type     TEXT NOT NULL,           -- 급여, 이체, 현금, 카드, 공과금, ...
    print_content TEXT NOT NULL,
    tran_amt      INTEGER NOT NULL CHECK (tran_amt > 0),
    after_balance INTEGER NOT NULL,
    branch_name   TEXT NOT NULL DEFAULT '',
    counterpart_name    TEXT,
    counterpart_bank    TEXT,
    counterpart_account TEXT
);
CREATE INDEX transactions_by_account ON transactions (account_id, tran_date, tran_time, id);

-- A person's enrolment with one institution: the center's user_seq_no for that pair.
CREATE TABLE enrollments (
    user_seq_no    TEXT PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    person_id      INTEGER NOT NULL REFERENCES people(id),
    created_at     TEXT NOT NULL,
    closed_at      TEXT,
    UNIQUE (institution_id, person_id)
);

-- An account registered by a person with one institution, under its fintech use number.
CREATE TABLE registrations (
    fintech_use_num      TEXT PRIMARY KEY,
    institution_id       INTEGER NOT NULL REFERENCES institutions(id),
    user_seq_no          TEXT NOT NULL REFERENCES enrollments(user_seq_no),
    account_id           INTEGER NOT NULL REFERENCES accounts(id),
    account_alias        TEXT NOT NULL DEFAULT '',
    account_seq          TEXT NOT NULL DEFAULT '',
    inquiry_agree_dtime  TEXT,             -- yyyyMMddHHmmss, NULL when not (or no longer) agreed
    transfer_agree_dtime TEXT,
    payer_num            TEXT NOT NULL DEFAULT '',
    state                TEXT NOT NULL DEFAULT '01',  -- 01 in use, 09 cancelled
    registered_at        TEXT NOT NULL,
    UNIQUE (institution_id, account_id)
);

-- Authorization codes: single use, ten minutes.
CREATE TABLE auth_codes (
    code           TEXT PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    user_seq_no    TEXT NOT NULL REFERENCES enrollments(user_seq_no),
    scope          TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT,
    client_info    TEXT NOT NULL DEFAULT '',
    expires_at     INTEGER NOT NULL,       -- unix seconds
    used           INTEGER NOT NULL DEFAULT 0
);

-- Every token issued, by its JWT id, so tokens can be revoked and looked up.
CREATE TABLE tokens (
    jti            TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,          -- access / refresh
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    user_seq_no    TEXT,                   -- NULL for client credentials
    scope          TEXT NOT NULL,
    expires_at     INTEGER NOT NULL,
    revoked        INTEGER NOT NULL DEFAULT 0,
    pair_jti       TEXT                    -- the refresh token's access token, and back
);
CREATE INDEX tokens_by_user ON tokens (institution_id, user_seq_no);
"#,
    r#"
-- Every transfer that reached a bank, applied or refused. A bank_tran_id is unique per
-- institution per business day, here durably.
CREATE TABLE transfers (
    id               INTEGER PRIMARY KEY,
    institution_id   INTEGER NOT NULL REFERENCES institutions(id),
    bank_tran_date   TEXT NOT NULL,
    bank_tran_id     TEXT NOT NULL,
    kind             TEXT NOT NULL,          -- withdraw / deposit
    from_account     INTEGER NOT NULL REFERENCES accounts(id),
    to_account       INTEGER NOT NULL REFERENCES accounts(id),
    amount           INTEGER NOT NULL CHECK (amount > 0),
    user_seq_no      TEXT,                   -- the person whose withdraw consent was used
    fintech_use_num  TEXT,
    wd_print_content TEXT NOT NULL DEFAULT '',
    dps_print_content TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL,          -- done / refused
    bank_rsp_code    TEXT NOT NULL,
    bank_rsp_message TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL,
    UNIQUE (institution_id, bank_tran_date, bank_tran_id)
);

-- What was applied per day, kept as running sums so that checking a limit costs one lookup,
-- however many transfers the day has seen. user_seq_no '' is the institution's own total.
CREATE TABLE daily_totals (
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    bank_tran_date TEXT NOT NULL,
    kind           TEXT NOT NULL,
    user_seq_no    TEXT NOT NULL,
    amount         INTEGER NOT NULL,
    PRIMARY KEY (institution_id, bank_tran_date, kind, user_seq_no)
) WITHOUT ROWID;

-- History rows a transfer wrote: its two postings.
ALTER TABLE transactions ADD COLUMN transfer_id INTEGER REFERENCES transfers(id);
CREATE INDEX transactions_by_transfer ON transactions (transfer_id);

-- Claims to return money deposited by mistake (자금반환청구).
CREATE TABLE return_claims (
    id               INTEGER PRIMARY KEY,
    institution_id   INTEGER NOT NULL REFERENCES institutions(id),
    claim_bank_tran_date TEXT NOT NULL,
    claim_bank_tran_id TEXT NOT NULL,
    transfer_id      INTEGER NOT NULL REFERENCES transfers(id),
    claim_code       TEXT NOT NULL,
    claim_message    TEXT NOT NULL DEFAULT '',
    total_return_yn  TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'received',
    created_at       TEXT NOT NULL,
    UNIQUE (institution_id, claim_bank_tran_date, claim_bank_tran_id)
);
"#,
    r#"
-- Moa's consent callback moved to a path only Moa uses. A center seeded before keeps the old
-- callback and gains the new one, so an app updated over an existing sandbox still registers.
UPDATE institutions
SET redirect_uris = json_insert(redirect_uris, '$[#]', 'http://127.0.0.1/moa-consent/callback')
WHERE redirect_uris LIKE '%"https://moa.example/callback"%'
  AND redirect_uris NOT LIKE '%/moa-consent/callback%';
"#,
    r#"
-- A public client (one that cannot keep its secret) must use PKCE.
ALTER TABLE institutions ADD COLUMN public INTEGER NOT NULL DEFAULT 0;

-- A token family: every token descended from one authorization code. Replaying the code, or a
-- refresh token already rotated, revokes the whole family (RFC 9700 §2.1.1, §4.14.2).
ALTER TABLE auth_codes ADD COLUMN family TEXT;
ALTER TABLE tokens ADD COLUMN family TEXT;
CREATE INDEX tokens_by_family ON tokens (family);
"#,
];

/// Brings the schema up to the newest version.
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let version: usize = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_center_seeded_before_the_callback_moved_gains_moas_new_callback() {
        let conn = Connection::open_in_memory().expect("a database");
        // The callback moved in the third migration.
        let before = 2;
        for sql in &MIGRATIONS[..before] {
            conn.execute_batch(sql).expect("an earlier migration");
        }
        conn.pragma_update(None, "user_version", before)
            .expect("the version");
        let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).expect("a date");
        crate::seed::seed(&conn, today).expect("the seed");
        // As the seed wrote Moa's institution before the callback moved.
        conn.execute(
            "UPDATE institutions SET redirect_uris = ?1
             WHERE redirect_uris LIKE '%moa.example%'",
            [r#"["http://127.0.0.1/callback","https://moa.example/callback"]"#],
        )
        .expect("the old callbacks");
        migrate(&conn).expect("the migrations");
        let uris: String = conn
            .query_row(
                "SELECT redirect_uris FROM institutions WHERE redirect_uris LIKE '%moa.example%'",
                [],
                |r| r.get(0),
            )
            .expect("Moa's institution");
        let uris: Vec<String> = serde_json::from_str(&uris).expect("a JSON list");
        assert_eq!(
            uris,
            [
                "http://127.0.0.1/callback",
                "https://moa.example/callback",
                "http://127.0.0.1/moa-consent/callback"
            ]
        );
    }
}
