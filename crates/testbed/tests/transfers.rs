//! Moving money through the center: every refusal with its exact code and not a won moved, and
//! each scripted fault doing what it says.

mod common;

use common::money::{Answer, classify};
use common::{Bed, User};
use moa_testbed::manifest::ManifestAccount;
use reqwest::Method;
use serde_json::{Value, json};

const WITHDRAW: &str = "/v2.0/transfer/withdraw/fin_num";
const DEPOSIT: &str = "/v2.0/transfer/deposit/fin_num";

/// A person (index 0) with every account registered for everything at institution 0.
async fn setup() -> (Bed, User, Vec<String>, String) {
    let bed = common::spawn().await;
    let accounts: Vec<usize> = (0..bed.person(0).accounts.len()).collect();
    let user = bed.user(0, 0, &accounts).await;
    let fintech = bed.fintech_nums(&user).await;
    let oob = bed.oob_token(0).await;
    (bed, user, fintech, oob)
}

/// Person 0's tokens for account 0 with institution 0, authorized for `scope` without the
/// consent to withdraw.
async fn user_without_withdraw_consent(bed: &Bed, scope: &str) -> User {
    let mut body = bed.sandbox_body(0, 0, &[0], scope);
    body["transfer_agree"] = json!("N");
    let code = bed.sandbox_code(body).await;
    bed.user_from(0, &bed.exchange_raw(0, &code).await)
}

/// The balance the ledger holds for `account`.
async fn balance_in(bed: &Bed, account: &ManifestAccount) -> i64 {
    bed.ledger_balance(&account.bank_code_std, &account.account_num)
        .await
}

/// The balance the ledger holds for the person's account `index`.
async fn balance_of(bed: &Bed, index: usize) -> i64 {
    balance_in(bed, &bed.person(0).accounts[index]).await
}

/// The center's date today as `yyyyMMdd`.
fn date_today(bed: &Bed) -> String {
    bed.today().format("%Y%m%d").to_string()
}

/// A withdraw of `amount` from `fintech` under a new bank_tran_id; its answer must arrive.
async fn withdraw_fresh(bed: &Bed, user: &User, fintech: &str, amount: i64) -> Value {
    let id = bed.next_id(user.institution);
    bed.withdraw(user, &id, fintech, amount)
        .await
        .expect("the withdraw answers")
}

/// A deposit of `amount` from institution 0's payout account into `fintech` under a new
/// bank_tran_id; its answer must arrive.
async fn deposit_fresh(bed: &Bed, oob: &str, fintech: &str, amount: i64) -> Value {
    bed.deposit(0, oob, &bed.next_id(0), fintech, amount)
        .await
        .expect("the deposit answers")
}

/// Asserts a withdraw answer's code and the bank's code in it.
fn assert_withdraw_answer(answer: &Value, rsp_code: &str, bank_rsp_code: &str) {
    let codes = (
        answer["rsp_code"].as_str(),
        answer["bank_rsp_code"].as_str(),
    );
    assert_eq!(codes, (Some(rsp_code), Some(bank_rsp_code)), "{answer}");
}

/// Asserts a one-item deposit answer's code and the bank's code for its item.
fn assert_deposit_answer(answer: &Value, rsp_code: &str, bank_rsp_code: &str) {
    let item = &answer["res_list"][0];
    let codes = (answer["rsp_code"].as_str(), item["bank_rsp_code"].as_str());
    assert_eq!(codes, (Some(rsp_code), Some(bank_rsp_code)), "{answer}");
}

/// Removes `field` from a request body.
fn remove(body: &mut Value, field: &str) {
    body.as_object_mut().expect("an object").remove(field);
}

/// A malformed request: what is wrong with it, the change to a good request that makes it so,
/// and the code the center refuses it with.
type Malformed = (&'static str, fn(&mut Value), &'static str);

