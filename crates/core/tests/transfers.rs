//! Transfers against the sandbox's center: the happy path, refusals before anything moves, and
//! every fault the center can inject at each leg — each ending Completed, Refunded or Failed
//! with the money of source, target and institution accounts adding up.

#![allow(clippy::unwrap_used)] // Helpers here fail the test that calls them.

mod common;

use std::time::Duration;

use common::DataDir;
use moa_core::journal::TransferState;
use moa_core::transfer::{Recipient, SettlePolicy, TransferRequest};
use moa_core::{Error, Moa};
use reqwest::Method;
use serde_json::{Value, json};

async fn open(dir: &DataDir) -> Moa {
    let vault = std::sync::Arc::new(moa_core::MemoryVault::new());
    let mut options = common::options(dir, vault);
    options.settle = SettlePolicy {
        attempts: 4,
        first_delay: Duration::from_millis(20),
    };
    let moa = Moa::open(options).await.expect("Moa opens");
    common::register(&moa, 0, &[0, 1, 2, 3]).await;
    moa
}

/// Person 0's registered accounts in the order of the manifest (004 main, 088, 090, 081
/// savings), whatever order the center registered them in.
async fn accounts(moa: &Moa) -> Vec<moa_core::store::AccountRecord> {
    let env = moa.environment().await.unwrap();
    let stored = moa.store().accounts(env.id).unwrap();
    let (_, manifest) = moa.sandbox().await.unwrap();
    manifest.users[0]
        .accounts
        .iter()
        .map(|a| {
            let prefix = &a.account_num[..a.account_num.len() - 3];
            stored
                .iter()
                .find(|s| {
                    s.bank_code == a.bank_code_std && s.account_num_masked.starts_with(prefix)
                })
                .cloned()
                .expect("every chosen account is registered")
        })
        .collect()
}

/// Every balance the center's ledger holds, by account number.
async fn ledger(moa: &Moa) -> (i64, std::collections::HashMap<String, i64>) {
    let (base, manifest) = moa.sandbox().await.unwrap();
    let ledger: Value = reqwest::Client::new()
        .get(format!("{base}/testbed/admin/ledger"))
        .bearer_auth(&manifest.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let balances = ledger["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["account_num"].as_str().unwrap().to_owned(),
                a["balance"].as_i64().unwrap(),
            )
        })
        .collect();
    (ledger["total"].as_i64().unwrap(), balances)
}

/// The account numbers of demo person 0 and of institution 0's contract accounts.
async fn numbers(moa: &Moa) -> (Vec<String>, String, String) {
    let (_, manifest) = moa.sandbox().await.unwrap();
    let person = manifest.users[0]
        .accounts
        .iter()
        .map(|a| a.account_num.clone())
        .collect();
    let moa_institution = &manifest.institutions[0];
    (
        person,
        moa_institution.collection_account.account_num.clone(),
        moa_institution.payout_account.account_num.clone(),
    )
}

fn own(from: i64, to: i64, amount: i64) -> TransferRequest {
    TransferRequest {
        from_account: from,
        to: Recipient::Own { account_id: to },
        amount,
        memo: "생활비".into(),
    }
}

#[tokio::test]
async fn a_transfer_between_own_accounts_completes_and_moves_exactly_the_amount() {
    let dir = DataDir::new("transfer-happy");
    let moa = open(&dir).await;
    let list = accounts(&moa).await;
    let (before_total, before) = ledger(&moa).await;
    let (person, collection, payout) = numbers(&moa).await;
    let preflight = moa
        .preflight_transfer(&own(list[0].id, list[1].id, 12_000))
        .await
        .unwrap();
    assert_eq!(preflight.recipient_name, "홍길동");
    assert_eq!(preflight.recipient_bank_code, list[1].bank_code);
    assert!(preflight.available >= 12_000);
    assert_eq!(preflight.remaining_limit, 5_000_000);
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let done = moa.transfer(&preflight, Some(tx)).await.unwrap();
    assert_eq!(done.state, TransferState::Completed);
    let mut states = Vec::new();
    while let Ok(event) = rx.try_recv() {
        states.push(event.state);
    }
    assert_eq!(
        states,
        vec![
            TransferState::Withdrawing,
            TransferState::Withdrawn,
            TransferState::Depositing,
            TransferState::Completed
        ]
    );
    let (after_total, after) = ledger(&moa).await;
    assert_eq!(after_total, before_total);
    assert_eq!(after[&person[0]], before[&person[0]] - 12_000);
    assert_eq!(after[&person[1]], before[&person[1]] + 12_000);
    assert_eq!(after[&collection] - before[&collection], 12_000);
    assert_eq!(before[&payout] - after[&payout], 12_000);
    // The daily limit counts it.
    let next = moa
        .preflight_transfer(&own(list[0].id, list[1].id, 1_000))
        .await
        .unwrap();
    assert_eq!(next.remaining_limit, 5_000_000);
    let listed = moa.transfers(10).await.unwrap();
    assert_eq!(listed[0].id, done.id);
}

