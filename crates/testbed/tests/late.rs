//! Transfers that land late: the center answers a withdraw or deposit with an unknown outcome at
//! once and applies it only afterwards, as a center that kept working after the client gave up.
//! Until it lands `transfer/result` does not know it; when it lands it is applied once, filed
//! under the day the call arrived, and a `bank_tran_id` reused meanwhile changes nothing.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::money::{Answer, classify};
use common::{Bed, User};
use moa_testbed::Config;
use moa_testbed::harness::{CenterTransfer, TransferStatus};
use serde_json::{Value, json};

/// Long enough that the checks made right after the answer run before the transfer lands, even
/// on a busy machine; short enough for a test.
const LATE_MS: u64 = 1_500;

/// A person (index 0) with every account registered for everything at institution 0.
async fn setup(bed: &Bed) -> (User, Vec<String>, String) {
    let accounts: Vec<usize> = (0..bed.person(0).accounts.len()).collect();
    let user = bed.user(0, 0, &accounts).await;
    let fintech = bed.fintech_nums(&user).await;
    let oob = bed.oob_token(0).await;
    (user, fintech, oob)
}

async fn balance_of(bed: &Bed, index: usize) -> i64 {
    let account = bed.person(0).accounts[index].clone();
    bed.ledger_balance(&account.bank_code_std, &account.account_num)
        .await
}

/// The center's records of `id`.
async fn records_of(bed: &Bed, id: &str) -> Vec<CenterTransfer> {
    let mut transfers = bed.admin.transfers().await;
    transfers.retain(|t| t.bank_tran_id == id);
    transfers
}

/// Asks `transfer/result` about `id` filed under `date` until it knows it; its verdict.
async fn settled(bed: &Bed, oob: &str, withdraw: bool, id: &str, amount: i64, date: &str) -> bool {
    let deadline = Instant::now() + Duration::from_millis(LATE_MS) + Duration::from_secs(15);
    loop {
        if let Some(applied) = bed.settle_on(oob, withdraw, id, amount, date).await {
            return applied;
        }
        assert!(Instant::now() < deadline, "{id} never landed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn late(api: &str, answer: &str) -> Value {
    json!({
        "api": api,
        "bank_code": "004",
        "remaining": 1,
        "fault": {"kind": "late", "after_ms": LATE_MS, "answer": answer},
    })
}

#[tokio::test]
async fn a_late_withdraw_is_answered_unknown_then_lands_once_under_the_day_it_arrived() {
    let bed = common::spawn().await;
    let (user, fintech, oob) = setup(&bed).await;
    assert_eq!(bed.person(0).accounts[0].bank_code_std, "004");
    let before = balance_of(&bed, 0).await;
    let arrival = bed.today().format("%Y%m%d").to_string();
    bed.admin.add_fault(late("withdraw", "timeout")).await;
    let id = bed.next_id(0);

    let answer = classify(bed.withdraw(&user, &id, &fintech[0], 7_000).await);
    assert_eq!(answer, Answer::Unknown("A0007".into()));
    // Nothing is recorded or moved yet: the center does not know the transfer.
    assert_eq!(bed.settle(&oob, true, &id, 7_000).await, None);
    assert!(records_of(&bed, &id).await.is_empty());
    assert_eq!(balance_of(&bed, 0).await, before);
    assert_eq!(bed.spawned.testbed.late_pending(), 1);
    // A client that tries again with the same id meanwhile is refused as a reuse.
    let again = classify(bed.withdraw(&user, &id, &fintech[0], 7_000).await);
    assert_eq!(again, Answer::Refused("A0326".into()));
    // The center's day turns before the transfer lands: it is still the arrival day's.
    bed.spawned
        .testbed
        .clock()
        .set_offset(chrono::TimeDelta::days(1));

    assert!(settled(&bed, &oob, true, &id, 7_000, &arrival).await);
    let records = records_of(&bed, &id).await;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].bank_tran_date, arrival);
    assert_eq!(records[0].status, TransferStatus::Done);
    assert_eq!(balance_of(&bed, 0).await, before - 7_000, "moved once");
    assert_eq!(bed.spawned.testbed.late_pending(), 0);
    bed.assert_invariants().await;
}

