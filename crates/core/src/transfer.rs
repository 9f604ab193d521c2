//! The transfer saga (ARCHITECTURE.md, "Move money"): withdraw from the source account into the
//! institution's collection account, then deposit from its payout account into the target.
//!
//! Before every call the saga journals its next step and the call's `bank_tran_id`. An answer
//! that leaves the outcome unknown — a timeout, `A0001`, a dropped connection, a crash — is
//! settled by asking `transfer/result`, with backoff, never by sending the same money again. A
//! deposit that fails for good is followed by a refund deposit back to the source. At start,
//! every unfinished transfer is resumed. Each transfer ends Completed, Refunded, or Failed with
//! no money moved; none is lost or doubled.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use moa_openbanking::account::BalanceRequest;
use moa_openbanking::fields::{CheckType, CntrAccountType, NameCheckOption, TransferPurpose};
use moa_openbanking::inquiry::{ReceiveRequest, Recipient as ReceiveRecipient};
use moa_openbanking::transfer::{
    DepositItem, DepositRequest, DepositTo, RequestingClient, TransferOutcome, TransferQuery,
    TransferResultRequest, WithdrawRequest, outcome_of,
};
use moa_openbanking::{BankCode, BankTranId, FintechUseNum, WdPassPhrase, Won};
use rust_decimal::prelude::ToPrimitive;
use tokio::sync::mpsc;

use crate::Moa;
use crate::center::Center;
use crate::error::{Error, Result, center_code};
use crate::journal::{Change, LegId, NewTransfer, TransferRecord, TransferState};
use crate::store::AccountRecord;

/// What one transfer may move at most (KFTC's default per-transfer withdraw limit).
pub const PER_TRANSFER_LIMIT: i64 = 5_000_000;
/// What may leave the person's accounts by transfer in one day (KFTC's default).
pub const DAILY_LIMIT: i64 = 10_000_000;
/// Deposits that did not happen are retried this many times before the money is refunded.
const DEPOSIT_ATTEMPTS: u32 = 3;

/// Where the money goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// One of the person's registered accounts.
    Own {
        /// Its row id.
        account_id: i64,
    },
    /// Any account, by bank and number.
    External {
        /// Bank code.
        bank_code: String,
        /// Account number, digits only.
        account_num: String,
    },
}

/// What the person asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRequest {
    /// Source account row id.
    pub from_account: i64,
    /// Target.
    pub to: Recipient,
    /// Whole won.
    pub amount: i64,
    /// Memo shown on both statements (cut to what banks print).
    pub memo: String,
}

/// What the confirmation screen shows, checked against the center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preflight {
    /// The request, as checked.
    pub request: TransferRequest,
    /// The source account.
    pub from: AccountRecord,
    /// The recipient's name, as the receive check (수취조회) gave it.
    pub recipient_name: String,
    /// The recipient's bank code.
    pub recipient_bank_code: String,
    /// The recipient's bank name.
    pub recipient_bank_name: String,
    /// The recipient's masked account number.
    pub recipient_account_masked: String,
    /// What the source account can pay now.
    pub available: i64,
    /// What may still be transferred today.
    pub remaining_limit: i64,
}

/// How patiently unknown outcomes are settled.
#[derive(Debug, Clone, Copy)]
pub struct SettlePolicy {
    /// Questions to `transfer/result` before a leg that is still not found is taken as never
    /// applied (the center records a transfer when it answers it).
    pub attempts: u32,
    /// The first wait; each next one doubles.
    pub first_delay: Duration,
}

impl Default for SettlePolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            first_delay: Duration::from_millis(500),
        }
    }
}