#[rustfmt::skip]
const MALFORMED_WITHDRAWS: &[Malformed] = &[
    ("no amount", |b| remove(b, "tran_amt"), "A0004"),
    ("negative amount", |b| b["tran_amt"] = json!("-1000"), "A0004"),
    ("fractional amount", |b| b["tran_amt"] = json!("1000.5"), "A0004"),
    ("fractional JSON number", |b| b["tran_amt"] = json!(1000.5), "A0004"),
    ("zero", |b| b["tran_amt"] = json!("0"), "A0004"),
    ("thirteen digits", |b| b["tran_amt"] = json!("1000000000000"), "A0004"),
    ("letters in the amount", |b| b["tran_amt"] = json!("12a00"), "A0004"),
    ("short fintech number", |b| b["fintech_use_num"] = json!("12345"), "A0004"),
    ("bad tran_dtime", |b| b["tran_dtime"] = json!("20261399000000"), "A0004"),
    ("bad purpose", |b| b["transfer_purpose"] = json!("XX"), "A0004"),
    ("requester both ways", |b| {
        b["req_client_bank_code"] = json!("004");
        b["req_client_account_num"] = json!("123");
    }, "A0004"),
    ("requester neither way", |b| remove(b, "req_client_fintech_use_num"), "A0004"),
    ("bank_tran_id too short", |b| b["bank_tran_id"] = json!("M202600001U1"), "A0004"),
    ("bank_tran_id charset", |b| {
        let id = b["bank_tran_id"].as_str().expect("an id").replace('0', "-");
        b["bank_tran_id"] = json!(id);
    }, "A0004"),
    ("over-long print content", |b| b["dps_print_content"] = json!("가".repeat(21)), "A0004"),
    ("another contract account", |b| b["cntr_account_num"] = json!("1234567890"), "A0322"),
    ("unknown fintech number", |b| b["fintech_use_num"] = json!("120260000199999999999999"), "A0304"),
    ("over the per-transfer limit", |b| b["tran_amt"] = json!("5000001"), "A0111"),
];

#[rustfmt::skip]
const MALFORMED_DEPOSITS: &[Malformed] = &[
    ("two items claimed", |b| b["req_cnt"] = json!("2"), "A0004"),
    ("no items", |b| b["req_list"] = json!([]), "A0004"),
    ("item not an object", |b| b["req_list"] = json!(["x"]), "A0004"),
    ("name check not on/off", |b| b["name_check_option"] = json!("yes"), "A0004"),
    ("amount with a sign", |b| b["req_list"][0]["tran_amt"] = json!("+500"), "A0004"),
    ("wrong pass phrase", |b| b["wd_pass_phrase"] = json!("1234"), "A0307"),
    ("another contract account", |b| b["cntr_account_num"] = json!("1234567890"), "A0322"),
    ("foreign fintech number", |b| b["req_list"][0]["fintech_use_num"] = json!("199159919000000000000000"), "A0304"),
    ("over the per-deposit limit", |b| b["req_list"][0]["tran_amt"] = json!("10000001"), "A0106"),
];

/// Posts to `path` a good body from `good`, changed by each row, and asserts the row's code.
async fn assert_refusals(
    bed: &Bed,
    path: &str,
    token: &str,
    rows: &[Malformed],
    good: impl Fn() -> Value,
) {
    for (name, edit, expected) in rows {
        let mut body = good();
        edit(&mut body);
        let answer = bed.post(path, token, &body).await;
        assert_eq!(answer["rsp_code"], *expected, "{name}: {answer}");
    }
}

/// Injects `fault` for the next withdraw from bank 004 and withdraws `amount`.
async fn withdraw_under(
    bed: &Bed,
    user: &User,
    fintech: &str,
    amount: i64,
    fault: Value,
) -> (String, Answer) {
    bed.admin
        .add_fault(json!({"api": "withdraw", "bank_code": "004", "remaining": 1, "fault": fault}))
        .await;
    let id = bed.next_id(0);
    let answer = classify(bed.withdraw(user, &id, fintech, amount).await);
    (id, answer)
}

