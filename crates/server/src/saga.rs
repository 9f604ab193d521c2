//! The transfer saga (docs/architecture.md, "Moving money"): withdraw from the source account
//! into the institution's collection account with the person's token, then deposit from its
//! payout account into the target with the institution's `oob` token.
//!
//! Before every call the saga journals its next step and the call's `bank_tran_id`. An answer
//! that leaves the outcome unknown — a timeout, `A0001`/`A0007`/`A0017`, `A0003`, an HTTP 5xx,
//! a dropped connection, a code this server does not know, a crash — is settled by asking
//! `transfer/result`, never by sending the same money again. A deposit that fails for good is
//! followed by a refund deposit back to the source. Unfinished transfers are resumed at start
//! and then every little while. A transfer runs under a claim (`store::Claim`): one replica at
//! a time, with a lease renewed while it runs and a fencing token every write is conditional
//! on, so a replica whose claim another took over has its writes refused and stops. Every
//! journal write is a transition of [`TransferState::may_become`], conditional on the version
//! the saga read and on the claim's fence, so no second executor can write before it sends
//! anything. Every call and every question about one is kept in an append-only log
//! (`transfer_calls`), under the same fence.
//!
//! ## "Not found" is not "never applied"
//!
//! A center that answers "no such transfer" (`A0310`) may still be working on the call: a bank
//! can apply it after the client gave up. So a leg whose outcome is unknown stays unknown — the
//! saga asks again with growing waits, kept in the journal so they survive a restart — until
//! the center can no longer apply it: the [`cutoff`], the end of the center's next business day
//! after the latest day it may have filed the call under. Only a "not found" after the cutoff
//! means "never applied". While a deposit or a refund is unknown, no other one is sent.
//!
//! ## Dates
//!
//! The center files a call under its own business date when the call arrives, which is the day
//! after the saga's own when the call is sent just before midnight or the saga's clock runs
//! behind the center's. The saga keeps the `bank_tran_date` the center answers; when no answer
//! came, it asks `transfer/result` about the day it sent the call and the days either side.
//! The `bank_tran_id` counter of a new day starts past every earlier day's, so an id the center
//! filed on the next day is never issued again on it.
//!
//! ## The state table
//!
//! | state       | event                                         | next                     |
//! |-------------|-----------------------------------------------|--------------------------|
//! | created     | withdraw journaled and sent                   | withdrawing              |
//! | created     | no token to send it with                      | failed                   |
//! | withdrawing | applied (answer, or `transfer/result`)        | withdrawn                |
//! | withdrawing | refused (answer, or `transfer/result`)        | failed                   |
//! | withdrawing | not found after the cutoff                    | failed                   |
//! | withdrawing | unknown                                       | withdrawing (ask later)  |
//! | withdrawn   | deposit journaled and sent                    | depositing               |
//! | depositing  | applied                                       | completed                |
//! | depositing  | refused                                       | refunding                |
//! | depositing  | not found after the cutoff, attempts left     | withdrawn                |
//! | depositing  | not found after the cutoff, none left         | refunding                |
//! | depositing  | unknown                                       | depositing (ask later)   |
//! | refunding   | refund journaled and sent                     | refunding (refund out)   |
//! | refunding   | refund applied                                | refunded                 |
//! | refunding   | refund refused, or not found after the cutoff | refunding (no refund out)|
//! | refunding   | refund unknown                                | refunding (ask later)    |
//!
//! [`TransferState::may_become`] is this table's transitions; the journal refuses any other.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use moa_openbanking::account::BalanceRequest;
use moa_openbanking::clock::{from_kst, today_kst};
use moa_openbanking::fields::AccountHolderInfoType;
use moa_openbanking::fields::{CheckType, CntrAccountType, NameCheckOption, TransferPurpose};
use moa_openbanking::inquiry::{RealNameRequest, ReceiveRequest, Recipient as ReceiveRecipient};
use moa_openbanking::transfer::{
    DepositItem, DepositRequest, DepositTo, Requester, RequestingClient, SubMerchant,
    TransferOutcome, TransferQuery, TransferResultRequest, WithdrawRequest, outcome_of,
};
use moa_openbanking::{BankCode, BankTranId, OobToken, WdPassPhrase, Won};
use rust_decimal::prelude::ToPrimitive;
use sha2::{Digest, Sha256};

use crate::api::{self, ErrorCode, Failure, FailureReason};
use crate::app::App;
use crate::error::{Error, Result};
use crate::store::{
    AccountRecord, CallRecord, Change, Claim, JournalError, LegId, LegKind, NewTransfer,
    PersonRecord, TransferOrder, TransferRecord, TransferState,
};

/// What one transfer may move at most (KFTC's default per-transfer withdraw limit).
pub const PER_TRANSFER_LIMIT: i64 = 5_000_000;
/// What may leave a person's accounts by transfer in one day (KFTC's default).
pub const DAILY_LIMIT: i64 = 10_000_000;
/// The longest memo, in characters (what banks print).
pub const MEMO_MAX: usize = 20;
/// Deposits that did not happen are retried this many times before the money is refunded.
const DEPOSIT_ATTEMPTS: u32 = 3;

/// How patiently unknown outcomes are settled.
#[derive(Debug, Clone, Copy)]
pub struct SettlePolicy {
    /// The wait before asking about a leg again the first time; each next one doubles.
    pub first_delay: Duration,
    /// The longest wait between two questions about a leg.
    pub max_delay: Duration,
    /// How long one run of a transfer waits in place for its next question; a longer wait is
    /// left to the background resume.
    pub wait_in_run: Duration,
    /// How often open transfers are resumed in the background.
    pub resume_every: Duration,
}

impl Default for SettlePolicy {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(600),
            wait_in_run: Duration::from_secs(8),
            resume_every: Duration::from_secs(30),
        }
    }
}

impl SettlePolicy {
    /// The wait before the next question about a leg already asked about `checks` times.
    pub fn delay(&self, checks: u32) -> Duration {
        self.first_delay
            .saturating_mul(1 << checks.min(20))
            .min(self.max_delay)
    }
}

