//! The transfer saga through the server's HTTP API, against the testbed: every fault the center
//! can inject at each leg — the withdraw, the deposit, and the refund deposit after a refused
//! one, each settled by `transfer/result` when its outcome is unknown — ends Completed, Refunded
//! or Failed, with the fault proven to have struck, each leg applied once, and the money of the
//! source, the target and the institution adding up.
//!
//! The testbed scripts faults for the calls that reach a bank (withdraw, deposit); it has none
//! for `transfer/result` itself, which answers from the center's record. Every fault that leaves
//! an outcome unknown is therefore also a test of settling through `transfer/result`.

mod common;

use moa_testbed::harness::TransferKind::{self, Deposit, Withdraw};

use std::time::Duration;

use common::{Admin, Device, Sandbox, fault_rule, own_transfer};
use moa_openbanking::clock;
use moa_server::api::TransferState::{Completed, Failed, Refunded};
use moa_server::api::{self, TransferState};
use moa_server::store::{LegId, TransferRecord};
use reqwest::Method;
use serde_json::{Value, json};

/// What every transfer here moves.
const AMOUNT: i64 = 7_000;

/// How long a transfer may take to end before the test gives up on it.
const PATIENCE: Duration = Duration::from_secs(20);

/// How long a progress stream is followed before the transfer is taken to wait for a later
/// round: a transfer that need not wait ends well within it.
const STREAM_WAIT: Duration = Duration::from_secs(3);

/// The accounts a scenario looks at, by (bank code, account number).
struct Parties {
    source: (String, String),
    target: (String, String),
    collection: (String, String),
    payout: (String, String),
}

fn parties(sb: &Sandbox) -> Parties {
    let person = &sb.manifest().users[0];
    let institution = &sb.manifest().institutions[0];
    let key = |bank: &str, num: &str| (bank.to_owned(), num.to_owned());
    Parties {
        source: key(
            &person.accounts[0].bank_code_std,
            &person.accounts[0].account_num,
        ),
        target: key(
            &person.accounts[1].bank_code_std,
            &person.accounts[1].account_num,
        ),
        collection: key(
            &institution.collection_account.bank_code_std,
            &institution.collection_account.account_num,
        ),
        payout: key(
            &institution.payout_account.bank_code_std,
            &institution.payout_account.account_num,
        ),
    }
}

/// Questions about a leg, all unanswered, after which a test lets the cutoff pass.
const CHECKS_BEFORE_CUTOFF: u32 = 3;

/// Follows transfer `id` until it ends: its progress stream first, for [`STREAM_WAIT`]; a
/// transfer still open then waits for a later round, and the saga is resumed here, round after
/// round, as the server's background would. A leg the center keeps saying it never saw stays
/// unknown until the cutoff: once the saga has asked about it [`CHECKS_BEFORE_CUTOFF`] times,
/// the days pass. Also answers how many times they had to.
async fn finish(sb: &Sandbox, device: &Device, id: &str) -> (api::Transfer, u32) {
    finish_holding(sb, device, id, Duration::ZERO).await
}