#[tokio::test]
async fn a_withdraw_and_a_deposit_move_money_between_a_persons_accounts() {
    let (bed, user, fintech, oob) = setup().await;
    let (from, to) = (balance_of(&bed, 0).await, balance_of(&bed, 1).await);
    let id = bed.next_id(0);
    let answer = bed.withdraw(&user, &id, &fintech[0], 12_345).await.unwrap();
    assert_eq!(answer["rsp_code"], "A0000", "{answer}");
    assert_eq!(answer["tran_amt"], "12345");
    assert_eq!(answer["bank_rsp_code"], "000");
    assert_eq!(
        answer["dps_bank_code_std"],
        bed.institution(0).collection_account.bank_code_std.as_str()
    );
    assert_eq!(
        answer["wd_limit_remain_amt"],
        (10_000_000 - 12_345).to_string()
    );
    let answer = deposit_fresh(&bed, &oob, &fintech[1], 12_345).await;
    assert_eq!(answer["rsp_code"], "A0000", "{answer}");
    assert_eq!(answer["res_cnt"], "1");
    assert_eq!(answer["res_list"][0]["bank_rsp_code"], "000");
    assert_eq!(balance_of(&bed, 0).await, from - 12_345);
    assert_eq!(balance_of(&bed, 1).await, to + 12_345);
    // Both sides show the transfer in their history, and the after-balances chain on.
    let newest = bed.history_page(&user, &fintech[0], &[]).await;
    let row = &newest["res_list"][0];
    assert_eq!(row["inout_type"], "출금");
    assert_eq!(row["tran_amt"], "12345");
    assert_eq!(row["after_balance_amt"], (from - 12_345).to_string());
    assert_eq!(
        common::amount(&newest["res_list"][1]["after_balance_amt"]),
        from
    );
    assert_eq!(bed.settle(&oob, true, &id, 12_345).await, Some(true));
    bed.assert_invariants().await;
}

#[tokio::test]
async fn malformed_withdraws_are_refused_with_their_code_and_move_nothing() {
    let (bed, user, fintech, _) = setup().await;
    let before = bed.admin.ledger().await;
    let good = || bed.withdraw_body(0, &bed.next_id(0), &fintech[0], 1_000);
    let token = &user.access_token;
    assert_refusals(&bed, WITHDRAW, token, MALFORMED_WITHDRAWS, good).await;
    let mut body = good();
    body["bank_tran_id"] = json!(common::bank_tran_id(&bed.code_of(1)));
    let answer = bed.post(WITHDRAW, token, &body).await;
    assert_eq!(
        answer["rsp_code"], "A0004",
        "another institution's prefix: {answer}"
    );
    assert_eq!(
        bed.admin.ledger().await,
        before,
        "a refused withdraw moved money"
    );
    assert_eq!(
        bed.admin.transfers().await,
        vec![],
        "a refused withdraw left a record"
    );
}

#[tokio::test]
async fn a_reused_bank_tran_id_is_refused_and_applied_only_once() {
    let (bed, user, fintech, _) = setup().await;
    let before = balance_of(&bed, 0).await;
    let id = bed.next_id(0);
    let first = bed.withdraw(&user, &id, &fintech[0], 1_000).await.unwrap();
    assert_eq!(first["rsp_code"], "A0000");
    let again = bed.withdraw(&user, &id, &fintech[0], 1_000).await.unwrap();
    assert_eq!(again["rsp_code"], "A0326", "{again}");
    assert_eq!(balance_of(&bed, 0).await, before - 1_000);
    // The same id is new again on the next business day.
    bed.admin.set_clock_offset(86_400).await;
    let tomorrow = bed.withdraw(&user, &id, &fintech[0], 1_000).await.unwrap();
    assert_eq!(tomorrow["rsp_code"], "A0000", "{tomorrow}");
    bed.assert_invariants().await;
}

