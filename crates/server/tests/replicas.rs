//! Several replicas of the server on one database, sharing nothing else: a transfer is run by
//! the replica that claims it, and a replica whose claim was taken over writes and sends
//! nothing more; a person's token is renewed once however many replicas find it due; a
//! device's rate limit holds over the sum of its requests to every replica; ids, idempotency
//! keys and DPoP proofs are unique across replicas.
//!
//! On PostgreSQL (`scripts/with-postgres`) the second replica is a second `App` with its own
//! connection pool and its own presence on the same database, served on its own port. A SQLite
//! file takes one process (its lock file): there the second replica shares the first one's
//! store, which still exercises the claims, fences and shared state, since all of them live in
//! the database.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use common::{Sandbox, assert_refused, own_transfer};
use moa_server::api::{self, ErrorCode};
use moa_server::saga::{Hooks, Step};
use moa_server::store::{
    AccountRecord, CallRecord, Change, Claim, JournalError, LegId, LegKind, NewTransfer, Store,
    TransferOrder,
};
use moa_server::{App, Options};

/// Person 0, once their accounts are listed: their id in the store and their accounts.
async fn person_with_accounts(sb: &Sandbox) -> (i64, Vec<AccountRecord>) {
    let device = sb.person(0).await;
    let _ = device.accounts().await;
    let store = sb.app().store();
    let person = store.people_with_tokens().await.expect("people")[0];
    let rows = store.accounts(person).await.expect("accounts");
    (person, rows)
}

/// `holder` claims transfer `id` at `now` for `lease`, and `other` asking for it then is
/// refused (`why` says what that shows); the claim comes back.
async fn claim_kept(
    holder: &Store,
    other: &Store,
    id: &str,
    (now, lease): (chrono::DateTime<chrono::Utc>, chrono::Duration),
    why: &str,
) -> Claim {
    let claim = holder
        .claim_transfer(id, now, lease)
        .await
        .expect("asks")
        .expect("claimed");
    assert_eq!(
        other.claim_transfer(id, now, lease).await.expect("asks"),
        None,
        "{why}"
    );
    claim
}

/// A transfer of `amount` from the person's first account to their second, as the journal
/// takes it.
fn new_transfer(
    person: i64,
    rows: &[AccountRecord],
    idempotency_key: &str,
    amount: i64,
    daily_limit: Option<(chrono::DateTime<chrono::Utc>, i64)>,
) -> NewTransfer {
    NewTransfer {
        order: TransferOrder {
            person_id: person,
            idempotency_key: idempotency_key.into(),
            request_hash: String::new(),
            from_account: rows[0].id,
            to_account: Some(rows[1].id),
            to_bank_code: rows[1].details.bank_code.clone(),
            to_account_num: String::new(),
            to_holder_name: "홍길동".into(),
            amount,
            memo: String::new(),
            collection_account: String::new(),
            payout_account: String::new(),
        },
        daily_limit,
    }
}

/// A second replica of `sb`'s server on the same database, with `options`.
async fn second_replica(sb: &Sandbox, options: Options) -> App {
    let settings = sb.app().settings().clone();
    match sb.database() {
        Some(_) => App::open(settings, options)
            .await
            .expect("a second replica opens the database"),
        None => App::with_store(settings, sb.app().store().clone(), options)
            .expect("a second replica shares the store"),
    }
}

/// Holds the saga the first time it reaches `step`, until opened: a replica frozen in the
/// middle of a transfer (its lease is not renewed while it is frozen).
struct Freeze {
    step: Step,
    reached: AtomicBool,
    open: Mutex<bool>,
    opened: Condvar,
}

impl Freeze {
    fn at(step: Step) -> Arc<Freeze> {
        Arc::new(Freeze {
            step,
            reached: AtomicBool::new(false),
            open: Mutex::new(false),
            opened: Condvar::new(),
        })
    }

    fn thaw(&self) {
        *self.open.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.opened.notify_all();
    }

