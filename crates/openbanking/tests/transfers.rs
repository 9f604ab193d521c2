//! Moving money through the client against the testbed's ledger: withdrawals, deposits, the
//! recipient check, remittances, transfer results and return claims — and the faults that leave
//! a transfer's outcome unknown, settled by `transfer/result`, never by resending.

mod common;

use chrono::NaiveDate;
use moa_openbanking::fields::{
    CheckType, CntrAccountType, NameCheckOption, SortOrder, TransferPurpose,
};
use moa_openbanking::fund_return::{ClaimedAccount, ReturnClaimRequest, ReturnResultRequest};
use moa_openbanking::inquiry::{Receive, ReceiveRequest, Recipient, RemitListRequest};
use moa_openbanking::transfer::{
    Deposit, DepositItem, DepositRequest, DepositTo, Requester, RequestingClient, SubMerchant,
    TransferOutcome, TransferQuery, TransferResultRequest, Withdraw, WithdrawRequest, outcome_of,
};
use moa_openbanking::user::Account;
use moa_openbanking::*;
use moa_testbed::faults::Fault;
use moa_testbed::manifest::ManifestAccount;

use common::{Center, center_code};

/// A person who has registered accounts with the first institution, with both tokens.
struct Scene {
    c: Center,
    user: Token,
    oob: Token,
    account: Account,
}

impl Scene {
    async fn new() -> Self {
        let c = Center::start().await;
        let user = c.user_token(0, 0).await;
        let oob = c.oob_token(0).await;
        let account = c.first_account(&user).await;
        Self {
            c,
            user,
            oob,
            account,
        }
    }

    fn collection_account(&self) -> String {
        self.c.institution(0).collection_account.account_num.clone()
    }

    fn payout_account(&self) -> String {
        self.c.institution(0).payout_account.account_num.clone()
    }

    /// The first account of the testbed's second person, who has no token in this scene.
    fn someone_elses_account(&self) -> &ManifestAccount {
        &self.c.user(1).accounts[0]
    }

    /// The account's holder, named by the account's fintech number.
    fn me(&self) -> Requester {
        Requester {
            req_client_name: self.account.account_holder_name.clone(),
            req_client: RequestingClient::FintechUseNum {
                req_client_fintech_use_num: self.account.fintech_use_num.clone(),
            },
            req_client_num: "MOA0000001".into(),
            transfer_purpose: TransferPurpose::Remittance,
        }
    }

    /// A check of 10,000 won to `recipient` from the payout account, by the requester a
    /// withdrawal names.
    fn receive_request(&self, recipient: Recipient) -> ReceiveRequest {
        let w = self.withdraw_request(10_000);
        ReceiveRequest {
            bank_tran_id: w.bank_tran_id,
            cntr_account_type: CntrAccountType::Account,
            cntr_account_num: self.payout_account(),
            recipient,
            print_content: "모아".into(),
            tran_amt: w.tran_amt,
            requester: w.requester,
            sub_merchant: w.sub_merchant,
            cms_num: None,
        }
    }

    fn withdraw_request(&self, amount: u64) -> WithdrawRequest {
        WithdrawRequest {
            bank_tran_id: self.c.issuer(0).issue().expect("id"),
            cntr_account_type: CntrAccountType::Account,
            cntr_account_num: self.collection_account(),
            dps_print_content: "모아이체".into(),
            fintech_use_num: self.account.fintech_use_num.clone(),
            wd_print_content: Some("모아".into()),
            tran_amt: Won::new(amount),
            requester: self.me(),
            sub_merchant: SubMerchant::default(),
            recv_client_name: None,
            recv_client_bank_code: None,
            recv_client_account_num: None,
        }
    }

