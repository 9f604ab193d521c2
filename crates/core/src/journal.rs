//! The transfer journal in the store: one row per transfer, written before every call the
//! saga makes, so that a crash at any point leaves enough to finish the transfer without
//! applying any leg twice.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::store::{Store, StoreError};

/// Where a transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferState {
    /// Journaled; nothing sent yet.
    Created,
    /// The withdraw (its id journaled) was sent; its outcome is not yet known.
    Withdrawing,
    /// The money left the source account and sits with the institution.
    Withdrawn,
    /// The deposit (its id journaled) was sent; its outcome is not yet known.
    Depositing,
    /// The money arrived. Final.
    Completed,
    /// The deposit failed for good; the money is going back to the source account. A refund
    /// id is journaled while a refund call is out.
    Refunding,
    /// The money is back in the source account. Final.
    Refunded,
    /// The withdraw did not happen; no money moved. Final.
    Failed,
}

impl TransferState {
    /// The name stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Withdrawing => "withdrawing",
            Self::Withdrawn => "withdrawn",
            Self::Depositing => "depositing",
            Self::Completed => "completed",
            Self::Refunding => "refunding",
            Self::Refunded => "refunded",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Self::Created,
            Self::Withdrawing,
            Self::Withdrawn,
            Self::Depositing,
            Self::Completed,
            Self::Refunding,
            Self::Refunded,
            Self::Failed,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
    }

    /// Whether the transfer has ended.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Refunded | Self::Failed)
    }
}

/// A leg's call as journaled: its `bank_tran_id` and business date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegId {
    /// The `bank_tran_id` sent.
    pub bank_tran_id: String,
    /// The day it was sent (Korean business date).
    pub date: NaiveDate,
}

/// One transfer as the journal holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferRecord {
    /// Its id (a UUID).
    pub id: String,
    /// Environment row id.
    pub environment_id: i64,
    /// Source account row id.
    pub from_account: i64,
    /// Target account row id, when it is one of the person's own.
    pub to_account: Option<i64>,
    /// Target bank code.
    pub to_bank_code: String,
    /// Target account number, for another person's account (empty for own accounts).
    pub to_account_num: String,
    /// The recipient's name as the receive check gave it.
    pub to_holder_name: String,
    /// Whole won.
    pub amount: i64,
    /// The person's memo.
    pub memo: String,
    /// Where it stands.
    pub state: TransferState,
    /// The withdraw call, once journaled.
    pub withdraw: Option<LegId>,
    /// The latest deposit call, once journaled.
    pub deposit: Option<LegId>,
    /// The latest refund call, once journaled.
    pub refund: Option<LegId>,
    /// Deposit calls made so far.
    pub deposit_attempts: u32,
    /// Why it failed or is being refunded: a stable code.
    pub failure_code: Option<String>,
    /// The center's or bank's words for it.
    pub failure_message: Option<String>,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A new transfer for the journal.
#[derive(Debug, Clone)]
pub struct NewTransfer {
    /// Environment row id.
    pub environment_id: i64,
    /// Source account row id.
    pub from_account: i64,
    /// Target account row id for the person's own account.
    pub to_account: Option<i64>,
    /// Target bank code.
    pub to_bank_code: String,
    /// Target account number for someone else's account.
    pub to_account_num: String,
    /// Recipient's name.
    pub to_holder_name: String,
    /// Whole won, above zero.
    pub amount: i64,
    /// Memo.
    pub memo: String,
}

fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn leg(id: Option<String>, date: Option<String>) -> Result<Option<LegId>, StoreError> {
    match (id, date) {
        (Some(bank_tran_id), Some(date)) => Ok(Some(LegId {
            bank_tran_id,
            date: date.parse().map_err(|_| StoreError::Corrupt("date"))?,
        })),
        _ => Ok(None),
    }
}

const COLUMNS: &str = "id, environment_id, from_account, to_account, to_bank_code,
    to_account_num, to_holder_name, amount, memo, state, withdraw_id, withdraw_date, deposit_id,
    deposit_date, refund_id, refund_date, failure_code, failure_message, created_at, updated_at,
    deposit_attempts";

type Raw = (TransferRecord, [Option<String>; 6], String, String, String);

fn raw(r: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        TransferRecord {
            id: r.get(0)?,
            environment_id: r.get(1)?,
            from_account: r.get(2)?,
            to_account: r.get(3)?,
            to_bank_code: r.get(4)?,
            to_account_num: r.get(5)?,
            to_holder_name: r.get(6)?,
            amount: r.get(7)?,
            memo: r.get(8)?,
            state: TransferState::Created,
            withdraw: None,
            deposit: None,
            refund: None,
            deposit_attempts: r.get(20)?,
            failure_code: r.get(16)?,
            failure_message: r.get(17)?,
            created_at: DateTime::<Utc>::MIN_UTC,
            updated_at: DateTime::<Utc>::MIN_UTC,
        },
        [
            r.get(10)?,
            r.get(11)?,
            r.get(12)?,
            r.get(13)?,
            r.get(14)?,
            r.get(15)?,
        ],
        r.get(9)?,
        r.get(18)?,
        r.get(19)?,
    ))
}