    async fn reached(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !self.reached.load(Ordering::SeqCst) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the saga never reached {:?}",
                self.step
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Hooks for Freeze {
    fn at(&self, step: Step) {
        if step != self.step || self.reached.swap(true, Ordering::SeqCst) {
            return;
        }
        // The runtime's other tasks (a database connection's among them) move off this thread
        // while it is held.
        tokio::task::block_in_place(|| {
            let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
            while !*open {
                open = self.opened.wait(open).unwrap_or_else(|e| e.into_inner());
            }
        });
    }
}

/// Replica A sends a withdraw and freezes before it journals the answer. Its lease runs out;
/// replica B claims the transfer. A thaws: its journal write is refused — although nobody has
/// written since it read the transfer — and it sends nothing more. B finishes the transfer,
/// settling the withdraw A sent by asking: each leg applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_whose_claim_was_taken_over_writes_and_sends_nothing_more() {
    let freeze = Freeze::at(Step::AfterWithdraw);
    let mut options = common::options();
    options.hooks = freeze.clone();
    let sb = common::start_with(options).await;
    let b = second_replica(&sb, common::options()).await;
    let device = sb.person(0).await;
    let accounts = device.demo_accounts(0).await;
    let admin = sb.admin();
    let records_before = admin.transfers().await.len();

    let (status, body) = device
        .transfer(
            "frozen-replica",
            &own_transfer(&accounts[0], &accounts[1], 12_000),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("an id").to_owned();
    freeze.reached().await;
    let store = sb.app().store();
    let frozen = store
        .transfer(&id)
        .await
        .expect("reads")
        .expect("journaled");
    assert_eq!(frozen.state, moa_server::store::TransferState::Withdrawing);

    // A's lease is live: B may not take the transfer yet, nor does B's resume run it.
    let resumed = moa_server::saga::resume(&b).await.expect("B resumes");
    assert!(resumed.iter().all(|r| r.id != id), "{resumed:?}");
    let lease = chrono::Duration::seconds(30);
    let now = sb.clock_now();
    assert_eq!(
        b.store()
            .claim_transfer(&id, now, lease)
            .await
            .expect("asks"),
        None
    );
    // Past A's lease, B claims it.
    let later = now + chrono::Duration::seconds(31);
    let claim = b
        .store()
        .claim_transfer(&id, later, lease)
        .await
        .expect("asks")
        .expect("an expired lease is taken over");

    freeze.thaw();
    // A would journal the withdraw applied and deposit next; give it time to try.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let after = store
        .transfer(&id)
        .await
        .expect("reads")
        .expect("journaled");
    assert_eq!(
        (after.state, after.version),
        (frozen.state, frozen.version),
        "the replica that lost its claim wrote nothing"
    );
    let center = admin.transfers().await;
    assert_eq!(
        center.len() - records_before,
        1,
        "only A's withdraw reached the center: {:?}",
        &center[records_before..]
    );

    // B's claim ends (released here); B resumes the transfer to its end.
    b.store().release_claim(&claim).await.expect("released");
    let resumed = moa_server::saga::resume(&b).await.expect("B resumes");
    let done = resumed
        .iter()
        .find(|r| r.id == id)
        .expect("B ran the transfer");
    assert_eq!(
        done.state,
        moa_server::store::TransferState::Completed,
        "{done:?}"
    );
    let center = admin.transfers().await;
    let withdraw = done.withdraw.as_ref().expect("a withdraw");
    let deposit = done.deposit.as_ref().expect("a deposit");
    assert_eq!(
        common::center_verdict(&center, &withdraw.bank_tran_id),
        Some(true)
    );
    assert_eq!(
        common::center_verdict(&center, &deposit.bank_tran_id),
        Some(true)
    );
    assert_eq!(
        center.len() - records_before,
        2,
        "one withdraw, one deposit"
    );
    sb.assert_money_invariants().await;
    common::assert_journal_agrees(store, &admin, sb.clock_now()).await;
    drop(b);
    sb.stop().await;
}

/// The store's claims on their own: a live lease keeps others off, an expired one is taken
/// over with a higher fence, and every write of the older claim is refused — a journal move,
/// a logged call, a renewal — as is a write made without any claim while one is held.
#[tokio::test]
async fn a_stale_fence_is_refused_for_every_write() {
    let sb = common::start().await;
    let (person, rows) = person_with_accounts(&sb).await;
    let store = sb.app().store();
    let now = sb.clock_now();
    let (record, _) = store
        .create_transfer(&new_transfer(person, &rows, "fenced", 1_000, None), now)
        .await
        .expect("journaled")
        .expect("within the limit");
    let lease = chrono::Duration::seconds(30);
    let first = claim_kept(
        store,
        store,
        &record.id,
        (now, lease),
        "a live claim keeps others off",
    )
    .await;
    let round = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        store.claim_due(now, lease, &round).await.expect("asks"),
        None,
        "a claimed transfer is not due for anyone else"
    );
    let expired = now + lease + chrono::Duration::seconds(1);
    let second = store
        .claim_due(expired, lease, &round)
        .await
        .expect("asks")
        .expect("an expired lease is taken over");
    assert!(second.fence > first.fence, "{second:?} after {first:?}");
    assert_eq!(
        store.claim_due(expired, lease, &round).await.expect("asks"),
        None,
        "a round claims a transfer once"
    );

    let leg = LegId::sent("T991589220U999999991", now.date_naive());
    let move_on = Change {
        state: Some(moa_server::store::TransferState::Withdrawing),
        withdraw: Some(leg.clone()),
        ..Change::default()
    };
    let refused = store.update_claimed(&first, &record, &move_on, now).await;
    assert!(matches!(refused, Err(JournalError::Fenced)), "{refused:?}");
    let refused = store.update_transfer(&record, &move_on, now).await;
    assert!(matches!(refused, Err(JournalError::Fenced)), "{refused:?}");
    let call = CallRecord {
        transfer_id: record.id.clone(),
        leg: LegKind::Withdraw,
        call: "send",
        bank_tran_id: leg.bank_tran_id.clone(),
        date: leg.date,
        request: "withdraw 1000 won".into(),
        answer: "A0000".into(),
        at: now,
    };
    let refused = store.record_call(&first, &call).await;
    assert!(matches!(refused, Err(JournalError::Fenced)), "{refused:?}");
    assert!(!store.renew_claim(&first, now).await.expect("asks"));
    // Releasing the stale claim releases nothing.
    store.release_claim(&first).await.expect("asks");
    assert_eq!(
        store
            .claim_transfer(&record.id, now, lease)
            .await
            .expect("asks"),
        None
    );

    // The live claim writes.
    let moved = store
        .update_claimed(&second, &record, &move_on, now)
        .await
        .expect("the live claim writes");
    store.record_call(&second, &call).await.expect("logged");
    assert!(store.renew_claim(&second, now).await.expect("asks"));
    assert_eq!(store.calls(&record.id).await.expect("reads").len(), 1);
    store.release_claim(&second).await.expect("released");
    // Released, it is anyone's again; the journal stands where the live claim left it.
    let third = store
        .claim_transfer(&record.id, now, lease)
        .await
        .expect("asks")
        .expect("claimed again");
    assert!(third.fence > second.fence);
    let stale = store
        .update_claimed(&second, &moved, &Change::default(), now)
        .await;
    assert!(matches!(stale, Err(JournalError::Fenced)), "{stale:?}");
    store.release_claim(&third).await.expect("released");
    sb.stop().await;
}

/// Two replicas find one person's token due for renewal at the same moment. The refresh token
/// is single use — the center refuses it the second time — so a renewal on each would fail
/// one of them: the one that waits for the other reads the token it saved and uses that. Both
/// end with the same new token, and the center takes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_renewing_one_persons_token_spend_its_refresh_token_once() {
    let sb = common::start().await;
    let mut options = common::options();
    options.clock = sb.clock.clone();
    let b = Arc::new(second_replica(&sb, options).await);
    let device = sb.person(0).await;
    let person = sb.app().store().people_with_tokens().await.expect("people")[0];
    let before = sb
        .app()
        .center()
        .token(person)
        .await
        .expect("reads")
        .expect("a token");
    // Eighty-five days on, the token is within a week of its end: due for renewal.
    sb.clock.shift(chrono::Duration::days(85));
    for round in 0..3 {
        let renewals: Vec<_> = [sb.app().clone(), b.clone(), sb.app().clone(), b.clone()]
            .into_iter()
            .map(|app| tokio::spawn(async move { app.center().user_token(person).await }))
            .collect();
        let mut tokens = Vec::new();
        for renewal in renewals {
            let token = renewal
                .await
                .expect("the renewal ran")
                .unwrap_or_else(|e| panic!("round {round}: a renewal failed: {e:?}"));
            tokens.push(token.expose_secret().to_owned());
        }
        tokens.dedup();
        assert_eq!(tokens.len(), 1, "round {round}: one new token for all");
        assert_ne!(tokens[0], before.access_token.expose_secret());
        // The next round finds the token due again.
        sb.clock.shift(chrono::Duration::days(85));
    }
    // The stored token is the last one renewed, and the center takes it.
    let (status, lines) = device.ndjson(reqwest::Method::POST, "/v1/balances").await;
    assert_eq!(status, 200, "{lines:?}");
    assert!(
        lines.iter().all(|l| l["outcome"]["state"] == "fresh"),
        "{lines:?}"
    );
    drop(b);
    sb.stop().await;
}

