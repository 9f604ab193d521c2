//! The server's `/v1` API over HTTP, against the real testbed: every route, its answers and its
//! refusals (status and code), device authentication under attack, one person against
//! another's money, garbage in every shape, and what the server leaves on disk. Every scenario
//! that may move money ends with the auditor.

mod common;

use chrono::{NaiveDate, TimeDelta, Utc};
use moa_openbanking::BankCode;
use moa_server::api::{self, ErrorCode, TransferState};
use moa_server::dpop::DeviceKey;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{Value, json};

use common::{Choice, Device, assert_refused};
use moa_server::store::Database;

/// Korea's business date today: what the center's history is dated by.
fn today() -> NaiveDate {
    moa_server::saga::business_date(Utc::now())
}

/// The person's account at `bank_code` (each demo person has one account per bank).
fn fin_at(accounts: &[api::Account], bank_code: &str) -> String {
    accounts
        .iter()
        .find(|a| a.bank_code == bank_code)
        .unwrap_or_else(|| panic!("an account at bank {bank_code}"))
        .fintech_use_num
        .clone()
}

/// The demo person's account number at `bank_code`.
fn number_at(device: &Device, person: usize, bank_code: &str) -> String {
    device
        .demo_person(person)
        .accounts
        .iter()
        .find(|a| a.bank_code_std == bank_code)
        .unwrap_or_else(|| panic!("person {person} has an account at {bank_code}"))
        .account_num
        .clone()
}

/// A transfer between two of the person's own accounts.
fn own_transfer(from: &str, to: &str, amount: i64) -> Value {
    json!({
        "from": from,
        "to": { "kind": "own", "fintech_use_num": to },
        "amount": amount,
        "memo": "",
    })
}

/// The history path of an account with a query.
fn history_path(fin: &str, from: &str, to: &str, cursor: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("from", from).append_pair("to", to);
    if let Some(cursor) = cursor {
        query.append_pair("cursor", cursor);
    }
    format!("/v1/accounts/{fin}/history?{}", query.finish())
}

// ---------------------------------------------------------------------------------------------
// Enrolment
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn enrolment_with_only_a_proof_answers_201_and_a_working_token() {
    let sb = common::start().await;
    let mut device = sb.device();
    let (status, body) = device.enrol().await;
    assert_eq!(status, 201, "{body}");
    let enrolled: api::Enrolled = serde_json::from_value(body).expect("an enrolment");
    assert!(!enrolled.device_id.is_empty());
    assert!(enrolled.device_token.len() >= 32, "a token worth its name");
    // The token names a device: known, but linked to nobody yet.
    assert_refused(&device.get("/v1/me").await, ErrorCode::NotLinked);
    sb.stop().await;
}

#[tokio::test]
async fn enrolling_the_same_key_twice_is_refused_as_already_enrolled() {
    let sb = common::start().await;
    let first = sb.enrolled().await;
    let same_key = DeviceKey::from_pkcs8(first.key.pkcs8()).expect("the key is copied");
    let mut again = Device::new(&sb, same_key);
    assert_refused(&again.enrol().await, ErrorCode::AlreadyEnrolled);
    assert!(again.token.is_none());
    // The first enrolment still stands.
    assert_refused(&first.get("/v1/me").await, ErrorCode::NotLinked);
    sb.stop().await;
}