#[tokio::test]
async fn a_transfer_to_someone_elses_account_checks_their_name_first() {
    let dir = DataDir::new("transfer-external");
    let moa = open(&dir).await;
    let list = accounts(&moa).await;
    let (_, manifest) = moa.sandbox().await.unwrap();
    let friend = manifest.users[1].accounts[0].clone();
    let (_, before) = ledger(&moa).await;
    let request = TransferRequest {
        from_account: list[0].id,
        to: Recipient::External {
            bank_code: friend.bank_code_std.clone(),
            account_num: friend.account_num.clone(),
        },
        amount: 30_000,
        memo: "저녁값".into(),
    };
    let preflight = moa.preflight_transfer(&request).await.unwrap();
    assert_eq!(preflight.recipient_name, friend.account_holder_name);
    let done = moa.transfer(&preflight, None).await.unwrap();
    assert_eq!(done.state, TransferState::Completed, "{done:?}");
    let (_, after) = ledger(&moa).await;
    assert_eq!(
        after[&friend.account_num] - before[&friend.account_num],
        30_000
    );
}

#[tokio::test]
async fn transfers_that_cannot_be_made_are_refused_before_anything_is_journaled() {
    let dir = DataDir::new("transfer-refused");
    let moa = open(&dir).await;
    let list = accounts(&moa).await;
    let reason =
        |r: Result<moa_core::transfer::Preflight, Error>| r.err().map(|e| e.code().to_owned());
    assert_eq!(
        reason(
            moa.preflight_transfer(&own(list[0].id, list[1].id, 0))
                .await
        )
        .as_deref(),
        Some("amount_not_positive")
    );
    assert_eq!(
        reason(
            moa.preflight_transfer(&own(list[0].id, list[0].id, 1_000))
                .await
        )
        .as_deref(),
        Some("same_account")
    );
    assert_eq!(
        reason(
            moa.preflight_transfer(&own(list[0].id, list[1].id, 5_000_001))
                .await
        )
        .as_deref(),
        Some("over_limit")
    );
    // The savings account (index 3) has nothing withdrawable.
    assert_eq!(
        reason(
            moa.preflight_transfer(&own(list[3].id, list[1].id, 1_000))
                .await
        )
        .as_deref(),
        Some("insufficient_funds")
    );
    let unknown = TransferRequest {
        from_account: list[0].id,
        to: Recipient::External {
            bank_code: "004".into(),
            account_num: "99999999".into(),
        },
        amount: 1_000,
        memo: String::new(),
    };
    let refused = moa.preflight_transfer(&unknown).await.unwrap_err();
    assert_eq!(refused.code(), "bank_refused", "{refused}");
    assert!(moa.transfers(10).await.unwrap().is_empty());
}

/// A fault for the next `remaining` calls of `api`, at any bank.
fn fault(api: &str, remaining: u32, fault: Value) -> Value {
    json!({"api": api, "remaining": remaining, "fault": fault})
}

