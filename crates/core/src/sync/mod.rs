//! Sync: every account's balance asked of the server in one request whose answers stream
//! back as each bank answers, written to the store as they arrive; and each account's history
//! fetched incrementally, page by page, with an overlap, and merged into the store.
//!
//! A refresh never fails as a whole because one bank does: each account ends
//! [`BalanceOutcome::Fresh`] or [`BalanceOutcome::Stale`] with a stable [`StaleCode`], and a stale
//! account keeps its last good balance. A server out of reach makes every account stale with
//! [`StaleCode::Network`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, SubsecRound, TimeDelta, Utc};
use moa_server::api;
use reqwest::Method;
use serde::Serialize;
use tokio::sync::{OnceCell, mpsc};
use tokio::task::JoinSet;

use crate::Moa;
use crate::error::{Error, Result};
use crate::server::Server;
use crate::store::{AccountRecord, HistoryRow, Store};
use moa_server::sync::Gate;

pub use moa_server::api::{BankState, StaleCode};

pub mod plan;

pub use plan::{
    HISTORY_MONTHS, HISTORY_OVERLAP_DAYS, history_window, rate_limited_pause, refusal_code,
};

/// How much a sync may do at once, and how long it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncLimits {
    /// History fetches in flight at one bank at most.
    pub per_bank: usize,
    /// History pages one account's sync fetches at most; the rest waits for the next sync.
    pub history_pages: u32,
    /// Accounts whose history is fetched at the same time by [`Moa::sync_all_history`].
    pub history_accounts: usize,
}

impl Default for SyncLimits {
    fn default() -> Self {
        Self {
            per_bank: 3,
            // 2,000 pages of 25 rows: 50,000 rows, years of a busy account.
            history_pages: 2_000,
            history_accounts: 4,
        }
    }
}

/// Why an account is stale: the code, and the center's and bank's codes when they gave any.
/// The words for it are the UI's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleReason {
    /// The stable code the UI translates.
    pub code: StaleCode,
    /// The center's `rsp_code`.
    pub rsp_code: Option<String>,
    /// The bank's `bank_rsp_code`.
    pub bank_rsp_code: Option<String>,
}

impl StaleReason {
    fn of_code(code: StaleCode) -> Self {
        Self {
            code,
            rsp_code: None,
            bank_rsp_code: None,
        }
    }

    fn of_server(reason: api::StaleReason) -> Self {
        Self {
            code: reason.code,
            rsp_code: reason.rsp_code,
            bank_rsp_code: reason.bank_rsp_code,
        }
    }

    /// The reason for a failure of the whole request.
    pub fn of(error: &Error) -> Self {
        Self::of_code(match error {
            Error::Unreachable => StaleCode::Network,
            Error::NotRegistered
            | Error::Server(api::ErrorCode::AuthExpired | api::ErrorCode::NotLinked) => {
                StaleCode::AuthExpired
            }
            Error::Server(api::ErrorCode::CenterUnavailable) => StaleCode::Timeout,
            Error::Server(api::ErrorCode::NoSuchAccount) => StaleCode::AccountUnregistered,
            Error::Server(api::ErrorCode::BankRefused) => StaleCode::BankRefused,
            Error::Server(api::ErrorCode::CenterRefused) => StaleCode::CenterRefused,
            _ => StaleCode::Internal,
        })
    }
}

/// How one account's refresh ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BalanceOutcome {
    /// The bank answered.
    Fresh {
        /// Balance, whole won.
        balance: i64,
        /// What can be paid now.
        available: Option<i64>,
        /// When.
        as_of: DateTime<Utc>,
    },
    /// No answer now; the last good value stays.
    Stale {
        /// Why.
        reason: StaleReason,
        /// The last good balance, if any.
        balance: Option<i64>,
        /// Its time.
        as_of: Option<DateTime<Utc>>,
    },
}

impl BalanceOutcome {
    /// Whether the bank answered.
    pub fn is_fresh(&self) -> bool {
        matches!(self, Self::Fresh { .. })
    }

