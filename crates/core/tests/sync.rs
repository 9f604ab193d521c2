//! Sync through the sandbox's moa-server: balances refreshed side by side while banks go down,
//! slow down, refuse and tokens expire at the center; history fetched, merged and fetched again
//! without duplicates, its after-balance chain checked for holes.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use common::DataDir;
use moa_core::journal::TransferState;
use moa_core::store::{HistoryQuery, StoredRow};
use moa_core::sync::{BalanceOutcome, BankState, HistoryOutcome, StaleCode};
use moa_core::transfer::{Recipient, TransferRequest};
use moa_core::{Moa, Options};
use moa_openbanking::ManualClock;
use serde_json::json;

/// Person 0 of the demo seed, 홍길동: four accounts at 004, 088, 090 and 081.
const PERSON: usize = 0;
const ALL: &[usize] = &[0, 1, 2, 3];

/// Moa's account ids by bank code (each of person 0's accounts is at its own bank).
async fn accounts_by_bank(moa: &Moa) -> HashMap<String, i64> {
    let env = moa.environment().await.expect("an environment");
    moa.store()
        .accounts(env.id)
        .expect("accounts")
        .into_iter()
        .map(|a| (a.details.bank_code, a.id))
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

/// Moa opened with `options`, and the person registered.
async fn registered_with(options: Options) -> Moa {
    let moa = Moa::open(options).await.expect("Moa opens");
    common::register(&moa, PERSON, ALL).await;
    moa
}

async fn registered(name: &str) -> (DataDir, Moa) {
    let dir = DataDir::new(name);
    let options = common::options(&dir, Arc::new(moa_core::MemoryVault::new()));
    let moa = registered_with(options).await;
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

    let ledger = common::ledger(&moa).await;
    let numbers = numbers_by_bank(&moa).await;
    let ids = accounts_by_bank(&moa).await;
    let env = moa.environment().await.unwrap();
    let stored = moa.store().balances(env.id).unwrap();
    for (bank, id) in &ids {
        let expected = ledger.balance(bank, &numbers[bank]);
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
    common::center(&moa).await.set_bank_status("088", "D").await;
    common::center(&moa).await.set_bank_status("090", "L").await;
    common::center(&moa).await.set_bank_status("081", "E").await;

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
        assert_eq!(stored.stale_code, Some(code));
    }
    let line = &moa.store().audit_log(1).unwrap()[0];
    assert!(
        line.detail.contains("bank_down 1") && line.detail.contains("bank_terminated 1"),
        "{}",
        line.detail
    );

    // Back up: fresh again, no longer stale.
    common::center(&moa).await.set_bank_status("088", "Y").await;
    let third = moa.refresh_balances(None).await.unwrap();
    assert!(third.outcome(ids["088"]).unwrap().is_fresh());
    assert_eq!(
        moa.store().balance(ids["088"]).unwrap().unwrap().stale_code,
        None
    );
}

#[tokio::test]
async fn slow_banks_time_out_alone_and_the_refresh_takes_one_timeout_not_their_sum() {
    let dir = DataDir::new("sync-slow");
    // Long enough that a loaded machine's overhead (half a second seen on CI)
    // stays well under a second timeout, while any two calls made one after
    // the other would already reach the bound.
    let timeout = Duration::from_secs(1);
    let mut options = common::options(&dir, Arc::new(moa_core::MemoryVault::new()));
    options.sandbox_server.sync.call_timeout = timeout;
    let moa = registered_with(options).await;
    let ids = accounts_by_bank(&moa).await;
    for bank in ["088", "090", "081"] {
        common::center(&moa)
            .await
            .set_bank_latency(bank, Some(10_000))
            .await;
    }
    let summary = moa.refresh_balances(None).await.unwrap();
    assert!(summary.outcome(ids["004"]).unwrap().is_fresh());
    for bank in ["088", "090", "081"] {
        assert_eq!(
            summary.outcome(ids[bank]).unwrap().stale_code(),
            Some(StaleCode::Timeout),
            "{bank}"
        );
    }
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
        common::center(&moa)
            .await
            .add_fault(json!({ "api": "balance", "bank_code": bank,
                    "fault": { "kind": "bank_error", "bank_rsp_code": code } }))
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

#[tokio::test]
async fn with_the_server_out_of_reach_every_account_keeps_its_balance_marked_network() {
    let dir = DataDir::new("sync-offline");
    let (moa, _) = common::open(&dir).await;
    // An institution's server of its own, which the app then loses.
    let elsewhere = DataDir::new("sync-offline-server");
    let mut options = moa_server::sandbox::SandboxOptions::new(&elsewhere.0);
    options.latency = Duration::ZERO;
    options.center_admin = true;
    let institution = moa_server::sandbox::start(options).await.unwrap();
    moa.use_server(&institution.server.base_url).await.unwrap();
    assert!(
        moa.sandbox().await.is_none(),
        "the app's own sandbox stopped"
    );
    let start = moa
        .begin_registration(false, moa_openbanking::Lang::Ko)
        .await
        .unwrap();
    let callback = common::consent_at(
        &institution.center.base_url,
        &institution.center.manifest,
        &start.url,
        PERSON,
        common::Choice::Agree(ALL.to_vec()),
    )
    .await;
    moa.complete_registration(&callback).await.unwrap();
    let first = moa.refresh_balances(None).await.unwrap();
    assert_eq!((first.total, first.fresh), (4, 4), "{first:?}");

    institution.shutdown().await;
    let second = moa.refresh_balances(None).await.unwrap();
    assert_eq!(
        second.stale.get(&StaleCode::Network),
        Some(&4),
        "{second:?}"
    );
    for (id, outcome) in &second.outcomes {
        let BalanceOutcome::Stale { balance, as_of, .. } = outcome else {
            panic!("{id}: {outcome:?}");
        };
        let BalanceOutcome::Fresh {
            balance: good,
            as_of: good_at,
            ..
        } = first.outcome(*id).unwrap()
        else {
            panic!("{id} was fresh");
        };
        assert_eq!((*balance, *as_of), (Some(*good), Some(*good_at)));
        assert_eq!(
            moa.store().balance(*id).unwrap().unwrap().balance,
            Some(*good)
        );
    }
    let history = moa.sync_all_history(None).await.unwrap();
    assert_eq!(history.len(), 4);
    assert!(
        history
            .iter()
            .all(|(_, o)| matches!(o, HistoryOutcome::Failed(r) if r.code == StaleCode::Network)),
        "{history:?}"
    );
}

/// Moa on a clock the test holds, and the person registered.
async fn on_manual_clock(name: &str) -> (DataDir, Moa, Arc<ManualClock>) {
    let dir = DataDir::new(name);
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let options = Options {
        clock: clock.clone(),
        ..common::options(&dir, Arc::new(moa_core::MemoryVault::new()))
    };
    let moa = registered_with(options).await;
    (dir, moa, clock)
}

#[tokio::test]
async fn a_token_the_center_calls_expired_is_renewed_by_the_server_and_every_balance_read() {
    let (dir, moa, _clock) = on_manual_clock("sync-expired").await;
    let before = common::kftc_tokens(&dir);
    // The center is 91 days on, past the token's 90; the server's clock is not, so only the
    // center's O0003 can tell. The four calls all hear it; one renewal serves them all (a
    // refresh token is single use, so a second renewal would fail).
    common::center(&moa)
        .await
        .set_clock_offset(91 * 86_400)
        .await;
    let summary = moa.refresh_balances(None).await.unwrap();
    assert_eq!(summary.fresh, 4, "{summary:?}");
    let after = common::kftc_tokens(&dir);
    assert_eq!(after.len(), before.len());
    assert!(
        after.iter().all(|t| !before.contains(t)),
        "the server holds new tokens"
    );
}

#[tokio::test]
async fn when_the_center_has_moved_past_the_refresh_token_too_accounts_say_auth_expired() {
    let (_dir, moa, clock) = on_manual_clock("sync-gone").await;
    let first = moa.refresh_balances(None).await.unwrap();
    assert_eq!(first.fresh, 4);
    common::center(&moa)
        .await
        .set_clock_offset(101 * 86_400)
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
async fn moving_both_clocks_past_expiry_renews_before_asking() {
    let (dir, moa, clock) = on_manual_clock("sync-both").await;
    let before = common::kftc_tokens(&dir);
    common::center(&moa)
        .await
        .set_clock_offset(91 * 86_400)
        .await;
    clock.advance(chrono::TimeDelta::days(91));
    let summary = moa.refresh_balances(None).await.unwrap();
    assert_eq!(summary.fresh, 4, "{summary:?}");
    let after = common::kftc_tokens(&dir);
    assert!(!after.is_empty() && after.iter().all(|t| !before.contains(t)));
}

/// One row of history, oldest first: (date, time, deposit, amount, after).
type Row = (String, String, bool, i64, i64);

/// The testbed's own rows of an account, oldest first.
fn testbed_rows(dir: &DataDir, bank: &str, number: &str) -> Vec<Row> {
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
fn stored_rows(moa: &Moa, account_id: i64) -> Vec<Row> {
    let query = HistoryQuery {
        limit: 100_000,
        ..HistoryQuery::default()
    };
    let mut rows: Vec<_> = moa
        .store()
        .history(account_id, &query)
        .expect("the stored history")
        .into_iter()
        .map(|StoredRow { row: r, .. }| {
            (
                r.tran_date.to_string(),
                r.tran_time.format("%H:%M:%S").to_string(),
                r.is_deposit(),
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
    let opening = common::ledger(&moa).await;
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
    assert_eq!(
        expected.last().unwrap().4,
        opening.balance("004", &numbers["004"]),
        "the chain ends at the balance"
    );

    // Again: only the overlap is fetched, and all of it is known.
    let second = moa.sync_history(id).await.unwrap();
    assert_eq!(second.inserted, 0);
    assert_eq!(second.from, today - chrono::TimeDelta::days(3));
    assert_eq!(second.known, second.fetched);
    assert!(second.pages < first.pages);

    // A transfer out of the account shows up after the next sync, chained to the rest.
    let preflight = moa
        .preflight_transfer(&TransferRequest {
            from_account: id,
            to: Recipient::Own {
                account_id: ids["088"],
            },
            amount: 12_345,
            memo: "모아이체".into(),
        })
        .await
        .unwrap();
    let done = moa.transfer(&preflight, None).await.unwrap();
    assert_eq!(done.state, TransferState::Completed, "{done:?}");
    let third = moa.sync_history(id).await.unwrap();
    assert_eq!((third.inserted, third.gaps), (1, 0));
    let rows = stored_rows(&moa, id);
    let newest = rows.last().unwrap();
    assert_eq!((newest.2, newest.3), (false, 12_345));
    assert_eq!(newest.4, opening.balance("004", &numbers["004"]) - 12_345);
    assert_eq!(rows, testbed_rows(&dir, "004", &numbers["004"]));
    common::assert_money_invariants(&moa, &opening).await;
}

#[tokio::test]
async fn a_hole_in_the_centers_history_is_flagged_as_a_gap_of_the_missing_amount() {
    let (dir, moa) = registered("sync-gap").await;
    let ids = accounts_by_bank(&moa).await;
    let numbers = numbers_by_bank(&moa).await;
    let id = ids["088"];
    // The center loses one row in the middle of the account's year.
    let missing: (i64, String, i64) = {
        let conn = rusqlite::Connection::open(dir.0.join("sandbox-center.db")).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        let rows: Vec<(i64, String, i64)> = conn
            .prepare(
                "SELECT t.id, t.inout_type, t.tran_amt FROM transactions t
                 JOIN accounts a ON a.id = t.account_id
                 WHERE a.bank_code = '088' AND a.account_num = ?1
                 ORDER BY t.tran_date, t.tran_time, t.id",
            )
            .unwrap()
            .query_map([&numbers["088"]], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(Iterator::collect)
            .unwrap();
        assert!(rows.len() > 10, "a year of history");
        let row = rows[rows.len() / 2].clone();
        conn.execute("DELETE FROM transactions WHERE id = ?1", [row.0])
            .unwrap();
        row
    };
    let synced = moa.sync_history(id).await.unwrap();
    assert_eq!(synced.gaps, 1, "{synced:?}");
    assert_eq!(
        synced.inserted,
        testbed_rows(&dir, "088", &numbers["088"]).len()
    );
    let gaps = moa.store().history_gaps(id).unwrap();
    assert_eq!(gaps.len(), 1);
    let signed = if missing.1 == "입금" {
        missing.2
    } else {
        -missing.2
    };
    assert_eq!(gaps[0].2, signed, "the gap is the missing row's amount");
    // A later sync does not hide it, and adds nothing twice.
    let again = moa.sync_history(id).await.unwrap();
    assert_eq!((again.inserted, again.gaps), (0, 1));
}

#[tokio::test]
async fn syncing_every_history_reports_each_account_and_a_bank_down_fails_alone() {
    let (dir, moa) = registered("sync-all-history").await;
    let ids = accounts_by_bank(&moa).await;
    let numbers = numbers_by_bank(&moa).await;
    common::center(&moa).await.set_bank_status("081", "D").await;
    let (sender, mut events) = tokio::sync::mpsc::channel(16);
    let outcomes = moa.sync_all_history(Some(sender)).await.unwrap();
    let mut done = Vec::new();
    while let Some(event) = events.recv().await {
        done.push((event.done, event.total));
    }
    assert_eq!(done, vec![(1, 4), (2, 4), (3, 4), (4, 4)]);
    assert_eq!(outcomes.len(), 4);
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
    common::center(&moa).await.set_bank_status("088", "D").await;
    common::center(&moa).await.set_bank_status("090", "L").await;
    let banks = moa.bank_statuses().await.unwrap();
    let shinhan = banks.iter().find(|b| b.bank_code == "088").unwrap();
    assert_eq!(
        (shinhan.bank_name.as_str(), shinhan.state),
        ("신한은행", BankState::Down)
    );
    assert_eq!(
        banks.iter().find(|b| b.bank_code == "090").unwrap().state,
        BankState::NotOpen
    );
    assert_eq!(
        banks
            .iter()
            .filter(|b| b.state == BankState::Available)
            .count(),
        22
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

#[tokio::test]
async fn a_server_asking_the_app_to_slow_down_still_gives_every_page_of_history() {
    let dir = DataDir::new("sync-rate");
    let mut options = common::options(&dir, Arc::new(moa_core::MemoryVault::new()));
    // Ten requests a second, twenty in a burst: fewer than the person's history has pages.
    options.sandbox_server.rate_per_second = 10;
    let moa = registered_with(options).await;
    let ids = accounts_by_bank(&moa).await;
    let numbers = numbers_by_bank(&moa).await;
    let rows: HashMap<i64, usize> = ids
        .iter()
        .map(|(bank, id)| (*id, testbed_rows(&dir, bank, &numbers[bank]).len()))
        .collect();
    let pages: usize = rows.values().map(|n| n.div_ceil(25)).sum();
    assert!(pages > 30, "{pages} pages");
    let outcomes = moa.sync_all_history(None).await.unwrap();
    assert_eq!(outcomes.len(), 4);
    for (id, outcome) in outcomes {
        let HistoryOutcome::Synced(synced) = outcome else {
            panic!("{id}: {outcome:?}");
        };
        assert_eq!((synced.inserted, synced.gaps), (rows[&id], 0));
    }
}
