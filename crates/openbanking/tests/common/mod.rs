//! What every test against the testbed needs: a running center, its institutions and people,
//! and consent done the way a person would do it.
//!
//! Every scenario ends with the money audited: when a [`Center`] is dropped at the end of a
//! test that has not already failed, the testbed's invariant checker compares its ledger with
//! the one it opened with (`moa_testbed::harness::assert_invariants`).
#![allow(dead_code)]

use std::sync::Arc;

use moa_openbanking::*;
use moa_testbed::harness::{Admin, Ledger, assert_invariants};
use moa_testbed::manifest::{ManifestInstitution, ManifestUser};
use serde_json::{Value, json};

pub const REDIRECT_URI: &str = "http://127.0.0.1/callback";

pub struct Center {
    pub testbed: moa_testbed::Spawned,
    pub client: Client,
    issuers: Vec<BankTranIdIssuer>,
    /// The center runs on a runtime of its own, apart from the test's, so that it can still
    /// answer the audit made while the center is dropped — a `Drop` cannot await on the
    /// test's runtime.
    runtime: Option<tokio::runtime::Runtime>,
    admin: Admin,
    opening: Ledger,
}

/// Runs `work` to its end on `runtime`, from a thread of its own (the caller may be inside the
/// test's runtime, which may not block on another).
fn on<T: Send>(runtime: &tokio::runtime::Runtime, work: impl Future<Output = T> + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(|| runtime.block_on(work))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

impl Drop for Center {
    fn drop(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        // A test that failed already says why; an audit on top would only hide it.
        let audit = (!std::thread::panicking()).then(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                on(&runtime, assert_invariants(&self.admin, &self.opening))
            }))
        });
        runtime.shutdown_background();
        if let Some(Err(broken)) = audit {
            std::panic::resume_unwind(broken);
        }
    }
}

impl Center {
    pub async fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("the center's runtime starts");
        let (testbed, admin, opening) = on(&runtime, async {
            let testbed = moa_testbed::spawn(moa_testbed::Config::in_memory().with_admin())
                .await
                .expect("testbed starts");
            let admin = Admin::of(&testbed);
            let opening = admin.ledger().await;
            (testbed, admin, opening)
        });
        let client = Client::with_base_url(&testbed.base_url).expect("client");
        let issuers = testbed
            .manifest
            .institutions
            .iter()
            .map(|i| {
                let code = ClientUseCode::parse(&i.client_use_code).expect("code");
                BankTranIdIssuer::new(code, Arc::new(MemoryCounterStore::new()))
            })
            .collect();
        Self {
            testbed,
            client,
            issuers,
            runtime: Some(runtime),
            admin,
            opening,
        }
    }

    pub fn institution(&self, i: usize) -> &ManifestInstitution {
        &self.testbed.manifest.institutions[i]
    }

    pub fn user(&self, i: usize) -> &ManifestUser {
        &self.testbed.manifest.users[i]
    }

    pub fn credentials(&self, i: usize) -> ClientCredentials {
        let inst = self.institution(i);
        ClientCredentials::new(&inst.client_id, ClientSecret::new(&inst.client_secret))
    }

    /// The institution's one issuer for this test, so its ids never repeat.
    pub fn issuer(&self, i: usize) -> &BankTranIdIssuer {
        &self.issuers[i]
    }

    /// The account's balance as the center reports it now.
    pub async fn balance(&self, token: &Token, fintech_use_num: &FintechUseNum) -> SignedWon {
        let request = moa_openbanking::account::BalanceRequest {
            bank_tran_id: self.issuer(0).issue().expect("id"),
            fintech_use_num: fintech_use_num.clone(),
        };
        self.client
            .balance(&token.user_token(), &request)
            .await
            .expect("balance")
            .balance_amt
    }

    /// Scripts the next call of `api` to misbehave.
    pub fn fault(&self, api: &str, fault: moa_testbed::faults::Fault) {
        self.testbed
            .testbed
            .faults()
            .add(moa_testbed::faults::FaultRule {
                api: api.into(),
                bank_code: None,
                remaining: 1,
                fault,
            });
    }

    /// What a person does on the consent pages, through the testbed's scripted shortcut; the
    /// answer is turned into the callback URL the page would have redirected to.
    pub async fn consent(
        &self,
        institution: usize,
        user: usize,
        verifier: Option<&PkceVerifier>,
    ) -> (String, State) {
        let inst = self.institution(institution);
        let person = self.user(user);
        let state = State::generate();
        let accounts: Vec<Value> = person
            .accounts
            .iter()
            .map(|a| json!({"bank_code_std": a.bank_code_std, "account_num": a.account_num}))
            .collect();
        let mut body = json!({
            "client_id": inst.client_id,
            "client_secret": inst.client_secret,
            "redirect_uri": REDIRECT_URI,
            "scope": "login inquiry transfer",
            "state": state.as_str(),
            "cell_no": person.cell_no,
            "accounts": accounts,
            "inquiry_agree": "Y",
            "transfer_agree": "Y",
        });
        if let Some(v) = verifier {
            body["code_challenge"] = json!(v.challenge().as_str());
            body["code_challenge_method"] = json!("S256");
        }
        let answer: Value = reqwest::Client::new()
            .post(format!(
                "{}/testbed/sandbox/authorize",
                self.testbed.base_url
            ))
            .json(&body)
            .send()
            .await
            .expect("sandbox answers")
            .json()
            .await
            .expect("sandbox JSON");
        let code = answer["code"].as_str().expect("a code").to_owned();
        let returned_state = answer["state"].as_str().expect("the state").to_owned();
        let callback = url::Url::parse_with_params(
            REDIRECT_URI,
            &[
                ("code", code.as_str()),
                ("scope", "inquiry login transfer"),
                ("state", &returned_state),
            ],
        )
        .expect("callback URL");
        (callback.to_string(), state)
    }

    /// A user token of `institution` for `user`, through consent, callback and exchange.
    pub async fn user_token(&self, institution: usize, user: usize) -> Token {
        let verifier = PkceVerifier::generate();
        let (callback, state) = self.consent(institution, user, Some(&verifier)).await;
        let grant = parse_callback(&callback, &state).expect("callback accepted");
        self.client
            .exchange_code(
                &self.credentials(institution),
                &grant.code,
                REDIRECT_URI,
                Some(&verifier),
            )
            .await
            .expect("code exchanged")
    }

    pub async fn oob_token(&self, institution: usize) -> Token {
        self.client
            .client_credentials(&self.credentials(institution))
            .await
            .expect("client credentials")
    }

    pub async fn first_account(&self, token: &Token) -> moa_openbanking::user::Account {
        let user = token.user_seq_no.clone().expect("user");
        let me = self
            .client
            .user_me(&token.user_token(), &user)
            .await
            .expect("user/me");
        me.res_list.into_iter().next().expect("an account")
    }
}

pub fn center_code(err: &Error) -> &str {
    err.rsp_code().map(RspCode::code).unwrap_or("(none)")
}