    /// The stale code, if stale.
    pub fn stale_code(&self) -> Option<StaleCode> {
        match self {
            Self::Fresh { .. } => None,
            Self::Stale { reason, .. } => Some(reason.code),
        }
    }
}

/// One account's answer, as it arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BalanceEvent {
    /// The account's row id.
    pub account_id: i64,
    /// How it ended.
    pub outcome: BalanceOutcome,
    /// Answers so far.
    pub done: usize,
    /// Accounts asked.
    pub total: usize,
}

/// What a refresh did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefreshSummary {
    /// Accounts asked.
    pub total: usize,
    /// Fresh answers.
    pub fresh: usize,
    /// Stale ones by code.
    pub stale: BTreeMap<StaleCode, usize>,
    /// Every account's outcome, by row id.
    pub outcomes: Vec<(i64, BalanceOutcome)>,
    /// How long it took.
    pub elapsed: Duration,
}

impl RefreshSummary {
    /// The outcome of one account.
    pub fn outcome(&self, account_id: i64) -> Option<&BalanceOutcome> {
        self.outcomes
            .iter()
            .find(|(id, _)| *id == account_id)
            .map(|(_, o)| o)
    }

    /// How many ended stale.
    pub fn stale_count(&self) -> usize {
        self.stale.values().sum()
    }

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
                .map(|(code, n)| format!("{} {n}", code.as_str()))
                .collect();
            line.push_str(&format!(" ({})", codes.join(", ")));
        }
        line.push_str(&format!(" in {} ms", self.elapsed.as_millis()));
        line
    }
}

/// A bank's state, as the server reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BankStatus {
    /// Bank code.
    pub bank_code: String,
    /// Bank name.
    pub bank_name: String,
    /// Its state.
    pub state: BankState,
}

/// What a history sync did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistorySynced {
    /// The account.
    pub account_id: i64,
    /// First day asked.
    pub from: NaiveDate,
    /// Last day now complete in the store.
    pub through: NaiveDate,
    /// Pages fetched.
    pub pages: u32,
    /// Rows fetched.
    pub fetched: usize,
    /// Rows new to the store.
    pub inserted: usize,
    /// Rows the store had.
    pub known: usize,
    /// Breaks found in the after-balance chain.
    pub gaps: usize,
    /// Whether the page limit cut it short.
    pub truncated: bool,
}

/// How one account's history sync ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HistoryOutcome {
    /// Synced.
    Synced(HistorySynced),
    /// Not now.
    Failed(StaleReason),
}

/// One account's history sync, as it ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEvent {
    /// The account.
    pub account_id: i64,
    /// How it ended.
    pub outcome: HistoryOutcome,
    /// Accounts done.
    pub done: usize,
    /// Accounts in all.
    pub total: usize,
}

/// One page of history, asked again after a pause while the server says too many requests.
async fn history_page(server: &Server, path: &str) -> Result<api::HistoryPage> {
    let mut refusals = 0;
    loop {
        match server.get(path).await {
            Err(Error::Server(api::ErrorCode::RateLimited)) => match rate_limited_pause(refusals) {
                Some(pause) => {
                    refusals += 1;
                    tokio::time::sleep(pause).await;
                }
                None => return Err(Error::Server(api::ErrorCode::RateLimited)),
            },
            answer => return answer,
        }
    }
}

/// The banks' states, asked of the server once per sync and only when a bank refused.
#[derive(Default)]
struct BankStates(OnceCell<HashMap<String, BankState>>);

impl BankStates {
    async fn of(&self, server: &Server, bank_code: &str) -> Option<BankState> {
        self.0
            .get_or_init(|| async {
                match server.get::<Vec<api::BankStatus>>("/v1/banks").await {
                    Ok(banks) => banks.into_iter().map(|b| (b.bank_code, b.state)).collect(),
                    Err(_) => HashMap::new(),
                }
            })
            .await
            .get(bank_code)
            .copied()
    }
}

/// Why an account's history could not be had: a bank's refusal is told apart by the bank's
/// announced state (the server's answer to a page says only that the bank refused).
async fn history_failure(
    error: &Error,
    server: &Server,
    banks: &BankStates,
    account: &AccountRecord,
) -> StaleReason {
    match error {
        Error::Server(api::ErrorCode::BankRefused) => StaleReason::of_code(refusal_code(
            banks.of(server, &account.details.bank_code).await,
        )),
        other => StaleReason::of(other),
    }
}