/// A step of the saga where tests may crash the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// The withdraw is journaled; the call has not been sent.
    BeforeWithdraw,
    /// The withdraw call returned; its outcome is not journaled yet.
    AfterWithdraw,
    /// The deposit is journaled; the call has not been sent.
    BeforeDeposit,
    /// The deposit call returned; its outcome is not journaled yet.
    AfterDeposit,
    /// The refund is journaled; the call has not been sent.
    BeforeRefund,
    /// The refund call returned; its outcome is not journaled yet.
    AfterRefund,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Step; 6] = [
        Step::BeforeWithdraw,
        Step::AfterWithdraw,
        Step::BeforeDeposit,
        Step::AfterDeposit,
        Step::BeforeRefund,
        Step::AfterRefund,
    ];

    /// A name for command lines and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::BeforeWithdraw => "before-withdraw",
            Step::AfterWithdraw => "after-withdraw",
            Step::BeforeDeposit => "before-deposit",
            Step::AfterDeposit => "after-deposit",
            Step::BeforeRefund => "before-refund",
            Step::AfterRefund => "after-refund",
        }
    }

    /// The step named `name`.
    pub fn parse(name: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// Called at every [`Step`]; the app's does nothing, crash tests stop the process there.
pub trait Hooks: Send + Sync {
    /// The saga reached `step`.
    fn at(&self, step: Step);
}

/// Hooks that do nothing.
#[derive(Debug, Default)]
pub struct NoHooks;

impl Hooks for NoHooks {
    fn at(&self, _: Step) {}
}

/// A transfer's progress, streamed to the UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferEvent {
    /// The transfer.
    pub id: String,
    /// Where it stands now.
    pub state: TransferState,
}

/// How a call ended, as far as the saga can tell.
enum Leg {
    Applied,
    /// Definitely not applied, with a stable code and the center's words.
    Refused(String, String),
    Unknown,
}

/// The journal keeps a refusal's words in Korean, as the center and the banks give them.
fn leg_of<T>(answer: std::result::Result<T, moa_openbanking::Error>) -> Leg {
    match answer {
        Ok(_) => Leg::Applied,
        Err(e) if e.is_outcome_unknown() => Leg::Unknown,
        Err(e) => Leg::Refused(
            refusal_code(&e),
            refusal_words(&e, moa_openbanking::Lang::Ko),
        ),
    }
}

/// The bank's own words for a refusal when it gave any ("은행 장애로 거래할 수 없습니다"), then
/// the center's, then the code table's.
fn refusal_words(e: &moa_openbanking::Error, lang: moa_openbanking::Lang) -> String {
    let said = |text: &str| {
        Some(text.trim())
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    e.center()
        .and_then(|c| {
            c.bank
                .as_ref()
                .and_then(|b| said(&b.message))
                .or_else(|| said(&c.message))
        })
        .unwrap_or_else(|| e.message(lang))
}

/// A stable code for a refusal, with the bank's code when the bank said no.
fn refusal_code(e: &moa_openbanking::Error) -> String {
    match e.bank_rsp_code() {
        Some(bank) if !bank.is_ok() => format!("{}:{}", center_code(e), bank.code()),
        _ => center_code(e).to_owned(),
    }
}

/// Korea's business date now.
fn business_date(now: DateTime<Utc>) -> NaiveDate {
    let kst =
        FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"));
    now.with_timezone(&kst).date_naive()
}

/// The start of today in Korea, in UTC: where the daily limit starts counting.
fn start_of_business_day(now: DateTime<Utc>) -> DateTime<Utc> {
    let kst =
        FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"));
    let midnight = business_date(now).and_hms_opt(0, 0, 0).unwrap_or_default();
    kst.from_local_datetime(&midnight)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now)
}

fn won(amount: i64) -> Result<Won> {
    u64::try_from(amount)
        .map(Won::new)
        .map_err(|_| Error::Invalid("amount_not_positive"))
}

fn fintech(account: &AccountRecord) -> Result<FintechUseNum> {
    FintechUseNum::parse(&account.fintech_use_num).map_err(|_| Error::Invalid("internal"))
}

