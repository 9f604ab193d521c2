//! Sync: every account's balance asked side by side (bounded per bank and overall, each call with
//! its own timeout) and written to the store as the answers arrive, and each account's history
//! fetched incrementally with an overlap and merged into the store.
//!
//! A refresh never fails as a whole because one bank does: each account ends
//! [`BalanceOutcome::Fresh`] or [`BalanceOutcome::Stale`] with a stable [`StaleCode`], and a stale
//! account keeps its last good balance. What a failure means is decided by pure functions
//! ([`StaleCode::of_center`], [`StaleReason::of`]) so that it can be tested without a center.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Months, NaiveDate, SubsecRound, TimeDelta, Utc};
use moa_openbanking::account::{BalanceRequest, TransactionQuery};
use moa_openbanking::fields::SortOrder;
use moa_openbanking::{BankRspCode, Client, FintechUseNum, Lang, RspCode, RspKind, TransportKind};
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::Moa;
use crate::center::Center;
use crate::error::{Error, Result};
use crate::store::{AccountRecord, HistoryRow, Store};

/// How much a sync may do at once, and how long it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncLimits {
    /// Calls in flight to one bank at most: a slow bank is not asked more while it struggles.
    pub per_bank: usize,
    /// Calls in flight in all. Everything goes to one host (the center); a person rarely has
    /// more than two dozen accounts, so by default they are all asked at once.
    pub overall: usize,
    /// How long each call waits for its answer before the account is marked stale (`timeout`).
    pub call_timeout: Duration,
    /// History pages one account's sync fetches at most; the rest waits for the next sync.
    pub history_pages: u32,
    /// Accounts whose history is fetched at the same time by [`Moa::sync_all_history`].
    pub history_accounts: usize,
}

impl Default for SyncLimits {
    fn default() -> Self {
        Self {
            per_bank: 3,
            overall: 24,
            call_timeout: Duration::from_secs(8),
            // 2,000 pages of 25 rows: 50,000 rows, years of a busy account.
            history_pages: 2_000,
            history_accounts: 4,
        }
    }
}

/// Why an account's balance (or history) could not be refreshed: a stable code the UI
/// translates, never parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StaleCode {
    /// The bank is in outage (status `D`), or refused with `499` for a reason the center does not
    /// give.
    BankDown,
    /// The bank has not opened yet (status `L`, e.g. its nightly window).
    BankNotOpen,
    /// The bank's service has ended (status `E`).
    BankTerminated,
    /// No answer in time: our timer, or the center's (`A0007`) or the bank's (`A0017`).
    Timeout,
    /// The center could not be reached, or the connection broke.
    Network,
    /// The person never gave inquiry consent for the account (`A0305`).
    ConsentMissing,
    /// The inquiry consent ran out (`A0316`): the person must register the account again.
    ConsentExpired,
    /// The center refused the person's token even after a refresh, or the refresh token is gone:
    /// the person must register again.
    AuthExpired,
    /// The bank refused; its `bank_rsp_code` says why.
    BankRefused,
    /// The center no longer knows the account as the person's (`A0304`, `A0323`).
    AccountUnregistered,
    /// The center's answer could not be read.
    CenterUnreadable,
    /// The center refused for another reason; its `rsp_code` says which.
    CenterRefused,
    /// Something on this side failed (the local store, the vault).
    Internal,
}

impl StaleCode {
    /// The code as stored and sent to the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BankDown => "bank_down",
            Self::BankNotOpen => "bank_not_open",
            Self::BankTerminated => "bank_terminated",
            Self::Timeout => "timeout",
            Self::Network => "network",
            Self::ConsentMissing => "consent_missing",
            Self::ConsentExpired => "consent_expired",
            Self::AuthExpired => "auth_expired",
            Self::BankRefused => "bank_refused",
            Self::AccountUnregistered => "account_unregistered",
            Self::CenterUnreadable => "center_unreadable",
            Self::CenterRefused => "center_refused",
            Self::Internal => "internal",
        }
    }

    /// What a failure of the center's client means for an account, given what `bank/status`
    /// says of its bank when that is known.
    pub fn of_center(error: &moa_openbanking::Error, bank: Option<BankState>) -> Self {
        use moa_openbanking::Error as E;
        match error {
            E::Transport {
                kind: TransportKind::Timeout,
                ..
            } => Self::Timeout,
            E::Transport { .. } => Self::Network,
            E::Http { .. } | E::Decode { .. } | E::Protocol { .. } => Self::CenterUnreadable,
            E::Center(c) => match (&c.code, c.kind()) {
                (RspCode::A0305, _) => Self::ConsentMissing,
                (RspCode::A0316, _) => Self::ConsentExpired,
                (_, RspKind::Consent) => Self::ConsentMissing,
                (_, RspKind::TokenExpired | RspKind::TokenRejected | RspKind::Auth) => {
                    Self::AuthExpired
                }
                (_, RspKind::OutcomeUnknown) => Self::Timeout,
                (_, RspKind::Mismatch) => Self::AccountUnregistered,
                (_, RspKind::BankError) => {
                    let contact_branch = matches!(
                        c.bank.as_ref().map(|b| &b.code),
                        Some(BankRspCode::ContactBranch) | None
                    );
                    match bank {
                        Some(BankState::Down) => Self::BankDown,
                        Some(BankState::NotOpen) => Self::BankNotOpen,
                        Some(BankState::Terminated) => Self::BankTerminated,
                        _ if contact_branch => Self::BankDown,
                        _ => Self::BankRefused,
                    }
                }
                _ => Self::CenterRefused,
            },
            _ => Self::Internal,
        }
    }
}

