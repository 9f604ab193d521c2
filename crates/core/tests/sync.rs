//! Sync against the sandbox's center: balances refreshed side by side while banks go down, slow
//! down, refuse and tokens expire; history fetched, merged and fetched again without duplicates.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use common::DataDir;
use moa_core::store::HistoryQuery;
use moa_core::sync::{BalanceOutcome, BankState, HistoryOutcome, StaleCode, SyncLimits};
use moa_core::{Moa, Options};
use moa_openbanking::ManualClock;
use reqwest::Method;
use serde_json::{Value, json};

/// Person 0 of the demo seed, 홍길동: four accounts at 004, 088, 090 and 081.
const PERSON: usize = 0;
const ALL: &[usize] = &[0, 1, 2, 3];

/// Limits for tests: short waits, so a slow bank costs little time.
fn quick() -> SyncLimits {
    SyncLimits {
        call_timeout: Duration::from_millis(500),
        ..SyncLimits::default()
    }
}

/// The sandbox's admin API, answering JSON.
async fn admin_json(moa: &Moa, method: Method, path: &str, body: Value) -> Value {
    let (base, manifest) = moa.sandbox().await.expect("the sandbox runs");
    let response = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(&manifest.admin_token)
        .json(&body)
        .send()
        .await
        .expect("the admin API answers");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}

/// The ledger's balance of every account, by bank and account number.
async fn ledger(moa: &Moa) -> HashMap<(String, String), i64> {
    let ledger = admin_json(moa, Method::GET, "/testbed/admin/ledger", Value::Null).await;
    ledger["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| {
            (
                (
                    a["bank_code_std"].as_str().expect("bank").to_owned(),
                    a["account_num"].as_str().expect("number").to_owned(),
                ),
                a["balance"].as_i64().expect("balance"),
            )
        })
        .collect()
}

async fn set_bank(moa: &Moa, bank: &str, body: Value) {
    common::admin(
        moa,
        Method::PUT,
        &format!("/testbed/admin/banks/{bank}"),
        body,
    )
    .await;
}

/// Moa's account ids by bank code (each of person 0's accounts is at its own bank).
async fn accounts_by_bank(moa: &Moa) -> HashMap<String, i64> {
    let env = moa.environment().await.expect("an environment");
    moa.store()
        .accounts(env.id)
        .expect("accounts")
        .into_iter()
        .map(|a| (a.bank_code, a.id))
        .collect()
}

/// Person 0's account numbers by bank code, from the manifest.
async fn numbers_by_bank(moa: &Moa) -> HashMap<String, String> {
    let (_, manifest) = moa.sandbox().await.expect("the sandbox runs");
    manifest.users[PERSON]
        .accounts
        .iter()
        .map(|a| (a.bank_code_std.clone(), a.account_num.clone()))
        .collect()
}

async fn registered(name: &str) -> (DataDir, Moa) {
    let dir = DataDir::new(name);
    let (moa, _) = common::open(&dir).await;
    common::register(&moa, PERSON, ALL).await;
    (dir, moa)
}

#[tokio::test]
async fn a_refresh_reads_every_balance_as_the_ledger_has_it_and_reports_each_as_it_arrives() {
    let (_dir, moa) = registered("sync-happy").await;
    let (sender, mut events) = tokio::sync::mpsc::channel(16);
    let summary = moa.refresh_balances(Some(sender)).await.unwrap();
    assert_eq!((summary.total, summary.fresh), (4, 4), "{summary:?}");
    assert!(summary.stale.is_empty());

    let mut received = Vec::new();
    while let Some(event) = events.recv().await {
        received.push(event);
    }
    assert_eq!(
        received
            .iter()
            .map(|e| (e.done, e.total))
            .collect::<Vec<_>>(),
        vec![(1, 4), (2, 4), (3, 4), (4, 4)],
        "one event per account, counting up"
    );

    let ledger = ledger(&moa).await;
    let numbers = numbers_by_bank(&moa).await;
    let ids = accounts_by_bank(&moa).await;
    let env = moa.environment().await.unwrap();
    let stored = moa.store().balances(env.id).unwrap();
    for (bank, id) in &ids {
        let expected = ledger[&(bank.clone(), numbers[bank].clone())];
        match summary.outcome(*id).unwrap() {
            BalanceOutcome::Fresh { balance, .. } => assert_eq!(*balance, expected, "{bank}"),
            other => panic!("{bank}: {other:?}"),
        }
        let record = stored.iter().find(|b| b.account_id == *id).unwrap();
        assert_eq!(record.balance, Some(expected));
        assert!(record.as_of.is_some() && record.stale_code.is_none());
        let event = received.iter().find(|e| e.account_id == *id).unwrap();
        assert_eq!(event.outcome, *summary.outcome(*id).unwrap());
    }

    let audit = moa.store().audit_log(5).unwrap();
    let line = audit.iter().find(|e| e.subject == "balances").unwrap();
    assert_eq!(line.kind, "sync");
    assert!(
        line.detail.starts_with("4 accounts: 4 fresh, 0 stale"),
        "{}",
        line.detail
    );
}