#[tokio::test]
async fn every_fault_at_every_leg_ends_completed_refunded_or_failed_with_money_adding_up() {
    let cases: Vec<(&str, Vec<Value>, TransferState)> = vec![
        (
            "withdraw timeout, applied",
            vec![fault(
                "withdraw",
                1,
                json!({"kind": "timeout", "applied": true}),
            )],
            TransferState::Completed,
        ),
        (
            "withdraw timeout, not applied",
            vec![fault(
                "withdraw",
                1,
                json!({"kind": "timeout", "applied": false, "rsp_code": "A0017"}),
            )],
            TransferState::Failed,
        ),
        (
            "withdraw dropped after commit",
            vec![fault(
                "withdraw",
                1,
                json!({"kind": "drop", "after_commit": true}),
            )],
            TransferState::Completed,
        ),
        (
            "withdraw dropped before commit",
            vec![fault(
                "withdraw",
                1,
                json!({"kind": "drop", "after_commit": false}),
            )],
            TransferState::Failed,
        ),
        (
            "withdraw refused by the bank",
            vec![fault(
                "withdraw",
                1,
                json!({"kind": "bank_error", "bank_rsp_code": "499"}),
            )],
            TransferState::Failed,
        ),
        (
            "deposit timeout, applied",
            vec![fault(
                "deposit",
                1,
                json!({"kind": "timeout", "applied": true}),
            )],
            TransferState::Completed,
        ),
        (
            "deposit timeout, not applied",
            vec![fault(
                "deposit",
                1,
                json!({"kind": "timeout", "applied": false}),
            )],
            TransferState::Completed,
        ),
        (
            "deposit dropped after commit",
            vec![fault(
                "deposit",
                1,
                json!({"kind": "drop", "after_commit": true}),
            )],
            TransferState::Completed,
        ),
        (
            "deposit dropped before commit",
            vec![fault(
                "deposit",
                1,
                json!({"kind": "drop", "after_commit": false}),
            )],
            TransferState::Completed,
        ),
        (
            "deposit refused by the bank",
            vec![fault(
                "deposit",
                1,
                json!({"kind": "bank_error", "bank_rsp_code": "499"}),
            )],
            TransferState::Refunded,
        ),
        (
            "deposit refused, refund lost once",
            vec![
                fault(
                    "deposit",
                    1,
                    json!({"kind": "bank_error", "bank_rsp_code": "499"}),
                ),
                fault("deposit", 1, json!({"kind": "timeout", "applied": false})),
            ],
            TransferState::Refunded,
        ),
        (
            "deposit refused, refund applied but its answer lost",
            vec![
                fault(
                    "deposit",
                    1,
                    json!({"kind": "bank_error", "bank_rsp_code": "499"}),
                ),
                fault("deposit", 1, json!({"kind": "drop", "after_commit": true})),
            ],
            TransferState::Refunded,
        ),
        (
            "deposit never applied three times",
            vec![fault(
                "deposit",
                3,
                json!({"kind": "drop", "after_commit": false}),
            )],
            TransferState::Refunded,
        ),
    ];
    let dir = DataDir::new("transfer-faults");
    let moa = open(&dir).await;
    let list = accounts(&moa).await;
    let (person, collection, payout) = numbers(&moa).await;
    for (name, faults, expected) in cases {
        let (total, before) = ledger(&moa).await;
        for f in faults {
            common::admin(&moa, Method::POST, "/testbed/admin/faults", f).await;
        }
        let preflight = moa
            .preflight_transfer(&own(list[0].id, list[1].id, 7_000))
            .await
            .unwrap();
        let done = moa.transfer(&preflight, None).await.unwrap();
        common::admin(&moa, Method::DELETE, "/testbed/admin/faults", json!({})).await;
        assert_eq!(done.state, expected, "{name}: {done:?}");
        let (after_total, after) = ledger(&moa).await;
        assert_eq!(after_total, total, "{name}: money appeared or vanished");
        let moved = |n: &str| after[n] - before[n];
        let (source, target) = (moved(&person[0]), moved(&person[1]));
        match expected {
            TransferState::Completed => assert_eq!((source, target), (-7_000, 7_000), "{name}"),
            _ => assert_eq!((source, target), (0, 0), "{name}: the person's money moved"),
        }
        // Whatever the institution took in, it paid out: nothing stays with it.
        assert_eq!(
            moved(&collection) + moved(&payout),
            0,
            "{name}: the institution kept or lost money"
        );
        if expected == TransferState::Refunded {
            assert!(done.failure_code.is_some(), "{name}: a refund says why");
        }
    }
}

#[tokio::test]
async fn a_target_bank_in_outage_ends_refunded_and_says_why() {
    let dir = DataDir::new("transfer-outage");
    let moa = open(&dir).await;
    let list = accounts(&moa).await;
    let preflight = moa
        .preflight_transfer(&own(list[0].id, list[1].id, 5_000))
        .await
        .unwrap();
    common::admin(
        &moa,
        Method::PUT,
        &format!("/testbed/admin/banks/{}", list[1].bank_code),
        json!({"status": "D"}),
    )
    .await;
    let done = moa.transfer(&preflight, None).await.unwrap();
    assert_eq!(done.state, TransferState::Refunded, "{done:?}");
    assert_eq!(done.failure_code.as_deref(), Some("bank_refused:499"));
    // The person reads the bank's own words, not a generic line.
    assert_eq!(
        done.failure_message.as_deref(),
        Some("은행 장애로 거래할 수 없습니다")
    );
    let log = moa.store().audit_log(20).unwrap();
    assert!(
        log.iter()
            .any(|e| e.subject == done.id && e.detail.starts_with("refunding")),
        "{log:?}"
    );
}