fn history_row(row: api::HistoryRow) -> HistoryRow {
    HistoryRow {
        tran_date: row.tran_date,
        tran_time: row.tran_time,
        inout_type: row.inout_type,
        tran_type: row.tran_type,
        print_content: row.print_content,
        tran_amt: row.tran_amt,
        after_balance: row.after_balance,
        branch_name: row.branch_name,
    }
}

/// One account's history: fetch the window page by page, merge, move `synced_through`.
async fn history_of(
    server: &Server,
    store: &Store,
    limits: &SyncLimits,
    today: NaiveDate,
    now: DateTime<Utc>,
    account: &AccountRecord,
) -> Result<HistorySynced> {
    let (from, to) = history_window(store.synced_through(account.id)?, today);
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    let truncated = loop {
        let mut path = format!(
            "/v1/accounts/{}/history?from={from}&to={to}",
            account.details.fintech_use_num
        );
        if let Some(cursor) = &cursor {
            path.push_str("&cursor=");
            path.push_str(
                &url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect::<String>(),
            );
        }
        let page = history_page(server, &path).await?;
        pages += 1;
        rows.extend(page.rows.into_iter().map(history_row));
        match page.next_cursor {
            None => break false,
            Some(_) if pages >= limits.history_pages => break true,
            Some(next) => cursor = Some(next),
        }
    };
    let through = plan::whole_days(&mut rows, from, to, truncated);
    let fetched = rows.len();
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
    async fn inquiry_accounts(&self) -> Result<(Arc<Server>, Vec<AccountRecord>)> {
        let server = self.server().await?;
        let env = self.environment().await?;
        let accounts = self
            .store()
            .accounts(env.id)?
            .into_iter()
            .filter(plan::syncs)
            .collect();
        Ok((server, accounts))
    }

    /// Refreshes every account's balance. See
    /// [`refresh_balances_with`](Self::refresh_balances_with).
    pub async fn refresh_balances(
        &self,
        events: Option<mpsc::Sender<BalanceEvent>>,
    ) -> Result<RefreshSummary> {
        self.refresh_balances_with(&SyncLimits::default(), events)
            .await
    }

    /// Asks the server for every account's balance; it asks the banks side by side and streams
    /// each answer back as it arrives, and each is written to the store and sent as a
    /// [`BalanceEvent`]. An account without an answer keeps its last good balance, marked
    /// stale with a reason — every account, when the server cannot be reached.
    ///
    /// Fails only when there is no active server, or the local store fails.
    pub async fn refresh_balances_with(
        &self,
        _limits: &SyncLimits,
        events: Option<mpsc::Sender<BalanceEvent>>,
    ) -> Result<RefreshSummary> {
        let started = Instant::now();
        let (server, accounts) = self.inquiry_accounts().await?;
        let total = accounts.len();
        let by_fintech: HashMap<String, i64> = accounts
            .iter()
            .map(|a| (a.details.fintech_use_num.clone(), a.id))
            .collect();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let streamed = {
            let server = server.clone();
            tokio::spawn(async move {
                server
                    .stream(Method::POST, "/v1/balances", |line: api::BalanceLine| {
                        let _ = tx.send(line);
                    })
                    .await
            })
        };
        let mut outcomes: Vec<(i64, BalanceOutcome)> = Vec::with_capacity(total);
        while let Some(line) = rx.recv().await {
            let Some(&account_id) = by_fintech.get(&line.fintech_use_num) else {
                continue;
            };
            let outcome = self.record(account_id, line.outcome)?;
            self.emit(&events, account_id, &outcome, outcomes.len() + 1, total)
                .await;
            outcomes.push((account_id, outcome));
        }
        let failure = match streamed.await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some(Error::Unreachable),
        };
        // Accounts the stream never answered: the server was out of reach, or stopped early.
        let reason = failure
            .as_ref()
            .map(StaleReason::of)
            .unwrap_or_else(|| StaleReason::of_code(StaleCode::Network));
        for account in &accounts {
            if outcomes.iter().any(|(id, _)| *id == account.id) {
                continue;
            }
            let outcome = self.record_stale(account.id, reason.clone())?;
            self.emit(&events, account.id, &outcome, outcomes.len() + 1, total)
                .await;
            outcomes.push((account.id, outcome));
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
        self.store().audit(
            "sync",
            "balances",
            &summary.audit_line(),
            self.clock().now(),
        )?;
        Ok(summary)
    }

    async fn emit(
        &self,
        events: &Option<mpsc::Sender<BalanceEvent>>,
        account_id: i64,
        outcome: &BalanceOutcome,
        done: usize,
        total: usize,
    ) {
        if let Some(events) = events {
            // A listener that went away does not stop the refresh.
            let _ = events
                .send(BalanceEvent {
                    account_id,
                    outcome: outcome.clone(),
                    done,
                    total,
                })
                .await;
        }
    }

    /// Writes one answer to the store.
    fn record(&self, account_id: i64, outcome: api::BalanceOutcome) -> Result<BalanceOutcome> {
        match outcome {
            api::BalanceOutcome::Fresh {
                balance,
                available,
                product_name,
                as_of,
            } => {
                // The store keeps milliseconds: the event says what a later read will.
                let as_of = as_of.trunc_subsecs(3);
                self.store().record_balance(
                    account_id,
                    balance,
                    available,
                    product_name.as_deref(),
                    as_of,
                )?;
                Ok(BalanceOutcome::Fresh {
                    balance,
                    available,
                    as_of,
                })
            }
            api::BalanceOutcome::Stale { reason } => {
                self.record_stale(account_id, StaleReason::of_server(reason))
            }
        }
    }

    fn record_stale(&self, account_id: i64, reason: StaleReason) -> Result<BalanceOutcome> {
        let now = self.clock().now().trunc_subsecs(3);
        self.store().record_stale(account_id, reason.code, now)?;
        let last = self.store().balance(account_id)?;
        Ok(BalanceOutcome::Stale {
            reason,
            balance: last.as_ref().and_then(|b| b.balance),
            as_of: last.and_then(|b| b.as_of),
        })
    }

    /// Every participating bank's state, for the UI's status strip.
    pub async fn bank_statuses(&self) -> Result<Vec<BankStatus>> {
        let banks: Vec<api::BankStatus> = self.server().await?.get("/v1/banks").await?;
        Ok(banks
            .into_iter()
            .map(|b| BankStatus {
                bank_code: b.bank_code,
                bank_name: b.bank_name,
                state: b.state,
            })
            .collect())
    }

    /// Brings one account's history up to date with the default [`SyncLimits`].
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
        let server = self.server().await?;
        let env = self.environment().await?;
        let account = self
            .store()
            .account(account_id)?
            .filter(|a| a.environment_id == env.id && a.state == "active")
            .ok_or(Error::NoSuchAccount(account_id))?;
        history_of(
            &server,
            self.store(),
            limits,
            self.clock().today_kst(),
            self.clock().now(),
            &account,
        )
        .await
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
        let (server, accounts) = self.inquiry_accounts().await?;
        let total = accounts.len();
        let gate = Arc::new(Gate::new(
            limits.per_bank,
            limits.history_accounts,
            accounts.iter().map(|a| a.details.bank_code.as_str()),
        ));
        let (today, now) = (self.clock().today_kst(), self.clock().now());
        let banks = Arc::new(BankStates::default());
        let mut tasks = JoinSet::new();
        for account in accounts {
            let (server, store, gate, limits, banks) = (
                server.clone(),
                self.store().clone(),
                gate.clone(),
                limits.clone(),
                banks.clone(),
            );
            tasks.spawn(async move {
                let _permits = gate.enter(&account.details.bank_code).await;
                let outcome = match history_of(&server, &store, &limits, today, now, &account).await
                {
                    Ok(synced) => HistoryOutcome::Synced(synced),
                    Err(e) => {
                        HistoryOutcome::Failed(history_failure(&e, &server, &banks, &account).await)
                    }
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