#[tokio::test]
async fn enrolment_without_a_valid_proof_is_refused_as_bad_proof() {
    let sb = common::start().await;
    let device = sb.device();
    // No proof at all.
    assert_refused(
        &device.raw(Method::POST, "/v1/devices", &[], None).await,
        ErrorCode::BadProof,
    );
    // Garbage for a proof.
    assert_refused(
        &device
            .raw(
                Method::POST,
                "/v1/devices",
                &[("dpop".into(), "not.a.proof".into())],
                None,
            )
            .await,
        ErrorCode::BadProof,
    );
    // A proof for another route, and one for another method.
    for (method, path) in [("POST", "/v1/me"), ("GET", "/v1/devices")] {
        let proof = device.proof_at(method, &device.url(path), None, Utc::now());
        assert_refused(
            &device
                .raw(Method::POST, "/v1/devices", &[("dpop".into(), proof)], None)
                .await,
            ErrorCode::BadProof,
        );
    }
    sb.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_registration_links_the_device_and_adds_every_consented_account() {
    let sb = common::start().await;
    let device = sb.enrolled().await;
    let registered = common::register(&device, 0).await;
    assert_eq!(
        registered,
        api::Registered {
            added: 4,
            updated: 0
        }
    );

    let (status, body) = device.get("/v1/me").await;
    assert_eq!(status, 200, "{body}");
    let me: api::Me = serde_json::from_value(body).expect("a person");
    assert_eq!(me.name, device.demo_person(0).user_name);
    assert!(me.consent.expires_at.is_some());
    let days_left = me.consent.days_left.expect("days left");
    assert!((80..=366).contains(&days_left), "{days_left} days left");
    assert!(!me.consent.renew_soon);

    let accounts = device.accounts().await;
    let mut banks: Vec<&str> = accounts.iter().map(|a| a.bank_code.as_str()).collect();
    banks.sort_unstable();
    let mut expected: Vec<&str> = device
        .demo_person(0)
        .accounts
        .iter()
        .map(|a| a.bank_code_std.as_str())
        .collect();
    expected.sort_unstable();
    assert_eq!(banks, expected);
    for account in &accounts {
        assert_eq!(account.fintech_use_num.len(), 24, "{account:?}");
        let number = number_at(&device, 0, &account.bank_code);
        assert!(
            !account.account_num_masked.contains(&number),
            "the number is masked: {account:?}"
        );
        assert!(account.inquiry_agreed_at.is_some() && account.transfer_agreed_at.is_some());
    }

    // Registering again updates what is known.
    assert_eq!(
        common::register(&device, 0).await,
        api::Registered {
            added: 0,
            updated: 4
        }
    );
    assert_eq!(device.accounts().await.len(), 4);
    sb.stop().await;
}

#[tokio::test]
async fn every_personal_route_before_linking_is_refused_as_not_linked() {
    let sb = common::start().await;
    let device = sb.enrolled().await;
    let fin = "0".repeat(24);
    let body = own_transfer(&fin, &"1".repeat(24), 1_000);
    let history = history_path(&fin, "2025-01-01", "2025-01-31", None);
    let events = format!("/v1/transfers/{}/events", uuid::Uuid::new_v4());
    let one = format!("/v1/transfers/{}", uuid::Uuid::new_v4());
    let account = format!("/v1/accounts/{fin}");
    let answers = [
        device.get("/v1/me").await,
        device.get("/v1/accounts").await,
        device.post("/v1/balances", json!({})).await,
        device.get(&history).await,
        device.delete(&account).await,
        device.post("/v1/transfers/check", body.clone()).await,
        device.transfer("key-not-linked-1", &body).await,
        device.get("/v1/transfers").await,
        device.get(&one).await,
        device.get(&events).await,
        device.post("/v1/sign-out", json!({})).await,
    ];
    for answer in &answers {
        assert_refused(answer, ErrorCode::NotLinked);
    }
    // The banks' status is the institution's, not a person's.
    assert_eq!(device.get("/v1/banks").await.0, 200);
    sb.stop().await;
}

#[tokio::test]
async fn a_callback_for_another_devices_state_is_refused_and_spends_the_state() {
    let sb = common::start().await;
    let owner = sb.enrolled().await;
    let thief = sb.enrolled().await;
    let callback = common::agreed_callback(&owner, 0).await;

    assert_refused(
        &common::complete(&thief, &callback).await,
        ErrorCode::RegistrationExpired,
    );
    assert_refused(&thief.get("/v1/me").await, ErrorCode::NotLinked);
    // The state is single use, whoever used it: the owner must begin again.
    assert_refused(
        &common::complete(&owner, &callback).await,
        ErrorCode::RegistrationExpired,
    );
    assert_refused(&owner.get("/v1/me").await, ErrorCode::NotLinked);
    assert_eq!(common::register(&owner, 0).await.added, 4);
    sb.stop().await;
}

#[tokio::test]
async fn a_replayed_callback_is_refused_as_registration_expired() {
    let sb = common::start().await;
    let device = sb.enrolled().await;
    let callback = common::agreed_callback(&device, 0).await;
    assert_eq!(common::complete(&device, &callback).await.0, 200);
    assert_refused(
        &common::complete(&device, &callback).await,
        ErrorCode::RegistrationExpired,
    );
    assert_eq!(device.accounts().await.len(), 4);
    sb.stop().await;
}

#[tokio::test]
async fn a_callback_to_another_host_port_scheme_or_path_is_refused() {
    let sb = common::start().await;
    let device = sb.enrolled().await;
    let callback = common::agreed_callback(&device, 0).await;
    let query = url::Url::parse(&callback)
        .expect("the callback parses")
        .query()
        .expect("the callback has a query")
        .to_owned();
    for forged in [
        format!("http://127.0.0.2/callback?{query}"),
        format!("http://evil.example/callback?{query}"),
        format!("http://127.0.0.1:8080/callback?{query}"),
        format!("https://127.0.0.1/callback?{query}"),
        format!("http://127.0.0.1/callback/other?{query}"),
        format!("http://127.0.0.1/?{query}"),
        format!("moa://127.0.0.1/callback?{query}"),
        "not a url".to_owned(),
        String::new(),
        "http://127.0.0.1/callback".to_owned(),
        "http://127.0.0.1/callback?code=abc&state=unknown".to_owned(),
    ] {
        assert_refused(
            &common::complete(&device, &forged).await,
            ErrorCode::RegistrationExpired,
        );
    }
    // None of those touched the flow: the real callback still completes it.
    assert_eq!(common::complete(&device, &callback).await.0, 200);
    sb.stop().await;
}

#[tokio::test]
async fn consent_refused_on_the_pages_is_refused_as_consent_refused() {
    let sb = common::start().await;
    let device = sb.enrolled().await;
    let started = common::begin(&device).await;
    let callback = common::consent(&device, &started.authorize_url, 0, Choice::Refuse).await;
    assert!(callback.contains("error=access_denied"), "{callback}");
    assert_refused(
        &common::complete(&device, &callback).await,
        ErrorCode::ConsentRefused,
    );
    assert_refused(&device.get("/v1/me").await, ErrorCode::NotLinked);
    sb.stop().await;
}

#[tokio::test]
async fn a_registration_begins_at_the_centers_pages_with_state_and_pkce() {
    let sb = common::start().await;
    let device = sb.enrolled().await;
    let center = url::Url::parse(&sb.center().base_url).expect("the center's URL");
    for (body, path, lang) in [
        (json!({}), "/oauth/2.0/authorize", "kor"),
        (
            json!({"reconfirm": true, "lang": "en"}),
            "/oauth/2.0/authorize_account",
            "eng",
        ),
    ] {
        let (status, answer) = device.post("/v1/registrations", body).await;
        assert_eq!(status, 200, "{answer}");
        let started: api::RegistrationStarted =
            serde_json::from_value(answer).expect("a registration start");
        assert_eq!(started.redirect_uri, moa_server::sandbox::REDIRECT_URI);
        let url = url::Url::parse(&started.authorize_url).expect("the pages' URL");
        assert_eq!(url.origin(), center.origin());
        assert_eq!(url.path(), path);
        let query: std::collections::HashMap<String, String> =
            url.query_pairs().into_owned().collect();
        assert_eq!(query["redirect_uri"], moa_server::sandbox::REDIRECT_URI);
        assert_eq!(query["code_challenge_method"], "S256");
        assert!(query["code_challenge"].len() >= 43);
        assert!(query["state"].len() >= 16);
        assert_eq!(query["lang"], lang);
        assert!(
            !query.contains_key("client_secret"),
            "the secret stays on the server"
        );
    }
    // Each flow has its own state.
    let first = common::begin(&device).await.authorize_url;
    let second = common::begin(&device).await.authorize_url;
    assert_ne!(first, second);
    sb.stop().await;
}

#[tokio::test]
async fn an_account_without_transfer_consent_is_refused_as_no_transfer_consent() {
    let sb = common::start().await;
    let device = sb.enrolled().await;
    let started = common::begin(&device).await;
    let callback = common::consent(
        &device,
        &started.authorize_url,
        0,
        Choice::InquiryOnly(vec![0, 1]),
    )
    .await;
    let (status, body) = common::complete(&device, &callback).await;
    assert_eq!(status, 200, "{body}");
    let accounts = device.accounts().await;
    assert_eq!(accounts.len(), 2);
    assert!(accounts.iter().all(|a| a.transfer_agreed_at.is_none()));
    let body = own_transfer(&fin_at(&accounts, "004"), &fin_at(&accounts, "088"), 1_000);
    assert_refused(
        &device.post("/v1/transfers/check", body.clone()).await,
        ErrorCode::NoTransferConsent,
    );
    assert_refused(
        &device.transfer("no-consent-0001", &body).await,
        ErrorCode::NoTransferConsent,
    );
    // Reading is consented to.
    let (_, lines) = device.ndjson(Method::POST, "/v1/balances").await;
    assert_eq!(lines.len(), 2);
    assert_eq!(sb.admin().ledger().await, sb.opening, "nothing moved");
    sb.assert_money_invariants().await;
    sb.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Reading money
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn banks_lists_the_centers_banks_and_their_state() {
    let sb = common::start().await;
    let device = sb.enrolled().await;
    let (status, body) = device.get("/v1/banks").await;
    assert_eq!(status, 200, "{body}");
    let banks: Vec<api::BankStatus> = serde_json::from_value(body).expect("a list of banks");
    for account in &device.demo_person(0).accounts {
        let bank = banks
            .iter()
            .find(|b| b.bank_code == account.bank_code_std)
            .unwrap_or_else(|| panic!("bank {} is listed", account.bank_code_std));
        assert_eq!(bank.state, api::BankState::Available);
        assert!(!bank.bank_name.is_empty());
    }
    sb.stop().await;
}

#[tokio::test]
async fn balances_stream_one_line_per_account_counting_up_to_the_total() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let accounts = device.accounts().await;
    let (status, lines) = device.ndjson(Method::POST, "/v1/balances").await;
    assert_eq!(status, 200, "{lines:?}");
    assert_eq!(lines.len(), accounts.len());
    let ledger = sb.admin().ledger().await;
    let mut seen = Vec::new();
    for (i, line) in lines.into_iter().enumerate() {
        let line: api::BalanceLine = serde_json::from_value(line).expect("a balance line");
        assert_eq!((line.done, line.total), (i + 1, accounts.len()));
        let account = accounts
            .iter()
            .find(|a| a.fintech_use_num == line.fintech_use_num)
            .expect("a line is for one of the person's accounts");
        let number = number_at(&device, 0, &account.bank_code);
        match line.outcome {
            api::BalanceOutcome::Fresh { balance, .. } => {
                assert_eq!(balance, ledger.balance(&account.bank_code, &number));
            }
            other => panic!("a bank in service answers: {other:?}"),
        }
        seen.push(line.fintech_use_num);
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), accounts.len(), "one line per account");
    sb.stop().await;
}

#[tokio::test]
async fn a_bank_in_outage_leaves_its_account_stale_with_a_reason() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let accounts = device.accounts().await;
    let down = fin_at(&accounts, "088");
    sb.admin()
        .call(
            Method::PUT,
            "/testbed/admin/banks/088",
            Some(json!({"status": "D"})),
        )
        .await;
    let (status, lines) = device.ndjson(Method::POST, "/v1/balances").await;
    assert_eq!(status, 200, "{lines:?}");
    assert_eq!(lines.len(), 4);
    for line in lines {
        let line: api::BalanceLine = serde_json::from_value(line).expect("a balance line");
        match (&line.outcome, line.fintech_use_num == down) {
            (api::BalanceOutcome::Stale { reason }, true) => {
                assert_eq!(reason.code, api::StaleCode::BankDown, "{reason:?}");
            }
            (api::BalanceOutcome::Fresh { .. }, false) => {}
            (outcome, _) => panic!("unexpected {outcome:?} for {}", line.fintech_use_num),
        }
    }
    let (_, banks) = device.get("/v1/banks").await;
    let bank = banks
        .as_array()
        .expect("banks")
        .iter()
        .find(|b| b["bank_code"] == "088")
        .expect("bank 088")
        .clone();
    assert_eq!(bank["state"], "down");
    sb.stop().await;
}

#[tokio::test]
async fn history_pages_chain_through_the_cursor_to_the_current_balance() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let accounts = device.accounts().await;
    let fin = fin_at(&accounts, "004");
    let number = number_at(&device, 0, "004");
    let to = today();
    let from = (to - TimeDelta::days(120)).to_string();
    let to = to.to_string();

    let mut rows: Vec<api::HistoryRow> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let (status, body) = device
            .get(&history_path(&fin, &from, &to, cursor.as_deref()))
            .await;
        assert_eq!(status, 200, "{body}");
        let page: api::HistoryPage = serde_json::from_value(body).expect("a history page");
        pages += 1;
        assert!(!page.rows.is_empty(), "a page has rows");
        rows.extend(page.rows);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages < 50, "the pages end");
    }
    assert!(
        pages >= 2,
        "four months of a main account take more than a page"
    );
    // Oldest first, and each row's after-balance follows from the one before: no row lost or
    // repeated at a page's edge.
    for pair in rows.windows(2) {
        let (before, row) = (&pair[0], &pair[1]);
        assert!(
            (before.tran_date, before.tran_time) <= (row.tran_date, row.tran_time),
            "oldest first: {before:?} then {row:?}"
        );
        let signed = match row.inout_type.as_str() {
            "입금" => row.tran_amt,
            "출금" => -row.tran_amt,
            other => panic!("unknown direction {other}"),
        };
        assert_eq!(
            row.after_balance,
            before.after_balance + signed,
            "the chain holds: {before:?} then {row:?}"
        );
    }
    let last = rows.last().expect("rows");
    assert_eq!(
        last.after_balance,
        sb.admin().ledger().await.balance("004", &number)
    );
    sb.stop().await;
}