impl std::fmt::Display for StaleCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an account is stale: the code, the center's or bank's own words, and their codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleReason {
    /// The stable code.
    pub code: StaleCode,
    /// The bank's message, else the center's, else a Korean sentence for the code. Never a
    /// token or a request's data.
    pub message: String,
    /// The center's `rsp_code`, when it answered.
    pub rsp_code: Option<String>,
    /// The bank's `bank_rsp_code`, when the answer carried a failing one.
    pub bank_rsp_code: Option<String>,
}

impl StaleReason {
    /// The reason for a failure of the core (a center's refusal, a lost token, the store).
    pub fn of(error: &Error, bank: Option<BankState>) -> Self {
        match error {
            Error::Center(e) => Self::of_center(e, bank),
            Error::NotRegistered => Self {
                code: StaleCode::AuthExpired,
                message: "동의 기간이 끝났습니다. 계좌를 다시 등록하세요".into(),
                rsp_code: None,
                bank_rsp_code: None,
            },
            // The core's own words are for logs; a person is told only that it failed here.
            other => Self {
                code: StaleCode::Internal,
                message: format!("모아 내부 오류 ({})", other.code()),
                rsp_code: None,
                bank_rsp_code: None,
            },
        }
    }

    /// The reason for a failure of the center's client.
    pub fn of_center(error: &moa_openbanking::Error, bank: Option<BankState>) -> Self {
        let code = StaleCode::of_center(error, bank);
        let center = error.center();
        let bank_reply = center.and_then(|c| c.bank.as_ref());
        let message = bank_reply
            .map(|b| b.message.trim())
            .filter(|m| !m.is_empty())
            .or_else(|| center.map(|c| c.message.trim()).filter(|m| !m.is_empty()))
            .map(str::to_owned)
            .unwrap_or_else(|| error.message(Lang::Ko));
        Self {
            code,
            message,
            rsp_code: center.map(|c| c.code.code().to_owned()),
            bank_rsp_code: bank_reply.map(|b| b.code.code().to_owned()),
        }
    }
}

/// How one account's refresh ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BalanceOutcome {
    /// The bank answered.
    Fresh {
        /// Balance, whole won (negative for an overdraft).
        balance: i64,
        /// What can be withdrawn, when the bank said.
        available: Option<i64>,
        /// When it was read.
        as_of: DateTime<Utc>,
    },
    /// It did not; the last good value stays.
    Stale {
        /// Why.
        reason: StaleReason,
        /// The last good balance, if there ever was one.
        balance: Option<i64>,
        /// When that was read.
        as_of: Option<DateTime<Utc>>,
    },
}

impl BalanceOutcome {
    /// Whether the bank answered.
    pub fn is_fresh(&self) -> bool {
        matches!(self, Self::Fresh { .. })
    }

    /// The stale code, when it did not.
    pub fn stale_code(&self) -> Option<StaleCode> {
        match self {
            Self::Fresh { .. } => None,
            Self::Stale { reason, .. } => Some(reason.code),
        }
    }
}

/// One account's refresh finished: sent as each answer arrives, for "n of N" progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BalanceEvent {
    /// The account.
    pub account_id: i64,
    /// How it ended.
    pub outcome: BalanceOutcome,
    /// Accounts finished so far, this one included (1 to `total`).
    pub done: usize,
    /// Accounts in this refresh.
    pub total: usize,
}