/// Cuts `text` to what banks print on a statement.
fn printable(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

impl Moa {
    fn transfer_hooks(&self) -> &Arc<dyn Hooks> {
        &self.options.hooks
    }

    /// Checks a transfer before the person confirms it: the source may withdraw (consent), the
    /// amount is above zero, within the limits and within what the account can pay now, and
    /// the recipient exists — with the holder's name from the receive check.
    pub async fn preflight_transfer(&self, request: &TransferRequest) -> Result<Preflight> {
        let center = self.center().await?;
        let env = self.environment().await?;
        if request.amount <= 0 {
            return Err(Error::Invalid("amount_not_positive"));
        }
        let from = self
            .store
            .account(request.from_account)?
            .filter(|a| a.environment_id == env.id && a.state == "active")
            .ok_or(Error::NoSuchAccount(request.from_account))?;
        if from.transfer_agreed_at.is_none() {
            return Err(Error::Invalid("no_transfer_consent"));
        }
        let now = center.clock().now();
        let used = self
            .store
            .transferred_since(env.id, start_of_business_day(now))?;
        let remaining_limit = (DAILY_LIMIT - used).clamp(0, PER_TRANSFER_LIMIT);
        if request.amount > remaining_limit {
            return Err(Error::Invalid("over_limit"));
        }
        let user_token = center.user_token().await?;
        let balance = center
            .client()
            .balance(
                &user_token,
                &BalanceRequest {
                    bank_tran_id: center.next_bank_tran_id()?,
                    fintech_use_num: fintech(&from)?,
                },
            )
            .await?;
        let available = balance
            .available_amt
            .as_ref()
            .map(|a| a.as_decimal())
            .unwrap_or_else(|| balance.balance_amt.as_decimal())
            .to_i64()
            .unwrap_or(0);
        let balance_now = balance.balance_amt.as_decimal().to_i64();
        if let Some(b) = balance_now {
            self.store.record_balance(
                from.id,
                b,
                Some(available),
                balance.product_name.as_deref(),
                now,
            )?;
        }
        if request.amount > available {
            return Err(Error::Invalid("insufficient_funds"));
        }
        let recipient = match &request.to {
            Recipient::Own { account_id } => {
                if *account_id == from.id {
                    return Err(Error::Invalid("same_account"));
                }
                let to = self
                    .store
                    .account(*account_id)?
                    .filter(|a| a.environment_id == env.id && a.state == "active")
                    .ok_or(Error::NoSuchAccount(*account_id))?;
                ReceiveRecipient::FintechUseNum {
                    fintech_use_num: fintech(&to)?,
                }
            }
            Recipient::External {
                bank_code,
                account_num,
            } => {
                let bank_code_std =
                    BankCode::parse(bank_code).map_err(|_| Error::Invalid("bad_bank_code"))?;
                if account_num.is_empty()
                    || account_num.len() > 16
                    || !account_num.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(Error::Invalid("bad_account_number"));
                }
                ReceiveRecipient::Account {
                    bank_code_std,
                    account_num: account_num.clone(),
                    account_seq: None,
                }
            }
        };
        let oob = center.oob_token().await?;
        let receive = center
            .client()
            .receive(
                &oob,
                &ReceiveRequest {
                    bank_tran_id: center.next_bank_tran_id()?,
                    cntr_account_type: CntrAccountType::Account,
                    cntr_account_num: env.payout_account.clone(),
                    recipient,
                    print_content: printable(&request.memo_or(&env), 10),
                    tran_amt: won(request.amount)?,
                    req_client_name: env.user_name.clone().unwrap_or_default(),
                    req_client: RequestingClient::FintechUseNum {
                        req_client_fintech_use_num: fintech(&from)?,
                    },
                    req_client_num: env.user_seq_no.clone().unwrap_or_default(),
                    transfer_purpose: TransferPurpose::Remittance,
                    sub_frnc_name: None,
                    sub_frnc_num: None,
                    sub_frnc_business_num: None,
                    cms_num: None,
                },
            )
            .await?;
        Ok(Preflight {
            request: request.clone(),
            recipient_name: receive.account_holder_name.clone(),
            recipient_bank_code: receive
                .bank_code_std
                .as_ref()
                .map(|b| b.as_str().to_owned())
                .unwrap_or_default(),
            recipient_bank_name: receive.bank_name.clone(),
            recipient_account_masked: receive.account_num_masked.clone().unwrap_or_default(),
            from,
            available,
            remaining_limit,
        })
    }

    /// Journals a confirmed transfer and runs it to its end (or to an outcome that must wait,
    /// which [`Moa::resume_transfers`] finishes later). Progress goes to `events`.
    pub async fn transfer(
        &self,
        confirmed: &Preflight,
        events: Option<mpsc::Sender<TransferEvent>>,
    ) -> Result<TransferRecord> {
        let env = self.environment().await?;
        let request = &confirmed.request;
        let (to_account, to_account_num) = match &request.to {
            Recipient::Own { account_id } => (Some(*account_id), String::new()),
            Recipient::External { account_num, .. } => (None, account_num.clone()),
        };
        let now = self.clock().now();
        let record = self.store.create_transfer(
            &NewTransfer {
                environment_id: env.id,
                from_account: request.from_account,
                to_account,
                to_bank_code: confirmed.recipient_bank_code.clone(),
                to_account_num,
                to_holder_name: confirmed.recipient_name.clone(),
                amount: request.amount,
                memo: request.memo.clone(),
            },
            now,
        )?;
        self.store.audit(
            "transfer",
            &record.id,
            &format!("created: {} won", record.amount),
            now,
        )?;
        self.run_transfer(record, events).await
    }

    /// Finishes every transfer a previous run left open. Returns them as they ended.
    pub async fn resume_transfers(
        &self,
        events: Option<mpsc::Sender<TransferEvent>>,
    ) -> Result<Vec<TransferRecord>> {
        let env = self.environment().await?;
        let mut out = Vec::new();
        for record in self.store.open_transfers(env.id)? {
            self.store.audit(
                "transfer",
                &record.id,
                &format!("resumed in state {}", record.state.as_str()),
                self.clock().now(),
            )?;
            out.push(self.run_transfer(record, events.clone()).await?);
        }
        Ok(out)
    }

    /// The journal's transfers, newest first.
    pub async fn transfers(&self, limit: u32) -> Result<Vec<TransferRecord>> {
        let env = self.environment().await?;
        Ok(self.store.transfers(env.id, limit)?)
    }

    async fn run_transfer(
        &self,
        mut record: TransferRecord,
        events: Option<mpsc::Sender<TransferEvent>>,
    ) -> Result<TransferRecord> {
        let center = self.center().await?;
        let saga = Saga {
            moa: self,
            center: &center,
            events,
        };
        // Each round moves the transfer on; an outcome that must wait ends the run, and the
        // journal keeps it for the next resume. The bound only guards against a bug looping.
        for _ in 0..32 {
            let (next, moved) = saga.step(record).await?;
            record = next;
            if record.state.is_final() || !moved {
                break;
            }
        }
        Ok(record)
    }
}