#[tokio::test]
async fn history_with_bad_dates_or_cursor_is_a_bad_request() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let fin = fin_at(&device.accounts().await, "004");
    let base = format!("/v1/accounts/{fin}/history");
    let long_cursor = "9".repeat(201);
    for path in [
        history_path(&fin, "yesterday", "2025-01-31", None),
        history_path(&fin, "2025-02-30", "2025-03-01", None),
        history_path(&fin, "20250101", "20250131", None),
        history_path(&fin, "2025-03-01", "2025-01-01", None),
        history_path(&fin, "2023-01-01", "2025-01-01", None),
        history_path(&fin, "2025-01-01", "2025-01-31", Some(&long_cursor)),
        format!("{base}?from=2025-01-01"),
        format!("{base}?to=2025-01-01"),
        base.clone(),
    ] {
        let answer = device.get(&path).await;
        assert_refused(&answer, ErrorCode::BadRequest);
    }

    // A cursor the center never gave out, or gave out for another account, is the app's
    // mistake, not the center's failure.
    let accounts = device.accounts().await;
    let (from, to) = (
        (today() - TimeDelta::days(120)).to_string(),
        today().to_string(),
    );
    let (status, page) = device.get(&history_path(&fin, &from, &to, None)).await;
    assert_eq!(status, 200, "{page}");
    let real = page["next_cursor"]
        .as_str()
        .expect("the main account has more than a page")
        .to_owned();
    let spending = fin_at(&accounts, "088");
    for (account, cursor) in [
        (&fin, "garbage"),
        (&fin, "R999999999"),
        (&fin, "R0"),
        (&fin, "\u{1F4B8}"),
        (&spending, real.as_str()),
    ] {
        let answer = device
            .get(&history_path(account, &from, &to, Some(cursor)))
            .await;
        assert_refused(&answer, ErrorCode::BadRequest);
    }
    sb.stop().await;
}

#[tokio::test]
async fn history_of_an_unknown_or_another_persons_account_is_no_such_account() {
    let sb = common::start().await;
    let owner = sb.person(0).await;
    let other = sb.person(1).await;
    let fin = fin_at(&owner.accounts().await, "004");
    let (from, to) = (
        (today() - TimeDelta::days(30)).to_string(),
        today().to_string(),
    );
    assert_refused(
        &other.get(&history_path(&fin, &from, &to, None)).await,
        ErrorCode::NoSuchAccount,
    );
    assert_refused(
        &owner
            .get(&history_path(&"9".repeat(24), &from, &to, None))
            .await,
        ErrorCode::NoSuchAccount,
    );
    assert_eq!(
        owner.get(&history_path(&fin, &from, &to, None)).await.0,
        200
    );
    sb.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Moving money
// ---------------------------------------------------------------------------------------------

/// What left the person's accounts today counts toward the daily limit, both when a transfer
/// is checked and when it is made: a day already spent to 5,000 won short of the limit leaves
/// room for 5,000 won and not one more.
#[tokio::test]
async fn the_daily_limit_counts_what_the_day_already_moved() {
    use moa_server::saga::{DAILY_LIMIT, start_of_business_day};
    use moa_server::store::{
        Change, LegId, NewTransfer, TransferOrder, TransferState as Journaled,
    };
    let sb = common::start().await;
    let device = sb.person(0).await;
    let accounts = device.accounts().await;
    let (main, spending) = (fin_at(&accounts, "004"), fin_at(&accounts, "088"));
    let store = sb.app().store();
    let person = store.people_with_tokens().await.expect("people")[0];
    let rows = store.accounts(person).await.expect("accounts");
    let row = |fin: &str| {
        rows.iter()
            .find(|a| a.details.fintech_use_num.as_str() == fin)
            .expect("the account's row")
            .id
    };
    // Earlier today: a transfer that moved all but 5,000 won of the day's limit.
    let now = sb.clock_now();
    let (earlier, _) = store
        .create_transfer(
            &NewTransfer {
                order: TransferOrder {
                    person_id: person,
                    idempotency_key: "earlier-today".into(),
                    request_hash: String::new(),
                    from_account: row(&main),
                    to_account: Some(row(&spending)),
                    to_bank_code: BankCode::parse("088").expect("a bank code"),
                    to_account_num: String::new(),
                    to_holder_name: "홍길동".into(),
                    amount: DAILY_LIMIT - 5_000,
                    memo: String::new(),
                    collection_account: String::new(),
                    payout_account: String::new(),
                },
                daily_limit: Some((start_of_business_day(now), DAILY_LIMIT)),
            },
            now,
        )
        .await
        .expect("the journal writes")
        .expect("within the limit");
    let mut record = earlier;
    let leg = |n: u32| {
        LegId::sent(
            &format!("T991589220U99999999{n}"),
            moa_server::saga::business_date(now),
        )
    };
    for change in [
        Change {
            state: Some(Journaled::Withdrawing),
            withdraw: Some(leg(1)),
            ..Change::default()
        },
        Change {
            state: Some(Journaled::Withdrawn),
            ..Change::default()
        },
        Change {
            state: Some(Journaled::Depositing),
            deposit: Some(leg(2)),
            ..Change::default()
        },
        Change {
            state: Some(Journaled::Completed),
            ..Change::default()
        },
    ] {
        record = store
            .update_transfer(&record, &change, now)
            .await
            .expect("a journal move");
    }

    let (status, body) = device
        .post("/v1/transfers/check", own_transfer(&main, &spending, 1_000))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["remaining_limit"], 5_000, "{body}");
    assert_refused(
        &device
            .post("/v1/transfers/check", own_transfer(&main, &spending, 5_001))
            .await,
        ErrorCode::OverLimit,
    );
    assert_refused(
        &device
            .transfer("one-won-over", &own_transfer(&main, &spending, 5_001))
            .await,
        ErrorCode::OverLimit,
    );
    let (status, body) = device
        .transfer("exactly-the-rest", &own_transfer(&main, &spending, 5_000))
        .await;
    assert_eq!(status, 201, "the rest of the day's limit may move: {body}");
    let done = device.wait_final(body["id"].as_str().expect("an id")).await;
    assert_eq!(done.state, TransferState::Completed, "{done:?}");
    sb.stop().await;
}

#[tokio::test]
async fn a_transfer_check_names_the_recipient_and_moves_nothing() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let accounts = device.accounts().await;
    let (main, spending) = (fin_at(&accounts, "004"), fin_at(&accounts, "088"));

    let (status, body) = device
        .post(
            "/v1/transfers/check",
            own_transfer(&main, &spending, 10_000),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let check: api::TransferCheck = serde_json::from_value(body).expect("a check");
    assert_eq!(check.recipient_name, device.demo_person(0).user_name);
    assert_eq!(check.recipient_bank_code, "088");
    assert_eq!(check.remaining_limit, moa_server::saga::PER_TRANSFER_LIMIT);
    assert!(check.available >= 10_000);

    // Another person's account, by bank and number: the receive check gives their name.
    let (status, body) = device
        .post(
            "/v1/transfers/check",
            json!({
                "from": main,
                "to": {
                    "kind": "external",
                    "bank_code": "020",
                    "account_num": number_at(&device, 1, "020"),
                },
                "amount": 10_000,
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["recipient_name"],
        device.demo_person(1).user_name.as_str()
    );

    let ledger = sb.admin().ledger().await;
    assert_eq!(ledger, sb.opening, "a check moves nothing");
    sb.assert_money_invariants().await;
    sb.stop().await;
}

#[tokio::test]
async fn a_real_name_check_names_the_holder_and_confirms_their_birth_date() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let other = device.demo_person(1);
    let number = number_at(&device, 1, "020");
    let birth = other.birth_date[2..].to_owned();

    let check = |birth_date: Option<&str>, account_num: &str| json!({ "bank_code": "020", "account_num": account_num, "birth_date": birth_date });
    let (status, body) = device
        .post("/v1/recipients/real-name", check(None, &number))
        .await;
    assert_eq!(status, 200, "{body}");
    let found: api::RealName = serde_json::from_value(body).expect("a real name");
    assert_eq!(found.holder_name, other.user_name);
    assert_eq!(
        found.birth_date_confirmed, None,
        "no date given, none checked"
    );
    assert!(found.account_masked.ends_with(&number[number.len() - 4..]));
    assert!(
        found.account_masked.starts_with('*'),
        "{}",
        found.account_masked
    );

    let (status, body) = device
        .post("/v1/recipients/real-name", check(Some(&birth), &number))
        .await;
    assert_eq!(
        (status, body["birth_date_confirmed"].clone()),
        (200, json!(true)),
        "{body}"
    );
    let (status, body) = device
        .post("/v1/recipients/real-name", check(Some("000101"), &number))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["birth_date_confirmed"], json!(false));
    assert_eq!(body["holder_name"], other.user_name.as_str());

    // What the person can get wrong is theirs to fix, in the API's own terms.
    for (body, code) in [
        (check(None, "99999999999999"), "no_such_recipient"),
        (check(None, "12-34"), "bad_account_number"),
        (check(Some("1995-03"), &number), "bad_request"),
        (
            json!({ "bank_code": "9", "account_num": number }),
            "bad_bank_code",
        ),
    ] {
        let (status, answer) = device.post("/v1/recipients/real-name", body.clone()).await;
        assert_eq!(
            (status / 100, answer["code"].as_str()),
            (4, Some(code)),
            "{body}"
        );
    }
    // A device not linked to anyone may not look up anyone's account.
    let stranger = sb.enrolled().await;
    let (status, body) = stranger
        .post("/v1/recipients/real-name", check(None, &number))
        .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("not_linked")));
    let ledger = sb.admin().ledger().await;
    assert_eq!(ledger, sb.opening, "a check moves nothing");
    sb.assert_money_invariants().await;
    sb.stop().await;
}

