//! The transfer journal: one row per transfer, written before every call the saga makes, so that
//! a crash at any point leaves enough to finish the transfer without applying any leg twice.
//!
//! Every change is a transition of the saga's state table ([`TransferState::may_become`]),
//! written only if the row still stands where the writer last read it (`state` and `version`),
//! with its audit line in the same transaction.

use chrono::{DateTime, NaiveDate, Utc};
use moa_openbanking::BankCode;
use serde::{Deserialize, Serialize};

use super::audit::audit_on;
use super::claims::Claim;
use super::db::{Row, Tx, params};
use super::{Result, Store, StoreError, ts};

/// Where a transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
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
    /// Every state, in the saga's order.
    pub const ALL: [TransferState; 8] = [
        Self::Created,
        Self::Withdrawing,
        Self::Withdrawn,
        Self::Depositing,
        Self::Completed,
        Self::Refunding,
        Self::Refunded,
        Self::Failed,
    ];

    /// The name stored and sent.
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

    /// The state named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }

    /// Whether the transfer has ended.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Refunded | Self::Failed)
    }

    /// The saga's state table: whether a transfer in `self` may move to `next`. Staying in the
    /// same state (journaling a call, forgetting one that never happened) is always allowed
    /// for a state that is not final.
    ///
    /// | from        | to                                        |
    /// |-------------|-------------------------------------------|
    /// | created     | withdrawing, failed                       |
    /// | withdrawing | withdrawn, failed                         |
    /// | withdrawn   | depositing, refunding                     |
    /// | depositing  | completed, withdrawn (deposit not applied), refunding |
    /// | refunding   | refunded                                  |
    pub fn may_become(self, next: TransferState) -> bool {
        use TransferState::*;
        if self == next {
            return !self.is_final();
        }
        matches!(
            (self, next),
            (Created, Withdrawing | Failed)
                | (Withdrawing, Withdrawn | Failed)
                | (Withdrawn, Depositing | Refunding)
                | (Depositing, Completed | Withdrawn | Refunding)
                | (Refunding, Refunded)
        )
    }
}

/// The three kinds of call that move money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegKind {
    /// From the source account into the collection account, with the person's token.
    Withdraw,
    /// From the payout account into the target account, with the `oob` token.
    Deposit,
    /// From the payout account back into the source account, with the `oob` token.
    Refund,
}

impl LegKind {
    /// The name stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Withdraw => "withdraw",
            Self::Deposit => "deposit",
            Self::Refund => "refund",
        }
    }
}

/// A leg's call as journaled: its `bank_tran_id` and business date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegId {
    /// The `bank_tran_id` sent.
    pub bank_tran_id: String,
    /// The business date it is filed under: the center's own once it said so, else the Korean
    /// day the saga sent it.
    pub date: NaiveDate,
    /// Whether `date` is the center's own word. Until it is, the center may have filed the call
    /// on the day after `date` (sent just before its midnight, or by a clock running behind it).
    pub dated_by_center: bool,
}

impl LegId {
    /// A call about to be sent on `date` (the sender's Korean day).
    pub fn sent(bank_tran_id: &str, date: NaiveDate) -> Self {
        Self {
            bank_tran_id: bank_tran_id.to_owned(),
            date,
            dated_by_center: false,
        }
    }

    /// The business dates the center may have filed the call under: its own when it said so,
    /// else the day it was sent and the days either side (either clock may be a little off).
    pub fn candidate_dates(&self) -> Vec<NaiveDate> {
        if self.dated_by_center {
            return vec![self.date];
        }
        [Some(self.date), self.date.succ_opt(), self.date.pred_opt()]
            .into_iter()
            .flatten()
            .collect()
    }

    /// The latest business date the center may have filed the call under.
    pub fn latest_date(&self) -> NaiveDate {
        if self.dated_by_center {
            self.date
        } else {
            self.date.succ_opt().unwrap_or(self.date)
        }
    }
}

