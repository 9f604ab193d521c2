//! Sync through the sandbox's moa-server and its center, timed.
//!
//! (a) A balance refresh of 20 accounts at 8 banks that each take 150 ms to answer, asked of the
//!     server in one request whose answers stream back: the wall time as a multiple of one
//!     call's latency (the goal is at most 1.3×), next to the same refresh through a server that
//!     asks one account after another.
//! (b) The first history sync of one account with 10,000 rows: seconds and rows per second, with
//!     the sandbox's usual 3 ms per bank call and with none.
//!
//! `cargo bench -p moa-core --bench sync`. The person's accounts and the rows are added through
//! the testbed's admin API, since the demo seed has at most six accounts per person.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use moa_core::Moa;
use moa_openbanking::Lang;
use serde_json::{Value, json};

const LATENCY_MS: u64 = 150;
const BANKS: [&str; 8] = ["004", "088", "020", "081", "003", "011", "090", "092"];
const ACCOUNTS: usize = 20;
const HISTORY_ROWS: u32 = 10_000;

/// The sandbox's admin API, answering JSON.
async fn admin(moa: &Moa, method: reqwest::Method, path: &str, body: Value) -> Value {
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

/// Opens an account for demo person 0 at `bank`; its number.
async fn open_account(moa: &Moa, bank: &str, balance: i64) -> String {
    let (_, manifest) = moa.sandbox().await.expect("the sandbox runs");
    let cell_no = &manifest.users[0].cell_no;
    let opened = admin(
        moa,
        reqwest::Method::POST,
        &format!("/testbed/admin/people/{cell_no}/accounts"),
        json!({ "bank_code_std": bank, "balance": balance }),
    )
    .await;
    opened["account_num"]
        .as_str()
        .expect("an account number")
        .to_owned()
}

/// Registers person 0's `accounts` with Moa: Moa's own authorize URL (its `state` and PKCE
/// challenge), answered by the sandbox's shortcut instead of the pages, and the callback handed
/// back to Moa.
async fn register(moa: &Moa, accounts: &[(String, String)]) {
    let (base, manifest) = moa.sandbox().await.expect("the sandbox runs");
    let start = moa
        .begin_registration(false, Lang::Ko)
        .await
        .expect("a registration starts");
    let url = url::Url::parse(&start.url).expect("a URL");
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let institution = &manifest.institutions[0];
    let answer: Value = reqwest::Client::new()
        .post(format!("{base}/testbed/sandbox/authorize"))
        .json(&json!({
            "client_id": institution.client_id,
            "client_secret": institution.client_secret,
            "redirect_uri": start.redirect_uri,
            "scope": "login inquiry transfer",
            "state": param("state"),
            "code_challenge": param("code_challenge"),
            "cell_no": manifest.users[0].cell_no,
            "accounts": accounts.iter()
                .map(|(bank, number)| json!({ "bank_code_std": bank, "account_num": number }))
                .collect::<Vec<_>>(),
            "inquiry_agree": "Y",
            "transfer_agree": "Y",
        }))
        .send()
        .await
        .expect("the shortcut answers")
        .json()
        .await
        .expect("JSON");
    let mut callback = url::Url::parse(&start.redirect_uri).expect("a URL");
    callback
        .query_pairs_mut()
        .append_pair("code", answer["code"].as_str().expect("a code"))
        .append_pair("scope", "inquiry login transfer")
        .append_pair("state", &param("state"));
    moa.complete_registration(callback.as_str())
        .await
        .expect("the registration completes");
}

async fn set_latency(moa: &Moa, bank: &str, ms: Option<u64>) {
    admin(
        moa,
        reqwest::Method::PUT,
        &format!("/testbed/admin/banks/{bank}"),
        json!({ "latency_ms": ms }),
    )
    .await;
}

/// One refresh: its wall time; every account must answer.
async fn refresh(moa: &Moa) -> Duration {
    let started = Instant::now();
    let summary = moa.refresh_balances(None).await.expect("a refresh");
    let elapsed = started.elapsed();
    assert_eq!(summary.fresh, ACCOUNTS, "{summary:?}");
    elapsed
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// Registers demo person 0 with `ACCOUNTS` accounts at the eight banks, each bank then
/// answering in `LATENCY_MS`.
async fn twenty_accounts(moa: &Moa) {
    let mut accounts = Vec::new();
    for i in 0..ACCOUNTS {
        let bank = BANKS[i % BANKS.len()];
        let number = open_account(moa, bank, 100_000 + i as i64 * 1_000).await;
        accounts.push((bank.to_owned(), number));
    }
    register(moa, &accounts).await;
    for bank in BANKS {
        set_latency(moa, bank, Some(LATENCY_MS)).await;
    }
}

async fn balances(moa: &Moa, one_by_one: &Moa) {
    twenty_accounts(moa).await;
    // Connections, tokens and bank_tran_id blocks are set up once, as in the running app.
    refresh(moa).await;
    let mut runs = Vec::new();
    for _ in 0..7 {
        runs.push(refresh(moa).await);
    }
    let concurrent = median(runs);
    twenty_accounts(one_by_one).await;
    refresh(one_by_one).await;
    let sequential = refresh(one_by_one).await;
    for bank in BANKS {
        set_latency(moa, bank, None).await;
        set_latency(one_by_one, bank, None).await;
    }

    let latency = LATENCY_MS as f64;
    let defaults = moa_server::sync::SyncLimits::default();
    println!(
        "(a) balance refresh through the server, {ACCOUNTS} accounts at {} banks, \
         {LATENCY_MS} ms per bank call",
        BANKS.len()
    );
    println!(
        "    server defaults ({} per bank, {} overall), median of 7: {:>7.0} ms = {:.2}x one call",
        defaults.per_bank,
        defaults.overall,
        ms(concurrent),
        ms(concurrent) / latency
    );
    println!(
        "    a server asking one after another:                  {:>7.0} ms = {:.2}x one call \
         ({:.1}x the defaults)",
        ms(sequential),
        ms(sequential) / latency,
        ms(sequential) / ms(concurrent)
    );
}

async fn history(moa: &Moa, bank: &str, latency: Option<u64>) {
    let number = open_account(moa, bank, 1_000_000).await;
    let today = moa.clock().today_kst();
    let from = today - chrono::TimeDelta::days(300);
    admin(
        moa,
        reqwest::Method::POST,
        &format!("/testbed/admin/accounts/{bank}/{number}/history"),
        json!({ "rows": HISTORY_ROWS, "from_date": from.format("%Y%m%d").to_string() }),
    )
    .await;
    register(moa, &[(bank.to_owned(), number)]).await;
    set_latency(moa, bank, latency).await;
    let env = moa.environment().await.expect("an environment");
    let account = moa
        .store()
        .accounts(env.id)
        .expect("accounts")
        .into_iter()
        .find(|a| a.details.bank_code == bank)
        .expect("the account is registered");

    let started = Instant::now();
    let first = moa.sync_history(account.id).await.expect("a history sync");
    let took = started.elapsed();
    assert_eq!(
        (first.inserted, first.gaps, first.truncated),
        (HISTORY_ROWS as usize, 0, false)
    );
    let started = Instant::now();
    let again = moa.sync_history(account.id).await.expect("a history sync");
    let again_took = started.elapsed();
    assert_eq!(again.inserted, 0);

    let per_call = match latency {
        Some(ms) => format!("{ms} ms"),
        None => format!("{} ms (default)", moa_testbed::DEFAULT_LATENCY.as_millis()),
    };
    println!(
        "    {per_call:>16} per bank call: first sync {:.2} s = {:.0} rows/s, {} pages; \
         re-sync {:.0} ms ({} rows of overlap, {} pages)",
        took.as_secs_f64(),
        f64::from(HISTORY_ROWS) / took.as_secs_f64(),
        first.pages,
        ms(again_took),
        again.known,
        again.pages
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let dir = common::DataDir::new("bench-sync");
        let vault = std::sync::Arc::new(moa_core::MemoryVault::new());
        let mut options = common::options(&dir, vault);
        // The app's own sandbox latency, so the history figures are what a person would see.
        options.sandbox_latency = moa_testbed::DEFAULT_LATENCY;
        let moa = Moa::open(options).await.expect("Moa opens");
        // The same, through a server that asks one account at a time.
        let slow_dir = common::DataDir::new("bench-sync-sequential");
        let mut slow =
            common::options(&slow_dir, std::sync::Arc::new(moa_core::MemoryVault::new()));
        slow.sandbox_server.sync = moa_server::sync::SyncLimits {
            per_bank: 1,
            overall: 1,
            ..moa_server::sync::SyncLimits::default()
        };
        let one_by_one = Moa::open(slow).await.expect("Moa opens");

        balances(&moa, &one_by_one).await;
        one_by_one.close().await;
        println!("(b) history sync of one account with {HISTORY_ROWS} rows (25 a page)");
        history(&moa, "023", None).await;
        history(&moa, "027", Some(0)).await;
        moa.close().await;
    });
}