#[tokio::test]
async fn a_transfer_check_refuses_what_cannot_be_sent_with_its_code() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let accounts = device.accounts().await;
    let (main, spending) = (fin_at(&accounts, "004"), fin_at(&accounts, "088"));
    let check = |body: Value| {
        let device = &device;
        async move { device.post("/v1/transfers/check", body).await }
    };
    let external = |bank: &str, number: &str| {
        json!({
            "from": main,
            "to": { "kind": "external", "bank_code": bank, "account_num": number },
            "amount": 1_000,
        })
    };

    assert_refused(
        &check(own_transfer(&main, &spending, 0)).await,
        ErrorCode::AmountNotPositive,
    );
    assert_refused(
        &check(own_transfer(&main, &spending, -5)).await,
        ErrorCode::AmountNotPositive,
    );
    assert_refused(
        &check(own_transfer(&main, &main, 1_000)).await,
        ErrorCode::SameAccount,
    );
    assert_refused(
        &check(own_transfer(
            &main,
            &spending,
            moa_server::saga::PER_TRANSFER_LIMIT + 1,
        ))
        .await,
        ErrorCode::OverLimit,
    );
    assert_refused(
        &check(own_transfer(&"9".repeat(24), &spending, 1_000)).await,
        ErrorCode::NoSuchAccount,
    );
    assert_refused(
        &check(own_transfer(&main, &"9".repeat(24), 1_000)).await,
        ErrorCode::NoSuchAccount,
    );
    assert_refused(&check(external("ab", "1234")).await, ErrorCode::BadBankCode);
    assert_refused(
        &check(external("020", "12-34")).await,
        ErrorCode::BadAccountNumber,
    );
    assert_refused(
        &check(external("020", "")).await,
        ErrorCode::BadAccountNumber,
    );
    assert_refused(
        &check(external("020", &"1".repeat(17))).await,
        ErrorCode::BadAccountNumber,
    );
    for memo in [
        "a\u{0}b",
        "line\nbreak",
        "\u{202e}evil",
        "\u{061c}mark",
        "가".repeat(21).as_str(),
    ] {
        let mut body = own_transfer(&main, &spending, 1_000);
        body["memo"] = json!(memo);
        assert_refused(&check(body).await, ErrorCode::BadMemo);
    }

    // One won more than the spending account can pay.
    let (status, body) = check(own_transfer(&spending, &main, 1)).await;
    assert_eq!(status, 200, "{body}");
    let available = body["available"].as_i64().expect("available");
    assert!(
        available < moa_server::saga::PER_TRANSFER_LIMIT,
        "the spending account holds less than the limit: {available}"
    );
    assert_refused(
        &check(own_transfer(&spending, &main, available + 1)).await,
        ErrorCode::InsufficientFunds,
    );

    assert_eq!(sb.admin().ledger().await, sb.opening, "nothing moved");
    sb.assert_money_invariants().await;
    sb.stop().await;
}

#[tokio::test]
async fn a_transfer_with_an_idempotency_key_is_made_once_and_completes() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let accounts = device.accounts().await;
    let (main, spending) = (fin_at(&accounts, "004"), fin_at(&accounts, "088"));
    let body = own_transfer(&main, &spending, 12_340);
    let key = "transfer-key-0001";

    let (status, first) = device.transfer(key, &body).await;
    assert_eq!(status, 201, "{first}");
    let first: api::Transfer = serde_json::from_value(first).expect("a transfer");
    assert_eq!(first.idempotency_key, key);
    assert_eq!((first.from.as_str(), first.amount), (main.as_str(), 12_340));
    assert_eq!(first.to_fintech_use_num.as_deref(), Some(spending.as_str()));

    // The same key and body again: the same transfer, not a second one.
    let (status, again) = device.transfer(key, &body).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["id"], first.id.as_str());

    // Its progress, to the end, in the saga's order.
    let (status, lines) = device
        .ndjson(Method::GET, &format!("/v1/transfers/{}/events", first.id))
        .await;
    assert_eq!(status, 200, "{lines:?}");
    let states: Vec<TransferState> = lines
        .iter()
        .map(|l| {
            serde_json::from_value::<api::Transfer>(l.clone())
                .expect("a transfer line")
                .state
        })
        .collect();
    let order = |s: &TransferState| {
        TransferState::ALL
            .iter()
            .position(|x| x == s)
            .expect("a known state")
    };
    assert!(
        states.windows(2).all(|w| order(&w[0]) <= order(&w[1])),
        "the stream moves forward: {states:?}"
    );
    assert_eq!(states.last(), Some(&TransferState::Completed), "{states:?}");
    // Asked again when it is over: one line, final.
    let done = device.wait_final(&first.id).await;
    assert_eq!(done.state, TransferState::Completed);
    assert_eq!(done.failure_code, None);

    // The money moved once: source to collection, payout to target.
    let institution = &sb.manifest().institutions[0];
    let changes = sb.admin().ledger().await.changes_since(&sb.opening);
    let expected = [
        (("004".to_owned(), number_at(&device, 0, "004")), -12_340),
        (("088".to_owned(), number_at(&device, 0, "088")), 12_340),
        (
            (
                institution.collection_account.bank_code_std.clone(),
                institution.collection_account.account_num.clone(),
            ),
            12_340,
        ),
        (
            (
                institution.payout_account.bank_code_std.clone(),
                institution.payout_account.account_num.clone(),
            ),
            -12_340,
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(changes, expected);

    // Once it is done, the same key and body still answer the same transfer, and move nothing.
    let (status, again) = device.transfer(key, &body).await;
    assert_eq!(
        (status, again["id"].as_str()),
        (200, Some(first.id.as_str()))
    );
    assert_eq!(again["state"], "completed");
    let after = sb.admin().ledger().await;

    // The same key with another body is refused, and nothing moves.
    let mut other = body.clone();
    other["amount"] = json!(99_000);
    assert_refused(
        &device.transfer(key, &other).await,
        ErrorCode::IdempotencyConflict,
    );
    let mut other = body.clone();
    other["memo"] = json!("다른 메모");
    assert_refused(
        &device.transfer(key, &other).await,
        ErrorCode::IdempotencyConflict,
    );
    // No key, or one that is not a key: refused before anything is journaled.
    assert_refused(
        &device
            .send(Method::POST, "/v1/transfers", &[], Some(&body))
            .await,
        ErrorCode::IdempotencyKeyMissing,
    );
    for bad in [
        "short",
        "has spaces in it",
        "semi;colon-key",
        "k".repeat(65).as_str(),
    ] {
        assert_refused(
            &device.transfer(bad, &body).await,
            ErrorCode::IdempotencyKeyMissing,
        );
    }
    assert_eq!(sb.admin().ledger().await, after, "nothing moved");

    // The list and the transfer itself.
    let (status, list) = device.get("/v1/transfers").await;
    assert_eq!(status, 200, "{list}");
    let list: Vec<api::Transfer> = serde_json::from_value(list).expect("a list of transfers");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, first.id);
    assert_eq!(list[0].state, TransferState::Completed);
    let (status, one) = device.get(&format!("/v1/transfers/{}", first.id)).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["state"], "completed");
    assert_refused(
        &device
            .get(&format!("/v1/transfers/{}", uuid::Uuid::new_v4()))
            .await,
        ErrorCode::NoSuchTransfer,
    );
    assert_refused(
        &device
            .get(&format!("/v1/transfers/{}/events", uuid::Uuid::new_v4()))
            .await,
        ErrorCode::NoSuchTransfer,
    );
    sb.assert_money_invariants().await;
    sb.stop().await;
}

