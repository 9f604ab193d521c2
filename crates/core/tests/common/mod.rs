//! What the core's tests share: a Moa on a fresh data folder with an in-memory vault and the
//! sandbox's center, and a person who goes through the center's consent pages like a browser.
#![allow(dead_code)] // Each test binary uses its own part.
#![allow(clippy::unwrap_used)] // Test support: a failure here is a failed test.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use moa_core::{MemoryVault, Moa, Options};
use moa_openbanking::Lang;

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

/// Options for tests: no keyring, no injected bank latency.
pub fn options(dir: &DataDir, vault: Arc<MemoryVault>) -> Options {
    let mut options = Options::new(&dir.0);
    options.vault = vault;
    options.sandbox_latency = Duration::ZERO;
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

/// The sandbox's admin API.
pub async fn admin(moa: &Moa, method: reqwest::Method, path: &str, body: serde_json::Value) {
    let (base, manifest) = moa.sandbox().await.expect("the sandbox runs");
    let response = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(&manifest.admin_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
}