    fn deposit_request(&self, to: DepositTo, amount: u64) -> DepositRequest {
        DepositRequest {
            cntr_account_type: CntrAccountType::Account,
            cntr_account_num: self.payout_account(),
            wd_pass_phrase: WdPassPhrase::new("NONE"),
            wd_print_content: "모아".into(),
            name_check_option: NameCheckOption::On,
            sub_merchant: SubMerchant::default(),
            item: DepositItem {
                bank_tran_id: self.c.issuer(0).issue().expect("id"),
                to,
                print_content: "모아입금".into(),
                tran_amt: Won::new(amount),
                requester: self.me(),
                cms_num: None,
            },
        }
    }

    /// A claim that the whole of a 9,000-won transfer went to `org_dps` by mistake, to be
    /// returned to the payout account.
    fn return_claim_request(
        &self,
        org_bank_tran_id: BankTranId,
        org_dps: ClaimedAccount,
        org_wd_bank_code_std: BankCode,
    ) -> ReturnClaimRequest {
        ReturnClaimRequest {
            bank_tran_id: self.c.issuer(0).issue().expect("id"),
            org_bank_tran_date: today(),
            org_bank_tran_id,
            org_dps,
            org_tran_amt: Won::new(9_000),
            org_wd_bank_code_std,
            claim_code: "01".into(),
            claim_message: "착오송금".into(),
            total_return_yn: true,
            return_account_num: self.payout_account(),
            use_org_contact: "0212345678".into(),
            use_org_email: "help@moa.example".into(),
        }
    }

    /// Sends `request` with the holder's user token.
    async fn withdraw(&self, request: &WithdrawRequest) -> Result<Withdraw, Error> {
        self.c
            .client
            .withdraw(&self.user.user_token(), request)
            .await
    }

    /// Sends `request` with the institution's token.
    async fn deposit(&self, request: &DepositRequest) -> Result<Deposit, Error> {
        self.c.client.deposit(&self.oob.oob_token(), request).await
    }

    /// Asks, with the institution's token, whom a check of 10,000 won to `recipient` would reach.
    async fn receive(&self, recipient: Recipient) -> Result<Receive, Error> {
        self.c
            .client
            .receive(&self.oob.oob_token(), &self.receive_request(recipient))
            .await
    }

    async fn balance(&self) -> SignedWon {
        self.c
            .balance(&self.user, &self.account.fintech_use_num)
            .await
    }

    async fn result_of(
        &self,
        check_type: CheckType,
        id: &BankTranId,
        amount: u64,
    ) -> Result<TransferOutcome, Error> {
        let answer = self
            .c
            .client
            .transfer_result(
                &self.oob.oob_token(),
                &TransferResultRequest {
                    check_type,
                    items: vec![query(id, amount)],
                },
            )
            .await;
        if let Ok(a) = &answer {
            assert_eq!(a.res_cnt, 1);
        }
        outcome_of(answer)
    }
}

fn today() -> NaiveDate {
    SystemClock.today_kst()
}

fn less(balance: SignedWon, amount: u64) -> SignedWon {
    SignedWon::from_decimal(balance.as_decimal() - Won::new(amount).as_decimal()).expect("whole")
}

fn more(balance: SignedWon, amount: u64) -> SignedWon {
    SignedWon::from_decimal(balance.as_decimal() + Won::new(amount).as_decimal()).expect("whole")
}

fn bank_of(account: &ManifestAccount) -> BankCode {
    BankCode::parse(&account.bank_code_std).expect("bank")
}

/// A deposit to `account` by its bank and number, naming `holder` as its holder.
fn to_account(account: &ManifestAccount, holder: &str) -> DepositTo {
    DepositTo::Account {
        bank_code_std: bank_of(account),
        account_num: account.account_num.clone(),
        account_holder_name: holder.into(),
    }
}

/// The question `transfer/result` is asked about today's transfer `id` of `amount` won.
fn query(id: &BankTranId, amount: u64) -> TransferQuery {
    TransferQuery {
        org_bank_tran_id: id.clone(),
        org_bank_tran_date: today(),
        org_tran_amt: Won::new(amount),
    }
}

// ---- withdraw ----------------------------------------------------------------------------------