#[tokio::test]
async fn the_same_idempotency_key_sent_side_by_side_makes_one_transfer() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let accounts = device.accounts().await;
    let body = own_transfer(&fin_at(&accounts, "004"), &fin_at(&accounts, "088"), 4_321);
    let answers =
        futures_util::future::join_all((0..8).map(|_| device.transfer("side-by-side-001", &body)))
            .await;
    let created = answers.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(created, 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(status, _)| *status == 201 || *status == 200),
        "{answers:?}"
    );
    let id = answers[0].1["id"].clone();
    assert!(
        answers.iter().all(|(_, body)| body["id"] == id),
        "{answers:?}"
    );
    device.wait_final(id.as_str().expect("an id")).await;
    let number = number_at(&device, 0, "004");
    assert_eq!(
        sb.admin().ledger().await.balance("004", &number),
        sb.opening.balance("004", &number) - 4_321,
        "the money moved once"
    );
    sb.assert_money_invariants().await;
    sb.stop().await;
}

#[tokio::test]
async fn a_transfer_to_another_persons_account_by_number_reaches_them() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let main = fin_at(&device.accounts().await, "004");
    let number = number_at(&device, 1, "020");
    let body = json!({
        "from": main,
        "to": { "kind": "external", "bank_code": "020", "account_num": number },
        "amount": 50_000,
        "memo": "점심값",
    });
    let (status, created) = device.transfer("to-minji-0001", &body).await;
    assert_eq!(status, 201, "{created}");
    let created: api::Transfer = serde_json::from_value(created).expect("a transfer");
    assert_eq!(created.to_holder_name, device.demo_person(1).user_name);
    assert_eq!(created.to_fintech_use_num, None);
    assert_eq!(created.to_account_masked, api::mask_account(&number));
    assert!(!created.to_account_masked.contains(&number));
    let done = device.wait_final(&created.id).await;
    assert_eq!(done.state, TransferState::Completed);
    let ledger = sb.admin().ledger().await;
    assert_eq!(
        ledger.balance("020", &number) - sb.opening.balance("020", &number),
        50_000
    );
    let from = number_at(&device, 0, "004");
    assert_eq!(
        ledger.balance("004", &from) - sb.opening.balance("004", &from),
        -50_000
    );
    sb.assert_money_invariants().await;
    sb.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Accounts, signing out, revoking
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn cancelling_an_account_takes_it_off_the_list_and_out_of_reach() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let accounts = device.accounts().await;
    let (main, savings) = (fin_at(&accounts, "004"), fin_at(&accounts, "081"));
    let (status, body) = device.delete(&format!("/v1/accounts/{savings}")).await;
    assert_eq!(status, 204, "{body}");

    let left = device.accounts().await;
    assert_eq!(left.len(), 3);
    assert!(left.iter().all(|a| a.fintech_use_num != savings));
    let (_, lines) = device.ndjson(Method::POST, "/v1/balances").await;
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l["total"] == 3));
    let (from, to) = (
        (today() - TimeDelta::days(7)).to_string(),
        today().to_string(),
    );
    assert_refused(
        &device.get(&history_path(&savings, &from, &to, None)).await,
        ErrorCode::NoSuchAccount,
    );
    assert_refused(
        &device
            .transfer("from-cancelled-1", &own_transfer(&savings, &main, 1_000))
            .await,
        ErrorCode::NoSuchAccount,
    );
    assert_refused(
        &device
            .transfer("to-cancelled-01", &own_transfer(&main, &savings, 1_000))
            .await,
        ErrorCode::NoSuchAccount,
    );
    assert_refused(
        &device.delete(&format!("/v1/accounts/{savings}")).await,
        ErrorCode::NoSuchAccount,
    );
    assert_refused(
        &device
            .delete(&format!("/v1/accounts/{}", "9".repeat(24)))
            .await,
        ErrorCode::NoSuchAccount,
    );
    assert_eq!(sb.admin().ledger().await, sb.opening);
    sb.assert_money_invariants().await;
    sb.stop().await;
}

#[tokio::test]
async fn signing_out_the_last_device_unlinks_it_and_forgets_the_persons_tokens() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    assert_eq!(
        sb.app()
            .store()
            .people_with_tokens()
            .await
            .expect("people")
            .len(),
        1
    );
    let (status, body) = device.post("/v1/sign-out", json!({})).await;
    assert_eq!(status, 204, "{body}");
    assert_refused(&device.get("/v1/me").await, ErrorCode::NotLinked);
    assert_refused(&device.get("/v1/accounts").await, ErrorCode::NotLinked);
    assert_refused(
        &device.post("/v1/sign-out", json!({})).await,
        ErrorCode::NotLinked,
    );
    assert!(
        sb.app()
            .store()
            .people_with_tokens()
            .await
            .expect("people")
            .is_empty(),
        "the person's tokens are forgotten"
    );
    // The device is still enrolled, and can register again.
    common::register(&device, 0).await;
    assert_eq!(device.accounts().await.len(), 4);
    sb.stop().await;
}

#[tokio::test]
async fn signing_out_one_of_two_devices_keeps_the_other_linked() {
    let sb = common::start().await;
    let laptop = sb.person(0).await;
    let desktop = sb.person(0).await;
    assert_eq!(laptop.post("/v1/sign-out", json!({})).await.0, 204);
    assert_refused(&laptop.get("/v1/me").await, ErrorCode::NotLinked);
    assert_eq!(desktop.get("/v1/me").await.0, 200);
    assert_eq!(desktop.accounts().await.len(), 4);
    let (_, lines) = desktop.ndjson(Method::POST, "/v1/balances").await;
    assert!(
        lines.iter().all(|l| l["outcome"]["state"] == "fresh"),
        "the person's tokens still work: {lines:?}"
    );
    sb.stop().await;
}

#[tokio::test]
async fn a_revoked_device_is_refused_as_unknown_device() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let (status, body) = device.delete("/v1/devices/current").await;
    assert_eq!(status, 204, "{body}");
    for answer in [
        device.get("/v1/me").await,
        device.get("/v1/banks").await,
        device.get("/v1/accounts").await,
        device.post("/v1/registrations", json!({})).await,
        device.delete("/v1/devices/current").await,
    ] {
        assert_refused(&answer, ErrorCode::UnknownDevice);
    }
    sb.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Garbage
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn malformed_json_on_every_post_route_is_a_bad_request() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let main = fin_at(&device.accounts().await, "004");
    let malformed: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        b"not json".to_vec(),
        b"null".to_vec(),
        b"42".to_vec(),
        b"\"text\"".to_vec(),
        b"{\"a\":}".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x7b],
        Vec::new(),
        // Over the body limit.
        format!("{{\"memo\":\"{}\"}}", "x".repeat(70 * 1024)).into_bytes(),
    ];
    let wrong_types = [
        (
            "/v1/registrations",
            vec![
                json!({"reconfirm": "yes"}),
                json!({"lang": "fr"}),
                json!([1, 2]),
            ],
        ),
        (
            "/v1/registrations/complete",
            vec![
                json!({}),
                json!({"callback_url": 5}),
                json!({"callback": "http://127.0.0.1/callback"}),
                json!([]),
            ],
        ),
        (
            "/v1/transfers/check",
            vec![
                json!({}),
                json!({"from": main, "amount": 1_000}),
                json!({"from": main, "to": {"kind": "moon"}, "amount": 1_000}),
                json!({"from": main, "to": {"kind": "own"}, "amount": 1_000}),
                json!({"from": 5, "to": {"kind": "own", "fintech_use_num": main}, "amount": 1}),
                json!({"from": main, "to": {"kind": "own", "fintech_use_num": main}, "amount": "1000"}),
                json!({"from": main, "to": {"kind": "own", "fintech_use_num": main}, "amount": 10.5}),
                json!({"from": main, "to": {"kind": "own", "fintech_use_num": main}, "amount": 1e30}),
                json!({"from": main, "to": {"kind": "own", "fintech_use_num": main}, "amount": 1, "memo": 7}),
            ],
        ),
    ];
    let key = [("idempotency-key", "malformed-0001")];
    for path in [
        "/v1/registrations",
        "/v1/registrations/complete",
        "/v1/transfers/check",
        "/v1/transfers",
    ] {
        for body in &malformed {
            let mut headers = device.auth_headers("POST", path);
            headers.extend(key.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
            let answer = device
                .raw(Method::POST, path, &headers, Some(body.clone()))
                .await;
            assert_refused(&answer, ErrorCode::BadRequest);
        }
        // Good JSON without its content type.
        let mut headers = device.auth_headers("POST", path);
        headers.extend(key.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        headers.push(("content-type".into(), "text/plain".into()));
        let answer = device
            .raw_text(Method::POST, path, &headers, Some(b"{}".to_vec()))
            .await;
        assert_eq!(answer.0, 400, "{path} without JSON: {}", answer.1);
    }
    for (path, bodies) in &wrong_types {
        for body in bodies {
            assert_refused(
                &device.post(path, body.clone()).await,
                ErrorCode::BadRequest,
            );
        }
    }
    for body in &wrong_types[2].1 {
        assert_refused(
            &device.transfer("wrong-types-0001", body).await,
            ErrorCode::BadRequest,
        );
    }
    assert_eq!(sb.admin().ledger().await, sb.opening, "nothing moved");
    sb.assert_money_invariants().await;
    sb.stop().await;
}

/// Every route of the router with a method it serves, ids filled in by `fin` and `id`.
fn routes(fin: &str, id: &str) -> Vec<(Method, String)> {
    vec![
        (Method::POST, "/v1/devices".into()),
        (Method::DELETE, "/v1/devices/current".into()),
        (Method::POST, "/v1/registrations".into()),
        (Method::POST, "/v1/registrations/complete".into()),
        (Method::GET, "/v1/me".into()),
        (Method::POST, "/v1/sign-out".into()),
        (Method::GET, "/v1/accounts".into()),
        (Method::DELETE, format!("/v1/accounts/{fin}")),
        (Method::GET, format!("/v1/accounts/{fin}/history")),
        (Method::GET, "/v1/banks".into()),
        (Method::POST, "/v1/balances".into()),
        (Method::POST, "/v1/recipients/real-name".into()),
        (Method::POST, "/v1/transfers/check".into()),
        (Method::POST, "/v1/transfers".into()),
        (Method::GET, "/v1/transfers".into()),
        (Method::GET, format!("/v1/transfers/{id}")),
        (Method::GET, format!("/v1/transfers/{id}/events")),
        (Method::GET, "/healthz".into()),
        (Method::GET, "/readyz".into()),
        (Method::GET, "/metrics".into()),
    ]
}

fn random_text(rng: &mut impl Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(rng.gen_range(0x20u8..0x7f)))
        .collect()
}