impl TransferRequest {
    fn memo_or(&self, env: &crate::store::EnvironmentRecord) -> String {
        if self.memo.trim().is_empty() {
            env.user_name.clone().unwrap_or_else(|| "모아".into())
        } else {
            self.memo.trim().to_owned()
        }
    }
}

struct Saga<'a> {
    moa: &'a Moa,
    center: &'a Center,
    events: Option<mpsc::Sender<TransferEvent>>,
}

impl Saga<'_> {
    fn now(&self) -> DateTime<Utc> {
        self.center.clock().now()
    }

    async fn save(&self, record: &TransferRecord, change: Change) -> Result<TransferRecord> {
        let updated = self
            .moa
            .store
            .update_transfer(&record.id, &change, self.now())?;
        if let Some(state) = change.state {
            let detail = match &updated.failure_code {
                Some(code) if matches!(state, TransferState::Failed | TransferState::Refunding) => {
                    format!("{} ({code})", state.as_str())
                }
                _ => state.as_str().to_owned(),
            };
            self.moa
                .store
                .audit("transfer", &record.id, &detail, self.now())?;
            if let Some(events) = &self.events {
                let _ = events
                    .send(TransferEvent {
                        id: record.id.clone(),
                        state,
                    })
                    .await;
            }
        }
        Ok(updated)
    }

    /// Moves the transfer to `state`, changing nothing else.
    async fn move_to(
        &self,
        record: &TransferRecord,
        state: TransferState,
    ) -> Result<TransferRecord> {
        self.save(
            record,
            Change {
                state: Some(state),
                ..Change::default()
            },
        )
        .await
    }

    fn hook(&self, step: Step) {
        self.moa.transfer_hooks().at(step);
    }

    fn new_leg(&self) -> Result<(BankTranId, LegId)> {
        let id = self.center.next_bank_tran_id()?;
        let leg = LegId {
            bank_tran_id: id.as_str().to_owned(),
            date: business_date(self.now()),
        };
        Ok((id, leg))
    }

    /// One move of the state machine; `false` when the transfer must wait.
    async fn step(&self, record: TransferRecord) -> Result<(TransferRecord, bool)> {
        let waiting = matches!(
            record.state,
            TransferState::Withdrawing | TransferState::Depositing
        ) || (record.state == TransferState::Refunding && record.refund.is_some());
        let before = (
            record.state,
            record.withdraw.clone(),
            record.deposit.clone(),
            record.refund.clone(),
        );
        let next = self.advance(record).await?;
        let after = (
            next.state,
            next.withdraw.clone(),
            next.deposit.clone(),
            next.refund.clone(),
        );
        // Settling that learned nothing leaves the journal as it was: wait for a later resume.
        let moved = !(waiting && before == after) || next.state.is_final();
        Ok((next, moved))
    }

    async fn advance(&self, record: TransferRecord) -> Result<TransferRecord> {
        match record.state {
            TransferState::Created => self.withdraw(record).await,
            TransferState::Withdrawing => {
                let leg = record.withdraw.clone().ok_or(Error::Invalid("internal"))?;
                match self
                    .settle(CheckType::Withdraw, &leg, record.amount)
                    .await?
                {
                    Some(TransferOutcome::Succeeded) => {
                        self.move_to(&record, TransferState::Withdrawn).await
                    }
                    Some(TransferOutcome::Failed(code)) => {
                        self.fail(
                            &record,
                            &format!("bank_refused:{}", code.code()),
                            code.message(moa_openbanking::Lang::Ko).to_owned(),
                        )
                        .await
                    }
                    Some(TransferOutcome::NotFound) => {
                        self.fail(
                            &record,
                            "withdraw_not_applied",
                            "출금이 처리되지 않았습니다".into(),
                        )
                        .await
                    }
                    // Still pending: leave it journaled for the next resume.
                    _ => Ok(record),
                }
            }
            TransferState::Withdrawn => self.deposit(record).await,
            TransferState::Depositing => {
                let leg = record.deposit.clone().ok_or(Error::Invalid("internal"))?;
                match self.settle(CheckType::Deposit, &leg, record.amount).await? {
                    Some(TransferOutcome::Succeeded) => {
                        self.move_to(&record, TransferState::Completed).await
                    }
                    Some(TransferOutcome::Failed(code)) => {
                        self.refund_next(
                            &record,
                            &format!("bank_refused:{}", code.code()),
                            code.message(moa_openbanking::Lang::Ko).to_owned(),
                        )
                        .await
                    }
                    Some(TransferOutcome::NotFound) => self.deposit_not_applied(&record).await,
                    _ => Ok(record),
                }
            }
            TransferState::Refunding => match record.refund.clone() {
                None => self.refund(record).await,
                Some(leg) => match self.settle(CheckType::Deposit, &leg, record.amount).await? {
                    Some(TransferOutcome::Succeeded) => {
                        self.move_to(&record, TransferState::Refunded).await
                    }
                    // The refund did not happen: forget it, so the next round makes a new one.
                    Some(TransferOutcome::Failed(_)) | Some(TransferOutcome::NotFound) => {
                        self.save(
                            &record,
                            Change {
                                clear_refund: true,
                                ..Change::default()
                            },
                        )
                        .await
                    }
                    _ => Ok(record),
                },
            },
            TransferState::Completed | TransferState::Refunded | TransferState::Failed => {
                Ok(record)
            }
        }
    }

    async fn fail(
        &self,
        record: &TransferRecord,
        code: &str,
        message: String,
    ) -> Result<TransferRecord> {
        self.save(
            record,
            Change {
                state: Some(TransferState::Failed),
                failure: Some((code.to_owned(), message)),
                ..Change::default()
            },
        )
        .await
    }

    async fn refund_next(
        &self,
        record: &TransferRecord,
        code: &str,
        message: String,
    ) -> Result<TransferRecord> {
        self.save(
            record,
            Change {
                state: Some(TransferState::Refunding),
                clear_deposit: true,
                failure: Some((code.to_owned(), message)),
                ..Change::default()
            },
        )
        .await
    }

    /// A deposit the center never applied: try again with a new id, a few times, then refund.
    async fn deposit_not_applied(&self, record: &TransferRecord) -> Result<TransferRecord> {
        if record.deposit_attempts < DEPOSIT_ATTEMPTS {
            self.save(
                record,
                Change {
                    state: Some(TransferState::Withdrawn),
                    clear_deposit: true,
                    ..Change::default()
                },
            )
            .await
        } else {
            self.refund_next(
                record,
                "deposit_not_applied",
                "입금이 처리되지 않았습니다".into(),
            )
            .await
        }
    }

    async fn withdraw(&self, record: TransferRecord) -> Result<TransferRecord> {
        let env = self.moa.environment().await?;
        let from = self
            .moa
            .store
            .account(record.from_account)?
            .ok_or(Error::NoSuchAccount(record.from_account))?;
        let (id, leg) = self.new_leg()?;
        let record = self
            .save(
                &record,
                Change {
                    state: Some(TransferState::Withdrawing),
                    withdraw: Some(leg),
                    ..Change::default()
                },
            )
            .await?;
        self.hook(Step::BeforeWithdraw);
        let token = match self.center.user_token().await {
            Ok(token) => token,
            Err(e) => return self.fail(&record, e.code(), e.to_string()).await,
        };
        let memo = if record.memo.is_empty() {
            env.user_name.clone().unwrap_or_default()
        } else {
            record.memo.clone()
        };
        let request = WithdrawRequest {
            bank_tran_id: id,
            cntr_account_type: CntrAccountType::Account,
            cntr_account_num: env.collection_account.clone(),
            dps_print_content: printable(&memo, 10),
            fintech_use_num: fintech(&from)?,
            wd_print_content: Some(printable(&record.to_holder_name, 10)),
            tran_amt: won(record.amount)?,
            req_client_name: env.user_name.clone().unwrap_or_default(),
            req_client: RequestingClient::FintechUseNum {
                req_client_fintech_use_num: fintech(&from)?,
            },
            req_client_num: env.user_seq_no.clone().unwrap_or_default(),
            transfer_purpose: TransferPurpose::Remittance,
            sub_frnc_name: None,
            sub_frnc_num: None,
            sub_frnc_business_num: None,
            recv_client_name: Some(printable(&record.to_holder_name, 20)),
            recv_client_bank_code: BankCode::parse(&record.to_bank_code).ok(),
            recv_client_account_num: (!record.to_account_num.is_empty())
                .then(|| record.to_account_num.clone()),
        };
        let answer = self.center.client().withdraw(&token, &request).await;
        self.hook(Step::AfterWithdraw);
        match leg_of(answer) {
            Leg::Applied => self.move_to(&record, TransferState::Withdrawn).await,
            Leg::Refused(code, message) => self.fail(&record, &code, message).await,
            // Unknown: the journal says `withdrawing`; the next step settles it.
            Leg::Unknown => Ok(record),
        }
    }

    async fn deposit(&self, record: TransferRecord) -> Result<TransferRecord> {
        let to = match record.to_account {
            Some(id) => DepositTo::FintechUseNum(fintech(
                &self
                    .moa
                    .store
                    .account(id)?
                    .ok_or(Error::NoSuchAccount(id))?,
            )?),
            None => DepositTo::Account {
                bank_code_std: BankCode::parse(&record.to_bank_code)
                    .map_err(|_| Error::Invalid("bad_bank_code"))?,
                account_num: record.to_account_num.clone(),
                account_holder_name: record.to_holder_name.clone(),
            },
        };
        let (id, leg) = self.new_leg()?;
        let record = self
            .save(
                &record,
                Change {
                    state: Some(TransferState::Depositing),
                    deposit: Some(leg),
                    ..Change::default()
                },
            )
            .await?;
        self.hook(Step::BeforeDeposit);
        let answer = self.send_deposit(&record, id, to, &record.memo).await;
        self.hook(Step::AfterDeposit);
        match answer {
            Leg::Applied => self.move_to(&record, TransferState::Completed).await,
            Leg::Refused(code, message) => self.refund_next(&record, &code, message).await,
            Leg::Unknown => Ok(record),
        }
    }

    async fn refund(&self, record: TransferRecord) -> Result<TransferRecord> {
        let from = self
            .moa
            .store
            .account(record.from_account)?
            .ok_or(Error::NoSuchAccount(record.from_account))?;
        let (id, leg) = self.new_leg()?;
        let record = self
            .save(
                &record,
                Change {
                    refund: Some(leg),
                    ..Change::default()
                },
            )
            .await?;
        self.hook(Step::BeforeRefund);
        let answer = self
            .send_deposit(
                &record,
                id,
                DepositTo::FintechUseNum(fintech(&from)?),
                "모아 환불",
            )
            .await;
        self.hook(Step::AfterRefund);
        match answer {
            Leg::Applied => self.move_to(&record, TransferState::Refunded).await,
            // Not applied: forget this refund; the transfer stays `refunding` until a later
            // resume gets the money back.
            Leg::Refused(_, _) => {
                self.save(
                    &record,
                    Change {
                        clear_refund: true,
                        ..Change::default()
                    },
                )
                .await
            }
            Leg::Unknown => Ok(record),
        }
    }

    async fn send_deposit(
        &self,
        record: &TransferRecord,
        id: BankTranId,
        to: DepositTo,
        memo: &str,
    ) -> Leg {
        let env = match self.moa.environment().await {
            Ok(env) => env,
            Err(_) => return Leg::Refused("internal".into(), String::new()),
        };
        let token = match self.center.oob_token().await {
            Ok(token) => token,
            Err(e) => return Leg::Refused(e.code().into(), e.to_string()),
        };
        let from_name = env.user_name.clone().unwrap_or_default();
        let amount = match won(record.amount) {
            Ok(amount) => amount,
            Err(e) => return Leg::Refused(e.code().into(), e.to_string()),
        };
        let request = DepositRequest {
            cntr_account_type: CntrAccountType::Account,
            cntr_account_num: env.payout_account.clone(),
            wd_pass_phrase: WdPassPhrase::new("NONE"),
            wd_print_content: printable(&from_name, 10),
            name_check_option: if record.to_account.is_some() {
                NameCheckOption::Off
            } else {
                NameCheckOption::On
            },
            sub_frnc_name: None,
            sub_frnc_num: None,
            sub_frnc_business_num: None,
            item: DepositItem {
                bank_tran_id: id,
                to,
                print_content: printable(if memo.is_empty() { &from_name } else { memo }, 10),
                tran_amt: amount,
                req_client_name: from_name,
                req_client: match self
                    .moa
                    .store
                    .account(record.from_account)
                    .ok()
                    .flatten()
                    .and_then(|a| fintech(&a).ok())
                {
                    Some(f) => RequestingClient::FintechUseNum {
                        req_client_fintech_use_num: f,
                    },
                    None => return Leg::Refused("internal".into(), String::new()),
                },
                req_client_num: env.user_seq_no.clone().unwrap_or_default(),
                transfer_purpose: TransferPurpose::Remittance,
                cms_num: None,
            },
        };
        let answer = self.center.client().deposit(&token, &request).await;
        if let Err(e) = &answer
            && e.should_refresh_token()
        {
            self.center.forget_oob_token().await;
        }
        leg_of(answer)
    }

    /// Asks `transfer/result` about a leg until it is known, with doubling waits. `None` when
    /// the center could not be asked at all (the journal keeps the question for later).
    async fn settle(
        &self,
        check: CheckType,
        leg: &LegId,
        amount: i64,
    ) -> Result<Option<TransferOutcome>> {
        let policy = self.moa.options.settle;
        let mut delay = policy.first_delay;
        let mut last = None;
        for attempt in 0..policy.attempts.max(1) {
            if attempt > 0 {
                tokio::time::sleep(delay).await;
                delay = delay.saturating_mul(2);
            }
            let Ok(token) = self.center.oob_token().await else {
                continue;
            };
            let Ok(bank_tran_id) = BankTranId::parse(&leg.bank_tran_id) else {
                return Err(Error::Invalid("internal"));
            };
            let answer = self
                .center
                .client()
                .transfer_result(
                    &token,
                    &TransferResultRequest {
                        check_type: check.clone(),
                        items: vec![TransferQuery {
                            org_bank_tran_id: bank_tran_id,
                            org_bank_tran_date: leg.date,
                            org_tran_amt: won(amount)?,
                        }],
                    },
                )
                .await;
            match outcome_of(answer) {
                Ok(TransferOutcome::Pending) => last = Some(TransferOutcome::Pending),
                Ok(TransferOutcome::NotFound) => last = Some(TransferOutcome::NotFound),
                Ok(known) => return Ok(Some(known)),
                Err(e) => {
                    if e.should_refresh_token() {
                        self.center.forget_oob_token().await;
                    }
                    last = None;
                }
            }
        }
        Ok(last)
    }
}