#[tokio::test]
async fn a_withdrawal_debits_the_account_once_and_transfer_result_confirms_it() {
    let s = Scene::new().await;
    let before = s.balance().await;
    let request = s.withdraw_request(12_000);
    let w = s.withdraw(&request).await.expect("withdrawn");
    assert_eq!(w.tran_amt, Won::new(12_000));
    assert_eq!(w.bank.bank_tran_id, request.bank_tran_id.as_str());
    assert_eq!(w.bank.bank_rsp_code, Some(BankRspCode::Ok));
    assert_eq!(
        w.account.fintech_use_num.as_ref(),
        Some(&s.account.fintech_use_num)
    );
    assert!(w.wd_limit_remain_amt.is_some());
    assert_eq!(s.balance().await, less(before, 12_000));
    assert_eq!(
        s.result_of(CheckType::Withdraw, &request.bank_tran_id, 12_000)
            .await
            .expect("result"),
        TransferOutcome::Succeeded
    );
}

#[tokio::test]
async fn a_withdrawal_over_the_per_transfer_limit_is_refused_with_a0111() {
    let s = Scene::new().await;
    let request = s.withdraw_request(5_000_001);
    let err = s.withdraw(&request).await.expect_err("over the limit");
    assert_eq!(center_code(&err), "A0111");
    assert_eq!(err.center().map(|e| e.kind()), Some(RspKind::Limit));
    assert!(!err.is_outcome_unknown());
}

#[tokio::test]
async fn a_withdrawal_into_an_unregistered_contract_account_is_refused_with_a0322() {
    let s = Scene::new().await;
    let mut request = s.withdraw_request(1_000);
    request.cntr_account_num = s.payout_account();
    let err = s.withdraw(&request).await.expect_err("wrong account");
    assert_eq!(center_code(&err), "A0322");
}

#[tokio::test]
async fn resending_a_withdrawal_with_its_bank_tran_id_is_refused_with_a0326_and_debits_once() {
    let s = Scene::new().await;
    let before = s.balance().await;
    let request = s.withdraw_request(3_000);
    s.withdraw(&request).await.expect("first");
    let err = s.withdraw(&request).await.expect_err("again");
    assert_eq!(center_code(&err), "A0326");
    assert_eq!(s.balance().await, less(before, 3_000));
}

#[tokio::test]
async fn a_bank_refusal_carries_the_banks_code() {
    let s = Scene::new().await;
    let before = s.balance().await;
    s.c.fault(
        "withdraw",
        Fault::BankError {
            bank_rsp_code: "453".into(),
        },
    );
    let request = s.withdraw_request(1_000);
    let err = s.withdraw(&request).await.expect_err("refused");
    assert_eq!(center_code(&err), "A0002");
    assert_eq!(err.bank_rsp_code(), Some(&BankRspCode::InsufficientBalance));
    assert!(!err.is_outcome_unknown());
    assert_eq!(s.balance().await, before);
}

#[tokio::test]
async fn an_oob_token_cannot_withdraw_o0011() {
    let s = Scene::new().await;
    let err =
        s.c.client
            // Mislabelled on purpose: the types keep this from happening by accident.
            .withdraw(
                &UserToken::new(s.oob.access_token.clone()),
                &s.withdraw_request(1_000),
            )
            .await
            .expect_err("wrong scope");
    assert_eq!(center_code(&err), "O0011");
}

/// A withdrawal whose answer timed out: the fault, and what `transfer/result` then finds.
struct TimeoutRow {
    name: &'static str,
    /// Whether the center applied the withdrawal before timing out.
    applied: bool,
    rsp_code: &'static str,
    outcome: TransferOutcome,
}

const TIMEOUTS: [TimeoutRow; 2] = [
    TimeoutRow {
        name: "a center timeout after applying",
        applied: true,
        rsp_code: "A0007",
        outcome: TransferOutcome::Succeeded,
    },
    TimeoutRow {
        name: "a bank timeout before applying",
        applied: false,
        rsp_code: "A0017",
        outcome: TransferOutcome::NotFound,
    },
];