#[tokio::test]
async fn a_bank_down_not_open_or_gone_leaves_its_account_stale_with_the_last_good_balance() {
    let (_dir, moa) = registered("sync-down").await;
    let first = moa.refresh_balances(None).await.unwrap();
    assert_eq!(first.fresh, 4);
    let ids = accounts_by_bank(&moa).await;
    set_bank(&moa, "088", json!({ "status": "D" })).await;
    set_bank(&moa, "090", json!({ "status": "L" })).await;
    set_bank(&moa, "081", json!({ "status": "E" })).await;

    let second = moa.refresh_balances(None).await.unwrap();
    assert_eq!(second.fresh, 1);
    assert!(second.outcome(ids["004"]).unwrap().is_fresh());
    for (bank, code) in [
        ("088", StaleCode::BankDown),
        ("090", StaleCode::BankNotOpen),
        ("081", StaleCode::BankTerminated),
    ] {
        let id = ids[bank];
        let BalanceOutcome::Fresh {
            balance: good,
            as_of: good_at,
            ..
        } = first.outcome(id).unwrap().clone()
        else {
            panic!("the first refresh was fresh");
        };
        match second.outcome(id).unwrap() {
            BalanceOutcome::Stale {
                reason,
                balance,
                as_of,
            } => {
                assert_eq!(reason.code, code, "{bank}");
                assert_eq!(reason.rsp_code.as_deref(), Some("A0002"));
                assert_eq!(reason.bank_rsp_code.as_deref(), Some("499"));
                assert!(!reason.message.is_empty());
                assert_eq!((*balance, *as_of), (Some(good), Some(good_at)), "{bank}");
            }
            other => panic!("{bank}: {other:?}"),
        }
        let stored = moa.store().balance(id).unwrap().unwrap();
        assert_eq!(
            stored.balance,
            Some(good),
            "a failure never erases the value"
        );
        assert_eq!(stored.stale_code.as_deref(), Some(code.as_str()));
    }
    let line = &moa.store().audit_log(1).unwrap()[0];
    assert!(
        line.detail.contains("bank_down 1") && line.detail.contains("bank_terminated 1"),
        "{}",
        line.detail
    );

    // Back up: fresh again, no longer stale.
    set_bank(&moa, "088", json!({ "status": "Y" })).await;
    let third = moa.refresh_balances(None).await.unwrap();
    assert!(third.outcome(ids["088"]).unwrap().is_fresh());
    assert_eq!(
        moa.store().balance(ids["088"]).unwrap().unwrap().stale_code,
        None
    );
}

#[tokio::test]
async fn slow_banks_time_out_alone_and_the_refresh_takes_one_timeout_not_their_sum() {
    let (_dir, moa) = registered("sync-slow").await;
    let ids = accounts_by_bank(&moa).await;
    for bank in ["088", "090", "081"] {
        set_bank(&moa, bank, json!({ "latency_ms": 3_000 })).await;
    }
    let limits = quick();
    let summary = moa.refresh_balances_with(&limits, None).await.unwrap();
    assert!(summary.outcome(ids["004"]).unwrap().is_fresh());
    for bank in ["088", "090", "081"] {
        assert_eq!(
            summary.outcome(ids[bank]).unwrap().stale_code(),
            Some(StaleCode::Timeout),
            "{bank}"
        );
    }
    let timeout = limits.call_timeout;
    assert!(
        summary.elapsed >= timeout && summary.elapsed < timeout * 2,
        "took {:?}; one timeout is {timeout:?}, three would be {:?}",
        summary.elapsed,
        timeout * 3
    );
}

