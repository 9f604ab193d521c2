//! What the core's tests share: a Moa on a fresh data folder with an in-memory vault and the
//! sandbox (an in-process moa-server whose center is the testbed), a person who goes through
//! the center's consent pages like a browser, the testbed's admin API, and the money auditor
//! every test that moves money runs at its end (both `moa_testbed::harness`'s).
#![allow(dead_code)] // Each test binary uses its own part.
#![allow(clippy::unwrap_used)] // Test support: a failure here is a failed test.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use moa_core::{MemoryVault, Moa, Options};
use moa_openbanking::Lang;
pub use moa_testbed::harness::Ledger;
use moa_testbed::harness::{self, Admin};
use serde_json::Value;

#[path = "../../../server/tests/common/html.rs"]
mod html;
use html::{element_text, field};

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
    // The tests read the center's ledger and set banks down.
    options.sandbox_admin = true;
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

/// The sandbox center's admin API.
pub async fn center(moa: &Moa) -> Admin {
    let (base, manifest) = moa.sandbox().await.expect("the sandbox runs");
    Admin::new(&base, &manifest.admin_token)
}

/// The center's ledger now.
pub async fn ledger(moa: &Moa) -> Ledger {
    center(moa).await.ledger().await
}

/// The auditor, run at the end of every test that moves money, against the ledger `opening`
/// read before the test moved any: see `moa_testbed::harness::check`.
pub async fn assert_money_invariants(moa: &Moa, opening: &Ledger) {
    harness::assert_invariants(&center(moa).await, opening).await;
}

/// How many transfers reached a bank, applied or refused.
pub async fn center_transfer_count(moa: &Moa) -> usize {
    center(moa).await.transfers().await.len()
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