#[tokio::test]
async fn tokens_without_the_transfer_scope_cannot_withdraw() {
    let bed = common::spawn().await;
    let user = user_without_withdraw_consent(&bed, "login inquiry").await;
    let fintech = bed.fintech_nums(&user).await;
    let answer = withdraw_fresh(&bed, &user, &fintech[0], 1_000).await;
    assert_eq!(answer["rsp_code"], "O0011", "{answer}");
    let oob = bed.oob_token(0).await;
    let body = bed.withdraw_body(0, &bed.next_id(0), &fintech[0], 1_000);
    let answer = bed.post(WITHDRAW, &oob, &body).await;
    assert_eq!(
        answer["rsp_code"], "O0011",
        "an oob token withdrawing: {answer}"
    );
    let body = bed.deposit_body(0, &bed.next_id(0), &fintech[0], 1);
    let user_token_deposit = bed.post(DEPOSIT, &user.access_token, &body).await;
    assert_eq!(user_token_deposit["rsp_code"], "O0011");
}

#[tokio::test]
async fn a_withdraw_needs_the_persons_withdraw_consent_and_it_expires() {
    let bed = common::spawn().await;
    let scope = "login inquiry transfer";
    let user = user_without_withdraw_consent(&bed, scope).await;
    let fintech = bed.fintech_nums(&user).await;
    let answer = withdraw_fresh(&bed, &user, &fintech[0], 1_000).await;
    assert_eq!(answer["rsp_code"], "A0306", "{answer}");

    // Consent given, then a year and a day later (with fresh tokens) it has run out.
    let user = bed.user(0, 0, &[0]).await;
    let answer = withdraw_fresh(&bed, &user, &fintech[0], 1_000).await;
    assert_eq!(answer["rsp_code"], "A0000");
    bed.admin.set_clock_offset(366 * 86_400).await;
    let later = user_without_withdraw_consent(&bed, scope).await;
    let answer = withdraw_fresh(&bed, &later, &fintech[0], 1_000).await;
    assert_eq!(answer["rsp_code"], "A0319", "{answer}");
}

#[tokio::test]
async fn the_bank_refuses_what_the_account_cannot_pay_and_nothing_moves() {
    let (bed, user, fintech, oob) = setup().await;
    let balance = balance_of(&bed, 0).await;
    // More than the account holds, within the limits: top it down first if it is large.
    let answer = withdraw_fresh(&bed, &user, &fintech[0], balance + 1_000).await;
    let expected = if balance + 1_000 > 5_000_000 {
        "A0111"
    } else {
        "A0002"
    };
    assert_eq!(answer["rsp_code"], expected, "{answer}");
    if expected == "A0002" {
        assert_eq!(answer["bank_rsp_code"], "453");
    }
    // The savings account (index 3) cannot be withdrawn from at all.
    assert_eq!(bed.person(0).accounts[3].account_type, "2");
    let answer = withdraw_fresh(&bed, &user, &fintech[3], 1_000).await;
    assert_withdraw_answer(&answer, "A0002", "454");
    // A closed account refuses both ways.
    let account = bed.person(0).accounts[1].clone();
    bed.admin
        .set_account_state(&account.bank_code_std, &account.account_num, "closed")
        .await;
    let answer = withdraw_fresh(&bed, &user, &fintech[1], 1_000).await;
    assert_eq!(answer["bank_rsp_code"], "415", "{answer}");
    let answer = deposit_fresh(&bed, &oob, &fintech[1], 1_000).await;
    assert_deposit_answer(&answer, "A0009", "415");
    assert_eq!(balance_of(&bed, 0).await, balance);
    bed.assert_invariants().await;
}

#[tokio::test]
async fn the_daily_withdraw_limit_counts_what_was_withdrawn_today() {
    let (bed, user, fintech, oob) = setup().await;
    // Make sure the account can pay 10,000,000 before testing the limit.
    let top_up = deposit_fresh(&bed, &oob, &fintech[0], 9_000_000).await;
    assert_eq!(top_up["rsp_code"], "A0000");
    for _ in 0..2 {
        let answer = withdraw_fresh(&bed, &user, &fintech[0], 5_000_000).await;
        assert_eq!(answer["rsp_code"], "A0000", "{answer}");
    }
    let before = balance_of(&bed, 0).await;
    let answer = withdraw_fresh(&bed, &user, &fintech[1], 1_000).await;
    assert_eq!(answer["rsp_code"], "A0112", "{answer}");
    assert_eq!(balance_of(&bed, 0).await, before);
    bed.assert_invariants().await;
}