/// What a refresh did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefreshSummary {
    /// Accounts asked.
    pub total: usize,
    /// Accounts that answered.
    pub fresh: usize,
    /// Accounts that did not, by code.
    pub stale: BTreeMap<StaleCode, usize>,
    /// Every account's outcome, in account order.
    pub outcomes: Vec<(i64, BalanceOutcome)>,
    /// How long the whole refresh took.
    pub elapsed: Duration,
}

impl RefreshSummary {
    /// The outcome of `account_id`, if it was refreshed.
    pub fn outcome(&self, account_id: i64) -> Option<&BalanceOutcome> {
        self.outcomes
            .iter()
            .find(|(id, _)| *id == account_id)
            .map(|(_, o)| o)
    }

    /// Accounts that did not answer.
    pub fn stale_count(&self) -> usize {
        self.stale.values().sum()
    }

    /// One line for the audit log: counts and codes, nothing secret.
    fn audit_line(&self) -> String {
        let mut line = format!(
            "{} accounts: {} fresh, {} stale",
            self.total,
            self.fresh,
            self.stale_count()
        );
        if !self.stale.is_empty() {
            let codes: Vec<String> = self
                .stale
                .iter()
                .map(|(code, n)| format!("{code} {n}"))
                .collect();
            line.push_str(&format!(" ({})", codes.join(", ")));
        }
        line.push_str(&format!(" in {} ms", self.elapsed.as_millis()));
        line
    }
}

/// A participating bank's state, as `bank/status` gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BankState {
    /// Takes calls (`Y`).
    Available,
    /// In outage (`D`).
    Down,
    /// Not open yet (`L`).
    NotOpen,
    /// Service ended (`E`).
    Terminated,
    /// A status this version does not know.
    Unknown,
}

impl BankState {
    fn of(status: &moa_openbanking::fields::BankStatus) -> Self {
        use moa_openbanking::fields::BankStatus as S;
        match status {
            S::Available => Self::Available,
            S::Outage => Self::Down,
            S::NotOpened => Self::NotOpen,
            S::Terminated => Self::Terminated,
            _ => Self::Unknown,
        }
    }
}

/// One bank for the UI's status strip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BankStatus {
    /// `bank_code_std`.
    pub bank_code: String,
    /// Its name.
    pub bank_name: String,
    /// Whether it takes calls.
    pub state: BankState,
}

/// What one account's history sync did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistorySynced {
    /// The account.
    pub account_id: i64,
    /// The first day asked for.
    pub from: NaiveDate,
    /// The day the history is now known complete through.
    pub through: NaiveDate,
    /// Pages fetched (each with its own `bank_tran_id`).
    pub pages: u32,
    /// Rows the center sent.
    pub fetched: usize,
    /// Rows new to the store.
    pub inserted: usize,
    /// Rows the store already had (the overlap).
    pub known: usize,
    /// Breaks in the account's after-balance chain after the merge.
    pub gaps: usize,
    /// Whether the page limit cut the fetch short: the rest comes with the next sync.
    pub truncated: bool,
}

/// How one account's history sync ended, in [`Moa::sync_all_history`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HistoryOutcome {
    /// Merged.
    Synced(HistorySynced),
    /// Not fetched; what the store had stays.
    Failed(StaleReason),
}

/// One account's history sync finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEvent {
    /// The account.
    pub account_id: i64,
    /// How it ended.
    pub outcome: HistoryOutcome,
    /// Accounts finished so far, this one included.
    pub done: usize,
    /// Accounts in this sync.
    pub total: usize,
}

/// The first sync reaches this far back.
pub const HISTORY_MONTHS: u32 = 12;
/// Later syncs fetch again from this many days before the last one's end, so rows a bank posts
/// late (dated a day or two back) are not missed.
pub const HISTORY_OVERLAP_DAYS: i64 = 3;

/// The days to fetch: from 12 months back on the first sync, from `synced_through` less the
/// overlap afterwards — never before the first sync's reach, never after today.
pub fn history_window(
    synced_through: Option<NaiveDate>,
    today: NaiveDate,
) -> (NaiveDate, NaiveDate) {
    let earliest = today
        .checked_sub_months(Months::new(HISTORY_MONTHS))
        .unwrap_or(today);
    let from = match synced_through {
        None => earliest,
        Some(day) => (day - TimeDelta::days(HISTORY_OVERLAP_DAYS))
            .max(earliest)
            .min(today),
    };
    (from, today)
}