#[tokio::test]
async fn a_sweep_of_garbage_over_every_route_never_answers_a_server_error() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let main = fin_at(&device.accounts().await, "004");
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x6d6f61);

    let long = "9".repeat(5_000);
    let odd_ids = [
        "%00".to_owned(),
        "%2e%2e%2f%2e%2e".to_owned(),
        "%F0%9F%92%B8".to_owned(),
        "'%20OR%201=1--".to_owned(),
        long.clone(),
        main.clone(),
        uuid::Uuid::new_v4().to_string(),
    ];
    let mut bodies: Vec<Option<Vec<u8>>> = vec![None];
    for _ in 0..4 {
        let len = rng.gen_range(0..512);
        bodies.push(Some((0..len).map(|_| rng.r#gen::<u8>()).collect()));
    }
    for value in [
        json!(null),
        json!([]),
        json!({"from": main, "to": {"kind": "own", "fintech_use_num": main}, "amount": i64::MAX}),
        json!({"from": main, "to": {"kind": "external", "bank_code": "020", "account_num": "1"}, "amount": i64::MIN}),
        json!({"from": long, "to": {"kind": "own", "fintech_use_num": long}, "amount": 1, "memo": long}),
        json!({"callback_url": format!("http://127.0.0.1/callback?state={long}&code={long}")}),
        json!({"callback_url": "http://127.0.0.1/callback?error=access_denied"}),
        json!({"reconfirm": true, "lang": "en"}),
    ] {
        bodies.push(Some(serde_json::to_vec(&value).expect("serialises")));
    }

    // The routes that end something (the device, its link, an account) are swept last, by a
    // device of their own.
    let ends_something = |method: &Method, path: &str| {
        (*method == Method::DELETE && path == "/v1/devices/current")
            || (*method == Method::POST && path == "/v1/sign-out")
            || (*method == Method::DELETE && path == format!("/v1/accounts/{main}"))
    };
    let mut cases: Vec<(Method, String, Option<Vec<u8>>)> = Vec::new();
    for (method, path) in routes(&main, &uuid::Uuid::new_v4().to_string()) {
        for body in &bodies {
            cases.push((method.clone(), path.clone(), body.clone()));
        }
    }
    for id in &odd_ids {
        for (method, path) in routes(id, id)
            .into_iter()
            .filter(|(_, path)| path.contains(id.as_str()))
        {
            for body in [&bodies[0], &bodies[1], &bodies[bodies.len() - 3]] {
                cases.push((method.clone(), path.clone(), body.clone()));
            }
        }
    }
    // Revoking comes last, so the other routes that end something meet a live device.
    cases.sort_by_key(|(method, path, _)| {
        *method == Method::DELETE && path == "/v1/devices/current"
    });
    let mut asked = 0;
    let last_device = sb.enrolled().await;
    for (method, path, body) in &cases {
        // As a device of the person, then as nobody with garbage headers.
        let sender = if ends_something(method, path) {
            &last_device
        } else {
            &device
        };
        let mut headers = sender.auth_headers(method.as_str(), path);
        headers.push(("idempotency-key".into(), format!("sweep-{asked:08}")));
        let (status, text) = sender
            .raw_text(method.clone(), path, &headers, body.clone())
            .await;
        assert!(status < 500, "{method} {path}: {status} {text}");
        let garbage = vec![
            (
                "authorization".into(),
                format!("DPoP {}", random_text(&mut rng, 40)),
            ),
            ("dpop".into(), random_text(&mut rng, 300)),
            ("idempotency-key".into(), random_text(&mut rng, 20)),
        ];
        let (status, text) = device
            .raw_text(method.clone(), path, &garbage, body.clone())
            .await;
        assert!(status < 500, "{method} {path} as nobody: {status} {text}");
        asked += 2;
    }
    // Cursors and dates of any text: the history's query is the app's to get wrong.
    for _ in 0..12 {
        let len = rng.gen_range(1..40);
        let cursor = random_text(&mut rng, len);
        let from = random_text(&mut rng, 10);
        for (from, to) in [
            (
                (today() - TimeDelta::days(30)).to_string(),
                today().to_string(),
            ),
            (from, today().to_string()),
        ] {
            let path = history_path(&main, &from, &to, Some(&cursor));
            let (status, text) = device.send_text(Method::GET, &path, &[], None).await;
            assert!(status < 500, "GET {path}: {status} {text}");
        }
    }
    // Methods no route serves, and paths no route has.
    for (method, path) in [
        (Method::PUT, "/v1/transfers".to_owned()),
        (Method::PATCH, "/v1/me".to_owned()),
        (Method::DELETE, "/v1/banks".to_owned()),
        (Method::GET, "/v1/nothing-here".to_owned()),
        (Method::GET, format!("/v1/{long}")),
        (Method::OPTIONS, "/v1/devices".to_owned()),
    ] {
        let headers = device.auth_headers(method.as_str(), &path);
        let (status, text) = device.raw_text(method.clone(), &path, &headers, None).await;
        assert!(status < 500, "{method} {path}: {status} {text}");
    }
    assert!(asked > 400, "{asked} requests");

    // Still healthy, still the same person, and no money moved.
    assert_eq!(device.get("/healthz").await.0, 200);
    assert_eq!(device.accounts().await.len(), 4);
    assert_eq!(sb.admin().ledger().await, sb.opening, "nothing moved");
    sb.assert_money_invariants().await;
    sb.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Device authentication under attack
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_request_without_a_proof_or_token_is_refused() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let token = device.token().to_owned();
    let proof = || device.proof("GET", "/v1/me");
    for (headers, expected) in [
        // A token and no proof.
        (
            vec![("authorization".to_owned(), format!("DPoP {token}"))],
            ErrorCode::BadProof,
        ),
        // A proof and no token.
        (vec![("dpop".to_owned(), proof())], ErrorCode::UnknownDevice),
        // A token nobody was given.
        (
            vec![
                ("authorization".to_owned(), "DPoP not-a-token".to_owned()),
                ("dpop".to_owned(), proof()),
            ],
            ErrorCode::UnknownDevice,
        ),
        // The token as a bearer token: worthless without its proof.
        (
            vec![
                ("authorization".to_owned(), format!("Bearer {token}")),
                ("dpop".to_owned(), proof()),
            ],
            ErrorCode::UnknownDevice,
        ),
        // A proof that does not name the token (no `ath`).
        (
            vec![
                ("authorization".to_owned(), format!("DPoP {token}")),
                (
                    "dpop".to_owned(),
                    device.proof_at("GET", &device.url("/v1/me"), None, Utc::now()),
                ),
            ],
            ErrorCode::BadProof,
        ),
        // A proof whose signature was tampered with.
        (
            vec![
                ("authorization".to_owned(), format!("DPoP {token}")),
                ("dpop".to_owned(), {
                    // A character in the middle of the signature, changed.
                    let mut p: Vec<char> = proof().chars().collect();
                    let at = p.len() - 20;
                    p[at] = if p[at] == 'A' { 'B' } else { 'A' };
                    p.into_iter().collect()
                }),
            ],
            ErrorCode::BadProof,
        ),
        (Vec::new(), ErrorCode::UnknownDevice),
    ] {
        let answer = device.raw(Method::GET, "/v1/me", &headers, None).await;
        assert_refused(&answer, expected);
    }
    assert_eq!(device.get("/v1/me").await.0, 200);
    sb.stop().await;
}

#[tokio::test]
async fn a_stolen_token_used_with_another_key_is_refused_and_moves_nothing() {
    let sb = common::start().await;
    let victim = sb.person(0).await;
    let accounts = victim.accounts().await;
    let body = own_transfer(&fin_at(&accounts, "004"), &fin_at(&accounts, "088"), 10_000);
    // A thief with a key of their own, enrolled or not, and the victim's token.
    let enrolled_thief = sb.enrolled().await;
    for key in [
        DeviceKey::generate().expect("a key"),
        DeviceKey::from_pkcs8(enrolled_thief.key.pkcs8()).expect("the thief's key"),
    ] {
        let thief = victim.with_key(key);
        assert_refused(&thief.get("/v1/me").await, ErrorCode::BadProof);
        assert_refused(&thief.get("/v1/accounts").await, ErrorCode::BadProof);
        assert_refused(
            &thief.transfer("stolen-token-01", &body).await,
            ErrorCode::BadProof,
        );
        assert_refused(
            &thief.delete("/v1/devices/current").await,
            ErrorCode::BadProof,
        );
    }
    // The victim is untouched.
    assert_eq!(victim.get("/v1/me").await.0, 200);
    let (_, list) = victim.get("/v1/transfers").await;
    assert_eq!(list, json!([]));
    assert_eq!(sb.admin().ledger().await, sb.opening, "nothing moved");
    sb.assert_money_invariants().await;
    sb.stop().await;
}

#[tokio::test]
async fn a_replayed_proof_is_refused_as_proof_replayed() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let headers = device.auth_headers("GET", "/v1/me");
    assert_eq!(
        device.raw(Method::GET, "/v1/me", &headers, None).await.0,
        200
    );
    assert_refused(
        &device.raw(Method::GET, "/v1/me", &headers, None).await,
        ErrorCode::ProofReplayed,
    );

    // A transfer's request replayed with another key: the proof is spent, nothing new is made.
    let accounts = device.accounts().await;
    let body = serde_json::to_vec(&own_transfer(
        &fin_at(&accounts, "004"),
        &fin_at(&accounts, "088"),
        7_000,
    ))
    .expect("serialises");
    let mut headers = device.auth_headers("POST", "/v1/transfers");
    headers.push(("idempotency-key".into(), "replayed-key-001".into()));
    let (status, created) = device
        .raw(Method::POST, "/v1/transfers", &headers, Some(body.clone()))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("an id").to_owned();
    let last = headers.len() - 1;
    headers[last].1 = "replayed-key-002".into();
    assert_refused(
        &device
            .raw(Method::POST, "/v1/transfers", &headers, Some(body))
            .await,
        ErrorCode::ProofReplayed,
    );
    assert_eq!(device.wait_final(&id).await.state, TransferState::Completed);
    let (_, list) = device.get("/v1/transfers").await;
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(1),
        "one transfer: {list}"
    );
    sb.assert_money_invariants().await;
    sb.stop().await;
}

