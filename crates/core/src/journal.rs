//! The app's view of its transfers: a cache of what the server said of each, in the store. A
//! transfer's local id is the idempotency key the app made and journaled here before it asked
//! the server, so a transfer whose request got no answer is found again by that key.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::error::Code;
use crate::store::{Store, StoreError};

pub use moa_server::api::TransferState;

/// A transfer as the person asked for it: what the app journals before it asks the server,
/// and what every [`TransferRecord`] carries from then on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewTransfer {
    /// Its local id: the idempotency key sent with it.
    pub id: String,
    /// Environment row id.
    pub environment_id: i64,
    /// Source account row id.
    pub from_account: i64,
    /// Target account row id, when it is one of the person's own.
    pub to_account: Option<i64>,
    /// Target bank code.
    pub to_bank_code: String,
    /// Target account number as the app shows it (masked for another person's account).
    pub to_account_num: String,
    /// The recipient's name as the receive check gave it.
    pub to_holder_name: String,
    /// Whole won, above zero.
    pub amount: i64,
    /// The person's memo.
    pub memo: String,
}

/// One transfer as the app knows it: what was asked, and what the server said of it since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferRecord {
    /// What was asked, under its local id.
    #[serde(flatten)]
    pub transfer: NewTransfer,
    /// The server's id for it, once the server answered.
    pub server_id: Option<String>,
    /// Where it stands.
    pub state: TransferState,
    /// Why it failed or was refunded: a stable code.
    pub failure_code: Option<Code>,
    /// The bank's or the center's own code for it, when they gave one.
    pub failure_rsp_code: Option<String>,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The columns [`raw`] reads, in its order.
const COLUMNS: &str = "id, environment_id, from_account, to_account, to_bank_code, to_account_num,
    to_holder_name, amount, memo, server_id, state, failure_code, created_at, updated_at";

type Raw = (TransferRecord, String, Option<String>, String, String);

/// A row read as far as SQLite's types go; [`finish`] parses the state, failure and times.
fn raw(r: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        TransferRecord {
            transfer: NewTransfer {
                id: r.get(0)?,
                environment_id: r.get(1)?,
                from_account: r.get(2)?,
                to_account: r.get(3)?,
                to_bank_code: r.get(4)?,
                to_account_num: r.get(5)?,
                to_holder_name: r.get(6)?,
                amount: r.get(7)?,
                memo: r.get(8)?,
            },
            server_id: r.get(9)?,
            state: TransferState::Created,
            failure_code: None,
            failure_rsp_code: None,
            created_at: DateTime::<Utc>::MIN_UTC,
            updated_at: DateTime::<Utc>::MIN_UTC,
        },
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
        r.get(13)?,
    ))
}

/// A failure as the journal stores it: the code, then the bank's or center's code after a
/// colon when there is one (`bank_refused:499`) — the form the server sends failures in too.
fn stored_failure(code: Code, rsp_code: Option<&str>) -> String {
    match rsp_code {
        Some(rsp) => format!("{code}:{rsp}"),
        None => code.as_str().to_owned(),
    }
}

/// A stored failure read back. Older rows hold the same form; a code this version does not
/// know reads as [`Code::Internal`].
fn read_failure(stored: &str) -> (Code, Option<String>) {
    let (code, rsp) = match stored.split_once(':') {
        Some((code, rsp)) => (code, Some(rsp.to_owned())),
        None => (stored, None),
    };
    (
        Code::parse(code).unwrap_or(Code::Internal),
        rsp.filter(|r| !r.is_empty()),
    )
}

fn finish(raw: Raw) -> Result<TransferRecord, StoreError> {
    let (mut record, state, failure, created, updated) = raw;
    record.state = TransferState::parse(&state).ok_or(StoreError::Corrupt("transfer state"))?;
    if let Some((code, rsp)) = failure.as_deref().map(read_failure) {
        record.failure_code = Some(code);
        record.failure_rsp_code = rsp;
    }
    let time = |t: String| {
        DateTime::parse_from_rfc3339(&t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| StoreError::Corrupt("time"))
    };
    record.created_at = time(created)?;
    record.updated_at = time(updated)?;
    Ok(record)
}