/// As [`finish`], but no day passes before `hold` has: a center still working on a call (a
/// late fault) applies it within that time, as a real one would before its cutoff.
async fn finish_holding(
    sb: &Sandbox,
    device: &Device,
    id: &str,
    hold: Duration,
) -> (api::Transfer, u32) {
    let started = tokio::time::Instant::now();
    let path = format!("/v1/transfers/{id}/events");
    let streamed = tokio::time::timeout(STREAM_WAIT, device.ndjson(Method::GET, &path)).await;
    if let Ok((200, lines)) = streamed {
        for line in lines {
            let transfer: api::Transfer =
                serde_json::from_value(line).expect("each line is a transfer");
            if transfer.state.is_final() {
                return (transfer, 0);
            }
        }
    }
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut cutoffs = 0;
    loop {
        moa_server::saga::resume(sb.app())
            .await
            .expect("open transfers resume");
        let (status, body) = device.get(&format!("/v1/transfers/{id}")).await;
        assert_eq!(status, 200, "the transfer: {body}");
        let transfer: api::Transfer = serde_json::from_value(body).expect("a transfer");
        if transfer.state.is_final() {
            return (transfer, cutoffs);
        }
        let record = journaled(sb, id).await;
        if record.checks >= CHECKS_BEFORE_CUTOFF && started.elapsed() >= hold {
            sb.pass_cutoff().await;
            cutoffs += 1;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "transfer {id} never ended: {transfer:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The journal's record of transfer `id`.
async fn journaled(sb: &Sandbox, id: &str) -> TransferRecord {
    sb.app()
        .store()
        .transfer(id)
        .await
        .expect("the journal reads")
        .expect("the transfer is journaled")
}

/// Asks for a transfer of [`AMOUNT`] from person 0's first account to their second; its
/// its id comes back.
async fn start_transfer(device: &Device, accounts: &[api::Account]) -> String {
    let key = uuid::Uuid::new_v4().to_string();
    let (status, body) = device
        .transfer(&key, &own_transfer(&accounts[0], &accounts[1], AMOUNT))
        .await;
    assert_eq!(status, 201, "the transfer is made: {body}");
    let made: api::Transfer = serde_json::from_value(body).expect("a transfer");
    made.id
}

/// Makes a transfer of [`AMOUNT`] from person 0's first account to their second and follows it
/// to its end; the journal's record of it comes back too, and how many cutoffs it waited for.
async fn transfer(
    sb: &Sandbox,
    device: &Device,
    accounts: &[api::Account],
) -> (api::Transfer, TransferRecord, u32) {
    transfer_holding(sb, device, accounts, Duration::ZERO).await
}

/// As [`transfer`], with no day passing before `hold` (see [`finish_holding`]).
async fn transfer_holding(
    sb: &Sandbox,
    device: &Device,
    accounts: &[api::Account],
    hold: Duration,
) -> (api::Transfer, TransferRecord, u32) {
    let id = start_transfer(device, accounts).await;
    let (done, cutoffs) = finish_holding(sb, device, &id, hold).await;
    let record = journaled(sb, &id).await;
    (done, record, cutoffs)
}

/// Whether one of the audit log's last `entries` says transfer `id` went the refund way.
async fn refunding_logged(sb: &Sandbox, id: &str, entries: u32) -> bool {
    let log = sb
        .app()
        .store()
        .audit_log(entries)
        .await
        .expect("the audit log reads");
    log.iter()
        .any(|e| e.subject == id && e.detail.starts_with("refunding"))
}

/// The center's ledger, and how many transfers it had recorded, before a scenario.
struct Before {
    ledger: common::Ledger,
    records: usize,
}

impl Before {
    async fn take(admin: &Admin) -> Self {
        Self {
            ledger: admin.ledger().await,
            records: admin.transfers().await.len(),
        }
    }
}

/// The checks every scenario ends with: the transfer ended as `expected`; the center applied
/// exactly the legs that state means — each once, under the ids the journal holds — and
/// nothing else since `before`; the person's money moved only if it completed; the
/// institution kept nothing; and the auditor finds the whole ledger sound.
async fn assert_ended(
    sb: &Sandbox,
    name: &str,
    expected: TransferState,
    (done, record): (&api::Transfer, &TransferRecord),
    before: &Before,
) {
    assert_eq!(done.state, expected, "{name}: {done:?}");
    assert_eq!(record.state, expected, "{name}: the journal agrees");
    let admin = sb.admin();
    let records = admin.transfers().await;
    let new = &records[before.records..];
    let applied: Vec<(TransferKind, i64)> = new
        .iter()
        .filter(|r| r.applied())
        .map(|r| (r.kind, r.amount))
        .collect();
    let withdraw = record.withdraw.as_ref().expect("a withdraw was journaled");
    let withdrawn = common::center_verdict(new, &withdraw.bank_tran_id);
    // The journaled second leg (`what`) applied at the center.
    let then_applied = |leg: &Option<LegId>, what: &str| {
        let leg = leg
            .as_ref()
            .unwrap_or_else(|| panic!("a {what} was journaled"));
        assert_eq!(
            common::center_verdict(new, &leg.bank_tran_id),
            Some(true),
            "{name}: the journaled {what} applied"
        );
    };
    match expected {
        TransferState::Completed => {
            assert_eq!(withdrawn, Some(true), "{name}: the withdraw applied");
            then_applied(&record.deposit, "deposit");
            assert!(record.refund.is_none(), "{name}: no refund");
        }
        TransferState::Refunded => {
            assert_eq!(withdrawn, Some(true), "{name}: the withdraw applied");
            then_applied(&record.refund, "refund");
            assert!(done.failure_code.is_some(), "{name}: a refund says why");
            assert!(
                refunding_logged(sb, &done.id, 1_000).await,
                "{name}: the journal went the refund way"
            );
        }
        _ => {
            assert_ne!(withdrawn, Some(true), "{name}: the withdraw never applied");
            assert!(done.failure_code.is_some(), "{name}: a failure says why");
        }
    }
    let legs = match expected {
        TransferState::Failed => vec![],
        _ => vec![(Withdraw, AMOUNT), (Deposit, AMOUNT)],
    };
    assert_eq!(applied, legs, "{name}: each leg applied once, nothing else");

    let after = admin.ledger().await;
    assert_eq!(
        after.total, before.ledger.total,
        "{name}: money appeared or vanished"
    );
    let p = parties(sb);
    let moved =
        |k: &(String, String)| after.balance(&k.0, &k.1) - before.ledger.balance(&k.0, &k.1);
    let person = (moved(&p.source), moved(&p.target));
    match expected {
        TransferState::Completed => assert_eq!(person, (-AMOUNT, AMOUNT), "{name}"),
        _ => assert_eq!(person, (0, 0), "{name}: the person's money moved"),
    }
    // Whatever the institution took in, it paid out: nothing stays with it.
    assert_eq!(
        moved(&p.collection) + moved(&p.payout),
        0,
        "{name}: the institution kept or lost money"
    );
    let elsewhere: Vec<_> = after
        .changes_since(&before.ledger)
        .into_iter()
        .filter(|(k, _)| ![&p.source, &p.target, &p.collection, &p.payout].contains(&k))
        .collect();
    assert!(
        elsewhere.is_empty(),
        "{name}: other money moved: {elsewhere:?}"
    );
    sb.assert_money_invariants().await;
    common::assert_journal_agrees(sb.app().store(), &admin, sb.clock_now()).await;
}

fn timeout(applied: bool, rsp_code: &str) -> Value {
    json!({"kind": "timeout", "applied": applied, "rsp_code": rsp_code})
}

fn dropped(after_commit: bool) -> Value {
    json!({"kind": "drop", "after_commit": after_commit})
}

fn refused() -> Value {
    json!({"kind": "bank_error", "bank_rsp_code": "499"})
}

fn usage_limit() -> Value {
    json!({"kind": "usage_limit"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_at_every_leg_ends_completed_refunded_or_failed_with_money_adding_up() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let accounts = device.demo_accounts(0).await;
    let p = parties(&sb);
    // Rules name the bank the call goes to, so a deposit fault at the source's bank can strike
    // only the refund, and one at the target's bank only the deposit.
    let (source, target) = (Some(p.source.0.as_str()), Some(p.target.0.as_str()));
    let w = |f: Value| fault_rule("withdraw", source, 1, f);
    let d = |n: u32, f: Value| fault_rule("deposit", target, n, f);
    let r = |f: Value| fault_rule("deposit", source, 1, f);
    // Each case: its name, the faults, how the transfer ends, how many deposits it tried, and
    // how many times it had to wait for the cutoff: once for each call the center never saw.
    #[rustfmt::skip]
    let cases: Vec<(&str, Vec<Value>, TransferState, u32, u32)> = vec![
        // The withdraw.
        ("withdraw timeout, applied", vec![w(timeout(true, "A0007"))], Completed, 1, 0),
        ("withdraw bank timeout, applied", vec![w(timeout(true, "A0017"))], Completed, 1, 0),
        ("withdraw timeout, not applied", vec![w(timeout(false, "A0007"))], Failed, 0, 1),
        ("withdraw bank timeout, not applied", vec![w(timeout(false, "A0017"))], Failed, 0, 1),
        ("withdraw dropped after commit", vec![w(dropped(true))], Completed, 1, 0),
        ("withdraw dropped before commit", vec![w(dropped(false))], Failed, 0, 1),
        ("withdraw refused by the bank", vec![w(refused())], Failed, 0, 0),
        ("withdraw refused with a bank code the server does not know: settled by asking", vec![w(json!({"kind": "bank_error", "bank_rsp_code": "777"}))], Failed, 0, 0),
        ("withdraw over the usage plan", vec![w(usage_limit())], Failed, 0, 0),
        // The deposit.
        ("deposit timeout, applied", vec![d(1, timeout(true, "A0007"))], Completed, 1, 0),
        ("deposit bank timeout, applied", vec![d(1, timeout(true, "A0017"))], Completed, 1, 0),
        ("deposit timeout, not applied", vec![d(1, timeout(false, "A0007"))], Completed, 2, 1),
        ("deposit bank timeout, not applied", vec![d(1, timeout(false, "A0017"))], Completed, 2, 1),
        ("deposit dropped after commit", vec![d(1, dropped(true))], Completed, 1, 0),
        ("deposit dropped before commit", vec![d(1, dropped(false))], Completed, 2, 1),
        ("deposit refused by the bank", vec![d(1, refused())], Refunded, 1, 0),
        ("deposit over the usage plan", vec![d(1, usage_limit())], Refunded, 1, 0),
        ("deposit never applied three times", vec![d(3, dropped(false))], Refunded, 3, 3),
        ("deposit timed out unapplied three times", vec![d(3, timeout(false, "A0007"))], Refunded, 3, 3),
        // The refund, after a refused deposit.
        ("refund lost once", vec![d(1, refused()), r(timeout(false, "A0007"))], Refunded, 1, 1),
        ("refund applied, its answer timed out", vec![d(1, refused()), r(timeout(true, "A0017"))], Refunded, 1, 0),
        ("refund applied, its answer lost", vec![d(1, refused()), r(dropped(true))], Refunded, 1, 0),
        ("refund dropped before commit", vec![d(1, refused()), r(dropped(false))], Refunded, 1, 1),
        ("refund refused once by the bank", vec![d(1, refused()), r(refused())], Refunded, 1, 0),
    ];
    let admin = sb.admin();
    for (name, faults, expected, deposits, cutoffs) in cases {
        let before = Before::take(&admin).await;
        for rule in faults {
            admin.add_fault(rule).await;
        }
        let (done, record, waited) = transfer(&sb, &device, &accounts).await;
        assert_eq!(
            waited, cutoffs,
            "{name}: a call the center never saw stays unknown until the cutoff"
        );
        // The fault struck: every rule is used up, each call it scripted was made.
        let left = admin.faults().await;
        admin.clear_faults().await;
        assert!(left.is_empty(), "{name}: faults never struck: {left:?}");
        assert_ended(&sb, name, expected, (&done, &record), &before).await;
        assert_eq!(
            record.deposit_attempts, deposits,
            "{name}: deposits tried, each under a new id"
        );
    }
    sb.stop().await;
}

#[tokio::test]
async fn a_target_bank_in_outage_ends_refunded_and_says_why() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let accounts = device.demo_accounts(0).await;
    let admin: Admin = sb.admin();
    let before = Before::take(&admin).await;
    admin.set_bank_status(&accounts[1].bank_code, "D").await;
    let (done, record, _) = transfer(&sb, &device, &accounts).await;
    admin.set_bank_status(&accounts[1].bank_code, "Y").await;
    assert_eq!(
        (done.failure_code, done.failure_rsp_code.as_deref()),
        (Some(api::FailureReason::BankRefused), Some("499")),
        "{done:?}"
    );
    assert_ended(
        &sb,
        "target bank in outage",
        TransferState::Refunded,
        (&done, &record),
        &before,
    )
    .await;
    assert!(
        refunding_logged(&sb, &done.id, 50).await,
        "the audit log says why the money went back"
    );
    // The same request with the same key is the same transfer: nothing moves again.
    let after = admin.ledger().await;
    let (status, body) = device
        .transfer(
            &record.order.idempotency_key,
            &own_transfer(&accounts[0], &accounts[1], AMOUNT),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], done.id.as_str());
    assert_eq!(body["state"], "refunded");
    assert_eq!(
        admin.ledger().await,
        after,
        "a repeated request moves nothing"
    );
    sb.stop().await;
}

#[tokio::test]
async fn a_refund_the_bank_refuses_is_tried_again_once_per_round_until_the_money_is_back() {
    /// Refunds the source's bank refuses before it takes one.
    const REFUSALS: u32 = 5;
    let sb = common::start().await;
    let device = sb.person(0).await;
    let accounts = device.demo_accounts(0).await;
    let admin = sb.admin();
    let before = Before::take(&admin).await;
    let (source, target) = (
        accounts[0].bank_code.as_str(),
        accounts[1].bank_code.as_str(),
    );
    admin
        .add_fault(fault_rule("deposit", Some(target), 1, refused()))
        .await;
    admin
        .add_fault(fault_rule("deposit", Some(source), REFUSALS, refused()))
        .await;
    let id = start_transfer(&device, &accounts).await;
    // What is left of the refunds' fault: the deposit's, at the target's bank, strikes first.
    let refunds_left = || async {
        admin
            .faults()
            .await
            .iter()
            .filter(|r| r.bank_code.as_deref() == Some(source))
            .map(|r| u64::from(r.remaining))
            .sum::<u64>()
    };
    let journal = || journaled(&sb, &id);
    // The first run tries one refund; the bank refuses it; the transfer waits for a later
    // round rather than asking the bank again at once.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while refunds_left().await == u64::from(REFUSALS) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no refund was tried"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        refunds_left().await,
        u64::from(REFUSALS - 1),
        "one refund a round"
    );
    assert_eq!(journal().await.state, TransferState::Refunding);
    // Each round after tries once more, until the bank takes the money back.
    for round in 1..REFUSALS {
        moa_server::saga::resume(sb.app())
            .await
            .expect("open transfers resume");
        assert_eq!(
            refunds_left().await,
            u64::from(REFUSALS - 1 - round),
            "round {round}: one refund"
        );
        assert_eq!(
            journal().await.state,
            TransferState::Refunding,
            "round {round}"
        );
    }
    moa_server::saga::resume(sb.app())
        .await
        .expect("open transfers resume");
    let record = journal().await;
    let (status, done) = device.get(&format!("/v1/transfers/{id}")).await;
    assert_eq!(status, 200, "{done}");
    let done: api::Transfer = serde_json::from_value(done).expect("a transfer");
    assert_ended(
        &sb,
        "refund refused several times",
        Refunded,
        (&done, &record),
        &before,
    )
    .await;
    sb.stop().await;
}

fn late(after_ms: u64, answer: &str) -> Value {
    json!({"kind": "late", "after_ms": after_ms, "answer": answer})
}

/// A center that keeps working on a call after answering "timeout" (or dropping it), and
/// applies it a while later, says "no such transfer" meanwhile. The saga must not read that as
/// "never applied": a withdraw would end Failed with the source debited, a deposit or a refund
/// would be sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_lands_after_the_saga_asked_is_never_taken_for_one_that_did_not() {
    /// How long after its answer the call lands.
    const LATE_MS: u64 = 1_200;
    let sb = common::start().await;
    let device = sb.person(0).await;
    let accounts = device.demo_accounts(0).await;
    let p = parties(&sb);
    let (source, target) = (Some(p.source.0.as_str()), Some(p.target.0.as_str()));
    let cases: Vec<(&str, Vec<Value>, TransferState)> = vec![
        (
            "withdraw lands late after a timeout",
            vec![fault_rule("withdraw", source, 1, late(LATE_MS, "timeout"))],
            Completed,
        ),
        (
            "withdraw lands late after a dropped connection",
            vec![fault_rule("withdraw", source, 1, late(LATE_MS, "drop"))],
            Completed,
        ),
        (
            "deposit lands late after a bank timeout",
            vec![fault_rule(
                "deposit",
                target,
                1,
                late(LATE_MS, "bank_timeout"),
            )],
            Completed,
        ),
        (
            "deposit lands late after a dropped connection",
            vec![fault_rule("deposit", target, 1, late(LATE_MS, "drop"))],
            Completed,
        ),
        (
            "refund lands late after a timeout",
            vec![
                fault_rule("deposit", target, 1, refused()),
                fault_rule("deposit", source, 1, late(LATE_MS, "timeout")),
            ],
            Refunded,
        ),
    ];
    let admin = sb.admin();
    for (name, faults, expected) in cases {
        let before = Before::take(&admin).await;
        for rule in faults {
            admin.add_fault(rule).await;
        }
        let hold = Duration::from_millis(LATE_MS * 2);
        let (done, record, cutoffs) = transfer_holding(&sb, &device, &accounts, hold).await;
        assert!(admin.faults().await.is_empty(), "{name}: the fault struck");
        assert_eq!(cutoffs, 0, "{name}: the call landed before its cutoff");
        assert_ended(&sb, name, expected, (&done, &record), &before).await;
        assert_eq!(
            record.deposit_attempts, 1,
            "{name}: one deposit, never a second"
        );
        let asked = sb
            .app()
            .store()
            .calls(&record.id)
            .await
            .expect("the call log reads")
            .into_iter()
            .filter(|c| c.call == "result" && c.answer == "not found")
            .count();
        assert!(
            asked > 0,
            "{name}: the saga asked while the call was still out"
        );
    }
    sb.stop().await;
}

/// KST midnight between the server's clock and the center's: the server reads 23:59:5x on day
/// D while the center already reads 00:00:0x on D+1, and files every call under D+1. A call
/// whose answer was lost must be found there, not taken for one that never happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_the_center_filed_on_the_next_day_is_found_there() {
    let cases: Vec<(&str, &str, TransferState)> = vec![
        (
            "withdraw timed out, applied on the center's next day",
            "withdraw",
            Completed,
        ),
        (
            "deposit timed out, applied on the center's next day",
            "deposit",
            Completed,
        ),
    ];
    for (name, api_name, expected) in cases {
        let sb = common::start().await;
        let device = sb.person(0).await;
        let accounts = device.demo_accounts(0).await;
        let p = parties(&sb);
        let admin = sb.admin();
        // The server: 23:59:55 KST today; the center: ten seconds later, past its midnight.
        let today = clock::today_kst(chrono::Utc::now());
        let server_at = clock::from_kst(today.and_hms_opt(23, 59, 55).expect("a time"));
        sb.clock.set(server_at);
        let center_offset = (server_at + chrono::Duration::seconds(10)) - chrono::Utc::now();
        admin.set_clock_offset(center_offset.num_seconds()).await;
        let bank = if api_name == "withdraw" {
            &p.source.0
        } else {
            &p.target.0
        };
        admin
            .add_fault(fault_rule(api_name, Some(bank), 1, timeout(true, "A0007")))
            .await;
        let before = Before::take(&admin).await;
        let (done, record, cutoffs) = transfer(&sb, &device, &accounts).await;
        assert!(admin.faults().await.is_empty(), "{name}: the fault struck");
        assert_eq!(cutoffs, 0, "{name}: found before any cutoff");
        assert_ended(&sb, name, expected, (&done, &record), &before).await;
        let leg = if api_name == "withdraw" {
            &record.withdraw
        } else {
            &record.deposit
        };
        let leg = leg.as_ref().expect("the leg is journaled");
        assert_eq!(
            (leg.date, leg.dated_by_center),
            (today.succ_opt().expect("tomorrow"), true),
            "{name}: the journal keeps the center's date"
        );
        assert_eq!(record.deposit_attempts, 1, "{name}: one deposit");
        sb.stop().await;
    }
}