#[tokio::test]
async fn a_proof_stays_spent_across_a_restart_of_the_server() {
    let sb = common::start().await;
    let mut device = sb.person(0).await;
    let headers = device.auth_headers("GET", "/v1/me");
    assert_eq!(
        device.raw(Method::GET, "/v1/me", &headers, None).await.0,
        200
    );
    let sb = sb.restart(common::options()).await;
    device.follow(&sb);
    assert_refused(
        &device.raw(Method::GET, "/v1/me", &headers, None).await,
        ErrorCode::ProofReplayed,
    );
    // The device, its link and the person's tokens survived too.
    assert_eq!(device.get("/v1/me").await.0, 200);
    let (_, lines) = device.ndjson(Method::POST, "/v1/balances").await;
    assert!(
        lines.iter().all(|l| l["outcome"]["state"] == "fresh"),
        "{lines:?}"
    );
    sb.stop().await;
}

#[tokio::test]
async fn a_device_over_its_rate_is_refused_as_rate_limited() {
    let mut options = common::options();
    options.rate_per_second = 1;
    let sb = common::start_with(options).await;
    let device = sb.enrolled().await;
    // A burst of two, then one a second: well before twenty requests, one is refused.
    let first = device.get("/v1/banks").await;
    assert_eq!(first.0, 200, "{}", first.1);
    let mut refused = None;
    for _ in 0..20 {
        let answer = device.get("/v1/banks").await;
        if answer.0 != 200 {
            refused = Some(answer);
            break;
        }
    }
    assert_refused(
        &refused.expect("a request over the rate is refused"),
        ErrorCode::RateLimited,
    );
    // Another device has its own budget.
    assert_eq!(sb.enrolled().await.get("/v1/banks").await.0, 200);
    sb.stop().await;
}

#[tokio::test]
async fn a_proof_too_old_or_from_the_future_is_refused() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let url = device.url("/v1/me");
    let at = |offset: TimeDelta| {
        vec![
            (
                "authorization".to_owned(),
                format!("DPoP {}", device.token()),
            ),
            (
                "dpop".to_owned(),
                device.proof_at("GET", &url, Some(device.token()), Utc::now() + offset),
            ),
        ]
    };
    for offset in [
        TimeDelta::minutes(-5),
        TimeDelta::minutes(5),
        TimeDelta::days(-400),
        TimeDelta::days(365),
    ] {
        assert_refused(
            &device.raw(Method::GET, "/v1/me", &at(offset), None).await,
            ErrorCode::BadProof,
        );
    }
    // A little skew either way is a clock, not an attack.
    for offset in [TimeDelta::seconds(-30), TimeDelta::seconds(30)] {
        assert_eq!(
            device.raw(Method::GET, "/v1/me", &at(offset), None).await.0,
            200
        );
    }
    sb.stop().await;
}

#[tokio::test]
async fn a_proof_for_another_url_or_method_is_refused() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let token = device.token().to_owned();
    let port = device.url("/").port().expect("a port");
    let other_urls = [
        device.url("/v1/accounts"),
        device.url("/v1/me/"),
        device.url("/v2/me"),
        url::Url::parse(&format!("http://localhost:{port}/v1/me")).expect("a URL"),
        url::Url::parse(&format!("http://127.0.0.1:{}/v1/me", port + 1)).expect("a URL"),
        url::Url::parse(&format!("https://127.0.0.1:{port}/v1/me")).expect("a URL"),
    ];
    for url in &other_urls {
        let headers = vec![
            ("authorization".to_owned(), format!("DPoP {token}")),
            (
                "dpop".to_owned(),
                device.proof_at("GET", url, Some(&token), Utc::now()),
            ),
        ];
        assert_refused(
            &device.raw(Method::GET, "/v1/me", &headers, None).await,
            ErrorCode::BadProof,
        );
    }
    for method in ["POST", "DELETE", "get", "HEAD"] {
        let headers = vec![
            ("authorization".to_owned(), format!("DPoP {token}")),
            (
                "dpop".to_owned(),
                device.proof_at(method, &device.url("/v1/me"), Some(&token), Utc::now()),
            ),
        ];
        assert_refused(
            &device.raw(Method::GET, "/v1/me", &headers, None).await,
            ErrorCode::BadProof,
        );
    }
    // A proof for a transfer's check used to make the transfer.
    let accounts = device.accounts().await;
    let body = serde_json::to_vec(&own_transfer(
        &fin_at(&accounts, "004"),
        &fin_at(&accounts, "088"),
        1_000,
    ))
    .expect("serialises");
    let mut headers = device.auth_headers("POST", "/v1/transfers/check");
    headers.push(("idempotency-key".into(), "wrong-url-0001".into()));
    assert_refused(
        &device
            .raw(Method::POST, "/v1/transfers", &headers, Some(body))
            .await,
        ErrorCode::BadProof,
    );
    assert_eq!(sb.admin().ledger().await, sb.opening, "nothing moved");
    sb.assert_money_invariants().await;
    sb.stop().await;
}