/// A second replica of `sb`'s server, served on its own loopback port, reading `sb`'s clock.
async fn served_replica(sb: &Sandbox, mut options: Options) -> moa_server::Spawned {
    options.clock = sb.clock.clone();
    let app = second_replica(sb, options).await;
    moa_server::spawn(app, ([127, 0, 0, 1], 0).into())
        .await
        .expect("the second replica serves")
}

/// A device may make one request a second, two in a burst. It spends its burst on replica A;
/// its next request, to replica B, is over the limit too.
#[tokio::test]
async fn a_devices_rate_limit_holds_over_the_sum_of_its_requests_to_every_replica() {
    let mut options = common::options();
    options.rate_per_second = 1;
    let sb = common::start_with(options.clone()).await;
    let b = served_replica(&sb, options).await;
    let mut device = sb.enrolled().await;
    let a_url = device.base_url.clone();
    for _ in 0..2 {
        let answer = device.get("/v1/banks").await;
        assert_eq!(answer.0, 200, "within the burst: {}", answer.1);
    }
    device.base_url = b.base_url.clone();
    assert_refused(&device.get("/v1/banks").await, ErrorCode::RateLimited);
    device.base_url = a_url;
    assert_refused(&device.get("/v1/banks").await, ErrorCode::RateLimited);
    // A second later the bucket holds one more request, wherever it is made.
    sb.clock.shift(chrono::Duration::milliseconds(1_100));
    device.base_url = b.base_url.clone();
    assert_eq!(device.get("/v1/banks").await.0, 200);
    assert_refused(&device.get("/v1/banks").await, ErrorCode::RateLimited);
    b.shutdown().await;
    sb.stop().await;
}