/// A transfer as the person asked for it, with the institution's accounts it passes through:
/// what [`Store::create_transfer`] journals, and what every [`TransferRecord`] carries from then
/// on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferOrder {
    /// Whose it is.
    pub person_id: i64,
    /// The app's idempotency key.
    pub idempotency_key: String,
    /// A hash of the request it was made from: the same key with another body is refused.
    pub request_hash: String,
    /// Source account row id.
    pub from_account: i64,
    /// Target account row id, when it is one of the person's own.
    pub to_account: Option<i64>,
    /// Target bank code.
    pub to_bank_code: BankCode,
    /// Target account number, for another person's account (empty for own accounts).
    pub to_account_num: String,
    /// The recipient's name as the receive check gave it.
    pub to_holder_name: String,
    /// Whole won, above zero.
    pub amount: i64,
    /// The person's memo.
    pub memo: String,
    /// The institution's collection account when the transfer was made (withdraws go there).
    pub collection_account: String,
    /// The institution's payout account when the transfer was made (deposits come from it).
    pub payout_account: String,
}

/// One transfer as the journal holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRecord {
    /// Its id (a UUID).
    pub id: String,
    /// What was asked.
    pub order: TransferOrder,
    /// Where it stands.
    pub state: TransferState,
    /// Bumped by every change: a writer that read an older version is refused.
    pub version: i64,
    /// The withdraw call, once journaled.
    pub withdraw: Option<LegId>,
    /// The latest deposit call, once journaled.
    pub deposit: Option<LegId>,
    /// The latest refund call, once journaled.
    pub refund: Option<LegId>,
    /// Deposit calls made so far.
    pub deposit_attempts: u32,
    /// Questions asked about the leg now out without learning its outcome.
    pub checks: u32,
    /// When to ask about the leg out next; `None` when nothing waits.
    pub next_check_at: Option<DateTime<Utc>>,
    /// Why it failed or is being refunded: a stable code.
    pub failure_code: Option<String>,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A new transfer for the journal.
#[derive(Debug, Clone)]
pub struct NewTransfer {
    /// What is asked.
    pub order: TransferOrder,
    /// Refuse the transfer when what left the person's accounts since `.0`, with this one,
    /// would pass `.1` won: checked in the transaction that journals it, so transfers made side
    /// by side cannot pass the limit together.
    pub daily_limit: Option<(DateTime<Utc>, i64)>,
}

/// A change to a journaled transfer.
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// The new state.
    pub state: Option<TransferState>,
    /// Journal a withdraw call.
    pub withdraw: Option<LegId>,
    /// Journal a deposit call.
    pub deposit: Option<LegId>,
    /// Forget the last deposit call: it did not happen, a new one may be made.
    pub clear_deposit: bool,
    /// Journal a refund call.
    pub refund: Option<LegId>,
    /// Forget the last refund call: it did not happen, a new one may be made.
    pub clear_refund: bool,
    /// Why it failed or is refunding: a stable code.
    pub failure: Option<String>,
    /// The business date the center filed a leg under, as it said.
    pub dated: Option<(LegKind, NaiveDate)>,
    /// The leg out is still unknown: count the question and ask next at this time.
    pub ask_again_at: Option<DateTime<Utc>>,
}

/// One call to the center about a transfer, for the append-only call log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// The transfer it was about.
    pub transfer_id: String,
    /// The leg.
    pub leg: LegKind,
    /// `send` (the leg itself) or `result` (a `transfer/result` question about it).
    pub call: &'static str,
    /// The leg's `bank_tran_id`.
    pub bank_tran_id: String,
    /// The business date sent under or asked about.
    pub date: NaiveDate,
    /// What was asked, without account numbers.
    pub request: String,
    /// What came back: `rsp_code[/bank_rsp_code]`, or why nothing did.
    pub answer: String,
    /// When the answer (or its absence) was known.
    pub at: DateTime<Utc>,
}

fn leg(id: Option<String>, date: Option<String>, dated: bool) -> Result<Option<LegId>> {
    match (id, date) {
        (Some(bank_tran_id), Some(date)) => Ok(Some(LegId {
            bank_tran_id,
            date: date.parse().map_err(|_| StoreError::Corrupt("date"))?,
            dated_by_center: dated,
        })),
        _ => Ok(None),
    }
}