impl Store {
    /// Journals a transfer before it is asked of the server, in state `created`.
    pub fn create_transfer(
        &self,
        t: &NewTransfer,
        now: DateTime<Utc>,
    ) -> Result<TransferRecord, StoreError> {
        self.lock().execute(
            "INSERT INTO transfers (id, environment_id, from_account, to_account, to_bank_code,
                to_account_num, to_holder_name, amount, memo, state, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'created', ?10, ?10)",
            params![
                t.id,
                t.environment_id,
                t.from_account,
                t.to_account,
                t.to_bank_code,
                t.to_account_num,
                t.to_holder_name,
                t.amount,
                t.memo,
                ts(&now)
            ],
        )?;
        self.transfer(&t.id)?.ok_or(StoreError::Corrupt("transfer"))
    }

    /// Records where the server says transfer `id` stands, and why it failed: a code, with
    /// the bank's or center's own code when they gave one.
    pub fn set_transfer_state(
        &self,
        id: &str,
        server_id: Option<&str>,
        state: TransferState,
        failure: Option<(Code, Option<&str>)>,
        now: DateTime<Utc>,
    ) -> Result<TransferRecord, StoreError> {
        let failure_code = failure.map(|(code, rsp)| stored_failure(code, rsp));
        self.lock().execute(
            "UPDATE transfers SET server_id = COALESCE(?2, server_id), state = ?3,
                failure_code = COALESCE(?4, failure_code), updated_at = ?5
             WHERE id = ?1",
            params![id, server_id, state.as_str(), failure_code, ts(&now)],
        )?;
        self.transfer(id)?.ok_or(StoreError::Corrupt("transfer"))
    }

    /// One transfer.
    pub fn transfer(&self, id: &str) -> Result<Option<TransferRecord>, StoreError> {
        let conn = self.lock();
        let sql = format!("SELECT {COLUMNS} FROM transfers WHERE id = ?1");
        let found = conn.prepare_cached(&sql)?.query_row([id], raw).optional()?;
        found.map(finish).transpose()
    }

    /// The transfers of an environment, newest first.
    pub fn transfers(
        &self,
        environment_id: i64,
        limit: u32,
    ) -> Result<Vec<TransferRecord>, StoreError> {
        let conn = self.lock();
        let sql = format!(
            "SELECT {COLUMNS} FROM transfers WHERE environment_id = ?1 ORDER BY created_at DESC, rowid DESC LIMIT ?2"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![environment_id, limit], raw)?;
        rows.map(|r| finish(r?)).collect()
    }

    /// Transfers the app has not seen end, oldest first.
    pub fn open_transfers(&self, environment_id: i64) -> Result<Vec<TransferRecord>, StoreError> {
        let conn = self.lock();
        let sql = format!(
            "SELECT {COLUMNS} FROM transfers WHERE environment_id = ?1
             AND state NOT IN ('completed', 'refunded', 'failed') ORDER BY created_at, rowid"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([environment_id], raw)?;
        rows.map(|r| finish(r?)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_stored_by_older_versions_read_as_codes() {
        // What older versions wrote: a server's `reason:code`, a refusal's code, `not_sent`.
        assert_eq!(
            read_failure("bank_refused:499"),
            (Code::BankRefused, Some("499".to_owned()))
        );
        assert_eq!(
            read_failure("center_refused:A0004"),
            (Code::CenterRefused, Some("A0004".to_owned()))
        );
        assert_eq!(
            read_failure("insufficient_funds"),
            (Code::InsufficientFunds, None)
        );
        assert_eq!(read_failure("not_sent"), (Code::NotSent, None));
        // A word this version does not know, or none at all, is internal, never a panic.
        assert_eq!(read_failure("outside_hours"), (Code::Internal, None));
        assert_eq!(read_failure("bank_refused:"), (Code::BankRefused, None));
        // What is written reads back the same.
        let stored = stored_failure(Code::DepositNotApplied, Some("A0002"));
        assert_eq!(
            read_failure(&stored),
            (Code::DepositNotApplied, Some("A0002".to_owned()))
        );
    }
}