#[tokio::test]
async fn malformed_deposits_are_refused_with_their_code_and_move_nothing() {
    let (bed, _, fintech, oob) = setup().await;
    let before = bed.admin.ledger().await;
    let good = || bed.deposit_body(0, &bed.next_id(0), &fintech[0], 1_000);
    assert_refusals(&bed, DEPOSIT, &oob, MALFORMED_DEPOSITS, good).await;
    assert_eq!(
        bed.admin.ledger().await,
        before,
        "a refused deposit moved money"
    );
}

#[tokio::test]
async fn a_deposit_by_account_number_checks_the_holders_name() {
    let (bed, _, _, oob) = setup().await;
    let target = bed.person(1).accounts[0].clone();
    // 5,000 into the target's bank under `number`, naming `name` as the holder.
    let deposit = async |name: &str, number: &str, id: &str| {
        let mut body = bed.deposit_body(0, id, "", 5_000);
        body["name_check_option"] = json!("on");
        let item = &mut body["req_list"][0];
        remove(item, "fintech_use_num");
        item["bank_code_std"] = json!(target.bank_code_std);
        item["account_num"] = json!(number);
        item["account_holder_name"] = json!(name);
        bed.post("/v2.0/transfer/deposit/acnt_num", &oob, &body)
            .await
    };
    let before = balance_in(&bed, &target).await;
    let wrong_id = bed.next_id(0);
    let answer = deposit("홍길동", &target.account_num, &wrong_id).await;
    assert_deposit_answer(&answer, "A0009", "815");
    assert_eq!(
        bed.settle(&oob, false, &wrong_id, 5_000).await,
        Some(false),
        "the refusal is on record"
    );
    let holder = target.account_holder_name.as_str();
    let answer = deposit(holder, "99999999999", &bed.next_id(0)).await;
    assert_eq!(answer["res_list"][0]["bank_rsp_code"], "412", "{answer}");
    assert_eq!(balance_in(&bed, &target).await, before);
    let answer = deposit(holder, &target.account_num, &bed.next_id(0)).await;
    assert_eq!(answer["rsp_code"], "A0000", "{answer}");
    assert_eq!(answer["res_list"][0]["account_holder_name"], holder);
    assert_eq!(balance_in(&bed, &target).await, before + 5_000);
    bed.assert_invariants().await;
}

#[tokio::test]
async fn each_scripted_fault_does_what_it_says_and_transfer_result_tells_the_truth() {
    let (bed, user, fintech, oob) = setup().await;
    assert_eq!(bed.person(0).accounts[0].bank_code_std, "004");
    // Each row: the fault, what the client hears, and what transfer/result says happened.
    #[rustfmt::skip]
    let cases = [
        ("a timeout after the bank applied it", json!({"kind": "timeout", "applied": true}), "A0007", Some(true)),
        ("a bank timeout before it applied it", json!({"kind": "timeout", "applied": false, "rsp_code": "A0017"}), "A0017", None),
        ("an answer dropped after the commit", json!({"kind": "drop", "after_commit": true}), "dropped", Some(true)),
        ("a call dropped before the commit", json!({"kind": "drop", "after_commit": false}), "dropped", None),
        ("a bank error", json!({"kind": "bank_error", "bank_rsp_code": "499"}), "A0002/499", Some(false)),
    ];
    for (name, fault, expected, truth) in cases {
        let before = balance_of(&bed, 0).await;
        let (id, answer) = withdraw_under(&bed, &user, &fintech[0], 2_000, fault.clone()).await;
        match (&answer, expected) {
            (Answer::Unknown(error), "dropped") => assert!(
                error.starts_with("read") || error.starts_with("send"),
                "{name}: {error}"
            ),
            (Answer::Unknown(code), expected) | (Answer::Refused(code), expected) => {
                assert_eq!(code, expected, "{name}: {fault}")
            }
            (Answer::Applied, _) => panic!("{name}: {fault} answered A0000"),
        }
        assert_eq!(bed.settle(&oob, true, &id, 2_000).await, truth, "{name}");
        let moved = before - balance_of(&bed, 0).await;
        let expected_move = if truth == Some(true) { 2_000 } else { 0 };
        assert_eq!(moved, expected_move, "{name}");
    }
    // A usage limit refuses; once the scripted calls are spent, the bank answers normally again.
    let usage_limit = json!({"kind": "usage_limit"});
    let (_, answer) = withdraw_under(&bed, &user, &fintech[0], 2_000, usage_limit).await;
    assert_eq!(answer, Answer::Refused("O0009".into()));
    let answer = bed
        .withdraw(&user, &bed.next_id(0), &fintech[0], 2_000)
        .await;
    assert_eq!(classify(answer), Answer::Applied);
    assert_eq!(bed.admin.faults().await, vec![]);
    bed.assert_invariants().await;
}