#[tokio::test]
async fn a_bank_refusal_keeps_the_banks_code_and_an_unexplained_one_reads_as_down() {
    let (_dir, moa) = registered("sync-refused").await;
    let ids = accounts_by_bank(&moa).await;
    for (bank, code) in [("088", "467"), ("090", "499")] {
        common::admin(
            &moa,
            Method::POST,
            "/testbed/admin/faults",
            json!({ "api": "balance", "bank_code": bank,
                    "fault": { "kind": "bank_error", "bank_rsp_code": code } }),
        )
        .await;
    }
    let summary = moa.refresh_balances(None).await.unwrap();
    let BalanceOutcome::Stale { reason, .. } = summary.outcome(ids["088"]).unwrap() else {
        panic!("088 refused");
    };
    assert_eq!(reason.code, StaleCode::BankRefused);
    assert_eq!(reason.rsp_code.as_deref(), Some("A0002"));
    assert_eq!(reason.bank_rsp_code.as_deref(), Some("467"));
    // 499 from a bank whose status is Y: an outage the center does not announce.
    assert_eq!(
        summary.outcome(ids["090"]).unwrap().stale_code(),
        Some(StaleCode::BankDown)
    );
    assert_eq!(summary.fresh, 2);
}

/// Moa on a clock the test holds, and the person registered.
async fn on_manual_clock(name: &str) -> (DataDir, Moa, Arc<ManualClock>) {
    let dir = DataDir::new(name);
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let vault = Arc::new(moa_core::MemoryVault::new());
    let options = Options {
        clock: clock.clone(),
        ..common::options(&dir, vault)
    };
    let moa = Moa::open(options).await.expect("Moa opens");
    common::register(&moa, PERSON, ALL).await;
    (dir, moa, clock)
}

#[tokio::test]
async fn a_token_the_center_calls_expired_is_refreshed_once_and_every_account_asked_again() {
    let (_dir, moa, _clock) = on_manual_clock("sync-expired").await;
    let center = moa.center().await.unwrap();
    let before = center.user_token().await.unwrap();
    // The center is 91 days on, past the token's 90; our clock is not, so only the center's
    // O0003 can tell. The four calls all hear it; one refresh serves them all (a refresh token
    // is single use, so a second refresh would fail).
    admin_json(
        &moa,
        Method::PUT,
        "/testbed/admin/clock",
        json!({ "offset_seconds": 91 * 86_400 }),
    )
    .await;
    let summary = moa.refresh_balances(None).await.unwrap();
    assert_eq!(summary.fresh, 4, "{summary:?}");
    let after = center.user_token().await.unwrap();
    assert_ne!(before.expose_secret(), after.expose_secret());
}

#[tokio::test]
async fn when_the_center_has_moved_past_the_refresh_token_too_accounts_say_auth_expired() {
    let (_dir, moa, clock) = on_manual_clock("sync-gone").await;
    let first = moa.refresh_balances(None).await.unwrap();
    assert_eq!(first.fresh, 4);
    admin_json(
        &moa,
        Method::PUT,
        "/testbed/admin/clock",
        json!({ "offset_seconds": 101 * 86_400 }),
    )
    .await;
    clock.advance(chrono::TimeDelta::minutes(1));
    let summary = moa.refresh_balances(None).await.unwrap();
    assert_eq!(
        summary.stale.get(&StaleCode::AuthExpired),
        Some(&4),
        "{summary:?}"
    );
    for (id, outcome) in &summary.outcomes {
        let BalanceOutcome::Stale { balance, .. } = outcome else {
            panic!("{id} stale");
        };
        assert!(balance.is_some(), "the last good balance stays");
    }
}