#[tokio::test]
async fn a_timeout_is_unknown_and_transfer_result_tells_whether_it_happened() {
    for row in &TIMEOUTS {
        let name = row.name;
        let s = Scene::new().await;
        let before = s.balance().await;
        s.c.fault(
            "withdraw",
            Fault::Timeout {
                applied: row.applied,
                rsp_code: row.rsp_code.into(),
            },
        );
        let request = s.withdraw_request(7_000);
        let err = s.withdraw(&request).await.expect_err(name);
        assert_eq!(center_code(&err), row.rsp_code, "{name}");
        assert!(err.is_outcome_unknown(), "{name}");
        assert_eq!(
            s.result_of(CheckType::Withdraw, &request.bank_tran_id, 7_000)
                .await
                .expect(name),
            row.outcome,
            "{name}"
        );
        let moved = if row.applied { 7_000 } else { 0 };
        assert_eq!(s.balance().await, less(before, moved), "{name}");
    }
}

#[tokio::test]
async fn a_connection_dropped_after_commit_is_unknown_and_transfer_result_says_it_happened() {
    let s = Scene::new().await;
    let before = s.balance().await;
    s.c.fault("withdraw", Fault::Drop { after_commit: true });
    let request = s.withdraw_request(4_000);
    let err = s.withdraw(&request).await.expect_err("dropped");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.is_outcome_unknown());
    assert!(!err.is_timeout());
    assert_eq!(
        s.result_of(CheckType::Withdraw, &request.bank_tran_id, 4_000)
            .await
            .expect("result"),
        TransferOutcome::Succeeded
    );
    assert_eq!(s.balance().await, less(before, 4_000));
}

#[tokio::test]
async fn an_exhausted_usage_plan_is_a_limit() {
    let s = Scene::new().await;
    s.c.fault("withdraw", Fault::UsageLimit);
    let request = s.withdraw_request(1_000);
    let err = s.withdraw(&request).await.expect_err("plan exhausted");
    assert_eq!(center_code(&err), "O0009");
    assert_eq!(err.center().map(|e| e.kind()), Some(RspKind::Limit));
}

// ---- deposit -----------------------------------------------------------------------------------

#[tokio::test]
async fn a_deposit_by_fintech_number_credits_the_account() {
    let s = Scene::new().await;
    let before = s.balance().await;
    let to = DepositTo::FintechUseNum(s.account.fintech_use_num.clone());
    let request = s.deposit_request(to, 20_000);
    let d = s.deposit(&request).await.expect("deposited");
    assert_eq!(d.res_cnt, 1);
    assert_eq!(d.res_list[0].tran_amt, Won::new(20_000));
    assert_eq!(d.res_list[0].bank.bank_rsp_code, Some(BankRspCode::Ok));
    assert_eq!(s.balance().await, more(before, 20_000));
    assert_eq!(
        s.result_of(CheckType::Deposit, &request.item.bank_tran_id, 20_000)
            .await
            .expect("result"),
        TransferOutcome::Succeeded
    );
}

#[tokio::test]
async fn a_deposit_by_account_number_with_the_right_name_credits_the_account() {
    let s = Scene::new().await;
    let target = s.someone_elses_account();
    let to = to_account(target, &target.account_holder_name);
    let d = s
        .deposit(&s.deposit_request(to, 5_000))
        .await
        .expect("deposited");
    assert_eq!(
        d.res_list[0].account.account_holder_name.as_deref(),
        Some(target.account_holder_name.as_str())
    );
}

/// A deposit whose one item the receiving bank refuses: where it was sent, and the bank's code.
struct ItemRefusalRow {
    name: &'static str,
    to: fn(&Scene) -> DepositTo,
    bank_rsp_code: BankRspCode,
}

