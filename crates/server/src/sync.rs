//! Reading money: every account's balance asked side by side (bounded per bank and overall,
//! each call with its own timeout) and answered as each arrives; a page of an account's
//! history; the banks' status. A bank that fails never fails the whole: its account comes back
//! [`api::BalanceOutcome::Stale`] with a reason the app shows, keeping its last good value.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::SubsecRound;
use moa_openbanking::account::{BalanceRequest, TransactionListRequest, TransactionQuery};
use moa_openbanking::fields::SortOrder;
use moa_openbanking::{BankRspCode, RspCode, RspKind, TransportKind, UserToken};
use rust_decimal::prelude::ToPrimitive;
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::api::{self, BankState, ErrorCode, StaleCode, StaleReason};
use crate::app::App;
use crate::error::{Error, Result};
use crate::store::AccountRecord;

/// How much a refresh may do at once, and how long it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncLimits {
    /// Calls in flight to one bank at most: a slow bank is not asked more while it struggles.
    pub per_bank: usize,
    /// Calls in flight in all, for one person's refresh.
    pub overall: usize,
    /// How long each call waits for its answer before the account is marked stale.
    pub call_timeout: Duration,
}

impl Default for SyncLimits {
    fn default() -> Self {
        Self {
            per_bank: 3,
            overall: 24,
            call_timeout: Duration::from_secs(8),
        }
    }
}

/// What a center failure means for an account, given `bank/status`'s word on its bank.
pub fn stale_code(error: &moa_openbanking::Error, bank: Option<BankState>) -> StaleCode {
    use moa_openbanking::Error as E;
    match error {
        E::Transport {
            kind: TransportKind::Timeout,
            ..
        } => StaleCode::Timeout,
        E::Transport { .. } => StaleCode::Network,
        E::Http { .. } | E::Decode { .. } | E::Protocol { .. } => StaleCode::CenterUnreadable,
        E::Center(c) => match (&c.code, c.kind()) {
            (RspCode::A0305, _) => StaleCode::ConsentMissing,
            (RspCode::A0316, _) => StaleCode::ConsentExpired,
            (_, RspKind::Consent) => StaleCode::ConsentMissing,
            (_, RspKind::TokenExpired | RspKind::TokenRejected | RspKind::Auth) => {
                StaleCode::AuthExpired
            }
            (_, RspKind::OutcomeUnknown) => StaleCode::Timeout,
            (_, RspKind::Mismatch) => StaleCode::AccountUnregistered,
            (_, RspKind::BankError) => {
                let contact_branch = matches!(
                    c.bank.as_ref().map(|b| &b.code),
                    Some(BankRspCode::ContactBranch) | None
                );
                match bank {
                    Some(BankState::Down) => StaleCode::BankDown,
                    Some(BankState::NotOpen) => StaleCode::BankNotOpen,
                    Some(BankState::Terminated) => StaleCode::BankTerminated,
                    _ if contact_branch => StaleCode::BankDown,
                    _ => StaleCode::BankRefused,
                }
            }
            _ => StaleCode::CenterRefused,
        },
        _ => StaleCode::Internal,
    }
}

/// The reason for an error of this server.
pub fn stale_reason(error: &Error, bank: Option<BankState>) -> StaleReason {
    match error {
        Error::Center(e) => {
            let center = e.center();
            StaleReason {
                code: stale_code(e, bank),
                rsp_code: center.map(|c| c.code.code().to_owned()),
                bank_rsp_code: center
                    .and_then(|c| c.bank.as_ref())
                    .map(|b| b.code.code().to_owned()),
            }
        }
        Error::Refused(ErrorCode::AuthExpired) => StaleReason {
            code: StaleCode::AuthExpired,
            rsp_code: None,
            bank_rsp_code: None,
        },
        _ => StaleReason {
            code: StaleCode::Internal,
            rsp_code: None,
            bank_rsp_code: None,
        },
    }
}

fn bank_state(status: &moa_openbanking::fields::BankStatus) -> BankState {
    use moa_openbanking::fields::BankStatus as S;
    match status {
        S::Available => BankState::Available,
        S::Outage => BankState::Down,
        S::NotOpened => BankState::NotOpen,
        S::Terminated => BankState::Terminated,
        _ => BankState::Unknown,
    }
}

/// Bounds calls in flight per bank and overall: the server's fan-out of a refresh, and the
/// app's history syncs, which go one account per task.
#[derive(Debug)]
pub struct Gate {
    overall: Arc<Semaphore>,
    banks: HashMap<String, Arc<Semaphore>>,
    per_bank: usize,
}