#[tokio::test]
async fn one_persons_device_can_neither_read_nor_move_anothers_money() {
    let sb = common::start().await;
    let owner = sb.person(0).await;
    let other = sb.person(1).await;
    let owner_accounts = owner.accounts().await;
    let other_accounts = other.accounts().await;
    let (main, spending) = (
        fin_at(&owner_accounts, "004"),
        fin_at(&owner_accounts, "088"),
    );
    let others_main = fin_at(&other_accounts, "020");
    assert!(
        other_accounts.iter().all(|a| owner_accounts
            .iter()
            .all(|b| a.fintech_use_num != b.fintech_use_num)),
        "each sees only their own accounts"
    );

    let body = own_transfer(&main, &spending, 3_000);
    let key = "owner-transfer-01";
    let (status, created) = owner.transfer(key, &body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("an id").to_owned();
    owner.wait_final(&id).await;
    let before = sb.admin().ledger().await;

    let (from, to) = (
        (today() - TimeDelta::days(30)).to_string(),
        today().to_string(),
    );
    let into_owners = own_transfer(&others_main, &main, 1_000);
    let answers = [
        (
            other.get(&history_path(&main, &from, &to, None)).await,
            ErrorCode::NoSuchAccount,
        ),
        (
            other.delete(&format!("/v1/accounts/{main}")).await,
            ErrorCode::NoSuchAccount,
        ),
        (
            other.post("/v1/transfers/check", body.clone()).await,
            ErrorCode::NoSuchAccount,
        ),
        (
            other.transfer("others-attempt-1", &body).await,
            ErrorCode::NoSuchAccount,
        ),
        // The owner's key and body: keys are per person, so this is the other's own request,
        // which names an account that is not theirs.
        (other.transfer(key, &body).await, ErrorCode::NoSuchAccount),
        // From their own account into the owner's, as if it were theirs.
        (
            other.transfer("others-attempt-2", &into_owners).await,
            ErrorCode::NoSuchAccount,
        ),
        (
            other.get(&format!("/v1/transfers/{id}")).await,
            ErrorCode::NoSuchTransfer,
        ),
        (
            other.get(&format!("/v1/transfers/{id}/events")).await,
            ErrorCode::NoSuchTransfer,
        ),
    ];
    for (answer, expected) in &answers {
        assert_refused(answer, *expected);
    }
    let (_, list) = other.get("/v1/transfers").await;
    assert_eq!(
        list,
        json!([]),
        "the other sees none of the owner's transfers"
    );
    let (_, lines) = other.ndjson(Method::POST, "/v1/balances").await;
    assert_eq!(lines.len(), other_accounts.len());
    assert!(
        lines.iter().all(|l| other_accounts
            .iter()
            .any(|a| l["fintech_use_num"] == a.fintech_use_num.as_str())),
        "balances are the other's own: {lines:?}"
    );

    assert_eq!(sb.admin().ledger().await, before, "nothing moved");
    assert_eq!(
        owner.accounts().await.len(),
        4,
        "the owner keeps every account"
    );
    sb.assert_money_invariants().await;
    sb.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Operators
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn health_and_readiness_answer_200_without_a_device() {
    let sb = common::start().await;
    let device = sb.device();
    assert_eq!(
        device.raw_text(Method::GET, "/healthz", &[], None).await,
        (200, "ok".to_owned())
    );
    assert_eq!(
        device.raw_text(Method::GET, "/readyz", &[], None).await,
        (200, "ready".to_owned())
    );
    assert_refused(
        &device.raw(Method::GET, "/nowhere", &[], None).await,
        ErrorCode::BadRequest,
    );
    sb.stop().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_transfers_by_state() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let accounts = device.accounts().await;
    let main = fin_at(&accounts, "004");
    let (status, created) = device
        .transfer(
            "metrics-key-0001",
            &own_transfer(&main, &fin_at(&accounts, "088"), 1_000),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    device
        .wait_final(created["id"].as_str().expect("an id"))
        .await;
    assert_refused(
        &device.get("/v1/transfers/nope").await,
        ErrorCode::NoSuchTransfer,
    );

    let (status, text) = device.raw_text(Method::GET, "/metrics", &[], None).await;
    assert_eq!(status, 200);
    for expected in [
        "# TYPE moa_http_requests_total counter",
        "moa_http_requests_total{route=\"/v1/transfers\",method=\"POST\",status=\"201\"} 1",
        "moa_http_requests_total{route=\"/v1/transfers/{id}\",method=\"GET\",status=\"404\"} 1",
        "moa_http_requests_total{route=\"/v1/devices\",method=\"POST\",status=\"201\"} 1",
        "# TYPE moa_transfers gauge",
        "moa_transfers{state=\"completed\"} 1",
    ] {
        assert!(text.contains(expected), "metrics lack {expected}:\n{text}");
    }
    // Labels are routes, never paths: no id or account number leaks into them.
    assert!(!text.contains(&main), "{text}");
    assert!(!text.contains("nope"), "{text}");
    sb.assert_money_invariants().await;
    sb.stop().await;
}

// ---------------------------------------------------------------------------------------------
// What the server leaves on disk
// ---------------------------------------------------------------------------------------------

/// The server's own files in the sandbox's folder (not the center's).
const SERVER_FILES: [&str; 4] = [
    "moa-server.db",
    "moa-server.db-wal",
    "moa-server.db-shm",
    "moa-server.db.lock",
];

#[tokio::test]
async fn no_token_or_secret_reaches_the_servers_files_which_are_private() {
    let sb = common::start().await;
    let device = sb.person(0).await;
    let accounts = device.accounts().await;
    let (status, created) = device
        .transfer(
            "secrets-key-0001",
            &own_transfer(&fin_at(&accounts, "004"), &fin_at(&accounts, "088"), 2_000),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let done = device
        .wait_final(created["id"].as_str().expect("an id"))
        .await;
    assert_eq!(done.state, TransferState::Completed);

    // The secrets as the server holds them in memory.
    let app = sb.app();
    let people = app.store().people_with_tokens().await.expect("people");
    assert_eq!(people.len(), 1);
    let token = app
        .center()
        .token(people[0])
        .await
        .expect("the token opens")
        .expect("the person has a token");
    let oob = app.center().oob_token().await.expect("the oob token");
    let mut secrets = vec![
        (
            "access token",
            token.access_token.expose_secret().to_owned(),
        ),
        (
            "refresh token",
            token
                .refresh_token
                .as_ref()
                .expect("a refresh token")
                .expose_secret()
                .to_owned(),
        ),
        ("oob token", oob.expose_secret().to_owned()),
        (
            "client secret",
            sb.manifest().institutions[0].client_secret.clone(),
        ),
        ("device token", device.token().to_owned()),
    ];
    // A JWT's claims and signature each give it away alone.
    let parts: Vec<(&str, String)> = secrets
        .iter()
        .filter(|(name, _)| name.ends_with("token") && *name != "device token")
        .flat_map(|(name, value)| {
            value
                .split('.')
                .skip(1)
                .filter(|p| p.len() >= 16)
                .map(|p| (*name, p.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect();
    secrets.extend(parts);
    for (name, value) in &secrets {
        assert!(value.len() >= 16, "{name} is long enough to search for");
    }

    // On PostgreSQL, every row of every table, as text (bytes in hex).
    if let Some(Database::Postgres(url)) = sb.database() {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("the server's database answers");
        tokio::spawn(connection);
        let tables = client
            .query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
                &[],
            )
            .await
            .expect("the tables are listed");
        assert!(tables.len() >= 8, "every table is scanned");
        for table in tables {
            let table: String = table.get(0);
            let rows = client
                .query(&format!("SELECT t::text FROM {table} t"), &[])
                .await
                .expect("the table reads");
            for row in rows {
                let text: String = row.get(0);
                for (name, value) in &secrets {
                    assert!(!text.contains(value.as_str()), "the {name} is in {table}");
                }
            }
        }
    }
    let mut scanned = 0;
    for file in SERVER_FILES {
        let path = sb.dir.path().join(file);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        scanned += 1;
        for (name, value) in &secrets {
            assert!(
                !bytes.windows(value.len()).any(|w| w == value.as_bytes()),
                "the {name} is in {file}"
            );
        }
    }
    if sb.database().is_none() {
        assert!(scanned >= 2, "the database and its lock were scanned");
    }

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &std::path::Path| {
            std::fs::metadata(path)
                .expect("the file exists")
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode(sb.dir.path()), 0o700, "the folder is private");
        for file in SERVER_FILES.iter().chain(["sealing.key"].iter()) {
            let path = sb.dir.path().join(file);
            if path.exists() {
                assert_eq!(mode(&path), 0o600, "{file} is private");
            }
        }
    }
    sb.assert_money_invariants().await;
    sb.stop().await;
}