/// The columns [`record`] reads, in its order.
const COLUMNS: &str = "id, person_id, idempotency_key, request_hash, from_account, to_account,
    to_bank_code, to_account_num, to_holder_name, amount, memo, state, version, withdraw_id,
    withdraw_date, deposit_id, deposit_date, refund_id, refund_date, deposit_attempts,
    failure_code, created_at, updated_at, withdraw_dated, deposit_dated, refund_dated, checks,
    next_check_at, collection_account, payout_account";

/// The transfer in a row of [`COLUMNS`].
fn record(r: &Row) -> Result<TransferRecord> {
    let state = r.text(11)?;
    let time = |i: usize| -> Result<DateTime<Utc>> {
        super::parse_ts(Some(r.text(i)?))?.ok_or(StoreError::Corrupt("time"))
    };
    Ok(TransferRecord {
        id: r.text(0)?,
        order: TransferOrder {
            person_id: r.i64(1)?,
            idempotency_key: r.text(2)?,
            request_hash: r.text(3)?,
            from_account: r.i64(4)?,
            to_account: r.opt_i64(5)?,
            to_bank_code: BankCode::parse(&r.text(6)?)
                .map_err(|_| StoreError::Corrupt("to_bank_code"))?,
            to_account_num: r.text(7)?,
            to_holder_name: r.text(8)?,
            amount: r.i64(9)?,
            memo: r.text(10)?,
            collection_account: r.text(28)?,
            payout_account: r.text(29)?,
        },
        state: TransferState::parse(&state).ok_or(StoreError::Corrupt("transfer state"))?,
        version: r.i64(12)?,
        withdraw: leg(r.opt_text(13)?, r.opt_text(14)?, r.flag(23)?)?,
        deposit: leg(r.opt_text(15)?, r.opt_text(16)?, r.flag(24)?)?,
        refund: leg(r.opt_text(17)?, r.opt_text(18)?, r.flag(25)?)?,
        deposit_attempts: u32::try_from(r.i64(19)?).map_err(|_| StoreError::Corrupt("count"))?,
        failure_code: r.opt_text(20)?,
        created_at: time(21)?,
        updated_at: time(22)?,
        checks: u32::try_from(r.i64(26)?).map_err(|_| StoreError::Corrupt("count"))?,
        next_check_at: super::parse_ts(r.opt_text(27)?)?,
    })
}

fn records(rows: Vec<Row>) -> Result<Vec<TransferRecord>> {
    rows.iter().map(record).collect()
}

/// Why a journal write was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The transition is not in the saga's state table.
    #[error("a transfer may not move from {from} to {to}")]
    Forbidden {
        /// Where it stands.
        from: &'static str,
        /// Where the writer wanted it.
        to: &'static str,
    },
    /// Someone else changed the transfer since the writer read it.
    #[error("the transfer changed under the writer")]
    Stale,
    /// The writer's claim on the transfer is no longer the live one: another replica claimed
    /// it since (or, writing without a claim, one holds it now).
    #[error("the writer no longer holds the transfer's claim")]
    Fenced,
}

impl From<rusqlite::Error> for JournalError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(e.into())
    }
}