/// Two executors of one transfer: several resumes at once in one server, and a second server
/// process on the same database. Exactly one deposit lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_transfer_has_exactly_one_executor() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let accounts = device.demo_accounts(0).await;
    let p = parties(&sb);
    let admin = sb.admin();
    let before = Before::take(&admin).await;
    // The deposit's answer is lost and the deposit never made: the transfer waits at
    // `depositing`, and every resume that finds it due could be tempted to deposit again.
    admin
        .add_fault(fault_rule("deposit", Some(&p.target.0), 1, dropped(false)))
        .await;
    let id = start_transfer(&device, &accounts).await;
    let journal = || journaled(&sb, &id);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while journal().await.state != TransferState::Depositing || journal().await.checks == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            journal().await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A second server on the same SQLite database is refused: the first holds its lock.
    // (On PostgreSQL, replicas share the database; the journal's conditional writes keep a
    // transfer to one executor.)
    if sb.database().is_none() {
        let refused = moa_server::store::Store::open(&sb.dir.path().join("moa-server.db"));
        assert!(
            refused.is_err(),
            "a second server opened a database another one runs"
        );
    }
    // The cutoff passes; eight resumes race for the transfer.
    sb.pass_cutoff().await;
    let mut racing = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let app = sb.app().clone();
        racing.spawn(async move { moa_server::saga::resume(&app).await });
    }
    while let Some(ended) = racing.join_next().await {
        ended.expect("a resume ran").expect("a resume succeeded");
    }
    let (done, _) = finish(&sb, &device, &id).await;
    let record = journal().await;
    assert_eq!(
        record.deposit_attempts, 2,
        "one deposit after the lost one, not eight"
    );
    assert_ended(&sb, "two executors", Completed, (&done, &record), &before).await;
    sb.stop().await;
}

