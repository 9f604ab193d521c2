//! Transfers asked of the sandbox's moa-server and followed to their end: the happy path, the
//! recipient's name checked first, refusals before anything moves, transfers the app journaled
//! but lost track of, and a bank outage that ends in a refund — each checked against the
//! center's ledger. Every fault at every leg of the saga is the server's to test
//! (`crates/server/tests`); here the app's view of it is what counts.

#![allow(clippy::unwrap_used)] // Helpers here fail the test that calls them.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{DataDir, Ledger};
use moa_core::journal::{NewTransfer, TransferState};
use moa_core::store::AccountRecord;
use moa_core::transfer::{Preflight, Recipient, TransferRequest};
use moa_core::{Code, Error, Moa};
use moa_server::api::{self, ErrorCode};
use tokio::sync::mpsc;

/// The transfers the server journaled for the person.
async fn server_transfers(moa: &Moa) -> Vec<api::Transfer> {
    moa.server()
        .await
        .unwrap()
        .get("/v1/transfers")
        .await
        .unwrap()
}

/// Nothing reached the server or the center: the server journaled no transfer, the center
/// was asked nothing since `calls_before`, and no money moved from `opening`.
async fn assert_nothing_sent(moa: &Moa, calls_before: usize, opening: &Ledger) {
    let known = server_transfers(moa).await;
    assert!(known.is_empty(), "the server journaled none");
    assert_eq!(common::center_transfer_count(moa).await, calls_before);
    assert_eq!(&common::ledger(moa).await, opening, "nothing moved");
    common::assert_money_invariants(moa, opening).await;
}

/// Moa with demo person 0's four accounts registered, and the ledger before anything moved.
async fn open(dir: &DataDir) -> (Moa, Ledger) {
    let vault = Arc::new(moa_core::MemoryVault::new());
    let moa = Moa::open(common::options(dir, vault))
        .await
        .expect("Moa opens");
    common::register(&moa, 0, &[0, 1, 2, 3]).await;
    let opening = common::ledger(&moa).await;
    (moa, opening)
}

/// An account of the center, by bank code and number.
type Numbered = (String, String);

/// Person 0's registered accounts in the order of the manifest (004 main, 088, 090, 081
/// savings), whatever order the center registered them in, with their numbers.
async fn accounts(moa: &Moa) -> Vec<(AccountRecord, Numbered)> {
    let env = moa.environment().await.unwrap();
    let stored = moa.store().accounts(env.id).unwrap();
    let (_, manifest) = moa.sandbox().await.unwrap();
    manifest.users[0]
        .accounts
        .iter()
        .map(|a| {
            let prefix = &a.account_num[..a.account_num.len() - 3];
            let record = stored
                .iter()
                .find(|s| {
                    s.details.bank_code == a.bank_code_std
                        && s.details.account_num_masked.starts_with(prefix)
                })
                .cloned()
                .expect("every chosen account is registered");
            (record, (a.bank_code_std.clone(), a.account_num.clone()))
        })
        .collect()
}

/// Institution 0's collection and payout accounts.
async fn institution(moa: &Moa) -> (Numbered, Numbered) {
    let (_, manifest) = moa.sandbox().await.unwrap();
    let moa_institution = &manifest.institutions[0];
    let number = |a: &moa_testbed::manifest::ContractAccount| {
        (a.bank_code_std.clone(), a.account_num.clone())
    };
    (
        number(&moa_institution.collection_account),
        number(&moa_institution.payout_account),
    )
}

fn moved(before: &Ledger, after: &Ledger, account: &Numbered) -> i64 {
    after.balance(&account.0, &account.1) - before.balance(&account.0, &account.1)
}

fn own(from: i64, to: i64, amount: i64) -> TransferRequest {
    TransferRequest {
        from_account: from,
        to: Recipient::Own { account_id: to },
        amount,
        memo: "생활비".into(),
    }
}

fn drain<T>(mut rx: mpsc::Receiver<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Ok(item) = rx.try_recv() {
        out.push(item);
    }
    out
}