#[tokio::test]
async fn moving_both_clocks_past_expiry_refreshes_before_asking() {
    let (_dir, moa, clock) = on_manual_clock("sync-both").await;
    let center = moa.center().await.unwrap();
    let before = center.user_token().await.unwrap();
    admin_json(
        &moa,
        Method::PUT,
        "/testbed/admin/clock",
        json!({ "offset_seconds": 91 * 86_400 }),
    )
    .await;
    clock.advance(chrono::TimeDelta::days(91));
    let summary = moa.refresh_balances(None).await.unwrap();
    assert_eq!(summary.fresh, 4, "{summary:?}");
    assert_ne!(
        before.expose_secret(),
        center.user_token().await.unwrap().expose_secret()
    );
}

/// The testbed's own rows of an account, oldest first: (date, time, deposit, amount, after).
fn testbed_rows(dir: &DataDir, bank: &str, number: &str) -> Vec<(String, String, bool, i64, i64)> {
    let conn = rusqlite::Connection::open_with_flags(
        dir.0.join("sandbox-center.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("the sandbox's database");
    let mut stmt = conn
        .prepare(
            "SELECT t.tran_date, t.tran_time, t.inout_type, t.tran_amt, t.after_balance
             FROM transactions t JOIN accounts a ON a.id = t.account_id
             WHERE a.bank_code = ?1 AND a.account_num = ?2
             ORDER BY t.tran_date, t.tran_time, t.id",
        )
        .expect("a query of the testbed's schema");
    stmt.query_map([bank, number], |r| {
        let date: String = r.get(0)?;
        let time: String = r.get(1)?;
        Ok((
            format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..]),
            format!("{}:{}:{}", &time[..2], &time[2..4], &time[4..]),
            r.get::<_, String>(2)? == "입금",
            r.get(3)?,
            r.get(4)?,
        ))
    })
    .and_then(Iterator::collect)
    .expect("the testbed's rows")
}

/// Moa's stored rows of an account, oldest first, in the same shape.
fn stored_rows(moa: &Moa, account_id: i64) -> Vec<(String, String, bool, i64, i64)> {
    let query = HistoryQuery {
        limit: 100_000,
        ..HistoryQuery::default()
    };
    let mut rows: Vec<_> = moa
        .store()
        .history(account_id, &query)
        .expect("the stored history")
        .into_iter()
        .map(|r| {
            (
                r.tran_date.to_string(),
                r.tran_time.format("%H:%M:%S").to_string(),
                r.inout_type == "입금",
                r.tran_amt,
                r.after_balance,
            )
        })
        .collect();
    rows.reverse();
    rows
}

#[tokio::test]
async fn history_syncs_the_whole_year_then_only_whats_new_and_never_twice() {
    let (dir, moa) = registered("sync-history").await;
    let ids = accounts_by_bank(&moa).await;
    let numbers = numbers_by_bank(&moa).await;
    let id = ids["004"];
    let expected = testbed_rows(&dir, "004", &numbers["004"]);
    assert!(expected.len() > 100, "a year of history");

    let first = moa.sync_history(id).await.unwrap();
    assert_eq!(first.inserted, expected.len());
    assert_eq!((first.known, first.gaps, first.truncated), (0, 0, false));
    assert_eq!(first.pages as usize, expected.len().div_ceil(25));
    let today = moa.clock().today_kst();
    assert_eq!(first.through, today);
    assert_eq!(moa.store().synced_through(id).unwrap(), Some(today));
    assert_eq!(
        stored_rows(&moa, id),
        expected,
        "the same rows, in the same order"
    );
    assert!(moa.store().history_gaps(id).unwrap().is_empty());
    let ledger = ledger(&moa).await;
    assert_eq!(
        expected.last().unwrap().4,
        ledger[&("004".to_owned(), numbers["004"].clone())],
        "the chain ends at the balance"
    );

    // Again: only the overlap is fetched, and all of it is known.
    let second = moa.sync_history(id).await.unwrap();
    assert_eq!(second.inserted, 0);
    assert_eq!(second.from, today - chrono::TimeDelta::days(3));
    assert_eq!(second.known, second.fetched);
    assert!(second.pages < first.pages);

    // A withdrawal through the center shows up after the next sync, chained to the rest.
    let center = moa.center().await.unwrap();
    let env = moa.environment().await.unwrap();
    let account = moa.store().account(id).unwrap().unwrap();
    let fintech = moa_openbanking::FintechUseNum::parse(&account.fintech_use_num).unwrap();
    let request = moa_openbanking::transfer::WithdrawRequest {
        bank_tran_id: center.next_bank_tran_id().unwrap(),
        cntr_account_type: moa_openbanking::fields::CntrAccountType::Account,
        cntr_account_num: env.collection_account.clone(),
        dps_print_content: "모아".into(),
        fintech_use_num: fintech.clone(),
        wd_print_content: Some("모아이체".into()),
        tran_amt: moa_openbanking::Won::new(12_345),
        req_client_name: account.holder_name.clone(),
        req_client: moa_openbanking::transfer::RequestingClient::FintechUseNum {
            req_client_fintech_use_num: fintech,
        },
        req_client_num: "MOA0000001".into(),
        transfer_purpose: moa_openbanking::fields::TransferPurpose::Remittance,
        sub_frnc_name: None,
        sub_frnc_num: None,
        sub_frnc_business_num: None,
        recv_client_name: None,
        recv_client_bank_code: None,
        recv_client_account_num: None,
    };
    let token = center.user_token().await.unwrap();
    center.client().withdraw(&token, &request).await.unwrap();
    let third = moa.sync_history(id).await.unwrap();
    assert_eq!((third.inserted, third.gaps), (1, 0));
    let rows = stored_rows(&moa, id);
    let newest = rows.last().unwrap();
    assert_eq!((newest.2, newest.3), (false, 12_345));
    assert_eq!(
        newest.4,
        ledger[&("004".to_owned(), numbers["004"].clone())] - 12_345
    );
    assert_eq!(rows, testbed_rows(&dir, "004", &numbers["004"]));
}