impl Store {
    /// Journals a new transfer in state `created`, or returns the one the person already made
    /// with the same idempotency key (`false`: not new). `None` when the new transfer would
    /// pass its daily limit: nothing is journaled.
    pub async fn create_transfer(
        &self,
        t: &NewTransfer,
        now: DateTime<Utc>,
    ) -> Result<Option<(TransferRecord, bool)>> {
        let order = &t.order;
        let id = uuid::Uuid::new_v4().to_string();
        let at = ts(&now);
        let mut tx = self.db().begin().await?;
        if self.db().is_postgres() {
            // PostgreSQL reads what others committed before each statement: without this lock
            // two transfers made side by side (on two replicas, or two tasks of one) would each
            // count the day without the other and pass the limit together. SQLite's write
            // transaction holds the whole file already.
            tx.query(
                "SELECT id FROM people WHERE id = ?1 FOR UPDATE",
                params![order.person_id],
            )
            .await?;
        }
        let known = tx
            .query_opt(
                "SELECT id FROM transfers WHERE person_id = ?1 AND idempotency_key = ?2",
                params![order.person_id, order.idempotency_key.as_str()],
            )
            .await?;
        if known.is_none()
            && let Some((since, limit)) = t.daily_limit
            && transferred_since_on(&mut tx, order.person_id, since)
                .await?
                .saturating_add(order.amount)
                > limit
        {
            return Ok(None);
        }
        let inserted = tx
            .execute(
                "INSERT INTO transfers (id, person_id, idempotency_key, request_hash, from_account,
                    to_account, to_bank_code, to_account_num, to_holder_name, amount, memo, state,
                    version, created_at, updated_at, collection_account, payout_account)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'created', 0, ?12, ?12,
                    ?13, ?14)
                 ON CONFLICT (person_id, idempotency_key) DO NOTHING",
                params![
                    id.as_str(),
                    order.person_id,
                    order.idempotency_key.as_str(),
                    order.request_hash.as_str(),
                    order.from_account,
                    order.to_account,
                    order.to_bank_code.as_str(),
                    order.to_account_num.as_str(),
                    order.to_holder_name.as_str(),
                    order.amount,
                    order.memo.as_str(),
                    at.as_str(),
                    order.collection_account.as_str(),
                    order.payout_account.as_str()
                ],
            )
            .await?
            == 1;
        if inserted {
            let detail = format!("created: {} won", order.amount);
            audit_on(&mut tx, "transfer", &id, &detail, now).await?;
        }
        tx.commit().await?;
        let found = if inserted {
            self.transfer(&id).await?
        } else {
            self.transfer_by_key(order.person_id, &order.idempotency_key)
                .await?
        };
        Ok(Some((
            found.ok_or(StoreError::Corrupt("transfer"))?,
            inserted,
        )))
    }

    /// Applies `change` to a transfer no replica has claimed, as the writer read it: refused
    /// unless the transition is in the state table and the row still has the version read
    /// ([`JournalError::Fenced`] while a claim is held). The audit line commits with it.
    pub async fn update_transfer(
        &self,
        record: &TransferRecord,
        change: &Change,
        now: DateTime<Utc>,
    ) -> std::result::Result<TransferRecord, JournalError> {
        self.update(record, change, now, None).await
    }

    /// As [`Store::update_transfer`], by the holder of `claim`: refused with
    /// [`JournalError::Fenced`] unless the claim is still the transfer's live one; the claim's
    /// lease is renewed in the same write.
    pub async fn update_claimed(
        &self,
        claim: &Claim,
        record: &TransferRecord,
        change: &Change,
        now: DateTime<Utc>,
    ) -> std::result::Result<TransferRecord, JournalError> {
        self.update(record, change, now, Some(claim)).await
    }

    async fn update(
        &self,
        record: &TransferRecord,
        change: &Change,
        now: DateTime<Utc>,
        claim: Option<&Claim>,
    ) -> std::result::Result<TransferRecord, JournalError> {
        let next = change.state.unwrap_or(record.state);
        if !record.state.may_become(next) {
            return Err(JournalError::Forbidden {
                from: record.state.as_str(),
                to: next.as_str(),
            });
        }
        let leg_cols = |l: &Option<LegId>| {
            (
                l.as_ref().map(|l| l.bank_tran_id.clone()),
                l.as_ref().map(|l| l.date.to_string()),
            )
        };
        let (wi, wd) = leg_cols(&change.withdraw);
        let (di, dd) = leg_cols(&change.deposit);
        let (ri, rd) = leg_cols(&change.refund);
        let dated = |kind: LegKind| {
            change
                .dated
                .filter(|(k, _)| *k == kind)
                .map(|(_, d)| d.to_string())
        };
        let (dated_w, dated_d, dated_r) = (
            dated(LegKind::Withdraw),
            dated(LegKind::Deposit),
            dated(LegKind::Refund),
        );
        let ask_again_at = change.ask_again_at.as_ref().map(ts);
        // A new state or a new call out starts its questions afresh.
        let fresh = change.state.is_some_and(|s| s != record.state)
            || change.withdraw.is_some()
            || change.deposit.is_some()
            || change.refund.is_some()
            || change.clear_deposit
            || change.clear_refund;
        let at = ts(&now);
        let fence = claim.map(|c| c.fence);
        let lease_until = claim.map(|c| c.until(now));
        let mut tx = self.db().begin().await?;
        let changed = tx
            .execute(
                "UPDATE transfers SET
                    state = ?2,
                    version = version + 1,
                    withdraw_id = COALESCE(?3, withdraw_id),
                    withdraw_date = COALESCE(?15, ?4, withdraw_date),
                    deposit_id = CASE WHEN ?7 THEN NULL ELSE COALESCE(?5, deposit_id) END,
                    deposit_date = CASE WHEN ?7 THEN NULL
                                        ELSE COALESCE(?16, ?6, deposit_date) END,
                    deposit_attempts = deposit_attempts
                                       + CASE WHEN CAST(?5 AS TEXT) IS NOT NULL THEN 1 ELSE 0 END,
                    refund_id = CASE WHEN ?10 THEN NULL ELSE COALESCE(?8, refund_id) END,
                    refund_date = CASE WHEN ?10 THEN NULL
                                       ELSE COALESCE(?17, ?9, refund_date) END,
                    failure_code = COALESCE(?11, failure_code),
                    updated_at = ?12,
                    withdraw_dated = CASE WHEN CAST(?15 AS TEXT) IS NOT NULL THEN 1
                                          WHEN CAST(?3 AS TEXT) IS NOT NULL THEN 0 ELSE withdraw_dated END,
                    deposit_dated = CASE WHEN CAST(?16 AS TEXT) IS NOT NULL THEN 1
                                         WHEN CAST(?5 AS TEXT) IS NOT NULL OR ?7 THEN 0 ELSE deposit_dated END,
                    refund_dated = CASE WHEN CAST(?17 AS TEXT) IS NOT NULL THEN 1
                                        WHEN CAST(?8 AS TEXT) IS NOT NULL OR ?10 THEN 0 ELSE refund_dated END,
                    checks = CASE WHEN CAST(?18 AS TEXT) IS NOT NULL THEN checks + 1
                                  WHEN ?19 THEN 0 ELSE checks END,
                    next_check_at = CASE WHEN CAST(?18 AS TEXT) IS NOT NULL THEN CAST(?18 AS TEXT)
                                         WHEN ?19 THEN NULL ELSE next_check_at END,
                    lease_until = CASE WHEN CAST(?20 AS BIGINT) IS NULL THEN lease_until
                                       ELSE CAST(?21 AS TEXT) END
                 WHERE id = ?1 AND state = ?13 AND version = ?14
                   AND ((CAST(?20 AS BIGINT) IS NULL AND claimed_by IS NULL)
                        OR (claimed_by IS NOT NULL AND fence = CAST(?20 AS BIGINT)))",
                params![
                    record.id.as_str(),
                    next.as_str(),
                    &wi,
                    &wd,
                    &di,
                    &dd,
                    change.clear_deposit,
                    &ri,
                    &rd,
                    change.clear_refund,
                    &change.failure,
                    at.as_str(),
                    record.state.as_str(),
                    record.version,
                    &dated_w,
                    &dated_d,
                    &dated_r,
                    &ask_again_at,
                    fresh,
                    fence,
                    &lease_until
                ],
            )
            .await?;
        if changed != 1 {
            drop(tx);
            return Err(self.why_refused(record, claim).await?);
        }
        if change.state.is_some() {
            let detail = match &change.failure {
                Some(code) => format!("{} ({code})", next.as_str()),
                None => next.as_str().to_owned(),
            };
            audit_on(&mut tx, "transfer", &record.id, &detail, now).await?;
        }
        tx.commit().await?;
        Ok(self
            .transfer(&record.id)
            .await?
            .ok_or(StoreError::Corrupt("transfer"))?)
    }

    /// One transfer.
    pub async fn transfer(&self, id: &str) -> Result<Option<TransferRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM transfers WHERE id = ?1");
        self.db()
            .query_opt(&sql, params![id])
            .await?
            .map(|r| record(&r))
            .transpose()
    }

    /// The person's transfer made with `key`.
    pub async fn transfer_by_key(
        &self,
        person_id: i64,
        key: &str,
    ) -> Result<Option<TransferRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM transfers WHERE person_id = ?1 AND idempotency_key = ?2"
        );
        self.db()
            .query_opt(&sql, params![person_id, key])
            .await?
            .map(|r| record(&r))
            .transpose()
    }

    /// A person's transfers, newest first.
    pub async fn transfers(&self, person_id: i64, limit: u32) -> Result<Vec<TransferRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM transfers WHERE person_id = ?1
             ORDER BY created_at DESC, seq DESC LIMIT ?2"
        );
        records(
            self.db()
                .query(&sql, params![person_id, i64::from(limit)])
                .await?,
        )
    }

    /// Transfers that have not ended, oldest first: what to resume.
    pub async fn open_transfers(&self) -> Result<Vec<TransferRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM transfers
             WHERE state NOT IN ('completed', 'refunded', 'failed') ORDER BY created_at, seq"
        );
        records(self.db().query(&sql, &[]).await?)
    }

    /// Every transfer, oldest first: for audits, which compare the journal with the center.
    pub async fn every_transfer(&self) -> Result<Vec<TransferRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM transfers ORDER BY created_at, seq");
        records(self.db().query(&sql, &[]).await?)
    }

    /// Open transfers with something to do at `now`: every one, except those waiting to ask
    /// about a leg again later.
    pub async fn due_transfers(&self, now: DateTime<Utc>) -> Result<Vec<TransferRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM transfers
             WHERE state NOT IN ('completed', 'refunded', 'failed')
               AND (next_check_at IS NULL OR next_check_at <= ?1)
             ORDER BY created_at, seq"
        );
        let now = ts(&now);
        records(self.db().query(&sql, params![now.as_str()]).await?)
    }

    /// Why a journal write matched no row: the writer's claim is not the live one, or the
    /// transfer moved since it was read.
    async fn why_refused(
        &self,
        record: &TransferRecord,
        claim: Option<&Claim>,
    ) -> Result<JournalError> {
        let claimed = self
            .db()
            .query_opt(
                "SELECT claimed_by IS NOT NULL, fence FROM transfers WHERE id = ?1",
                params![record.id.as_str()],
            )
            .await?;
        let Some(row) = claimed else {
            return Ok(JournalError::Stale);
        };
        let (held, fence) = (row.flag(0)?, row.i64(1)?);
        let live = match claim {
            Some(claim) => held && fence == claim.fence,
            None => !held,
        };
        Ok(if live {
            JournalError::Stale
        } else {
            JournalError::Fenced
        })
    }

    /// Appends a call to the transfer's call log, by the holder of `claim`, with that claim's fence
    /// and replica: refused with [`JournalError::Fenced`] unless the claim is still the
    /// transfer's live one.
    pub async fn record_call(
        &self,
        claim: &Claim,
        call: &CallRecord,
    ) -> std::result::Result<(), JournalError> {
        let (date, at) = (call.date.to_string(), ts(&call.at));
        let logged = self
            .db()
            .execute(
                "INSERT INTO transfer_calls (transfer_id, leg, call, bank_tran_id, date, request,
                    answer, at, fence, replica)
                 SELECT CAST(?1 AS TEXT), CAST(?2 AS TEXT), CAST(?3 AS TEXT), CAST(?4 AS TEXT),
                        CAST(?5 AS TEXT), CAST(?6 AS TEXT), CAST(?7 AS TEXT), CAST(?8 AS TEXT),
                        fence, claimed_by
                 FROM transfers
                 WHERE id = ?1 AND fence = ?9 AND claimed_by IS NOT NULL",
                params![
                    call.transfer_id.as_str(),
                    call.leg.as_str(),
                    call.call,
                    call.bank_tran_id.as_str(),
                    date.as_str(),
                    call.request.as_str(),
                    call.answer.as_str(),
                    at.as_str(),
                    claim.fence
                ],
            )
            .await?;
        if logged != 1 {
            return Err(JournalError::Fenced);
        }
        Ok(())
    }

    /// Every call made about a transfer, oldest first.
    pub async fn calls(&self, transfer_id: &str) -> Result<Vec<CallRecord>> {
        self.db()
            .query(
                "SELECT leg, call, bank_tran_id, date, request, answer, at FROM transfer_calls
                 WHERE transfer_id = ?1 ORDER BY id",
                params![transfer_id],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(CallRecord {
                    transfer_id: transfer_id.to_owned(),
                    leg: match r.text(0)?.as_str() {
                        "withdraw" => LegKind::Withdraw,
                        "deposit" => LegKind::Deposit,
                        "refund" => LegKind::Refund,
                        _ => return Err(StoreError::Corrupt("call leg")),
                    },
                    call: if r.text(1)? == "send" {
                        "send"
                    } else {
                        "result"
                    },
                    bank_tran_id: r.text(2)?,
                    date: r
                        .text(3)?
                        .parse()
                        .map_err(|_| StoreError::Corrupt("date"))?,
                    request: r.text(4)?,
                    answer: r.text(5)?,
                    at: super::parse_ts(Some(r.text(6)?))?.ok_or(StoreError::Corrupt("time"))?,
                })
            })
            .collect()
    }

    /// What left the person's accounts by transfer since `since`, counting transfers still
    /// under way: the part of the daily limit already used.
    pub async fn transferred_since(&self, person_id: i64, since: DateTime<Utc>) -> Result<i64> {
        let mut tx = self.db().begin().await?;
        let used = transferred_since_on(&mut tx, person_id, since).await?;
        tx.commit().await?;
        Ok(used)
    }

    /// How many transfers stand in each state: the `/metrics` gauge.
    pub async fn transfers_by_state(&self) -> Result<Vec<(String, u64)>> {
        self.db()
            .query(
                "SELECT state, COUNT(*) FROM transfers GROUP BY state ORDER BY state",
                &[],
            )
            .await?
            .iter()
            .map(|r| Ok((r.text(0)?, r.i64(1)?.max(0) as u64)))
            .collect()
    }
}