/// Bounds calls in flight per bank and overall.
struct Gate {
    overall: Arc<Semaphore>,
    banks: HashMap<String, Arc<Semaphore>>,
    per_bank: usize,
}

impl Gate {
    fn new<'a>(limits: &SyncLimits, overall: usize, banks: impl Iterator<Item = &'a str>) -> Self {
        let per_bank = limits.per_bank.max(1);
        Self {
            overall: Arc::new(Semaphore::new(overall.max(1))),
            banks: banks
                .map(|b| (b.to_owned(), Arc::new(Semaphore::new(per_bank))))
                .collect(),
            per_bank,
        }
    }

    /// Waits for a place at the bank first, then overall, so a task queued behind a busy bank
    /// never holds a place another bank could use. The semaphores are never closed, so the
    /// permits are always there.
    async fn enter(
        &self,
        bank: &str,
    ) -> (Option<OwnedSemaphorePermit>, Option<OwnedSemaphorePermit>) {
        let bank = self
            .banks
            .get(bank)
            .cloned()
            .unwrap_or_else(|| Arc::new(Semaphore::new(self.per_bank)));
        let at_bank = bank.acquire_owned().await.ok();
        let overall = self.overall.clone().acquire_owned().await.ok();
        (at_bank, overall)
    }
}

/// What every account's task of one refresh shares.
struct Refresh {
    center: Arc<Center>,
    client: Client,
    store: Store,
    gate: Gate,
    /// `bank/status`, asked once and only when a bank refused.
    banks: OnceCell<HashMap<String, BankState>>,
}

impl Refresh {
    async fn bank_state(&self, code: &str) -> Option<BankState> {
        let banks = self
            .banks
            .get_or_init(|| async {
                match fetch_bank_statuses(&self.center, &self.client).await {
                    Ok(list) => list.into_iter().map(|b| (b.bank_code, b.state)).collect(),
                    Err(error) => {
                        tracing::debug!(%error, "bank/status failed; bank refusals read as outages");
                        HashMap::new()
                    }
                }
            })
            .await;
        banks.get(code).copied()
    }

    /// One account: ask, retry once with a renewed token if the center refused the token, and
    /// write the answer (or the reason there is none) to the store.
    async fn account(&self, account: &AccountRecord) -> Result<BalanceOutcome> {
        let _permits = self.gate.enter(&account.bank_code).await;
        let answer = self.ask(account).await;
        // The store keeps milliseconds: the event says what a later read of the store will.
        let now = self.center.clock().now().trunc_subsecs(3);
        match answer {
            Ok((balance, available, product)) => {
                self.store.record_balance(
                    account.id,
                    balance,
                    available,
                    product.as_deref(),
                    now,
                )?;
                Ok(BalanceOutcome::Fresh {
                    balance,
                    available,
                    as_of: now,
                })
            }
            Err(error) => {
                let bank = match &error {
                    Error::Center(e)
                        if e.rsp_code().map(RspCode::kind) == Some(RspKind::BankError) =>
                    {
                        self.bank_state(&account.bank_code).await
                    }
                    _ => None,
                };
                let reason = StaleReason::of(&error, bank);
                self.store
                    .record_stale(account.id, reason.code.as_str(), &reason.message, now)?;
                let last = self.store.balance(account.id)?;
                Ok(BalanceOutcome::Stale {
                    reason,
                    balance: last.as_ref().and_then(|b| b.balance),
                    as_of: last.and_then(|b| b.as_of),
                })
            }
        }
    }