/// The server's view of one transfer.
async fn on_the_server(moa: &Moa, server_id: &str) -> api::Transfer {
    moa.server()
        .await
        .unwrap()
        .get(&format!("/v1/transfers/{server_id}"))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_transfer_between_own_accounts_completes_and_moves_exactly_the_amount() {
    let dir = DataDir::new("transfer-happy");
    let (moa, opening) = open(&dir).await;
    let list = accounts(&moa).await;
    let (collection, payout) = institution(&moa).await;
    let preflight = moa
        .preflight_transfer(&own(list[0].0.id, list[1].0.id, 12_000))
        .await
        .unwrap();
    assert_eq!(preflight.recipient_name, "홍길동");
    assert_eq!(preflight.recipient_bank_code, list[1].0.details.bank_code);
    assert!(preflight.available >= 12_000);
    assert_eq!(preflight.remaining_limit, 5_000_000);
    assert!(
        moa.transfers(10).await.unwrap().is_empty(),
        "a check journals nothing"
    );
    let (tx, rx) = mpsc::channel(16);
    let done = moa.transfer(&preflight, Some(tx)).await.unwrap();
    assert_eq!(done.state, TransferState::Completed, "{done:?}");
    assert_eq!(done.failure_code, None);
    // The progress the app heard moved forward through the saga and ended completed.
    let states: Vec<TransferState> = drain(rx).into_iter().map(|e| e.state).collect();
    let order = [
        TransferState::Withdrawing,
        TransferState::Withdrawn,
        TransferState::Depositing,
        TransferState::Completed,
    ];
    let positions: Vec<usize> = states
        .iter()
        .map(|s| order.iter().position(|o| o == s).expect("a happy state"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{states:?}");
    assert_eq!(states.last(), Some(&TransferState::Completed));

    let after = common::ledger(&moa).await;
    assert_eq!(moved(&opening, &after, &list[0].1), -12_000);
    assert_eq!(moved(&opening, &after, &list[1].1), 12_000);
    assert_eq!(moved(&opening, &after, &collection), 12_000);
    assert_eq!(moved(&opening, &after, &payout), -12_000);
    assert_eq!(after.changes_since(&opening).len(), 4, "nothing else moved");

    // The app's view and the server's agree.
    let listed = moa.transfers(10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0], done);
    let server_id = done.server_id.as_deref().expect("the server's id");
    let theirs = on_the_server(&moa, server_id).await;
    assert_eq!(theirs.state, TransferState::Completed);
    assert_eq!(
        (theirs.idempotency_key.as_str(), theirs.amount),
        (done.transfer.id.as_str(), 12_000)
    );
    common::assert_money_invariants(&moa, &opening).await;
}

#[tokio::test]
async fn a_transfer_to_someone_elses_account_checks_their_name_first() {
    let dir = DataDir::new("transfer-external");
    let (moa, opening) = open(&dir).await;
    let list = accounts(&moa).await;
    let (_, manifest) = moa.sandbox().await.unwrap();
    let friend = manifest.users[1].accounts[0].clone();
    let request = TransferRequest {
        from_account: list[0].0.id,
        to: Recipient::External {
            bank_code: friend.bank_code_std.clone(),
            account_num: friend.account_num.clone(),
        },
        amount: 30_000,
        memo: "저녁값".into(),
    };
    let preflight = moa.preflight_transfer(&request).await.unwrap();
    assert_eq!(preflight.recipient_name, friend.account_holder_name);
    assert_eq!(preflight.recipient_bank_code, friend.bank_code_std);
    assert!(
        preflight.recipient_account_masked != friend.account_num
            && preflight.recipient_account_masked.contains('*'),
        "{}",
        preflight.recipient_account_masked
    );
    let done = moa.transfer(&preflight, None).await.unwrap();
    assert_eq!(done.state, TransferState::Completed, "{done:?}");
    assert_eq!(done.transfer.to_holder_name, friend.account_holder_name);
    assert!(
        !done.transfer.to_account_num.contains(&friend.account_num),
        "another person's number is kept masked"
    );
    let after = common::ledger(&moa).await;
    let friend_account = (friend.bank_code_std.clone(), friend.account_num.clone());
    assert_eq!(moved(&opening, &after, &friend_account), 30_000);
    assert_eq!(moved(&opening, &after, &list[0].1), -30_000);
    common::assert_money_invariants(&moa, &opening).await;
}

#[tokio::test]
async fn transfers_that_cannot_be_made_are_refused_at_the_check_and_nothing_moves() {
    let dir = DataDir::new("transfer-refused");
    let (moa, opening) = open(&dir).await;
    let list = accounts(&moa).await;
    let calls_before = common::center_transfer_count(&moa).await;
    let reason = |r: Result<Preflight, Error>| r.err().map(|e| e.code().as_str());
    assert_eq!(
        reason(
            moa.preflight_transfer(&own(list[0].0.id, list[1].0.id, 0))
                .await
        ),
        Some("amount_not_positive")
    );
    assert_eq!(
        reason(
            moa.preflight_transfer(&own(list[0].0.id, list[0].0.id, 1_000))
                .await
        ),
        Some("same_account")
    );
    let over = moa
        .preflight_transfer(&own(list[0].0.id, list[1].0.id, 5_000_001))
        .await
        .unwrap_err();
    assert!(
        matches!(over, Error::Server(ErrorCode::OverLimit)),
        "{over:?}"
    );
    assert_eq!(over.code(), "over_limit");
    // The savings account (index 3) has nothing withdrawable.
    let poor = moa
        .preflight_transfer(&own(list[3].0.id, list[1].0.id, 1_000))
        .await
        .unwrap_err();
    assert!(
        matches!(poor, Error::Server(ErrorCode::InsufficientFunds)),
        "{poor:?}"
    );
    let external = |account_num: &str| TransferRequest {
        from_account: list[0].0.id,
        to: Recipient::External {
            bank_code: "004".into(),
            account_num: account_num.into(),
        },
        amount: 1_000,
        memo: String::new(),
    };
    // Refused here, not stripped to 12345678 and sent.
    let malformed = moa
        .preflight_transfer(&external("1234-5678"))
        .await
        .unwrap_err();
    assert!(
        matches!(malformed, Error::Invalid(Code::BadAccountNumber)),
        "{malformed:?}"
    );
    let unknown = moa
        .preflight_transfer(&external("99999999"))
        .await
        .unwrap_err();
    // The recipient's bank has no such account: the person's typing, told as such.
    assert_eq!(unknown.code(), "no_such_recipient", "{unknown}");

    assert!(
        moa.transfers(10).await.unwrap().is_empty(),
        "nothing journaled"
    );
    assert_nothing_sent(&moa, calls_before, &opening).await;
}

#[tokio::test]
async fn a_transfer_the_server_refuses_is_kept_here_as_failed_with_its_code() {
    let dir = DataDir::new("transfer-server-refused");
    let (moa, opening) = open(&dir).await;
    let list = accounts(&moa).await;
    let calls_before = common::center_transfer_count(&moa).await;
    // Requests confirmed without the check (a stale confirmation screen, say).
    let confirmed = |request: TransferRequest| Preflight {
        request,
        from: list[0].0.clone(),
        recipient_name: "홍길동".into(),
        recipient_bank_code: list[1].0.details.bank_code.clone(),
        recipient_bank_name: list[1].0.details.bank_name.clone(),
        recipient_account_masked: list[1].0.details.account_num_masked.clone(),
        available: 0,
        remaining_limit: 0,
    };
    let bad_number = TransferRequest {
        from_account: list[0].0.id,
        to: Recipient::External {
            bank_code: "004".into(),
            account_num: "12-34".into(),
        },
        amount: 1_000,
        memo: String::new(),
    };
    let bad_memo = TransferRequest {
        memo: "\u{202e}생활비".into(),
        ..own(list[0].0.id, list[1].0.id, 1_000)
    };
    // What is wrong on its face is refused before it is journaled, as at the check.
    for (request, code) in [
        (own(list[0].0.id, list[1].0.id, 0), "amount_not_positive"),
        (own(list[0].0.id, list[0].0.id, 1_000), "same_account"),
        (bad_number, "bad_account_number"),
        (bad_memo, "bad_memo"),
    ] {
        let refused = moa.transfer(&confirmed(request), None).await.unwrap_err();
        assert_eq!(refused.code(), code, "{refused:?}");
    }
    assert!(
        moa.transfers(10).await.unwrap().is_empty(),
        "nothing journaled"
    );

    let cases = [(
        own(list[0].0.id, list[1].0.id, 5_000_001),
        ErrorCode::OverLimit,
    )];
    for (request, code) in cases {
        let refused = moa.transfer(&confirmed(request), None).await.unwrap_err();
        assert!(
            matches!(refused, Error::Server(c) if c == code),
            "{code:?}: {refused:?}"
        );
        assert_eq!(refused.code(), code.as_str());
        let kept = &moa.transfers(1).await.unwrap()[0];
        assert_eq!(kept.state, TransferState::Failed, "{code:?}");
        assert_eq!(kept.failure_code.map(Code::as_str), Some(code.as_str()));
        assert_eq!(kept.server_id, None);
    }
    // None of them is open: a later look does not send them again.
    assert!(moa.resume_transfers(None).await.unwrap().is_empty());
    assert_eq!(moa.transfers(10).await.unwrap().len(), 1);
    assert_nothing_sent(&moa, calls_before, &opening).await;
}

#[tokio::test]
async fn a_withdrawal_the_bank_refuses_ends_failed_with_nothing_moved() {
    let dir = DataDir::new("transfer-no-funds");
    let (moa, opening) = open(&dir).await;
    let list = accounts(&moa).await;
    // The check would refuse this (the savings account cannot pay); asked all the same, the
    // server takes it and the bank refuses the withdrawal.
    let preflight = Preflight {
        request: own(list[3].0.id, list[1].0.id, 1_000),
        from: list[3].0.clone(),
        recipient_name: "홍길동".into(),
        recipient_bank_code: list[1].0.details.bank_code.clone(),
        recipient_bank_name: list[1].0.details.bank_name.clone(),
        recipient_account_masked: list[1].0.details.account_num_masked.clone(),
        available: 0,
        remaining_limit: 5_000_000,
    };
    let done = moa.transfer(&preflight, None).await.unwrap();
    assert_eq!(done.state, TransferState::Failed, "{done:?}");
    assert!(
        done.failure_code == Some(Code::BankRefused) && done.failure_rsp_code.is_some(),
        "{done:?}"
    );
    assert!(done.server_id.is_some());
    assert_eq!(common::ledger(&moa).await, opening, "nothing moved");
    common::assert_money_invariants(&moa, &opening).await;
}

#[tokio::test]
async fn resuming_marks_a_transfer_never_sent_as_failed_and_follows_one_the_server_has() {
    let dir = DataDir::new("transfer-resume");
    let (moa, opening) = open(&dir).await;
    let list = accounts(&moa).await;
    let env = moa.environment().await.unwrap();
    let journal = |id: &str, amount: i64| NewTransfer {
        id: id.to_owned(),
        environment_id: env.id,
        from_account: list[0].0.id,
        to_account: Some(list[1].0.id),
        to_bank_code: list[1].0.details.bank_code.clone(),
        to_account_num: String::new(),
        to_holder_name: "홍길동".into(),
        amount,
        memo: "생활비".into(),
    };
    // Journaled here, then the app stopped before its request left.
    let never_sent = uuid::Uuid::new_v4().simple().to_string();
    moa.store()
        .create_transfer(&journal(&never_sent, 4_000), moa.clock().now())
        .unwrap();
    // Journaled here and received by the server, whose answer the app never read. The target
    // bank is slow, so the server is still at it when the app looks again.
    common::center(&moa)
        .await
        .set_bank_latency(&list[1].0.details.bank_code, Some(300))
        .await;
    let lost_answer = uuid::Uuid::new_v4().simple().to_string();
    moa.store()
        .create_transfer(&journal(&lost_answer, 6_000), moa.clock().now())
        .unwrap();
    let wire = api::TransferRequest {
        from: list[0].0.details.fintech_use_num.clone(),
        to: api::Recipient::Own {
            fintech_use_num: list[1].0.details.fintech_use_num.clone(),
        },
        amount: 6_000,
        memo: "생활비".into(),
    };
    let sent: api::Transfer = moa
        .server()
        .await
        .unwrap()
        .post_once("/v1/transfers", &wire, &lost_answer)
        .await
        .unwrap();
    assert!(!sent.state.is_final(), "{sent:?}");

    let (tx, rx) = mpsc::channel(16);
    let resumed = moa.resume_transfers(Some(tx)).await.unwrap();
    assert_eq!(
        resumed
            .iter()
            .map(|t| t.transfer.id.as_str())
            .collect::<Vec<_>>(),
        vec![never_sent.as_str(), lost_answer.as_str()],
        "both, oldest first"
    );
    let (not_sent, followed) = (&resumed[0], &resumed[1]);
    assert_eq!(not_sent.state, TransferState::Failed);
    assert_eq!(not_sent.failure_code, Some(Code::NotSent));
    assert_eq!(not_sent.server_id, None);
    assert_eq!(followed.state, TransferState::Completed, "{followed:?}");
    assert_eq!(followed.server_id.as_deref(), Some(sent.id.as_str()));
    let events = drain(rx);
    assert_eq!(
        events.last().map(|e| (e.id.as_str(), e.state)),
        Some((lost_answer.as_str(), TransferState::Completed))
    );
    // The server never heard of the first, and did the second once.
    let known = server_transfers(&moa).await;
    assert_eq!(
        known
            .iter()
            .map(|t| t.idempotency_key.as_str())
            .collect::<Vec<_>>(),
        vec![lost_answer.as_str()]
    );
    let after = common::ledger(&moa).await;
    assert_eq!(moved(&opening, &after, &list[0].1), -6_000);
    assert_eq!(moved(&opening, &after, &list[1].1), 6_000);
    // Nothing is open any more, and a later look sends nothing.
    assert!(moa.resume_transfers(None).await.unwrap().is_empty());
    common::assert_money_invariants(&moa, &opening).await;
}

#[tokio::test]
async fn a_target_bank_in_outage_ends_refunded_and_says_why() {
    let dir = DataDir::new("transfer-outage");
    let (moa, opening) = open(&dir).await;
    let list = accounts(&moa).await;
    let (collection, payout) = institution(&moa).await;
    let preflight = moa
        .preflight_transfer(&own(list[0].0.id, list[1].0.id, 5_000))
        .await
        .unwrap();
    common::center(&moa)
        .await
        .set_bank_status(&list[1].0.details.bank_code, "D")
        .await;
    let (tx, rx) = mpsc::channel(16);
    let done = tokio::time::timeout(Duration::from_secs(30), moa.transfer(&preflight, Some(tx)))
        .await
        .expect("the transfer ends")
        .unwrap();
    assert_eq!(done.state, TransferState::Refunded, "{done:?}");
    assert_eq!(
        (done.failure_code, done.failure_rsp_code.as_deref()),
        (Some(Code::BankRefused), Some("499"))
    );
    let states: Vec<TransferState> = drain(rx).into_iter().map(|e| e.state).collect();
    assert_eq!(states.last(), Some(&TransferState::Refunded), "{states:?}");
    assert!(!states.contains(&TransferState::Completed), "{states:?}");
    let theirs = on_the_server(&moa, done.server_id.as_deref().unwrap()).await;
    assert_eq!(theirs.state, TransferState::Refunded);
    let log = moa.store().audit_log(20).unwrap();
    assert!(
        log.iter()
            .any(|e| e.subject == done.transfer.id && e.detail == "refunded"),
        "{log:?}"
    );
    // The money went out and came back: the person's accounts are as they were, and the
    // institution kept nothing.
    let after = common::ledger(&moa).await;
    assert_eq!(moved(&opening, &after, &list[0].1), 0);
    assert_eq!(moved(&opening, &after, &list[1].1), 0);
    assert_eq!(
        moved(&opening, &after, &collection) + moved(&opening, &after, &payout),
        0
    );
    common::assert_money_invariants(&moa, &opening).await;
}