#[tokio::test]
async fn syncing_every_history_reports_each_account_and_a_bank_down_fails_alone() {
    let (dir, moa) = registered("sync-all-history").await;
    let ids = accounts_by_bank(&moa).await;
    let numbers = numbers_by_bank(&moa).await;
    set_bank(&moa, "081", json!({ "status": "D" })).await;
    let (sender, mut events) = tokio::sync::mpsc::channel(16);
    let outcomes = moa.sync_all_history(Some(sender)).await.unwrap();
    let mut done = Vec::new();
    while let Some(event) = events.recv().await {
        done.push((event.done, event.total));
    }
    assert_eq!(done, vec![(1, 4), (2, 4), (3, 4), (4, 4)]);
    for (id, outcome) in outcomes {
        let bank = ids.iter().find(|(_, v)| **v == id).unwrap().0.clone();
        match outcome {
            HistoryOutcome::Synced(synced) => {
                assert_ne!(bank, "081");
                assert_eq!(
                    synced.inserted,
                    testbed_rows(&dir, &bank, &numbers[&bank]).len()
                );
                assert_eq!(synced.gaps, 0);
            }
            HistoryOutcome::Failed(reason) => {
                assert_eq!(bank, "081");
                assert_eq!(reason.code, StaleCode::BankDown);
                assert_eq!(moa.store().synced_through(id).unwrap(), None);
            }
        }
    }
}

#[tokio::test]
async fn bank_statuses_list_every_bank_and_show_an_outage() {
    let dir = DataDir::new("sync-banks");
    let (moa, _) = common::open(&dir).await;
    let banks = moa.bank_statuses().await.unwrap();
    assert_eq!(banks.len(), 24);
    assert!(banks.iter().all(|b| b.state == BankState::Available));
    set_bank(&moa, "088", json!({ "status": "D" })).await;
    let banks = moa.bank_statuses().await.unwrap();
    let shinhan = banks.iter().find(|b| b.bank_code == "088").unwrap();
    assert_eq!(
        (shinhan.bank_name.as_str(), shinhan.state),
        ("신한은행", BankState::Down)
    );
    assert_eq!(
        banks
            .iter()
            .filter(|b| b.state == BankState::Available)
            .count(),
        23
    );
}

#[tokio::test]
async fn with_nobody_registered_a_refresh_does_nothing() {
    let dir = DataDir::new("sync-empty");
    let (moa, _) = common::open(&dir).await;
    let summary = moa.refresh_balances(None).await.unwrap();
    assert_eq!((summary.total, summary.fresh), (0, 0));
    assert!(moa.sync_all_history(None).await.unwrap().is_empty());
}