    async fn ask(&self, account: &AccountRecord) -> Result<(i64, Option<i64>, Option<String>)> {
        let fintech_use_num = FintechUseNum::parse(&account.fintech_use_num)
            .map_err(|_| Error::Invalid("bad_fintech_use_num"))?;
        let mut token = self.center.user_token().await?;
        let mut renewed = false;
        loop {
            let request = BalanceRequest {
                bank_tran_id: self.center.next_bank_tran_id()?,
                fintech_use_num: fintech_use_num.clone(),
            };
            match self.client.balance(&token, &request).await {
                Ok(answer) => {
                    let balance = answer
                        .balance_amt
                        .as_decimal()
                        .to_i64()
                        .ok_or(Error::Invalid("balance_out_of_range"))?;
                    let available = answer.available_amt.and_then(|a| a.as_decimal().to_i64());
                    return Ok((balance, available, answer.product_name));
                }
                Err(e) if e.should_refresh_token() && !renewed => {
                    renewed = true;
                    token = self.center.renew_user_token(&token).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

async fn fetch_bank_statuses(center: &Center, client: &Client) -> Result<Vec<BankStatus>> {
    let mut token = center.oob_token().await?;
    let mut renewed = false;
    let list = loop {
        match client.bank_status(&token).await {
            Ok(list) => break list,
            Err(e) if e.should_refresh_token() && !renewed => {
                renewed = true;
                center.forget_oob_token().await;
                token = center.oob_token().await?;
            }
            Err(e) => return Err(e.into()),
        }
    };
    Ok(list
        .res_list
        .iter()
        .map(|b| BankStatus {
            bank_code: b.bank_code_std.as_str().to_owned(),
            bank_name: b.bank_name.clone(),
            state: BankState::of(&b.bank_status),
        })
        .collect())
}

/// A row as the store keeps it: whole won in `i64`.
fn history_row(row: moa_openbanking::account::Transaction) -> Result<HistoryRow> {
    let won = |d: rust_decimal::Decimal| d.to_i64().ok_or(Error::Invalid("amount_out_of_range"));
    Ok(HistoryRow {
        tran_date: row.tran_date,
        tran_time: row.tran_time,
        inout_type: row.inout_type,
        tran_type: row.tran_type,
        print_content: row.print_content,
        tran_amt: won(row.tran_amt.as_decimal())?,
        after_balance: won(row.after_balance_amt.as_decimal())?,
        branch_name: row.branch_name.unwrap_or_default(),
    })
}

/// One account's history: fetch the window, merge, move `synced_through`.
async fn history_of(
    center: &Center,
    store: &Store,
    limits: &SyncLimits,
    account: &AccountRecord,
) -> Result<HistorySynced> {
    let fintech_use_num = FintechUseNum::parse(&account.fintech_use_num)
        .map_err(|_| Error::Invalid("bad_fintech_use_num"))?;
    let today = center.clock().today_kst();
    let (from, to) = history_window(store.synced_through(account.id)?, today);
    let client = center.client().with_timeout(limits.call_timeout);
    let mut query = TransactionQuery::by_date(fintech_use_num, from, to);
    // Oldest first: when the page limit cuts a fetch short, what was read is a complete run of
    // days from `from`, and the next sync continues after it.
    query.sort_order = SortOrder::Ascending;

    let mut token = center.user_token().await?;
    let mut renewed = false;
    let (mut rows, pages, truncated) = 'fetch: loop {
        let mut pager =
            client.transaction_pages(&token, center.issuer(), query.clone(), limits.history_pages);
        let mut rows = Vec::new();
        while let Some(page) = pager.next_page().await {
            match page {
                Ok(page) => {
                    for row in page.res_list {
                        rows.push(history_row(row)?);
                    }
                }
                // "No data" is an empty history, not a failure.
                Err(e) if e.rsp_code().map(RspCode::kind) == Some(RspKind::NoData) => {}
                Err(e) if e.should_refresh_token() && !renewed => {
                    renewed = true;
                    drop(pager);
                    token = center.renew_user_token(&token).await?;
                    continue 'fetch;
                }
                Err(e) => return Err(e.into()),
            }
        }
        break (rows, pager.pages_fetched(), pager.truncated());
    };

    let through = if truncated {
        // The last day read may be cut in the middle: leave it for the next sync, since the
        // store tells identical rows apart by counting them within whole days.
        let last = rows.iter().map(|r| r.tran_date).max();
        match last {
            Some(last) if last > from => {
                rows.retain(|r| r.tran_date < last);
                Some(last - TimeDelta::days(1))
            }
            _ => None,
        }
    } else {
        Some(to)
    };
    let fetched = rows.len();
    let now = center.clock().now();
    let id = account.id;
    let merged = store
        .blocking(move |s| s.merge_history(id, &rows, now))
        .await?;
    if let Some(through) = through {
        store.set_synced_through(id, through, now)?;
    }
    let synced = HistorySynced {
        account_id: id,
        from,
        through: through.unwrap_or(from - TimeDelta::days(1)),
        pages,
        fetched,
        inserted: merged.inserted,
        known: merged.known,
        gaps: merged.gaps,
        truncated,
    };
    store.audit(
        "sync",
        &format!("account {id}"),
        &format!(
            "history {from}..{}: {} new, {} known, {} gaps, {} pages{}",
            synced.through,
            synced.inserted,
            synced.known,
            synced.gaps,
            synced.pages,
            if truncated { ", cut short" } else { "" }
        ),
        now,
    )?;
    Ok(synced)
}

impl Moa {
    /// The accounts a sync covers: the active environment's active accounts with inquiry
    /// consent.
    async fn inquiry_accounts(&self) -> Result<(Arc<Center>, Vec<AccountRecord>)> {
        let center = self.center().await?;
        let accounts = self
            .store()
            .accounts(center.environment().id)?
            .into_iter()
            .filter(|a| a.inquiry_agreed_at.is_some())
            .collect();
        Ok((center, accounts))
    }

    /// Refreshes every account's balance with the default [`SyncLimits`]. See
    /// [`refresh_balances_with`](Self::refresh_balances_with).
    pub async fn refresh_balances(
        &self,
        events: Option<mpsc::Sender<BalanceEvent>>,
    ) -> Result<RefreshSummary> {
        self.refresh_balances_with(&SyncLimits::default(), events)
            .await
    }

    /// Asks every account's balance side by side and writes each answer to the store as it
    /// arrives, sending a [`BalanceEvent`] for it. An account that does not answer keeps its
    /// last good balance, marked stale with a reason. When the center calls the person's token
    /// expired or rejected, it is refreshed once and the account asked again.
    ///
    /// Fails only when there is no active center, or the local store fails.
    pub async fn refresh_balances_with(
        &self,
        limits: &SyncLimits,
        events: Option<mpsc::Sender<BalanceEvent>>,
    ) -> Result<RefreshSummary> {
        let started = Instant::now();
        let (center, accounts) = self.inquiry_accounts().await?;
        let total = accounts.len();
        let refresh = Arc::new(Refresh {
            client: center.client().with_timeout(limits.call_timeout),
            center: center.clone(),
            store: self.store().clone(),
            gate: Gate::new(
                limits,
                limits.overall,
                accounts.iter().map(|a| a.bank_code.as_str()),
            ),
            banks: OnceCell::new(),
        });
        let mut tasks = JoinSet::new();
        for account in accounts {
            let refresh = refresh.clone();
            tasks.spawn(async move {
                let outcome = refresh.account(&account).await;
                (account.id, outcome)
            });
        }
        let mut outcomes = Vec::with_capacity(total);
        let mut failure = None;
        while let Some(joined) = tasks.join_next().await {
            let (account_id, outcome) = match joined {
                Ok(done) => done,
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            };
            let outcome = match outcome {
                Ok(outcome) => outcome,
                Err(e) => {
                    // The store failed: nothing was recorded for this account.
                    let reason = StaleReason::of(&e, None);
                    failure.get_or_insert(e);
                    BalanceOutcome::Stale {
                        reason,
                        balance: None,
                        as_of: None,
                    }
                }
            };
            if let Some(events) = &events {
                let event = BalanceEvent {
                    account_id,
                    outcome: outcome.clone(),
                    done: outcomes.len() + 1,
                    total,
                };
                // A listener that went away does not stop the refresh.
                let _ = events.send(event).await;
            }
            outcomes.push((account_id, outcome));
        }
        outcomes.sort_by_key(|(id, _)| *id);
        let mut stale = BTreeMap::new();
        for code in outcomes.iter().filter_map(|(_, o)| o.stale_code()) {
            *stale.entry(code).or_insert(0) += 1;
        }
        let summary = RefreshSummary {
            total,
            fresh: outcomes.iter().filter(|(_, o)| o.is_fresh()).count(),
            stale,
            outcomes,
            elapsed: started.elapsed(),
        };
        if let Some(e) = failure {
            return Err(e);
        }
        self.store().audit(
            "sync",
            "balances",
            &summary.audit_line(),
            center.clock().now(),
        )?;
        Ok(summary)
    }

    /// Every participating bank's state (`bank/status`, with the institution's token), for the
    /// UI's status strip and to explain stale accounts.
    pub async fn bank_statuses(&self) -> Result<Vec<BankStatus>> {
        let center = self.center().await?;
        let client = center
            .client()
            .with_timeout(SyncLimits::default().call_timeout);
        fetch_bank_statuses(&center, &client).await
    }

    /// Brings one account's history up to date with the default [`SyncLimits`]. See
    /// [`sync_history_with`](Self::sync_history_with).
    pub async fn sync_history(&self, account_id: i64) -> Result<HistorySynced> {
        self.sync_history_with(&SyncLimits::default(), account_id)
            .await
    }

    /// Brings one account's history up to date: the first time the last 12 months, later from
    /// three days before the last sync's end to today, page by page; merged into the store
    /// without duplicates, the after-balance chain checked for gaps.
    pub async fn sync_history_with(
        &self,
        limits: &SyncLimits,
        account_id: i64,
    ) -> Result<HistorySynced> {
        let center = self.center().await?;
        let account = self
            .store()
            .account(account_id)?
            .filter(|a| a.environment_id == center.environment().id && a.state == "active")
            .ok_or(Error::NoSuchAccount(account_id))?;
        history_of(&center, self.store(), limits, &account).await
    }

    /// Brings every account's history up to date with the default [`SyncLimits`], a few
    /// accounts at a time, sending a [`HistoryEvent`] as each finishes.
    pub async fn sync_all_history(
        &self,
        events: Option<mpsc::Sender<HistoryEvent>>,
    ) -> Result<Vec<(i64, HistoryOutcome)>> {
        self.sync_all_history_with(&SyncLimits::default(), events)
            .await
    }

    /// As [`sync_all_history`](Self::sync_all_history), with `limits`.
    pub async fn sync_all_history_with(
        &self,
        limits: &SyncLimits,
        events: Option<mpsc::Sender<HistoryEvent>>,
    ) -> Result<Vec<(i64, HistoryOutcome)>> {
        let (center, accounts) = self.inquiry_accounts().await?;
        let total = accounts.len();
        let gate = Arc::new(Gate::new(
            limits,
            limits.history_accounts,
            accounts.iter().map(|a| a.bank_code.as_str()),
        ));
        let mut tasks = JoinSet::new();
        for account in accounts {
            let (center, store, gate, limits) = (
                center.clone(),
                self.store().clone(),
                gate.clone(),
                limits.clone(),
            );
            tasks.spawn(async move {
                let _permits = gate.enter(&account.bank_code).await;
                let outcome = match history_of(&center, &store, &limits, &account).await {
                    Ok(synced) => HistoryOutcome::Synced(synced),
                    Err(e) => HistoryOutcome::Failed(StaleReason::of(&e, None)),
                };
                (account.id, outcome)
            });
        }
        let mut outcomes = Vec::with_capacity(total);
        while let Some(joined) = tasks.join_next().await {
            let (account_id, outcome) = match joined {
                Ok(done) => done,
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            };
            if let Some(events) = &events {
                let _ = events
                    .send(HistoryEvent {
                        account_id,
                        outcome: outcome.clone(),
                        done: outcomes.len() + 1,
                        total,
                    })
                    .await;
            }
            outcomes.push((account_id, outcome));
        }
        outcomes.sort_by_key(|(id, _)| *id);
        Ok(outcomes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use moa_openbanking::{BankReply, CenterError};

    fn center(code: &str, bank: Option<&str>) -> moa_openbanking::Error {
        moa_openbanking::Error::Center(Box::new(CenterError {
            endpoint: "/v2.0/account/balance/fin_num",
            code: RspCode::from_code(code),
            message: "센터 메시지".into(),
            detail: None,
            bank: bank.map(|b| BankReply {
                code: BankRspCode::from_code(b),
                message: String::new(),
            }),
            api_tran_id: None,
        }))
    }

    fn code(rsp: &str, bank: Option<&str>, state: Option<BankState>) -> StaleCode {
        StaleCode::of_center(&center(rsp, bank), state)
    }

    #[test]
    fn a_bank_refusal_reads_as_the_banks_state_when_it_is_known() {
        use BankState::*;
        assert_eq!(code("A0002", Some("499"), Some(Down)), StaleCode::BankDown);
        assert_eq!(
            code("A0002", Some("499"), Some(NotOpen)),
            StaleCode::BankNotOpen
        );
        assert_eq!(
            code("A0002", Some("499"), Some(Terminated)),
            StaleCode::BankTerminated
        );
        // 499 from a bank said to be available, or of unknown state: an outage all the same.
        assert_eq!(
            code("A0002", Some("499"), Some(Available)),
            StaleCode::BankDown
        );
        assert_eq!(code("A0002", Some("499"), None), StaleCode::BankDown);
        // Any other reason is the bank's own, whatever its state.
        assert_eq!(
            code("A0002", Some("467"), Some(Available)),
            StaleCode::BankRefused
        );
        assert_eq!(code("A0002", Some("467"), None), StaleCode::BankRefused);
    }

    #[test]
    fn consent_token_timeout_and_other_refusals_have_their_own_codes() {
        assert_eq!(code("A0305", None, None), StaleCode::ConsentMissing);
        assert_eq!(code("A0316", None, None), StaleCode::ConsentExpired);
        assert_eq!(code("O0003", None, None), StaleCode::AuthExpired);
        assert_eq!(code("O0002", None, None), StaleCode::AuthExpired);
        assert_eq!(code("O0001", None, None), StaleCode::AuthExpired);
        assert_eq!(code("A0007", None, None), StaleCode::Timeout);
        assert_eq!(code("A0017", None, None), StaleCode::Timeout);
        assert_eq!(code("A0323", None, None), StaleCode::AccountUnregistered);
        assert_eq!(code("A0003", None, None), StaleCode::CenterRefused);
        assert_eq!(code("Z9999", None, None), StaleCode::CenterRefused);
    }

    #[test]
    fn a_reason_keeps_the_codes_and_prefers_the_banks_words() {
        let reason = StaleReason::of_center(&center("A0002", Some("467")), None);
        assert_eq!(reason.rsp_code.as_deref(), Some("A0002"));
        assert_eq!(reason.bank_rsp_code.as_deref(), Some("467"));
        assert_eq!(reason.message, "센터 메시지", "the bank said nothing");
        let mut error = center("A0002", Some("467"));
        if let moa_openbanking::Error::Center(c) = &mut error
            && let Some(bank) = c.bank.as_mut()
        {
            bank.message = "휴면계좌".into();
        }
        assert_eq!(StaleReason::of_center(&error, None).message, "휴면계좌");
        let lost = StaleReason::of(&Error::NotRegistered, None);
        assert_eq!(lost.code, StaleCode::AuthExpired);
    }

    #[test]
    fn codes_are_stable_strings() {
        assert_eq!(StaleCode::BankNotOpen.as_str(), "bank_not_open");
        assert_eq!(
            serde_json::to_value(StaleCode::ConsentExpired).ok(),
            Some(serde_json::json!("consent_expired"))
        );
    }

    #[tokio::test]
    async fn the_gate_keeps_each_bank_and_the_whole_within_their_bounds() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let limits = SyncLimits {
            per_bank: 2,
            ..SyncLimits::default()
        };
        let banks = ["004", "088", "090"];
        let gate = Arc::new(Gate::new(&limits, 5, banks.into_iter()));
        let in_flight: Arc<HashMap<&str, AtomicUsize>> =
            Arc::new(banks.iter().map(|b| (*b, AtomicUsize::new(0))).collect());
        let total = Arc::new(AtomicUsize::new(0));
        let peaks = Arc::new(std::sync::Mutex::new((0usize, HashMap::new())));
        let mut tasks = JoinSet::new();
        for i in 0..18 {
            let bank = banks[i % 3];
            let (gate, in_flight, total, peaks) = (
                gate.clone(),
                in_flight.clone(),
                total.clone(),
                peaks.clone(),
            );
            tasks.spawn(async move {
                let _permits = gate.enter(bank).await;
                let here = in_flight[bank].fetch_add(1, Ordering::SeqCst) + 1;
                let all = total.fetch_add(1, Ordering::SeqCst) + 1;
                {
                    let mut peaks = peaks.lock().unwrap_or_else(|e| e.into_inner());
                    peaks.0 = peaks.0.max(all);
                    let peak = peaks.1.entry(bank).or_insert(0usize);
                    *peak = (*peak).max(here);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
                in_flight[bank].fetch_sub(1, Ordering::SeqCst);
                total.fetch_sub(1, Ordering::SeqCst);
            });
        }
        while tasks.join_next().await.is_some() {}
        let peaks = peaks.lock().unwrap_or_else(|e| e.into_inner());
        assert_eq!(peaks.0, 5, "the whole is bounded and reaches its bound");
        assert!(peaks.1.values().all(|p| *p == 2), "{:?}", peaks.1);
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn the_first_sync_reaches_a_year_back_and_later_ones_overlap_three_days() {
        let today = day("2026-11-27");
        assert_eq!(history_window(None, today), (day("2025-11-27"), today));
        assert_eq!(
            history_window(Some(day("2026-11-20")), today),
            (day("2026-11-17"), today)
        );
        // Never before the first sync's reach, never after today.
        assert_eq!(
            history_window(Some(day("2024-01-01")), today),
            (day("2025-11-27"), today)
        );
        assert_eq!(
            history_window(Some(day("2026-12-31")), today),
            (today, today)
        );
        // Whole months: a leap day's year still reaches the same date.
        assert_eq!(history_window(None, day("2028-02-29")).0, day("2027-02-28"));
    }
}