/// When the center can no longer apply a call: the end of its next business day after the
/// latest day it may have filed the call under. A call still not found then never happened.
pub fn cutoff(leg: &LegId) -> DateTime<Utc> {
    let after = leg
        .latest_date()
        .checked_add_days(chrono::Days::new(2))
        .unwrap_or(NaiveDate::MAX);
    from_kst(after.and_time(NaiveTime::MIN))
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

/// Called at every [`Step`]; the server's does nothing, crash tests stop the process there.
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

/// How a call ended, as far as the saga can tell.
enum Leg {
    /// Applied, filed under the center's date when it said one.
    Applied(Option<NaiveDate>),
    /// Definitely not applied, with why.
    Refused(Failure),
    Unknown,
}

/// Whether an error answer leaves a money-moving call's outcome unknown. Beyond what the
/// protocol calls unknown (timeouts, in progress, no readable answer, HTTP 5xx), a center
/// fault (`A0003`) and any code this server does not know may hide an applied transfer: only a
/// refusal the protocol defines, with a bank code it defines, is taken as "nothing moved".
fn outcome_unknown(e: &moa_openbanking::Error) -> bool {
    use moa_openbanking::codes::{BankRspCode, RspCode, RspKind};
    e.is_outcome_unknown()
        || matches!(
            e.rsp_code().map(RspCode::kind),
            Some(RspKind::CenterFault | RspKind::Unknown)
        )
        || matches!(e.bank_rsp_code(), Some(BankRspCode::Other(_)))
}

/// The center's date in an answer, when it is one the call may have been filed under: the
/// saga's own day or the next. (KFTC's test host answers a fixed date, which is ignored.)
fn center_date(answered: Option<NaiveDate>, sent: NaiveDate) -> Option<NaiveDate> {
    answered.filter(|d| *d == sent || sent.succ_opt() == Some(*d) || sent.pred_opt() == Some(*d))
}

/// A short description of an answer for the call log: codes only, never a field value.
fn answer_text<T>(answer: &std::result::Result<T, moa_openbanking::Error>) -> String {
    match answer {
        Ok(_) => "A0000".into(),
        Err(e) => error_text(e),
    }
}

fn error_text(e: &moa_openbanking::Error) -> String {
    match (e.rsp_code(), e.bank_rsp_code()) {
        (Some(rsp), Some(bank)) => format!("{}/{}", rsp.code(), bank.code()),
        (Some(rsp), None) => rsp.code().to_owned(),
        (None, _) if e.is_timeout() => "no answer: timeout".into(),
        (None, _) => format!("no answer: {}", crate::error::center_code(e).as_str()),
    }
}

/// A refusal of the bank's, with its code.
fn bank_refused(code: String) -> Failure {
    Failure {
        reason: FailureReason::BankRefused,
        rsp_code: Some(code),
    }
}

/// Why a call was refused: a stable reason, with the bank's code when the bank said no, else
/// the center's.
fn refusal(e: &moa_openbanking::Error) -> Failure {
    let rsp_code = match e.bank_rsp_code() {
        Some(bank) if !bank.is_ok() => Some(bank.code().to_owned()),
        _ => e.rsp_code().map(|rsp| rsp.code().to_owned()),
    };
    Failure {
        reason: FailureReason::of_refusal(crate::error::center_code(e)),
        rsp_code,
    }
}

/// Korea's business date at `now`.
pub fn business_date(now: DateTime<Utc>) -> NaiveDate {
    today_kst(now)
}

/// The start of `now`'s business day in Korea, in UTC: where the daily limit starts counting.
pub fn start_of_business_day(now: DateTime<Utc>) -> DateTime<Utc> {
    from_kst(business_date(now).and_time(NaiveTime::MIN))
}

fn won(amount: i64) -> Result<Won> {
    u64::try_from(amount)
        .ok()
        .filter(|a| *a > 0)
        .map(Won::new)
        .ok_or(Error::Refused(ErrorCode::AmountNotPositive))
}

/// The person a transfer is for, as the center is told: by name, by the source account's
/// fintech number and by the center's number for them, sending money.
fn requester(person: &PersonRecord, from: &AccountRecord) -> Requester {
    Requester {
        req_client_name: person.name.clone(),
        req_client: RequestingClient::FintechUseNum {
            req_client_fintech_use_num: from.details.fintech_use_num.clone(),
        },
        req_client_num: person.user_seq_no.clone(),
        transfer_purpose: TransferPurpose::Remittance,
    }
}

/// Cuts `text` to what banks print on a statement.
fn printable(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

/// A memo may hold no control or direction-override characters, and at most [`MEMO_MAX`].
pub fn check_memo(memo: &str) -> Result<()> {
    let bidi = |c: char| matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if memo.chars().count() > MEMO_MAX || memo.chars().any(|c| c.is_control() || bidi(c)) {
        return Err(ErrorCode::BadMemo.into());
    }
    Ok(())
}

/// A hash of what the request asks for: the same idempotency key with another body is refused.
pub fn request_hash(request: &api::TransferRequest) -> String {
    let json = serde_json::to_vec(request).unwrap_or_default();
    let digest = Sha256::digest(&json);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The accounts a request names, checked: the source the person's, with transfer consent.
struct Resolved {
    person: PersonRecord,
    from: AccountRecord,
    to: ResolvedTarget,
}

enum ResolvedTarget {
    Own(AccountRecord),
    External {
        bank_code: BankCode,
        account_num: String,
    },
}

async fn resolve(app: &App, person_id: i64, request: &api::TransferRequest) -> Result<Resolved> {
    won(request.amount)?;
    check_memo(&request.memo)?;
    let person = app
        .store()
        .person(person_id)
        .await?
        .ok_or(ErrorCode::NotLinked)?;
    let from = app.active_account(person_id, &request.from).await?;
    if from.details.transfer_agreed_at.is_none() {
        return Err(ErrorCode::NoTransferConsent.into());
    }
    let to = match &request.to {
        api::Recipient::Own { fintech_use_num } => {
            let to = app.active_account(person_id, fintech_use_num).await?;
            if to.id == from.id {
                return Err(ErrorCode::SameAccount.into());
            }
            ResolvedTarget::Own(to)
        }
        api::Recipient::External {
            bank_code,
            account_num,
        } => {
            let bank_code =
                BankCode::parse(bank_code).map_err(|_| Error::Refused(ErrorCode::BadBankCode))?;
            if account_num.is_empty()
                || account_num.len() > 16
                || !account_num.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(ErrorCode::BadAccountNumber.into());
            }
            ResolvedTarget::External {
                bank_code,
                account_num: account_num.clone(),
            }
        }
    };
    Ok(Resolved { person, from, to })
}

/// A refusal of a check of someone else's account: the bank saying it has no such account is
/// the person's typing, not the center failing.
fn recipient_error(e: moa_openbanking::Error) -> Error {
    if e.bank_rsp_code() == Some(&moa_openbanking::BankRspCode::NoSuchAccount) {
        Error::Refused(ErrorCode::NoSuchRecipient)
    } else {
        Error::Center(e)
    }
}

/// Who holds another person's account (계좌실명조회), with their birth date confirmed when the
/// person gives one. Moves nothing.
pub async fn real_name(app: &App, check: &api::RealNameCheck) -> Result<api::RealName> {
    let bank_code =
        BankCode::parse(&check.bank_code).map_err(|_| Error::Refused(ErrorCode::BadBankCode))?;
    if check.account_num.is_empty()
        || check.account_num.len() > 16
        || !check.account_num.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(ErrorCode::BadAccountNumber.into());
    }
    let birth_date = match &check.birth_date {
        Some(d) if d.len() == 6 && d.bytes().all(|b| b.is_ascii_digit()) => Some(d.clone()),
        Some(_) => return Err(ErrorCode::BadRequest.into()),
        None => None,
    };
    let center = app.center();
    let oob = center.oob_token().await?;
    let answer = center
        .client()
        .real_name(
            &oob,
            &RealNameRequest {
                bank_tran_id: center.next_bank_tran_id().await?,
                bank_code_std: bank_code,
                account_num: check.account_num.clone(),
                account_seq: None,
                account_holder_info_type: if birth_date.is_some() {
                    AccountHolderInfoType::BirthDate
                } else {
                    AccountHolderInfoType::Skip
                },
                account_holder_info: birth_date.clone().unwrap_or_default(),
            },
        )
        .await;
    let birth_date_confirmed = match (&birth_date, &answer) {
        (None, _) => None,
        (Some(_), Ok(_)) => Some(true),
        // The bank found the account but not with that birth date.
        (Some(_), Err(e))
            if e.bank_rsp_code().is_some()
                && e.bank_rsp_code() != Some(&moa_openbanking::BankRspCode::NoSuchAccount)
                && e.rsp_code().map(moa_openbanking::RspCode::kind)
                    == Some(moa_openbanking::RspKind::BankError) =>
        {
            Some(false)
        }
        _ => None,
    };
    match answer {
        Ok(found) => Ok(api::RealName {
            holder_name: found.account_holder_name,
            bank_name: found.account_bank.bank_name,
            account_masked: api::mask_account(&check.account_num),
            birth_date_confirmed,
        }),
        Err(_) if birth_date_confirmed == Some(false) => {
            // Ask again without the date, so the person sees whose account it is.
            let again = Box::pin(real_name(
                app,
                &api::RealNameCheck {
                    birth_date: None,
                    ..check.clone()
                },
            ))
            .await?;
            Ok(api::RealName {
                birth_date_confirmed: Some(false),
                ..again
            })
        }
        Err(e) => Err(recipient_error(e)),
    }
}

/// What may still be transferred today by the person.
async fn remaining_limit(app: &App, person_id: i64) -> Result<i64> {
    let used = app
        .store()
        .transferred_since(person_id, start_of_business_day(app.clock().now()))
        .await?;
    Ok((DAILY_LIMIT - used).clamp(0, PER_TRANSFER_LIMIT))
}

fn memo_or_name(memo: &str, person: &PersonRecord) -> String {
    if memo.trim().is_empty() {
        if person.name.is_empty() {
            "모아".into()
        } else {
            person.name.clone()
        }
    } else {
        memo.trim().to_owned()
    }
}

/// Checks a transfer before the person confirms it: the source may withdraw, the amount is
/// within the limits and what the account can pay now, and the recipient exists — with the
/// holder's name from the receive check (수취조회). Moves nothing.
pub async fn check(
    app: &App,
    person_id: i64,
    request: &api::TransferRequest,
) -> Result<api::TransferCheck> {
    let resolved = resolve(app, person_id, request).await?;
    let remaining = remaining_limit(app, person_id).await?;
    if request.amount > remaining {
        return Err(ErrorCode::OverLimit.into());
    }
    let center = app.center();
    let user_token = center.user_token(person_id).await?;
    let balance = center
        .client()
        .balance(
            &user_token,
            &BalanceRequest {
                bank_tran_id: center.next_bank_tran_id().await?,
                fintech_use_num: resolved.from.details.fintech_use_num.clone(),
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
    if request.amount > available {
        return Err(ErrorCode::InsufficientFunds.into());
    }
    let recipient = match &resolved.to {
        ResolvedTarget::Own(to) => ReceiveRecipient::FintechUseNum {
            fintech_use_num: to.details.fintech_use_num.clone(),
        },
        ResolvedTarget::External {
            bank_code,
            account_num,
        } => ReceiveRecipient::Account {
            bank_code_std: bank_code.clone(),
            account_num: account_num.clone(),
            account_seq: None,
        },
    };
    let settings = app.settings();
    let oob = center.oob_token().await?;
    let receive = center
        .client()
        .receive(
            &oob,
            &ReceiveRequest {
                bank_tran_id: center.next_bank_tran_id().await?,
                cntr_account_type: CntrAccountType::Account,
                cntr_account_num: settings.payout_account.clone(),
                recipient,
                print_content: printable(&memo_or_name(&request.memo, &resolved.person), 10),
                tran_amt: won(request.amount)?,
                requester: requester(&resolved.person, &resolved.from),
                sub_merchant: SubMerchant::default(),
                cms_num: None,
            },
        )
        .await
        .map_err(recipient_error)?;
    Ok(api::TransferCheck {
        recipient_name: receive.account_holder_name.clone(),
        recipient_bank_code: receive
            .account_bank
            .bank_code_std
            .as_ref()
            .map(|b| b.as_str().to_owned())
            .unwrap_or_default(),
        recipient_bank_name: receive.account_bank.bank_name.clone(),
        recipient_account_masked: receive.account_num_masked.clone().unwrap_or_default(),
        available,
        remaining_limit: remaining,
    })
}

/// Journals a transfer under the person's idempotency key — or finds the one already made with
/// it — and starts the saga. The same key with the same request is the same transfer; with
/// another request it is refused and nothing moves.
pub async fn create(
    app: &Arc<App>,
    person_id: i64,
    idempotency_key: &str,
    request: &api::TransferRequest,
) -> Result<(TransferRecord, bool)> {
    let hash = request_hash(request);
    if let Some(known) = app
        .store()
        .transfer_by_key(person_id, idempotency_key)
        .await?
    {
        return if known.order.request_hash == hash {
            Ok((known, false))
        } else {
            Err(ErrorCode::IdempotencyConflict.into())
        };
    }
    let resolved = resolve(app, person_id, request).await?;
    // The daily limit is checked when the transfer is made, not only when it was checked, so
    // several checks held side by side cannot pass it together.
    if request.amount > remaining_limit(app, person_id).await? {
        return Err(ErrorCode::OverLimit.into());
    }
    // The recipient's name the receive check gives is the one the deposit names.
    let holder = match &resolved.to {
        ResolvedTarget::Own(to) => to.details.holder_name.clone(),
        ResolvedTarget::External { .. } => check(app, person_id, request).await?.recipient_name,
    };
    let (to_account, to_bank_code, to_account_num) = match &resolved.to {
        ResolvedTarget::Own(to) => (Some(to.id), to.details.bank_code.clone(), String::new()),
        ResolvedTarget::External {
            bank_code,
            account_num,
        } => (None, bank_code.clone(), account_num.clone()),
    };
    let settings = app.settings();
    let made = app
        .store()
        .create_transfer(
            &NewTransfer {
                order: TransferOrder {
                    person_id,
                    idempotency_key: idempotency_key.to_owned(),
                    request_hash: hash.clone(),
                    from_account: resolved.from.id,
                    to_account,
                    to_bank_code,
                    to_account_num,
                    to_holder_name: holder,
                    amount: request.amount,
                    memo: request.memo.trim().to_owned(),
                    collection_account: settings.collection_account.clone(),
                    payout_account: settings.payout_account.clone(),
                },
                daily_limit: Some((start_of_business_day(app.clock().now()), DAILY_LIMIT)),
            },
            app.clock().now(),
        )
        .await?;
    let Some((record, new)) = made else {
        return Err(ErrorCode::OverLimit.into());
    };
    if !new && record.order.request_hash != hash {
        return Err(ErrorCode::IdempotencyConflict.into());
    }
    if new {
        spawn(app.clone(), record.id.clone());
    }
    Ok((record, new))
}

/// Runs transfer `id` in the background.
pub fn spawn(app: Arc<App>, id: String) {
    tokio::spawn(async move {
        if let Err(e) = run(&app, &id).await {
            tracing::warn!(transfer = %id, code = e.code().as_str(), "transfer stopped; it resumes later");
        }
    });
}

/// Runs transfer `id` as far as it can go now: to its end, or to an outcome that must wait for
/// a later resume. Does nothing when another replica (or task) holds a live claim on it.
pub async fn run(app: &App, id: &str) -> Result<Option<TransferRecord>> {
    let Some(claim) = app
        .store()
        .claim_transfer(id, app.clock().now(), lease(app))
        .await?
    else {
        return Ok(None);
    };
    run_claimed(app, claim).await
}

fn lease(app: &App) -> chrono::Duration {
    chrono::Duration::from_std(app.options().lease).unwrap_or(chrono::Duration::seconds(30))
}

/// Runs a claimed transfer, renewing the claim's lease a third of the way through while it
/// runs, and releases the claim at the end. When a renewal finds the claim taken over, renewing
/// stops; the run is not cut short mid-call (a renewal of a person's token under way must be
/// kept), and its next write, refused, stops it before it sends anything more.
async fn run_claimed(app: &App, claim: Claim) -> Result<Option<TransferRecord>> {
    let every = (app.options().lease / 3).max(Duration::from_millis(10));
    let drive = drive(app, &claim);
    tokio::pin!(drive);
    let mut beat = tokio::time::interval(every);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    beat.tick().await;
    let mut held = true;
    let outcome = loop {
        tokio::select! {
            ended = &mut drive => break ended,
            _ = beat.tick(), if held => match app.store().renew_claim(&claim, app.clock().now()).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(
                        transfer = %claim.transfer_id,
                        "another replica took the transfer over; this run's next write is refused"
                    );
                    held = false;
                }
                // The database is away: the run's own writes find out what stands.
                Err(e) => {
                    let code = Error::from(e).code();
                    tracing::warn!(transfer = %claim.transfer_id, code = code.as_str(), "a lease could not be renewed");
                }
            },
        }
    };
    if let Err(e) = app.store().release_claim(&claim).await {
        let code = Error::from(e).code();
        tracing::warn!(transfer = %claim.transfer_id, code = code.as_str(), "a claim could not be released; its lease runs out");
    }
    outcome
}

/// The saga's rounds on a claimed transfer.
async fn drive(app: &App, claim: &Claim) -> Result<Option<TransferRecord>> {
    let id = claim.transfer_id.as_str();
    let mut record = app
        .store()
        .transfer(id)
        .await?
        .ok_or(ErrorCode::NoSuchTransfer)?;
    let saga = Saga { app, claim };
    let policy = app.options().settle;
    let mut waited = Duration::ZERO;
    // Each round moves the transfer on; an outcome that must wait ends the run, unless its next
    // question is due soon enough to wait for here. The bound only guards against a bug looping.
    for _ in 0..64 {
        let (next, moved) = match saga.step(record).await {
            Ok(step) => step,
            // Another executor moved it first: leave it to them.
            Err(Error::Journal(JournalError::Stale)) => {
                return Ok(app.store().transfer(id).await?);
            }
            // Another replica claimed it since: nothing more is written or sent from here.
            Err(Error::Journal(JournalError::Fenced)) => {
                tracing::warn!(transfer = %id, "the transfer's claim was taken over; this run stops");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        record = next;
        if record.state.is_final() {
            break;
        }
        if !moved {
            let Some(due) = record.next_check_at else {
                break;
            };
            let wait = (due - app.clock().now()).to_std().unwrap_or(Duration::ZERO);
            if waited + wait > policy.wait_in_run {
                break;
            }
            tokio::time::sleep(wait).await;
            waited += wait;
        }
    }
    Ok(Some(record))
}

/// Moves on every open transfer that has something to do now and that no replica holds:
/// those a crash left, and those whose next question about a leg is due. Each is claimed
/// before it runs; replicas resuming at once share the open transfers between them.
pub async fn resume(app: &App) -> Result<Vec<TransferRecord>> {
    let round = uuid::Uuid::new_v4().to_string();
    let mut out = Vec::new();
    while let Some(claim) = app
        .store()
        .claim_due(app.clock().now(), lease(app), &round)
        .await?
    {
        if let Some(done) = run_claimed(app, claim).await? {
            out.push(done);
        }
    }
    Ok(out)
}

/// What `transfer/result` told about a leg.
enum Settled {
    /// Applied, filed under this date.
    Applied(NaiveDate),
    /// Refused by the bank, with its code.
    Refused(String),
    /// Not found after the cutoff: it never happened and never will.
    NeverApplied,
    /// Not known yet: ask again later.
    Unknown,
}

struct Saga<'a> {
    app: &'a App,
    /// The claim every write is fenced with.
    claim: &'a Claim,
}

impl Saga<'_> {
    fn now(&self) -> DateTime<Utc> {
        self.app.clock().now()
    }

    async fn save(&self, record: &TransferRecord, change: Change) -> Result<TransferRecord> {
        let updated = self
            .app
            .store()
            .update_claimed(self.claim, record, &change, self.now())
            .await?;
        if change.state.is_some() {
            self.app.moved(&record.id);
        }
        Ok(updated)
    }

    /// A leg applied: on to `state`, keeping the date the center filed it under.
    async fn applied(
        &self,
        record: &TransferRecord,
        state: TransferState,
        kind: LegKind,
        date: Option<NaiveDate>,
    ) -> Result<TransferRecord> {
        self.save(
            record,
            Change {
                state: Some(state),
                dated: date.map(|d| (kind, d)),
                ..Change::default()
            },
        )
        .await
    }

    /// The leg out is still unknown: ask about it again after the policy's next wait.
    async fn ask_later(&self, record: &TransferRecord) -> Result<TransferRecord> {
        let wait = self.app.options().settle.delay(record.checks);
        let at = self.now() + chrono::Duration::from_std(wait).unwrap_or_default();
        self.save(
            record,
            Change {
                ask_again_at: Some(at),
                ..Change::default()
            },
        )
        .await
    }

    fn hook(&self, step: Step) {
        self.app.options().hooks.at(step);
    }

    async fn new_leg(&self) -> Result<(BankTranId, LegId)> {
        let id = self.app.center().next_bank_tran_id().await?;
        let leg = LegId::sent(id.as_str(), business_date(self.now()));
        Ok((id, leg))
    }

    async fn log_call(
        &self,
        record: &TransferRecord,
        kind: LegKind,
        call: &'static str,
        leg: &LegId,
        date: NaiveDate,
        answer: String,
    ) -> Result<()> {
        let request = match call {
            "send" => format!("{} {} won", kind.as_str(), record.order.amount),
            _ => format!(
                "transfer/result {} {} won",
                kind.as_str(),
                record.order.amount
            ),
        };
        let call = CallRecord {
            transfer_id: record.id.clone(),
            leg: kind,
            call,
            bank_tran_id: leg.bank_tran_id.clone(),
            date,
            request,
            answer,
            at: self.now(),
        };
        // Refused when another replica claimed the transfer since: the run stops there, and
        // the leg, journaled before it was sent, is settled by the new holder. Any other
        // failure to log is only reported: the journal already names the call.
        match self.app.store().record_call(self.claim, &call).await {
            Err(JournalError::Fenced) => Err(JournalError::Fenced.into()),
            Err(e) => {
                let code = crate::error::Error::from(e).code();
                tracing::warn!(transfer = %record.id, code = code.as_str(), "a call could not be logged");
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }

    fn collection_account(&self, record: &TransferRecord) -> String {
        if record.order.collection_account.is_empty() {
            self.app.settings().collection_account.clone()
        } else {
            record.order.collection_account.clone()
        }
    }

    fn payout_account(&self, record: &TransferRecord) -> String {
        if record.order.payout_account.is_empty() {
            self.app.settings().payout_account.clone()
        } else {
            record.order.payout_account.clone()
        }
    }

    async fn person(&self, record: &TransferRecord) -> Result<PersonRecord> {
        Ok(self
            .app
            .store()
            .person(record.order.person_id)
            .await?
            .ok_or(ErrorCode::NotLinked)?)
    }

    async fn account(&self, id: i64) -> Result<AccountRecord> {
        Ok(self
            .app
            .store()
            .account(id)
            .await?
            .ok_or(ErrorCode::NoSuchAccount)?)
    }

    /// One move of the state machine; `false` when the transfer must wait.
    async fn step(&self, record: TransferRecord) -> Result<(TransferRecord, bool)> {
        let refunding = record.state == TransferState::Refunding && record.refund.is_none();
        let before = record.state;
        let checks = record.checks;
        let next = self.advance(record).await?;
        // Asking about a leg that learned nothing: wait for its next question.
        let learned_nothing = next.state == before && next.checks > checks;
        // A refund the bank refused leaves no refund out: the next one waits for a later
        // resume too, rather than asking the refusing bank again at once, round after round.
        let refund_refused =
            refunding && next.state == TransferState::Refunding && next.refund.is_none();
        let moved = !(learned_nothing || refund_refused) || next.state.is_final();
        Ok((next, moved))
    }

    async fn advance(&self, record: TransferRecord) -> Result<TransferRecord> {
        match record.state {
            TransferState::Created => self.withdraw(record).await,
            TransferState::Withdrawing => {
                let leg = record.withdraw.clone().ok_or(ErrorCode::Internal)?;
                match self.settle(&record, LegKind::Withdraw, &leg).await? {
                    Settled::Applied(date) => {
                        self.applied(
                            &record,
                            TransferState::Withdrawn,
                            LegKind::Withdraw,
                            Some(date),
                        )
                        .await
                    }
                    Settled::Refused(code) => self.fail(&record, bank_refused(code)).await,
                    Settled::NeverApplied => {
                        self.fail(&record, Failure::of(FailureReason::WithdrawNotApplied))
                            .await
                    }
                    Settled::Unknown => self.ask_later(&record).await,
                }
            }
            TransferState::Withdrawn => self.deposit(record).await,
            TransferState::Depositing => {
                let leg = record.deposit.clone().ok_or(ErrorCode::Internal)?;
                match self.settle(&record, LegKind::Deposit, &leg).await? {
                    Settled::Applied(date) => {
                        self.applied(
                            &record,
                            TransferState::Completed,
                            LegKind::Deposit,
                            Some(date),
                        )
                        .await
                    }
                    Settled::Refused(code) => self.refund_next(&record, bank_refused(code)).await,
                    Settled::NeverApplied => self.deposit_not_applied(&record).await,
                    Settled::Unknown => self.ask_later(&record).await,
                }
            }
            TransferState::Refunding => match record.refund.clone() {
                None => self.refund(record).await,
                Some(leg) => match self.settle(&record, LegKind::Refund, &leg).await? {
                    Settled::Applied(date) => {
                        self.applied(
                            &record,
                            TransferState::Refunded,
                            LegKind::Refund,
                            Some(date),
                        )
                        .await
                    }
                    // The refund did not happen and never will: forget it, so the next round
                    // makes a new one.
                    Settled::Refused(..) | Settled::NeverApplied => {
                        self.save(
                            &record,
                            Change {
                                clear_refund: true,
                                ..Change::default()
                            },
                        )
                        .await
                    }
                    Settled::Unknown => self.ask_later(&record).await,
                },
            },
            TransferState::Completed | TransferState::Refunded | TransferState::Failed => {
                Ok(record)
            }
        }
    }

    async fn fail(&self, record: &TransferRecord, failure: Failure) -> Result<TransferRecord> {
        self.save(
            record,
            Change {
                state: Some(TransferState::Failed),
                failure: Some(failure.stored()),
                ..Change::default()
            },
        )
        .await
    }

    async fn refund_next(
        &self,
        record: &TransferRecord,
        failure: Failure,
    ) -> Result<TransferRecord> {
        self.save(
            record,
            Change {
                state: Some(TransferState::Refunding),
                clear_deposit: true,
                failure: Some(failure.stored()),
                ..Change::default()
            },
        )
        .await
    }

    /// A deposit the center never applied and never will: try again with a new id, a few
    /// times, then refund.
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
            self.refund_next(record, Failure::of(FailureReason::DepositNotApplied))
                .await
        }
    }

    async fn withdraw(&self, record: TransferRecord) -> Result<TransferRecord> {
        let person = self.person(&record).await?;
        let from = self.account(record.order.from_account).await?;
        let (id, leg) = self.new_leg().await?;
        let record = self
            .save(
                &record,
                Change {
                    state: Some(TransferState::Withdrawing),
                    withdraw: Some(leg.clone()),
                    ..Change::default()
                },
            )
            .await?;
        self.hook(Step::BeforeWithdraw);
        let center = self.app.center();
        let token = match center.user_token(record.order.person_id).await {
            Ok(token) => token,
            // Nothing was sent.
            Err(e) => {
                let reason = FailureReason::of_refusal(e.code());
                return self.fail(&record, Failure::of(reason)).await;
            }
        };
        let request = WithdrawRequest {
            bank_tran_id: id,
            cntr_account_type: CntrAccountType::Account,
            cntr_account_num: self.collection_account(&record),
            dps_print_content: printable(&memo_or_name(&record.order.memo, &person), 10),
            fintech_use_num: from.details.fintech_use_num.clone(),
            wd_print_content: Some(printable(&record.order.to_holder_name, 10)),
            tran_amt: won(record.order.amount)?,
            requester: requester(&person, &from),
            sub_merchant: SubMerchant::default(),
            recv_client_name: Some(printable(&record.order.to_holder_name, 20)),
            recv_client_bank_code: Some(record.order.to_bank_code.clone()),
            recv_client_account_num: (!record.order.to_account_num.is_empty())
                .then(|| record.order.to_account_num.clone()),
        };
        let answer = center.client().withdraw(&token, &request).await;
        self.observe("withdraw", &answer);
        self.log_call(
            &record,
            LegKind::Withdraw,
            "send",
            &leg,
            leg.date,
            answer_text(&answer),
        )
        .await?;
        self.hook(Step::AfterWithdraw);
        let answer = answer.map(|a| center_date(a.bank.bank_tran_date, leg.date));
        match classify(answer) {
            Leg::Applied(date) => {
                self.applied(&record, TransferState::Withdrawn, LegKind::Withdraw, date)
                    .await
            }
            Leg::Refused(failure) => self.fail(&record, failure).await,
            // Unknown: the journal says `withdrawing`; the next step settles it.
            Leg::Unknown => Ok(record),
        }
    }

    async fn deposit(&self, record: TransferRecord) -> Result<TransferRecord> {
        let to = match record.order.to_account {
            Some(id) => DepositTo::FintechUseNum(self.account(id).await?.details.fintech_use_num),
            None => DepositTo::Account {
                bank_code_std: record.order.to_bank_code.clone(),
                account_num: record.order.to_account_num.clone(),
                account_holder_name: record.order.to_holder_name.clone(),
            },
        };
        // The `oob` token first: without one nothing is sent, and nothing is journaled as out.
        let token = self.app.center().oob_token().await?;
        let (id, leg) = self.new_leg().await?;
        let record = self
            .save(
                &record,
                Change {
                    state: Some(TransferState::Depositing),
                    deposit: Some(leg.clone()),
                    ..Change::default()
                },
            )
            .await?;
        self.hook(Step::BeforeDeposit);
        let memo = record.order.memo.clone();
        let answer = self
            .send_deposit(&record, LegKind::Deposit, &token, (id, &leg), to, &memo)
            .await?;
        self.hook(Step::AfterDeposit);
        match answer {
            Leg::Applied(date) => {
                self.applied(&record, TransferState::Completed, LegKind::Deposit, date)
                    .await
            }
            Leg::Refused(failure) => self.refund_next(&record, failure).await,
            Leg::Unknown => Ok(record),
        }
    }

    async fn refund(&self, record: TransferRecord) -> Result<TransferRecord> {
        let from = self.account(record.order.from_account).await?;
        let token = self.app.center().oob_token().await?;
        let (id, leg) = self.new_leg().await?;
        let record = self
            .save(
                &record,
                Change {
                    refund: Some(leg.clone()),
                    ..Change::default()
                },
            )
            .await?;
        self.hook(Step::BeforeRefund);
        let answer = self
            .send_deposit(
                &record,
                LegKind::Refund,
                &token,
                (id, &leg),
                DepositTo::FintechUseNum(from.details.fintech_use_num.clone()),
                "모아 환불",
            )
            .await?;
        self.hook(Step::AfterRefund);
        match answer {
            Leg::Applied(date) => {
                self.applied(&record, TransferState::Refunded, LegKind::Refund, date)
                    .await
            }
            // Not applied: forget this refund; the transfer stays `refunding` until a later
            // resume gets the money back.
            Leg::Refused(_) => {
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

    fn observe<T>(
        &self,
        api: &'static str,
        answer: &std::result::Result<T, moa_openbanking::Error>,
    ) {
        let code = match answer {
            Ok(_) => "A0000",
            Err(e) => e.rsp_code().map(|c| c.code()).unwrap_or("none"),
        };
        self.app.metrics().observe_center_answer(api, code);
    }

    async fn send_deposit(
        &self,
        record: &TransferRecord,
        kind: LegKind,
        token: &OobToken,
        (id, leg): (BankTranId, &LegId),
        to: DepositTo,
        memo: &str,
    ) -> Result<Leg> {
        // The leg is journaled as out: whatever stops it now, it is settled by asking, never
        // by taking it for refused.
        let prepared = async {
            let person = self.person(record).await?;
            let from = self.account(record.order.from_account).await?;
            Ok::<_, Error>((person, from, won(record.order.amount)?))
        }
        .await;
        let Ok((person, from, amount)) = prepared else {
            return Ok(Leg::Unknown);
        };
        let request = DepositRequest {
            cntr_account_type: CntrAccountType::Account,
            cntr_account_num: self.payout_account(record),
            wd_pass_phrase: WdPassPhrase::new("NONE"),
            wd_print_content: printable(&person.name, 10),
            name_check_option: if record.order.to_account.is_some() {
                NameCheckOption::Off
            } else {
                NameCheckOption::On
            },
            sub_merchant: SubMerchant::default(),
            item: DepositItem {
                bank_tran_id: id,
                to,
                print_content: printable(&memo_or_name(memo, &person), 10),
                tran_amt: amount,
                requester: requester(&person, &from),
                cms_num: None,
            },
        };
        let center = self.app.center();
        let answer = center.client().deposit(token, &request).await;
        self.observe("deposit", &answer);
        let logged = self
            .log_call(record, kind, "send", leg, leg.date, answer_text(&answer))
            .await;
        if let Err(e) = &answer
            && e.should_refresh_token()
        {
            center.forget_oob_token().await;
        }
        logged?;
        Ok(classify(answer.map(|a| {
            let answered = a.res_list.first().and_then(|r| r.bank.bank_tran_date);
            center_date(answered, leg.date)
        })))
    }

    /// Asks `transfer/result` once about `leg`, on every business date the center may have
    /// filed it under, and logs each question.
    async fn settle(&self, record: &TransferRecord, kind: LegKind, leg: &LegId) -> Result<Settled> {
        let center = self.app.center();
        let check = match kind {
            LegKind::Withdraw => CheckType::Withdraw,
            LegKind::Deposit | LegKind::Refund => CheckType::Deposit,
        };
        let bank_tran_id = BankTranId::parse(&leg.bank_tran_id)
            .map_err(|_| Error::Refused(ErrorCode::Internal))?;
        let Ok(token) = center.oob_token().await else {
            return Ok(Settled::Unknown);
        };
        let mut all_not_found = true;
        for date in leg.candidate_dates() {
            let answer = center
                .client()
                .transfer_result(
                    &token,
                    &TransferResultRequest {
                        check_type: check.clone(),
                        items: vec![TransferQuery {
                            org_bank_tran_id: bank_tran_id.clone(),
                            org_bank_tran_date: date,
                            org_tran_amt: won(record.order.amount)?,
                        }],
                    },
                )
                .await;
            let outcome = outcome_of(answer);
            let said = match &outcome {
                Ok(TransferOutcome::Succeeded) => "applied".to_owned(),
                Ok(TransferOutcome::Failed(code)) => format!("refused/{}", code.code()),
                Ok(TransferOutcome::NotFound) => "not found".to_owned(),
                Ok(_) => "pending".to_owned(),
                Err(e) => error_text(e),
            };
            self.log_call(record, kind, "result", leg, date, said)
                .await?;
            match outcome {
                Ok(TransferOutcome::Succeeded) => return Ok(Settled::Applied(date)),
                Ok(TransferOutcome::Failed(code)) => {
                    return Ok(Settled::Refused(code.code().to_owned()));
                }
                Ok(TransferOutcome::NotFound) => {}
                Ok(_) => all_not_found = false,
                Err(e) => {
                    if e.should_refresh_token() {
                        center.forget_oob_token().await;
                    }
                    all_not_found = false;
                }
            }
        }
        Ok(if all_not_found && self.now() >= cutoff(leg) {
            Settled::NeverApplied
        } else {
            Settled::Unknown
        })
    }
}

/// How a money-moving call's answer leaves its leg.
fn classify(answer: std::result::Result<Option<NaiveDate>, moa_openbanking::Error>) -> Leg {
    match answer {
        Ok(date) => Leg::Applied(date),
        Err(e) if outcome_unknown(&e) => Leg::Unknown,
        Err(e) => Leg::Refused(refusal(&e)),
    }
}

/// A transfer as the app sees it.
pub async fn view(app: &App, record: &TransferRecord) -> Result<api::Transfer> {
    let from = app
        .store()
        .account(record.order.from_account)
        .await?
        .ok_or(ErrorCode::Internal)?;
    let to_fintech_use_num = match record.order.to_account {
        Some(id) => app
            .store()
            .account(id)
            .await?
            .map(|a| a.details.fintech_use_num.to_string()),
        None => None,
    };
    // Older journals hold the same `reason:code` form; a reason unknown here reads as internal.
    let failure = record.failure_code.as_deref().map(Failure::from_stored);
    Ok(api::Transfer {
        id: record.id.clone(),
        idempotency_key: record.order.idempotency_key.clone(),
        from: from.details.fintech_use_num.to_string(),
        to_fintech_use_num,
        to_bank_code: record.order.to_bank_code.to_string(),
        to_account_masked: api::mask_account(&record.order.to_account_num),
        to_holder_name: record.order.to_holder_name.clone(),
        amount: record.order.amount,
        memo: record.order.memo.clone(),
        state: record.state,
        failure_code: failure.as_ref().map(|f| f.reason),
        failure_rsp_code: failure.and_then(|f| f.rsp_code),
        created_at: record.created_at,
        updated_at: record.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use moa_openbanking::error::{BankReply, CenterError};
    use moa_openbanking::{BankRspCode, RspCode};

    fn center(code: &str, bank: Option<&str>) -> moa_openbanking::Error {
        moa_openbanking::Error::Center(Box::new(CenterError {
            endpoint: "/v2.0/transfer/withdraw/fin_num",
            code: RspCode::from_code(code),
            message: String::new(),
            detail: None,
            bank: bank.map(|b| BankReply {
                code: BankRspCode::from_code(b),
                message: String::new(),
            }),
            api_tran_id: None,
        }))
    }

    #[test]
    fn only_a_refusal_the_protocol_defines_is_taken_for_nothing_moved() {
        for (code, bank) in [
            ("A0001", None),
            ("A0007", None),
            ("A0017", None),
            ("A0003", None),
            ("A0999", None),
            ("A0002", Some("777")),
        ] {
            assert!(
                outcome_unknown(&center(code, bank)),
                "{code}/{bank:?} leaves the outcome unknown"
            );
        }
        for (code, bank) in [
            ("A0002", Some("453")),
            ("A0002", Some("499")),
            ("O0009", None),
        ] {
            assert!(
                !outcome_unknown(&center(code, bank)),
                "{code}/{bank:?} is a refusal"
            );
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).expect("a date")
    }

    #[test]
    fn the_cutoff_is_the_end_of_the_centers_next_business_day() {
        let kst_midnight = |d: u32| from_kst(day(d).and_hms_opt(0, 0, 0).expect("midnight"));
        let dated = LegId {
            bank_tran_id: "T991589220U000000001".into(),
            date: day(10),
            dated_by_center: true,
        };
        assert_eq!(cutoff(&dated), kst_midnight(12));
        // Not dated by the center: it may have filed the call on the 11th.
        let sent = LegId::sent("T991589220U000000001", day(10));
        assert_eq!(cutoff(&sent), kst_midnight(13));
        assert_eq!(sent.candidate_dates(), vec![day(10), day(11), day(9)]);
        assert_eq!(dated.candidate_dates(), vec![day(10)]);
    }

    #[test]
    fn questions_wait_longer_each_time_up_to_a_limit() {
        let policy = SettlePolicy::default();
        let waits: Vec<u64> = (0..4).map(|n| policy.delay(n).as_millis() as u64).collect();
        assert_eq!(waits, vec![500, 1_000, 2_000, 4_000]);
        assert_eq!(policy.delay(40), policy.max_delay);
    }

    #[test]
    fn a_date_the_center_answers_is_kept_only_when_it_can_be_the_calls() {
        assert_eq!(center_date(Some(day(11)), day(10)), Some(day(11)));
        assert_eq!(center_date(Some(day(10)), day(10)), Some(day(10)));
        // KFTC's test host answers a fixed date: not the call's.
        let fixed = NaiveDate::from_ymd_opt(2019, 1, 1).expect("a date");
        assert_eq!(center_date(Some(fixed), day(10)), None);
        assert_eq!(center_date(None, day(10)), None);
    }
}
