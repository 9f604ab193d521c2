//! What the core's tests share: a Moa on a fresh data folder with an in-memory vault and the
//! sandbox (an in-process moa-server whose center is the testbed), a person who goes through
//! the center's consent pages like a browser, the testbed's admin API, and the money auditor
//! every test that moves money runs at its end.
#![allow(dead_code)] // Each test binary uses its own part.
#![allow(clippy::unwrap_used)] // Test support: a failure here is a failed test.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use moa_core::{MemoryVault, Moa, Options};
use moa_openbanking::Lang;
use reqwest::Method;
use serde_json::Value;

/// A data folder removed when dropped.
pub struct DataDir(pub PathBuf);

impl DataDir {
    pub fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("moa-core-{name}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path).expect("data folder");
        Self(path)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Options for tests: no keyring, no injected bank latency, and a server whose unknown
/// transfer outcomes are settled without long waits.
pub fn options(dir: &DataDir, vault: Arc<MemoryVault>) -> Options {
    let mut options = Options::new(&dir.0);
    options.vault = vault;
    options.sandbox_latency = Duration::ZERO;
    options.sandbox_server.settle.first_delay = Duration::from_millis(20);
    options
}

pub async fn open(dir: &DataDir) -> (Moa, Arc<MemoryVault>) {
    let vault = Arc::new(MemoryVault::new());
    let moa = Moa::open(options(dir, vault.clone()))
        .await
        .expect("Moa opens");
    (moa, vault)
}

fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in the page"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn element_text(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in the page"))
        + marker.len();
    html[start..]
        .split('<')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// What a person does on the consent pages.
pub enum Choice {
    /// Agree, registering the accounts at these indexes of the manifest's person.
    Agree(Vec<usize>),
    /// Refuse.
    Refuse,
}

/// Follows the consent pages from `url` as demo person `person` would, and returns the URL the
/// pages redirect to (the callback).
pub async fn consent(moa: &Moa, url: &str, person: usize, choice: Choice) -> String {
    let (base, manifest) = moa.sandbox().await.expect("the sandbox runs");
    consent_at(&base, &manifest, url, person, choice).await
}