/// Ids the two replicas issue side by side, across several of their blocks, are never the
/// same: each block is reserved by one statement on the shared counter.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bank_tran_ids_issued_by_two_replicas_side_by_side_are_unique() {
    let sb = common::start().await;
    let b = Arc::new(second_replica(&sb, common::options()).await);
    let mut issuing = tokio::task::JoinSet::new();
    for app in [sb.app().clone(), b.clone(), sb.app().clone(), b.clone()] {
        issuing.spawn(async move {
            let mut ids = Vec::new();
            for _ in 0..120 {
                ids.push(
                    app.center()
                        .next_bank_tran_id()
                        .await
                        .expect("an id")
                        .as_str()
                        .to_owned(),
                );
            }
            ids
        });
    }
    let mut all = Vec::new();
    while let Some(ids) = issuing.join_next().await {
        all.extend(ids.expect("issued"));
    }
    let issued = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), issued, "an id was issued twice");
    drop(b);
    sb.stop().await;
}

/// The same idempotency key with the same body, sent to two replicas at once, is one
/// transfer; with another body it is refused on either, and nothing more moves. The replica
/// that did not run it streams its progress all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_idempotency_key_sent_to_two_replicas_at_once_is_one_transfer() {
    let sb = common::start().await;
    let b = served_replica(&sb, common::options()).await;
    let device = sb.person(0).await;
    let accounts = device.demo_accounts(0).await;
    let admin = sb.admin();
    let records_before = admin.transfers().await.len();
    let mut on_b = device.with_key(same_key(&device));
    on_b.base_url = b.base_url.clone();
    let body = own_transfer(&accounts[0], &accounts[1], 4_000);
    let (at_a, at_b) = tokio::join!(
        device.transfer("one-key-two-replicas", &body),
        on_b.transfer("one-key-two-replicas", &body)
    );
    let mut statuses = [at_a.0, at_b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [200, 201],
        "one made, one found: {at_a:?} {at_b:?}"
    );
    assert_eq!(at_a.1["id"], at_b.1["id"], "the same transfer");
    let other = own_transfer(&accounts[0], &accounts[1], 5_000);
    for replica in [&device, &on_b] {
        assert_refused(
            &replica.transfer("one-key-two-replicas", &other).await,
            ErrorCode::IdempotencyConflict,
        );
    }
    let id = at_a.1["id"].as_str().expect("an id");
    // The replica that found the transfer did not run it: its progress stream still follows
    // the transfer to its end, moved by the other replica.
    let follower = if at_a.0 == 200 { &device } else { &on_b };
    let done = follower.wait_final(id).await;
    assert_eq!(done.state, api::TransferState::Completed, "{done:?}");
    let (status, listed) = device.get("/v1/transfers").await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(
        admin.transfers().await.len() - records_before,
        2,
        "one withdraw and one deposit"
    );
    sb.assert_money_invariants().await;
    common::assert_journal_agrees(sb.app().store(), &admin, sb.clock_now()).await;
    b.shutdown().await;
    sb.stop().await;
}