fn finish(raw: Raw) -> Result<TransferRecord, StoreError> {
    let (mut record, [wi, wd, di, dd, ri, rd], state, created, updated) = raw;
    record.state = TransferState::parse(&state).ok_or(StoreError::Corrupt("transfer state"))?;
    record.withdraw = leg(wi, wd)?;
    record.deposit = leg(di, dd)?;
    record.refund = leg(ri, rd)?;
    let time = |t: String| {
        DateTime::parse_from_rfc3339(&t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| StoreError::Corrupt("time"))
    };
    record.created_at = time(created)?;
    record.updated_at = time(updated)?;
    Ok(record)
}

/// A change to a journaled transfer.
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// The new state.
    pub state: Option<TransferState>,
    /// Journal a withdraw call.
    pub withdraw: Option<LegId>,
    /// Journal a deposit call (or, with `clear_deposit`, forget the last one).
    pub deposit: Option<LegId>,
    /// Forget the last deposit call: it did not happen, a new one may be made.
    pub clear_deposit: bool,
    /// Journal a refund call.
    pub refund: Option<LegId>,
    /// Forget the last refund call: it did not happen, a new one may be made.
    pub clear_refund: bool,
    /// Why it failed or is refunding.
    pub failure: Option<(String, String)>,
}

impl Store {
    /// Journals a new transfer in state `created`.
    pub fn create_transfer(
        &self,
        t: &NewTransfer,
        now: DateTime<Utc>,
    ) -> Result<TransferRecord, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        self.lock().execute(
            "INSERT INTO transfers (id, environment_id, from_account, to_account, to_bank_code,
                to_account_num, to_holder_name, amount, memo, state, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'created', ?10, ?10)",
            params![
                id,
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
        self.transfer(&id)?.ok_or(StoreError::Corrupt("transfer"))
    }

    /// Applies `change` to transfer `id`, durably, and returns the transfer as it now stands.
    pub fn update_transfer(
        &self,
        id: &str,
        change: &Change,
        now: DateTime<Utc>,
    ) -> Result<TransferRecord, StoreError> {
        {
            let conn = self.lock();
            let leg_cols = |l: &Option<LegId>| {
                (
                    l.as_ref().map(|l| l.bank_tran_id.clone()),
                    l.as_ref().map(|l| l.date.to_string()),
                )
            };
            let (wi, wd) = leg_cols(&change.withdraw);
            let (di, dd) = leg_cols(&change.deposit);
            let (ri, rd) = leg_cols(&change.refund);
            let (fc, fm) = match &change.failure {
                Some((c, m)) => (Some(c.clone()), Some(m.clone())),
                None => (None, None),
            };
            conn.execute(
                "UPDATE transfers SET
                    state = COALESCE(?2, state),
                    withdraw_id = COALESCE(?3, withdraw_id), withdraw_date = COALESCE(?4, withdraw_date),
                    deposit_id = CASE WHEN ?7 THEN NULL ELSE COALESCE(?5, deposit_id) END,
                    deposit_date = CASE WHEN ?7 THEN NULL ELSE COALESCE(?6, deposit_date) END,
                    deposit_attempts = deposit_attempts + (?5 IS NOT NULL),
                    refund_id = CASE WHEN ?10 THEN NULL ELSE COALESCE(?8, refund_id) END,
                    refund_date = CASE WHEN ?10 THEN NULL ELSE COALESCE(?9, refund_date) END,
                    failure_code = COALESCE(?11, failure_code),
                    failure_message = COALESCE(?12, failure_message),
                    updated_at = ?13
                 WHERE id = ?1",
                params![id, change.state.map(TransferState::as_str), wi, wd, di, dd, change.clear_deposit, ri, rd, change.clear_refund, fc, fm, ts(&now)],
            )?;
        }
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

    /// Transfers that have not ended, oldest first: what to resume at start.
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

    /// What left an account by transfer since `since`, counting transfers still under way: the
    /// part of the daily limit already used.
    pub fn transferred_since(
        &self,
        from_account_env: i64,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        Ok(self.lock().query_row(
            "SELECT COALESCE(SUM(amount), 0) FROM transfers
             WHERE environment_id = ?1 AND created_at >= ?2 AND state NOT IN ('failed', 'refunded')",
            params![from_account_env, ts(&since)],
            |r| r.get(0),
        )?)
    }
}