/// [`consent`] on the pages of the center at `base`, whose manifest is `manifest`.
pub async fn consent_at(
    base: &str,
    manifest: &moa_testbed::Manifest,
    url: &str,
    person: usize,
    choice: Choice,
) -> String {
    let who = &manifest.users[person];
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(url).send().await.unwrap().text().await.unwrap();
    let session = field(&page, "session");
    let page = http
        .post(format!("{base}/oauth/2.0/authorize/identity"))
        .form(&[
            ("session", session.as_str()),
            ("user_name", &who.user_name),
            ("birth_date", &who.birth_date),
            ("cell_no", &who.cell_no),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let otp = element_text(&page, "testbed-otp");
    http.post(format!("{base}/oauth/2.0/authorize/otp"))
        .form(&[("session", session.as_str()), ("otp", &otp)])
        .send()
        .await
        .unwrap();
    let mut form: Vec<(String, String)> = vec![("session".into(), session.clone())];
    match choice {
        Choice::Refuse => form.push(("action".into(), "refuse".into())),
        Choice::Agree(accounts) => {
            for i in accounts {
                let a = &who.accounts[i];
                form.push((
                    "account".into(),
                    format!("{}-{}", a.bank_code_std, a.account_num),
                ));
            }
            for name in [
                "inquiry_agree",
                "transfer_agree",
                "terms_service",
                "terms_privacy",
            ] {
                form.push((name.into(), "Y".into()));
            }
            form.push(("action".into(), "agree".into()));
        }
    }
    let answer = http
        .post(format!("{base}/oauth/2.0/authorize/consent"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status(),
        reqwest::StatusCode::FOUND,
        "the pages end with a redirect"
    );
    answer.headers()["location"].to_str().unwrap().to_owned()
}

/// Registers `accounts` of demo person `person` through the pages; returns the registration.
pub async fn register(
    moa: &Moa,
    person: usize,
    accounts: &[usize],
) -> moa_core::registration::Registered {
    let start = moa
        .begin_registration(false, Lang::Ko)
        .await
        .expect("a registration starts");
    let callback = consent(moa, &start.url, person, Choice::Agree(accounts.to_vec())).await;
    assert!(callback.starts_with(&start.redirect_uri), "{callback}");
    moa.complete_registration(&callback)
        .await
        .expect("the registration completes")
}

/// The sandbox center's admin API; its JSON answer (`null` when it has none).
pub async fn admin(moa: &Moa, method: Method, path: &str, body: Value) -> Value {
    let (base, manifest) = moa.sandbox().await.expect("the sandbox runs");
    let mut request = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(&manifest.admin_token);
    if !body.is_null() {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the admin API answers");
    let status = response.status();
    let text = response.text().await.expect("the admin answer is read");
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Sets a bank's status or latency (`{"status": "D"}`, `{"latency_ms": 500}`).
pub async fn set_bank(moa: &Moa, bank: &str, body: Value) {
    admin(
        moa,
        Method::PUT,
        &format!("/testbed/admin/banks/{bank}"),
        body,
    )
    .await;
}

/// Every balance the center holds, read in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    /// The center's sum of every balance.
    pub total: i64,
    /// The smallest balance, as the center reports it.
    pub min_balance: i64,
    /// Every account's balance, by bank code and account number.
    pub balances: HashMap<(String, String), i64>,
}

impl Ledger {
    /// The balance of `account_num` at `bank`.
    pub fn balance(&self, bank: &str, account_num: &str) -> i64 {
        *self
            .balances
            .get(&(bank.to_owned(), account_num.to_owned()))
            .unwrap_or_else(|| panic!("no account {bank}-{account_num} in the ledger"))
    }

    /// How each account that changed moved since `before`.
    pub fn changes_since(&self, before: &Ledger) -> Vec<((String, String), i64)> {
        let mut changes: Vec<_> = self
            .balances
            .iter()
            .filter_map(|(k, v)| {
                let moved = v - before.balances.get(k).copied().unwrap_or(0);
                (moved != 0).then(|| (k.clone(), moved))
            })
            .collect();
        changes.sort();
        changes
    }
}

/// The center's ledger now.
pub async fn ledger(moa: &Moa) -> Ledger {
    let ledger = admin(moa, Method::GET, "/testbed/admin/ledger", Value::Null).await;
    let balances = ledger["accounts"]
        .as_array()
        .expect("the ledger lists accounts")
        .iter()
        .map(|a| {
            (
                (
                    a["bank_code_std"].as_str().expect("bank code").to_owned(),
                    a["account_num"]
                        .as_str()
                        .expect("account number")
                        .to_owned(),
                ),
                a["balance"].as_i64().expect("balance"),
            )
        })
        .collect();
    Ledger {
        total: ledger["total"].as_i64().expect("the ledger's total"),
        min_balance: ledger["min_balance"]
            .as_i64()
            .expect("the ledger's minimum"),
        balances,
    }
}

/// The auditor, run at the end of every test that moves money: against the ledger `opening`
/// read before the test moved any, the total of all balances is unchanged and no balance is
/// below zero; every transfer the center applied wrote two postings that sum to zero, every
/// refused one none; and no `bank_tran_id` was applied twice (per institution and day).
pub async fn assert_money_invariants(moa: &Moa, opening: &Ledger) {
    let ledger = ledger(moa).await;
    let sum: i64 = ledger.balances.values().sum();
    assert_eq!(sum, ledger.total, "the ledger's total is its balances' sum");
    assert_eq!(
        ledger.total,
        opening.total,
        "money is conserved; changes: {:?}",
        ledger.changes_since(opening)
    );
    assert!(
        ledger.min_balance >= 0 && ledger.balances.values().all(|b| *b >= 0),
        "no balance below zero"
    );
    let transfers = admin(moa, Method::GET, "/testbed/admin/transfers", Value::Null).await;
    let mut applied = HashSet::new();
    for transfer in transfers.as_array().expect("a list of transfers") {
        let postings = transfer["postings"].as_i64().expect("postings");
        let postings_sum = transfer["postings_sum"].as_i64().expect("postings' sum");
        match transfer["status"].as_str().expect("a transfer status") {
            "done" => {
                assert_eq!(
                    (postings, postings_sum),
                    (2, 0),
                    "an applied transfer posts twice, summing to zero: {transfer}"
                );
                let id = (
                    transfer["client_use_code"].to_string(),
                    transfer["bank_tran_date"].to_string(),
                    transfer["bank_tran_id"].to_string(),
                );
                assert!(
                    applied.insert(id),
                    "a bank_tran_id is applied at most once: {transfer}"
                );
            }
            "refused" => assert_eq!(postings, 0, "a refused transfer posts nothing: {transfer}"),
            other => panic!("unknown transfer status {other}: {transfer}"),
        }
    }
}

/// How many transfers reached a bank, applied or refused.
pub async fn center_transfer_count(moa: &Moa) -> usize {
    admin(moa, Method::GET, "/testbed/admin/transfers", Value::Null)
        .await
        .as_array()
        .expect("a list of transfers")
        .len()
}

/// Every KFTC token (access and refresh) the sandbox's server holds now, opened from its
/// database with its sealing key: what must never reach the app's vault or store.
pub fn kftc_tokens(dir: &DataDir) -> Vec<String> {
    let key = moa_server::seal::SealingKey::from_file(dir.0.join("sealing.key"))
        .expect("the sandbox's sealing key");
    let conn = rusqlite::Connection::open_with_flags(
        dir.0.join("moa-server.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("the sandbox server's database");
    let mut stmt = conn
        .prepare("SELECT id, token FROM people WHERE token IS NOT NULL")
        .expect("a query of the server's schema");
    let sealed: Vec<(i64, Vec<u8>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(Iterator::collect)
        .expect("the people's tokens");
    let mut tokens = Vec::new();
    for (person, sealed) in sealed {
        let opened = key
            .open(&sealed, &format!("people.token:{person}"))
            .expect("a token the server sealed opens with its key");
        let token: Value = serde_json::from_slice(&opened).expect("a sealed token is JSON");
        for field in ["access_token", "refresh_token"] {
            if let Some(t) = token[field].as_str() {
                tokens.push(t.to_owned());
            }
        }
    }
    tokens
}

/// Whether `needle` occurs anywhere in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