#[tokio::test]
async fn a_late_deposit_whose_connection_dropped_lands_after_its_delay() {
    let bed = common::spawn().await;
    let (_, fintech, oob) = setup(&bed).await;
    let before = balance_of(&bed, 0).await;
    bed.admin.add_fault(late("deposit", "drop")).await;
    let id = bed.next_id(0);

    let answer = classify(bed.deposit(0, &oob, &id, &fintech[0], 9_000).await);
    assert!(
        matches!(&answer, Answer::Unknown(e) if e.starts_with("read") || e.starts_with("send")),
        "{answer:?}"
    );
    assert_eq!(bed.settle(&oob, false, &id, 9_000).await, None);
    assert_eq!(balance_of(&bed, 0).await, before);

    let today = bed.today().format("%Y%m%d").to_string();
    assert!(settled(&bed, &oob, false, &id, 9_000, &today).await);
    assert_eq!(balance_of(&bed, 0).await, before + 9_000);
    assert_eq!(records_of(&bed, &id).await.len(), 1);
    bed.assert_invariants().await;
}

#[tokio::test]
async fn a_late_transfer_the_bank_refuses_when_it_lands_is_recorded_refused_and_moves_nothing() {
    let bed = common::spawn().await;
    let (user, fintech, oob) = setup(&bed).await;
    let account = bed.person(0).accounts[0].clone();
    let before = balance_of(&bed, 0).await;
    bed.admin.add_fault(late("withdraw", "bank_timeout")).await;
    let id = bed.next_id(0);

    let answer = classify(bed.withdraw(&user, &id, &fintech[0], 4_000).await);
    assert_eq!(answer, Answer::Unknown("A0017".into()));
    // The bank suspends the account before the transfer lands: its checks run when it lands.
    bed.admin
        .set_account_state(&account.bank_code_std, &account.account_num, "suspended")
        .await;

    let today = bed.today().format("%Y%m%d").to_string();
    assert!(!settled(&bed, &oob, true, &id, 4_000, &today).await);
    let records = records_of(&bed, &id).await;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(
        (records[0].status, records[0].bank_rsp_code.as_str()),
        (TransferStatus::Refused, "420")
    );
    assert_eq!(balance_of(&bed, 0).await, before);
    bed.assert_invariants().await;
}

/// A private folder under the system's temp dir, removed when the test ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn a_late_transfer_that_has_not_landed_when_the_testbed_stops_never_lands() {
    let dir = TempDir(std::env::temp_dir().join(format!(
        "moa-testbed-late-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    )));
    std::fs::create_dir_all(&dir.0).expect("a temp dir");
    let db = dir.0.join("testbed.db");
    let bed = common::spawn_with(Config::file(&db)).await;
    let (user, fintech, _) = setup(&bed).await;
    let before = balance_of(&bed, 0).await;
    bed.admin.add_fault(late("withdraw", "timeout")).await;
    let id = bed.next_id(0);
    let answer = classify(bed.withdraw(&user, &id, &fintech[0], 3_000).await);
    assert_eq!(answer, Answer::Unknown("A0007".into()));
    let Bed { spawned, http, .. } = bed;
    spawned.shutdown().await;
    drop(http);

    // Well past the landing time: had the work outlived the testbed, it would have landed.
    tokio::time::sleep(Duration::from_millis(LATE_MS + 1_000)).await;
    let bed = common::spawn_with(Config::file(&db)).await;
    assert!(records_of(&bed, &id).await.is_empty());
    assert_eq!(balance_of(&bed, 0).await, before);
    bed.spawned.shutdown().await;
}