const ITEM_REFUSALS: [ItemRefusalRow; 2] = [
    ItemRefusalRow {
        name: "an account under another holder's name (815)",
        to: |s| to_account(s.someone_elses_account(), "김아무개"),
        bank_rsp_code: BankRspCode::HolderNameMismatch,
    },
    ItemRefusalRow {
        name: "no such account at the holder's bank (412)",
        to: |s| DepositTo::Account {
            bank_code_std: s.account.bank_code_std.clone(),
            account_num: "99999999999999".into(),
            account_holder_name: "홍길동".into(),
        },
        bank_rsp_code: BankRspCode::NoSuchAccount,
    },
];

#[tokio::test]
async fn a_deposit_the_bank_refuses_fails_its_item_with_a0009_and_the_banks_code() {
    for row in &ITEM_REFUSALS {
        let name = row.name;
        let s = Scene::new().await;
        let request = s.deposit_request((row.to)(&s), 5_000);
        let err = s.deposit(&request).await.expect_err(name);
        assert_eq!(center_code(&err), "A0009", "{name}");
        assert_eq!(err.bank_rsp_code(), Some(&row.bank_rsp_code), "{name}");
        assert!(!err.is_outcome_unknown(), "{name}");
    }
}

#[tokio::test]
async fn a_deposit_with_the_wrong_pass_phrase_is_refused_with_a0307() {
    let s = Scene::new().await;
    let to = DepositTo::FintechUseNum(s.account.fintech_use_num.clone());
    let mut request = s.deposit_request(to, 1_000);
    request.wd_pass_phrase = WdPassPhrase::new("letmein");
    let err = s.deposit(&request).await.expect_err("pass phrase");
    assert_eq!(center_code(&err), "A0307");
    assert!(!err.to_string().contains("letmein"));
}

#[tokio::test]
async fn transfer_result_about_several_transfers_reports_the_missing_ones_as_pending() {
    let s = Scene::new().await;
    let done = s.withdraw_request(2_000);
    s.withdraw(&done).await.expect("withdrawn");
    let never = s.c.issuer(0).issue().expect("id");
    let answer =
        s.c.client
            .transfer_result(
                &s.oob.oob_token(),
                &TransferResultRequest {
                    check_type: CheckType::Withdraw,
                    items: vec![query(&done.bank_tran_id, 2_000), query(&never, 2_000)],
                },
            )
            .await
            .expect("an answer despite A0009");
    assert_eq!(answer.header.rsp_code, RspCode::A0009);
    let outcomes: Vec<TransferOutcome> = answer.res_list.iter().map(|r| r.outcome()).collect();
    assert_eq!(
        outcomes,
        [TransferOutcome::Succeeded, TransferOutcome::Pending]
    );
}

#[tokio::test]
async fn transfer_result_refuses_an_empty_or_oversized_question_before_sending() {
    let s = Scene::new().await;
    let err =
        s.c.client
            .transfer_result(
                &s.oob.oob_token(),
                &TransferResultRequest {
                    check_type: CheckType::Withdraw,
                    items: vec![],
                },
            )
            .await
            .expect_err("empty");
    assert!(matches!(err, Error::InvalidRequest(_)));
}

// ---- inquiries around transfers ------------------------------------------------------------------

/// A recipient check: whom it names, and the holder the center should answer with.
struct ReceiveRow {
    name: &'static str,
    recipient: fn(&Scene) -> Recipient,
    holder: fn(&Scene) -> &str,
}

const RECEIVES: [ReceiveRow; 2] = [
    ReceiveRow {
        name: "another person's account by bank and number",
        recipient: |s| Recipient::Account {
            bank_code_std: bank_of(s.someone_elses_account()),
            account_num: s.someone_elses_account().account_num.clone(),
            account_seq: None,
        },
        holder: |s| &s.someone_elses_account().account_holder_name,
    },
    ReceiveRow {
        name: "the holder's own account by fintech number",
        recipient: |s| Recipient::FintechUseNum {
            fintech_use_num: s.account.fintech_use_num.clone(),
        },
        holder: |s| &s.account.account_holder_name,
    },
];