async fn transferred_since_on(
    tx: &mut Tx<'_>,
    person_id: i64,
    since: DateTime<Utc>,
) -> Result<i64> {
    let since = ts(&since);
    tx.query_opt(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM transfers
         WHERE person_id = ?1 AND created_at >= ?2 AND state NOT IN ('failed', 'refunded')",
        params![person_id, since.as_str()],
    )
    .await?
    .map(|r| r.i64(0))
    .transpose()
    .map(Option::unwrap_or_default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_table_allows_the_sagas_moves_and_nothing_else() {
        use TransferState::*;
        let allowed: Vec<(TransferState, TransferState)> = TransferState::ALL
            .into_iter()
            .flat_map(|a| TransferState::ALL.into_iter().map(move |b| (a, b)))
            .filter(|(a, b)| a != b && a.may_become(*b))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Created, Withdrawing),
                (Created, Failed),
                (Withdrawing, Withdrawn),
                (Withdrawing, Failed),
                (Withdrawn, Depositing),
                (Withdrawn, Refunding),
                (Depositing, Withdrawn),
                (Depositing, Completed),
                (Depositing, Refunding),
                (Refunding, Refunded),
            ]
        );
        for end in [Completed, Refunded, Failed] {
            assert!(TransferState::ALL.into_iter().all(|s| !end.may_become(s)));
        }
    }
}