/// Replicas behind one public address verify the same proofs: a proof one replica took is a
/// replay at the other.
#[tokio::test]
async fn a_proof_spent_at_one_replica_is_a_replay_at_the_other() {
    let sb = common::start().await;
    let mut settings = sb.app().settings().clone();
    settings.public_url = Some(url::Url::parse(sb.base_url()).expect("a URL"));
    let mut options = common::options();
    options.clock = sb.clock.clone();
    let app = match sb.database() {
        Some(_) => App::open(settings, options).await.expect("opens"),
        None => App::with_store(settings, sb.app().store().clone(), options).expect("shares"),
    };
    let b = moa_server::spawn(app, ([127, 0, 0, 1], 0).into())
        .await
        .expect("serves");
    let device = sb.person(0).await;
    let mut on_b = device.with_key(same_key(&device));
    on_b.base_url = b.base_url.clone();
    // A proof for the public address is good at either replica, once.
    let headers = device.auth_headers("GET", "/v1/me");
    let (status, body) = device
        .raw(reqwest::Method::GET, "/v1/me", &headers, None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_refused(
        &on_b
            .raw(reqwest::Method::GET, "/v1/me", &headers, None)
            .await,
        ErrorCode::ProofReplayed,
    );
    let headers = device.auth_headers("GET", "/v1/me");
    let (status, body) = on_b
        .raw(reqwest::Method::GET, "/v1/me", &headers, None)
        .await;
    assert_eq!(
        status, 200,
        "B takes a fresh proof for the public address: {body}"
    );
    assert_refused(
        &device
            .raw(reqwest::Method::GET, "/v1/me", &headers, None)
            .await,
        ErrorCode::ProofReplayed,
    );
    b.shutdown().await;
    sb.stop().await;
}

/// The device's own key, again: the same device talking to another replica.
fn same_key(device: &common::Device) -> moa_server::dpop::DeviceKey {
    moa_server::dpop::DeviceKey::from_pkcs8(device.key.pkcs8()).expect("the key reads back")
}

/// Transfers made side by side on two replicas cannot pass the daily limit together: three
/// of 4,000,000 won, made at once, against a limit of 10,000,000 — two are journaled, day
/// after day.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transfers_made_on_two_replicas_at_once_cannot_pass_the_daily_limit_together() {
    use moa_server::saga::{DAILY_LIMIT, start_of_business_day};
    let sb = common::start().await;
    let b = second_replica(&sb, common::options()).await;
    let (person, rows) = person_with_accounts(&sb).await;
    let store = sb.app().store();
    for day in 0..10 {
        let now = sb.clock_now() + chrono::Duration::days(day);
        let made = (0..3).map(|n| {
            let store = if n % 2 == 0 {
                store.clone()
            } else {
                b.store().clone()
            };
            let limit = Some((start_of_business_day(now), DAILY_LIMIT));
            let transfer = new_transfer(person, &rows, &format!("day-{day}-{n}"), 4_000_000, limit);
            tokio::spawn(async move { store.create_transfer(&transfer, now).await })
        });
        let mut journaled = 0;
        for outcome in made.collect::<Vec<_>>() {
            if outcome
                .await
                .expect("ran")
                .expect("the journal answers")
                .is_some()
            {
                journaled += 1;
            }
        }
        assert_eq!(journaled, 2, "day {day}: two transfers fit the day's limit");
    }
    drop(b);
    sb.stop().await;
}

/// On PostgreSQL a replica that is gone — its process dead, its connections closed — frees its
/// claims at once, without waiting for their leases: its presence lock ended with it.
#[tokio::test]
async fn a_claim_of_a_replica_that_is_gone_is_taken_over_at_once() {
    let sb = common::start().await;
    let Some(database) = sb.database().cloned() else {
        // One process owns a SQLite file; claims a dead one left are released when it opens.
        sb.stop().await;
        return;
    };
    let (person, rows) = person_with_accounts(&sb).await;
    let store = sb.app().store();
    let now = sb.clock_now();
    let (record, _) = store
        .create_transfer(&new_transfer(person, &rows, "orphaned", 1_000, None), now)
        .await
        .expect("journaled")
        .expect("within the limit");
    let lease = chrono::Duration::minutes(10);
    let gone = moa_server::store::Store::connect(&database)
        .await
        .expect("a third replica connects");
    let orphaned = claim_kept(
        &gone,
        store,
        &record.id,
        (now, lease),
        "a live replica's claim holds",
    )
    .await;
    drop(gone);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let taken = loop {
        if let Some(claim) = store
            .claim_transfer(&record.id, now, lease)
            .await
            .expect("asks")
        {
            break claim;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the claim of a replica that is gone was never freed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(taken.fence > orphaned.fence);
    store.release_claim(&taken).await.expect("released");
    sb.stop().await;
}