#[tokio::test]
async fn receive_shows_the_recipients_name_before_a_deposit() {
    for row in &RECEIVES {
        let name = row.name;
        let s = Scene::new().await;
        let r = s.receive((row.recipient)(&s)).await.expect(name);
        assert_eq!(r.account_holder_name, (row.holder)(&s), "{name}");
        assert_eq!(r.tran_amt, Some(Won::new(10_000)), "{name}");
        assert_eq!(r.bank.bank_rsp_code, Some(BankRspCode::Ok), "{name}");
    }
}

#[tokio::test]
async fn remit_list_of_the_collection_account_shows_the_withdrawal_and_its_remitter() {
    let s = Scene::new().await;
    s.withdraw(&s.withdraw_request(8_000))
        .await
        .expect("withdrawn");
    let collection = &s.c.institution(0).collection_account;
    let list =
        s.c.client
            .remit_list(
                &s.oob.oob_token(),
                &RemitListRequest {
                    bank_tran_id: s.c.issuer(0).issue().expect("id"),
                    bank_code_std: BankCode::parse(&collection.bank_code_std).expect("bank"),
                    account_num: collection.account_num.clone(),
                    from_date: today(),
                    from_time: chrono::NaiveTime::MIN,
                    to_date: today(),
                    to_time: chrono::NaiveTime::from_hms_opt(23, 59, 59).expect("time"),
                    sort_order: SortOrder::Descending,
                    befor_inquiry_trace_info: String::new(),
                },
            )
            .await
            .expect("remit list");
    let row = list
        .res_list
        .iter()
        .find(|r| r.tran_amt == Won::new(8_000))
        .expect("the withdrawal is listed");
    assert_eq!(row.remitter_name, s.account.account_holder_name);
    assert_eq!(
        row.remitter_bank_code.as_ref(),
        Some(&s.account.bank_code_std)
    );
}

// ---- return claims -------------------------------------------------------------------------------

#[tokio::test]
async fn a_return_claim_on_a_deposit_can_be_followed_up() {
    let s = Scene::new().await;
    let target = s.someone_elses_account();
    let deposit = s.deposit_request(to_account(target, &target.account_holder_name), 9_000);
    s.deposit(&deposit).await.expect("deposited");
    let request = s.return_claim_request(
        deposit.item.bank_tran_id.clone(),
        ClaimedAccount::Account {
            org_dps_bank_code_std: bank_of(target),
            org_dps_account_num: target.account_num.clone(),
        },
        BankCode::parse(&s.c.institution(0).payout_account.bank_code_std).expect("bank"),
    );
    let claim =
        s.c.client
            .return_claim(&s.oob.oob_token(), &request)
            .await
            .expect("claimed");
    let claim_id = claim.claim_bank_tran_id.clone().expect("claim id");
    let claim_date = claim.claim_bank_tran_date.expect("claim date");
    let result =
        s.c.client
            .return_result(
                &s.oob.oob_token(),
                &ReturnResultRequest {
                    claim_bank_tran_date: claim_date,
                    claim_bank_tran_id: claim_id,
                },
            )
            .await
            .expect("claim result");
    assert!(result.header.rsp_code.is_success());
    assert!(
        result.extra.contains_key("claim_state"),
        "{:?}",
        result.extra
    );
}

#[tokio::test]
async fn a_return_claim_on_an_unknown_transfer_is_refused_with_a0310() {
    let s = Scene::new().await;
    let request = s.return_claim_request(
        s.c.issuer(0).issue().expect("id"),
        ClaimedAccount::FintechUseNum {
            org_dps_fintech_use_num: s.account.fintech_use_num.clone(),
        },
        BankCode::parse("097").expect("bank"),
    );
    let err =
        s.c.client
            .return_claim(&s.oob.oob_token(), &request)
            .await
            .expect_err("no such transfer");
    assert_eq!(center_code(&err), "A0310");
}