impl Gate {
    /// At most `per_bank` at each bank named in `banks` (or met later), `overall` in all.
    pub fn new<'a>(per_bank: usize, overall: usize, banks: impl Iterator<Item = &'a str>) -> Self {
        let per_bank = per_bank.max(1);
        Self {
            overall: Arc::new(Semaphore::new(overall.max(1))),
            banks: banks
                .map(|b| (b.to_owned(), Arc::new(Semaphore::new(per_bank))))
                .collect(),
            per_bank,
        }
    }

    /// Waits for a place at the bank first, then overall, so a task queued behind a busy bank
    /// never holds a place another bank could use. The places are held until both are dropped.
    pub async fn enter(
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

/// Every participating bank's state.
pub async fn bank_statuses(app: &App) -> Result<Vec<api::BankStatus>> {
    let center = app.center();
    let client = center
        .client()
        .with_timeout(app.options().sync.call_timeout);
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
    app.metrics().observe_center_answer("bank_status", "A0000");
    Ok(list
        .res_list
        .iter()
        .map(|b| api::BankStatus {
            bank_code: b.bank_code_std.as_str().to_owned(),
            bank_name: b.bank_name.clone(),
            state: bank_state(&b.bank_status),
        })
        .collect())
}

struct Refresh {
    app: Arc<App>,
    person_id: i64,
    gate: Gate,
    /// `bank/status`, asked once and only when a bank refused.
    banks: OnceCell<HashMap<String, BankState>>,
}

impl Refresh {
    async fn bank_state(&self, code: &str) -> Option<BankState> {
        let banks = self
            .banks
            .get_or_init(|| async {
                match bank_statuses(&self.app).await {
                    Ok(list) => list.into_iter().map(|b| (b.bank_code, b.state)).collect(),
                    Err(_) => HashMap::new(),
                }
            })
            .await;
        banks.get(code).copied()
    }

    async fn account(&self, account: &AccountRecord) -> api::BalanceOutcome {
        let _permits = self.gate.enter(account.details.bank_code.as_str()).await;
        match self.ask(account).await {
            Ok((balance, available, product_name)) => api::BalanceOutcome::Fresh {
                balance,
                available,
                product_name,
                as_of: self.app.clock().now().trunc_subsecs(3),
            },
            Err(error) => {
                let bank = match &error {
                    Error::Center(e)
                        if e.rsp_code().map(RspCode::kind) == Some(RspKind::BankError) =>
                    {
                        self.bank_state(account.details.bank_code.as_str()).await
                    }
                    _ => None,
                };
                api::BalanceOutcome::Stale {
                    reason: stale_reason(&error, bank),
                }
            }
        }
    }

    async fn ask(&self, account: &AccountRecord) -> Result<(i64, Option<i64>, Option<String>)> {
        let center = self.app.center();
        let client = center
            .client()
            .with_timeout(self.app.options().sync.call_timeout);
        let fintech_use_num = account.details.fintech_use_num.clone();
        let mut token = center.user_token(self.person_id).await?;
        let mut renewed = false;
        loop {
            let request = BalanceRequest {
                bank_tran_id: center.next_bank_tran_id().await?,
                fintech_use_num: fintech_use_num.clone(),
            };
            let answer = client.balance(&token, &request).await;
            self.app.metrics().observe_center_answer(
                "balance",
                answer
                    .as_ref()
                    .err()
                    .and_then(|e| e.rsp_code())
                    .map(|c| c.code())
                    .unwrap_or("A0000"),
            );
            match answer {
                Ok(answer) => {
                    let balance = answer
                        .balance_amt
                        .as_decimal()
                        .to_i64()
                        .ok_or(Error::Refused(ErrorCode::Internal))?;
                    let available = answer.available_amt.and_then(|a| a.as_decimal().to_i64());
                    return Ok((balance, available, answer.product_name));
                }
                Err(e) if e.should_refresh_token() && !renewed => {
                    renewed = true;
                    token = center.renew_user_token(self.person_id, &token).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Asks every account of the person with inquiry consent for its balance, side by side, and
/// sends each answer on `lines` as it arrives.
pub async fn refresh_balances(
    app: Arc<App>,
    person_id: i64,
    lines: mpsc::Sender<api::BalanceLine>,
) -> Result<()> {
    let accounts: Vec<AccountRecord> = app
        .store()
        .accounts(person_id)
        .await?
        .into_iter()
        .filter(|a| a.details.inquiry_agreed_at.is_some())
        .collect();
    let total = accounts.len();
    let refresh = Arc::new(Refresh {
        gate: Gate::new(
            app.options().sync.per_bank,
            app.options().sync.overall,
            accounts.iter().map(|a| a.details.bank_code.as_str()),
        ),
        app,
        person_id,
        banks: OnceCell::new(),
    });
    let mut tasks = JoinSet::new();
    for account in accounts {
        let refresh = refresh.clone();
        tasks.spawn(async move {
            let outcome = refresh.account(&account).await;
            (account.details.fintech_use_num, outcome)
        });
    }
    let mut done = 0;
    while let Some(joined) = tasks.join_next().await {
        let (fintech_use_num, outcome) = match joined {
            Ok(answer) => answer,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        done += 1;
        // A client that went away does not stop the others' answers from being read.
        let _ = lines
            .send(api::BalanceLine {
                fintech_use_num: fintech_use_num.to_string(),
                outcome,
                done,
                total,
            })
            .await;
    }
    Ok(())
}

/// One page of an account's history, oldest first.
pub async fn history_page(
    app: &App,
    person_id: i64,
    fintech_use_num: &str,
    query: &api::HistoryQuery,
) -> Result<api::HistoryPage> {
    if query.from > query.to || (query.to - query.from).num_days() > 366 {
        return Err(ErrorCode::BadRequest.into());
    }
    let account = app.active_account(person_id, fintech_use_num).await?;
    let fintech = account.details.fintech_use_num.clone();
    let cursor = query.cursor.clone().unwrap_or_default();
    if cursor.len() > 200 {
        return Err(ErrorCode::BadRequest.into());
    }
    let mut list_query = TransactionQuery::by_date(fintech, query.from, query.to);
    list_query.sort_order = SortOrder::Ascending;
    let center = app.center();
    let client = center
        .client()
        .with_timeout(app.options().sync.call_timeout);
    let mut token: UserToken = center.user_token(person_id).await?;
    let mut renewed = false;
    let page = loop {
        let request = TransactionListRequest {
            bank_tran_id: center.next_bank_tran_id().await?,
            query: list_query.clone(),
            befor_inquiry_trace_info: cursor.clone(),
        };
        match client.transaction_list(&token, &request).await {
            Ok(page) => break page,
            // "No data" is an empty history, not a failure.
            Err(e) if e.rsp_code().map(RspCode::kind) == Some(RspKind::NoData) => {
                return Ok(api::HistoryPage {
                    rows: Vec::new(),
                    next_cursor: None,
                });
            }
            // The cursor is the one thing of the app's that reaches the center as it was sent:
            // a malformed refusal with one is the app's mistake (a cursor made up, or given
            // out for another account), not the center's failure.
            Err(e)
                if !cursor.is_empty()
                    && e.rsp_code().map(RspCode::kind) == Some(RspKind::Malformed) =>
            {
                return Err(ErrorCode::BadRequest.into());
            }
            Err(e) if e.should_refresh_token() && !renewed => {
                renewed = true;
                token = center.renew_user_token(person_id, &token).await?;
            }
            Err(e) => return Err(e.into()),
        }
    };
    let won = |d: rust_decimal::Decimal| d.to_i64().ok_or(Error::Refused(ErrorCode::CenterRefused));
    let mut rows = Vec::with_capacity(page.res_list.len());
    for row in page.res_list {
        rows.push(api::HistoryRow {
            tran_date: row.tran_date,
            tran_time: row.tran_time,
            inout_type: row.inout_type,
            tran_type: row.tran_type,
            print_content: row.print_content,
            tran_amt: won(row.tran_amt.as_decimal())?,
            after_balance: won(row.after_balance_amt.as_decimal())?,
            branch_name: row.branch_name.unwrap_or_default(),
        });
    }
    let next = page.befor_inquiry_trace_info.trim();
    let next_cursor =
        (page.next_page_yn && !next.is_empty() && next != cursor.trim()).then(|| next.to_owned());
    Ok(api::HistoryPage { rows, next_cursor })
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
        stale_code(&center(rsp, bank), state)
    }

    #[tokio::test]
    async fn the_gate_keeps_each_bank_and_the_whole_within_their_bounds() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let banks = ["004", "088", "090"];
        let gate = Arc::new(Gate::new(2, 5, banks.into_iter()));
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
    fn a_reason_keeps_the_centers_and_the_banks_codes() {
        let reason = stale_reason(&Error::Center(center("A0002", Some("467"))), None);
        assert_eq!(reason.code, StaleCode::BankRefused);
        assert_eq!(reason.rsp_code.as_deref(), Some("A0002"));
        assert_eq!(reason.bank_rsp_code.as_deref(), Some("467"));
        let lost = stale_reason(&Error::Refused(ErrorCode::AuthExpired), None);
        assert_eq!(lost.code, StaleCode::AuthExpired);
    }
}