#[tokio::test]
async fn a_bank_in_outage_refuses_and_shows_in_bank_status() {
    let (bed, user, fintech, oob) = setup().await;
    bed.admin.set_bank_status("088", "D").await;
    let status = bed.get("/v2.0/bank/status", &oob, &[]).await;
    let shinhan = status["res_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["bank_code_std"] == "088")
        .unwrap()
        .clone();
    assert_eq!(shinhan["bank_status"], "D");
    assert_eq!(bed.person(0).accounts[1].bank_code_std, "088");
    let before = balance_of(&bed, 1).await;
    let answer = withdraw_fresh(&bed, &user, &fintech[1], 1_000).await;
    assert_withdraw_answer(&answer, "A0002", "499");
    let answer = deposit_fresh(&bed, &oob, &fintech[1], 1_000).await;
    assert_eq!(answer["rsp_code"], "A0009", "{answer}");
    let balance = bed.balance(&user, &fintech[1]).await;
    assert_eq!(balance["rsp_code"], "A0002", "{balance}");
    assert_eq!(balance_of(&bed, 1).await, before);
    for status in ["L", "E"] {
        bed.admin.set_bank_status("088", status).await;
        let balance = bed.balance(&user, &fintech[1]).await;
        assert_eq!(
            balance["bank_rsp_code"], "499",
            "status {status}: {balance}"
        );
    }
    bed.admin.set_bank_status("088", "Y").await;
    assert_eq!(bed.balance(&user, &fintech[1]).await["rsp_code"], "A0000");
    bed.assert_invariants().await;
}

#[tokio::test]
async fn injected_latency_holds_a_banks_answers_back() {
    let (bed, user, fintech, _) = setup().await;
    bed.admin.set_bank_latency("004", Some(300)).await;
    let started = std::time::Instant::now();
    assert_eq!(bed.balance(&user, &fintech[0]).await["rsp_code"], "A0000");
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
}

#[tokio::test]
async fn transfer_result_answers_up_to_25_items_and_marks_the_unknown() {
    let (bed, user, fintech, oob) = setup().await;
    let id = bed.next_id(0);
    assert_eq!(
        bed.withdraw(&user, &id, &fintech[0], 3_000).await.unwrap()["rsp_code"],
        "A0000"
    );
    let today = date_today(&bed);
    let item = |n: usize, id: &str| json!({"tran_no": n.to_string(), "org_bank_tran_id": id, "org_bank_tran_date": today, "org_tran_amt": "3000"});
    // Asks after withdraws (check type 1).
    let result_of = async |items: Vec<Value>| {
        let body = json!({"check_type": "1", "tran_dtime": bed.tran_dtime(), "req_cnt": items.len().to_string(), "req_list": items});
        bed.post("/v2.0/transfer/result", &oob, &body).await
    };
    let never = bed.next_id(0);
    let answer = result_of(vec![item(1, &id), item(2, &never)]).await;
    assert_eq!(answer["rsp_code"], "A0009", "{answer}");
    assert_eq!(answer["res_list"][0]["bank_rsp_code"], "000");
    assert_eq!(
        answer["res_list"][0]["wd_fintech_use_num"],
        fintech[0].as_str()
    );
    assert_eq!(answer["res_list"][1]["bank_rsp_code"], "");
    // As a deposit (check type 2) the withdraw is not found.
    assert_eq!(bed.settle(&oob, false, &id, 3_000).await, None);
    let answer = result_of((1..=26).map(|n| item(n, &id)).collect()).await;
    assert_eq!(answer["rsp_code"], "A0004");
}

#[tokio::test]
async fn receive_check_names_the_recipient_and_remit_list_names_the_remitter() {
    let (bed, user, fintech, oob) = setup().await;
    let target = bed.person(2).accounts[0].clone();
    let payout = bed.institution(0).payout_account.clone();
    // Asks who holds `account_num` at the target's bank before sending it 10,000.
    let receive = async |account_num: &str| {
        let body = json!({
            "bank_tran_id": bed.next_id(0), "cntr_account_type": "N", "cntr_account_num": payout.account_num,
            "bank_code_std": target.bank_code_std, "account_num": account_num, "print_content": "모아",
            "tran_amt": "10000", "req_client_name": "홍길동", "req_client_num": "R1", "transfer_purpose": "TR",
        });
        bed.post("/v2.0/inquiry/receive", &oob, &body).await
    };
    let answer = receive(&target.account_num).await;
    assert_eq!(answer["rsp_code"], "A0000", "{answer}");
    assert_eq!(
        answer["account_holder_name"],
        target.account_holder_name.as_str()
    );
    let unknown = receive("1").await;
    assert_eq!(unknown["bank_rsp_code"], "412", "{unknown}");

    let answer = withdraw_fresh(&bed, &user, &fintech[0], 4_000).await;
    assert_eq!(answer["rsp_code"], "A0000");
    let collection = bed.institution(0).collection_account.clone();
    let today = date_today(&bed);
    let list = bed.post("/v2.0/inquiry/remit_list", &oob, &json!({
        "bank_tran_id": bed.next_id(0), "bank_code_std": collection.bank_code_std, "account_num": collection.account_num,
        "from_date": today, "from_time": "000000", "to_date": today, "to_time": "235959", "sort_order": "D",
        "tran_dtime": bed.tran_dtime(),
    })).await;
    assert_eq!(list["rsp_code"], "A0000", "{list}");
    assert_eq!(list["total_record_cnt"], "1");
    let row = &list["res_list"][0];
    assert_eq!(row["remitter_name"], bed.person(0).user_name.as_str());
    assert_eq!(
        row["remitter_account_num"],
        bed.person(0).accounts[0].account_num.as_str()
    );
    assert_eq!(row["tran_amt"], "4000");
}

#[tokio::test]
async fn a_return_claim_is_recorded_for_a_real_deposit_only() {
    let (bed, _, fintech, oob) = setup().await;
    let deposit_id = bed.next_id(0);
    let answer = bed
        .deposit(0, &oob, &deposit_id, &fintech[0], 7_000)
        .await
        .unwrap();
    assert_eq!(answer["rsp_code"], "A0000");
    let today = date_today(&bed);
    // Claims `amount` back from the deposit `org`, under `id`.
    let claim = async |org: &str, amount: &str, id: &str| {
        let body = json!({
            "bank_tran_id": id, "org_bank_tran_date": today, "org_bank_tran_id": org,
            "org_dps_fintech_use_num": fintech[0], "org_tran_amt": amount, "org_wd_bank_code_std": "097",
            "claim_code": "01", "claim_message": "착오송금", "total_return_yn": "Y",
        });
        bed.post("/v2.0/return/claim", &oob, &body).await
    };
    // Asks how the claim filed under `claim_id` today went.
    let result = async |claim_id: &str| {
        let body = json!({"claim_bank_tran_date": today, "claim_bank_tran_id": claim_id});
        bed.post("/v2.0/return/result", &oob, &body).await
    };
    let claim_id = bed.next_id(0);
    let answer = claim(&deposit_id, "7000", &claim_id).await;
    assert_eq!(answer["rsp_code"], "A0000", "{answer}");
    let answer = result(&claim_id).await;
    assert_eq!(answer["rsp_code"], "A0000", "{answer}");
    assert_eq!(answer["org_bank_tran_id"], deposit_id.as_str());
    let wrong_amount = claim(&deposit_id, "7001", &bed.next_id(0)).await;
    assert_eq!(wrong_amount["rsp_code"], "A0310");
    let unknown = result(&bed.next_id(0)).await;
    assert_eq!(unknown["rsp_code"], "A0310");
    bed.assert_invariants().await;
}

#[tokio::test]
async fn the_admin_api_needs_its_token() {
    let bed = common::spawn().await;
    for (method, path) in [
        (Method::GET, "/testbed/admin/ledger"),
        (Method::POST, "/testbed/admin/faults"),
        (Method::PUT, "/testbed/admin/clock"),
    ] {
        let response = bed
            .http
            .request(method, bed.url(path))
            .bearer_auth("not-the-token")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            reqwest::StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    let response = bed
        .http
        .post(bed.url("/testbed/admin/faults"))
        .bearer_auth(&bed.spawned.manifest.admin_token)
        .json(&json!({"api": "teleport", "fault": {"kind": "usage_limit"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_deposit_timeout_is_an_unknown_outcome_not_a_refusal() {
    let (bed, _, fintech, oob) = setup().await;
    let before = balance_of(&bed, 1).await;
    for (applied, truth) in [(false, None), (true, Some(true))] {
        bed.admin.add_fault(json!({"api": "deposit", "remaining": 1, "fault": {"kind": "timeout", "applied": applied}})).await;
        let id = bed.next_id(0);
        let answer = bed.deposit(0, &oob, &id, &fintech[1], 6_000).await.unwrap();
        assert_eq!(answer["rsp_code"], "A0007", "{answer}");
        assert_eq!(bed.settle(&oob, false, &id, 6_000).await, truth);
    }
    assert_eq!(balance_of(&bed, 1).await, before + 6_000);
    bed.assert_invariants().await;
}

#[tokio::test]
async fn history_follows_the_order_money_moved_even_when_an_earlier_call_lands_last() {
    let (bed, user, fintech, oob) = setup().await;
    let arrival = date_today(&bed);
    let late = json!({"kind": "late", "after_ms": 1_000});
    let (first, answer) = withdraw_under(&bed, &user, &fintech[0], 1_000, late).await;
    assert_eq!(answer, Answer::Unknown("A0007".into()));
    // A minute passes at the center; the second call is applied before the first lands.
    bed.spawned
        .testbed
        .clock()
        .set_offset(chrono::TimeDelta::seconds(60));
    let second = bed.next_id(0);
    let answer = classify(bed.withdraw(&user, &second, &fintech[0], 2_000).await);
    assert_eq!(answer, Answer::Applied);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while bed.settle_on(&oob, true, &first, 1_000, &arrival).await != Some(true) {
        assert!(
            std::time::Instant::now() < deadline,
            "the first never landed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Newest first: the first call's row, which moved the money last, then the second's, then
    // the seed's newest; each after-balance is the one before it less what left.
    let page = bed.history_page(&user, &fintech[0], &[]).await;
    let rows = page["res_list"].as_array().expect("res_list");
    let moved: Vec<(i64, i64)> = rows[..3]
        .iter()
        .map(|r| {
            (
                common::amount(&r["tran_amt"]),
                common::amount(&r["after_balance_amt"]),
            )
        })
        .collect();
    assert_eq!(
        (moved[0].0, moved[1].0),
        (1_000, 2_000),
        "the row of the call applied last is the newest: {moved:?}"
    );
    for pair in moved.windows(2) {
        let ((amount, after), (_, before)) = (pair[0], pair[1]);
        assert_eq!(
            after,
            before - amount,
            "the after-balances chain: {moved:?}"
        );
    }
    bed.assert_invariants().await;
}