/// A small deterministic generator for the scenario test: the same seed, the same scenarios.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % sides
    }

    fn fault(&mut self, late_ms: u64) -> Option<Value> {
        match self.roll(9) {
            0 => Some(timeout(true, "A0007")),
            1 => Some(timeout(false, "A0017")),
            2 => Some(dropped(true)),
            3 => Some(dropped(false)),
            4 => Some(refused()),
            5 => Some(late(late_ms, "timeout")),
            6 => Some(late(late_ms, "drop")),
            _ => None,
        }
    }
}

/// Random interleavings of faults at every leg, late landings, slow banks and the two clocks
/// straddling midnight, bounded in count. Whatever happens, every transfer ends, and the one
/// auditor of the journal and the ledger finds each leg applied at most once, the money
/// conserved, and the end state matching the postings. `MOA_SAGA_SEED` replays a run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_faults_clocks_and_delays_never_lose_or_double_money() {
    const SCENARIOS: u32 = 12;
    const LATE_MS: u64 = 400;
    let seed = std::env::var("MOA_SAGA_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x6d6f_615f_7361_6761);
    println!("MOA_SAGA_SEED={seed}");
    let mut dice = Dice(seed.max(1));
    let sb = common::start().await;
    let device = sb.person(0).await;
    let accounts = device.demo_accounts(0).await;
    let p = parties(&sb);
    let admin = sb.admin();
    for round in 0..SCENARIOS {
        let mut plan = Vec::new();
        if dice.roll(3) == 0 {
            // Both clocks move on to just before the server's next midnight, the center ahead
            // by a few seconds.
            let at = clock::from_kst(
                (clock::today_kst(sb.clock_now()) + chrono::Days::new(1))
                    .and_hms_opt(23, 59, 50 + dice.roll(8) as u32)
                    .expect("a time"),
            );
            sb.clock.set(at);
            let ahead = 1 + dice.roll(10) as i64;
            let center_at = at + chrono::Duration::seconds(ahead);
            admin
                .set_clock_offset((center_at - chrono::Utc::now()).num_seconds())
                .await;
            plan.push(format!("midnight, center {ahead}s ahead"));
        }
        let latency = dice.roll(4) * 40;
        admin
            .call(
                Method::PUT,
                &format!("/testbed/admin/banks/{}", p.target.0),
                Some(json!({ "latency_ms": latency })),
            )
            .await;
        plan.push(format!("target bank {latency} ms"));
        for (api_name, bank) in [("withdraw", &p.source.0), ("deposit", &p.target.0)] {
            if let Some(fault) = dice.fault(LATE_MS) {
                plan.push(format!("{api_name}: {fault}"));
                admin
                    .add_fault(fault_rule(api_name, Some(bank), 1, fault))
                    .await;
            }
        }
        // A refund's own fault, struck only if the deposit is refused.
        if let Some(fault) = dice.fault(LATE_MS) {
            plan.push(format!("refund: {fault}"));
            admin
                .add_fault(fault_rule("deposit", Some(&p.source.0), 1, fault))
                .await;
        }
        let name = format!("round {round} (seed {seed}): {}", plan.join("; "));
        let before = admin.ledger().await;
        let (done, record, _) =
            transfer_holding(&sb, &device, &accounts, Duration::from_millis(LATE_MS * 3)).await;
        admin.clear_faults().await;
        assert!(done.state.is_final(), "{name}: {done:?}");
        let after = admin.ledger().await;
        let moved = |k: &(String, String)| after.balance(&k.0, &k.1) - before.balance(&k.0, &k.1);
        let person = (moved(&p.source), moved(&p.target));
        match done.state {
            Completed => assert_eq!(person, (-AMOUNT, AMOUNT), "{name}"),
            _ => assert_eq!(person, (0, 0), "{name}: {done:?}"),
        }
        assert_eq!(
            moved(&p.collection) + moved(&p.payout),
            0,
            "{name}: the institution kept or lost money"
        );
        assert_eq!(record.state, done.state, "{name}: the journal agrees");
        sb.assert_money_invariants().await;
        common::assert_journal_agrees(sb.app().store(), &admin, sb.clock_now()).await;
    }
    sb.stop().await;
}
