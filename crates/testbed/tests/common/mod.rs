//! What every integration test needs: a testbed on a free port, an HTTP client, and the steps of a
//! client's life (authorize through the sandbox shortcut, exchange the code, call an API).
#![allow(dead_code)] // Each test binary uses its own part of these helpers.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use moa_testbed::harness::{self, Admin, Ledger};
use moa_testbed::manifest::{ManifestInstitution, ManifestUser};
use moa_testbed::{Config, Spawned};
use serde_json::{Value, json};

/// The loopback callback the tests register with; any port is accepted for a loopback callback
/// registered without one.
pub const CALLBACK: &str = "http://127.0.0.1:53127/callback";

/// Asserts that a token endpoint answer is the `O0001` refusal naming `detail`, with no token.
pub fn refused_with(answer: &Value, detail: &str) {
    refused_in_case("token request", answer, detail);
}

/// [`refused_with`] for one row of a table, named `case` in every message.
pub fn refused_in_case(case: &str, answer: &Value, detail: &str) {
    assert_eq!(answer["rsp_code"], "O0001", "{case}: {answer}");
    let message = answer["rsp_message"]
        .as_str()
        .unwrap_or_else(|| panic!("{case}: rsp_message in {answer}"));
    assert!(
        message.contains(&format!("[{detail}]")),
        "{case}: expected [{detail}] in {message}"
    );
    assert!(answer.get("access_token").is_none(), "{case}: {answer}");
}

/// A running testbed, a client that never follows redirects (the pages answer with 302s the
/// tests want to read), its admin API, and its ledger as it was at the start.
pub struct Bed {
    pub spawned: Spawned,
    pub http: reqwest::Client,
    pub admin: Admin,
    pub opening: Ledger,
}

/// A person's tokens with one institution.
#[derive(Debug, Clone)]
pub struct User {
    pub institution: usize,
    pub access_token: String,
    pub refresh_token: String,
    pub user_seq_no: String,
    pub scope: String,
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// An in-memory testbed on 127.0.0.1:0.
pub async fn spawn() -> Bed {
    spawn_with(Config::in_memory()).await
}

/// A testbed started with `config`, its admin API turned on.
pub async fn spawn_with(config: Config) -> Bed {
    let spawned = moa_testbed::spawn(config.with_admin())
        .await
        .expect("the testbed starts");
    let admin = Admin::of(&spawned);
    let opening = admin.ledger().await;
    Bed {
        spawned,
        http: http_client(),
        admin,
        opening,
    }
}

/// `{client_use_code}U{9 alphanumerics}`, unique within the test process.
pub fn bank_tran_id(client_use_code: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let salt = u64::from(std::process::id()) % 1000;
    format!("{client_use_code}U{:03}{:06}", salt, n % 1_000_000)
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = format!("verifier-{}-{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let challenge =
        URL_SAFE_NO_PAD.encode(<sha2::Sha256 as sha2::Digest>::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The claims of a JWT, read without checking its signature.
pub fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url payload"))
        .expect("JSON claims")
}

impl Bed {
    /// The auditor, run at the end of every scenario that may move money: see
    /// [`harness::check`].
    pub async fn assert_invariants(&self) {
        harness::assert_invariants(&self.admin, &self.opening).await;
    }

    /// The balance the ledger holds for one account.
    pub async fn ledger_balance(&self, bank_code: &str, account_num: &str) -> i64 {
        self.admin.ledger().await.balance(bank_code, account_num)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.spawned.base_url)
    }

    pub fn institution(&self, index: usize) -> &ManifestInstitution {
        &self.spawned.manifest.institutions[index]
    }

    pub fn person(&self, index: usize) -> &ManifestUser {
        &self.spawned.manifest.users[index]
    }

    pub fn code_of(&self, institution: usize) -> String {
        self.institution(institution).client_use_code.clone()
    }

    pub fn next_id(&self, institution: usize) -> String {
        bank_tran_id(&self.institution(institution).client_use_code)
    }

    /// The center's time now as `tran_dtime`.
    pub fn tran_dtime(&self) -> String {
        moa_testbed::clock::dtime(&self.spawned.testbed.clock().now())
    }

    /// The center's date today, `yyyyMMdd`.
    pub fn today(&self) -> chrono::NaiveDate {
        self.spawned.testbed.clock().now().date_naive()
    }

    /// `POST /testbed/sandbox/authorize` with the person's chosen accounts (indexes into the
    /// manifest's list); returns the whole answer.
    pub async fn sandbox_authorize_raw(&self, body: Value) -> Value {
        self.http
            .post(self.url("/testbed/sandbox/authorize"))
            .json(&body)
            .send()
            .await
            .expect("sandbox authorize answers")
            .json()
            .await
            .expect("JSON")
    }

    pub fn sandbox_body(
        &self,
        institution: usize,
        person: usize,
        accounts: &[usize],
        scope: &str,
    ) -> Value {
        let i = self.institution(institution);
        let p = self.person(person);
        let accounts: Vec<Value> = accounts
            .iter()
            .map(|&a| {
                json!({
                    "bank_code_std": p.accounts[a].bank_code_std,
                    "account_num": p.accounts[a].account_num,
                })
            })
            .collect();
        json!({
            "client_id": i.client_id,
            "client_secret": i.client_secret,
            "redirect_uri": CALLBACK,
            "scope": scope,
            "state": "s".repeat(32),
            "cell_no": p.cell_no,
            "accounts": accounts,
            "inquiry_agree": if scope.contains("inquiry") { "Y" } else { "N" },
            "transfer_agree": if scope.contains("transfer") { "Y" } else { "N" },
        })
    }

    /// An authorization code for `person`'s `accounts` with `institution`.
    pub async fn code(&self, institution: usize, person: usize, accounts: &[usize]) -> String {
        let body = self.sandbox_body(institution, person, accounts, "login inquiry transfer");
        self.sandbox_code(body).await
    }

    /// The authorization code the sandbox shortcut issues for `body`.
    pub async fn sandbox_code(&self, body: Value) -> String {
        let answer = self.sandbox_authorize_raw(body).await;
        answer["code"]
            .as_str()
            .unwrap_or_else(|| panic!("a code, got {answer}"))
            .to_owned()
    }

    /// `GET /oauth/2.0/authorize?query`: the first consent page, or the refusal page.
    pub async fn authorize_page<Q: serde::Serialize + ?Sized>(
        &self,
        query: &Q,
    ) -> reqwest::Response {
        self.http
            .get(self.url("/oauth/2.0/authorize"))
            .query(query)
            .send()
            .await
            .expect("the page answers")
    }

    /// `POST /oauth/2.0/token` with `fields` (form encoded); the answer's JSON.
    pub async fn token_form(&self, fields: &[(&str, &str)]) -> Value {
        self.http
            .post(self.url("/oauth/2.0/token"))
            .form(fields)
            .send()
            .await
            .expect("token endpoint answers")
            .json()
            .await
            .expect("JSON")
    }

    /// Exchanges `code` with `institution`'s credentials and the test callback.
    pub async fn exchange_raw(&self, institution: usize, code: &str) -> Value {
        self.exchange_as(institution, code, CALLBACK, None).await
    }

    /// Exchanges `code` with `institution`'s credentials, sending `redirect_uri` and, when
    /// given, PKCE's `code_verifier`.
    pub async fn exchange_as(
        &self,
        institution: usize,
        code: &str,
        redirect_uri: &str,
        verifier: Option<&str>,
    ) -> Value {
        let mut fields = vec![("code", code), ("redirect_uri", redirect_uri)];
        if let Some(verifier) = verifier {
            fields.push(("code_verifier", verifier));
        }
        self.grant_raw(institution, "authorization_code", &fields)
            .await
    }

    /// `POST /oauth/2.0/token` for `grant_type` with `institution`'s credentials and `fields`.
    pub async fn grant_raw(
        &self,
        institution: usize,
        grant_type: &str,
        fields: &[(&str, &str)],
    ) -> Value {
        let i = self.institution(institution).clone();
        let mut form = vec![
            ("grant_type", grant_type),
            ("client_id", i.client_id.as_str()),
            ("client_secret", i.client_secret.as_str()),
        ];
        form.extend_from_slice(fields);
        self.token_form(&form).await
    }

    pub fn user_from(&self, institution: usize, answer: &Value) -> User {
        let field = |name: &str| {
            answer[name]
                .as_str()
                .unwrap_or_else(|| panic!("{name} in {answer}"))
                .to_owned()
        };
        User {
            institution,
            access_token: field("access_token"),
            refresh_token: field("refresh_token"),
            user_seq_no: field("user_seq_no"),
            scope: field("scope"),
        }
    }

    /// A person who registered `accounts` with `institution` for login, inquiry and transfer.
    pub async fn user(&self, institution: usize, person: usize, accounts: &[usize]) -> User {
        let code = self.code(institution, person, accounts).await;
        let answer = self.exchange_raw(institution, &code).await;
        self.user_from(institution, &answer)
    }

    /// `grant_type=refresh_token` with `institution`'s credentials, asking for `scope`.
    pub async fn refresh_raw(&self, institution: usize, refresh_token: &str, scope: &str) -> Value {
        let fields = [("refresh_token", refresh_token), ("scope", scope)];
        self.grant_raw(institution, "refresh_token", &fields).await
    }

    /// `grant_type=client_credentials` with `institution`'s credentials, asking for `scope`.
    pub async fn client_credentials_raw(&self, institution: usize, scope: &str) -> Value {
        self.grant_raw(institution, "client_credentials", &[("scope", scope)])
            .await
    }

    /// A client-credentials (`oob`) token of `institution`.
    pub async fn oob_token(&self, institution: usize) -> String {
        let answer = self.client_credentials_raw(institution, "oob").await;
        answer["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("an oob token, got {answer}"))
            .to_owned()
    }

    /// Asserts that `code` exchanges for a token with `institution` (after a refused attempt:
    /// that the attempt did not spend it).
    pub async fn assert_exchanges(&self, institution: usize, code: &str) {
        let answer = self.exchange_raw(institution, code).await;
        assert!(answer.get("access_token").is_some(), "{answer}");
    }

    /// `GET path?query` with a bearer token; the JSON answer (any HTTP status).
    pub async fn get(&self, path: &str, token: &str, query: &[(&str, &str)]) -> Value {
        let request = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .query(query);
        self.answer(path, request).await
    }

    /// `POST path` with a JSON body and a bearer token; the JSON answer.
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Value {
        self.answer(path, self.post_request(path, token, body))
            .await
    }

    /// `POST path` with a JSON body and a bearer token, not sent yet.
    pub fn post_request(&self, path: &str, token: &str, body: &Value) -> reqwest::RequestBuilder {
        self.http.post(self.url(path)).bearer_auth(token).json(body)
    }

    /// Sends `request` to `path`; its JSON answer, which must not be a server error.
    async fn answer(&self, path: &str, request: reqwest::RequestBuilder) -> Value {
        let response = request.send().await.expect("the testbed answers");
        assert!(
            !response.status().is_server_error(),
            "{path} answered {}",
            response.status()
        );
        response.json().await.expect("JSON")
    }

    pub async fn user_me(&self, user: &User) -> Value {
        self.get(
            "/v2.0/user/me",
            &user.access_token,
            &[("user_seq_no", &user.user_seq_no)],
        )
        .await
    }

    pub async fn account_list(&self, user: &User, include_cancel: &str, sort: &str) -> Value {
        self.get(
            "/v2.0/account/list",
            &user.access_token,
            &[
                ("user_seq_no", &user.user_seq_no),
                ("include_cancel_yn", include_cancel),
                ("sort_order", sort),
            ],
        )
        .await
    }

    /// The fintech numbers `user/me` lists, in its order.
    pub async fn fintech_nums(&self, user: &User) -> Vec<String> {
        let me = self.user_me(user).await;
        assert_eq!(me["rsp_code"], "A0000", "{me}");
        me["res_list"]
            .as_array()
            .expect("res_list")
            .iter()
            .map(|a| a["fintech_use_num"].as_str().expect("fintech").to_owned())
            .collect()
    }

    pub async fn balance(&self, user: &User, fintech_use_num: &str) -> Value {
        let id = self.next_id(user.institution);
        let dtime = self.tran_dtime();
        self.get(
            "/v2.0/account/balance/fin_num",
            &user.access_token,
            &[
                ("bank_tran_id", &id),
                ("fintech_use_num", fintech_use_num),
                ("tran_dtime", &dtime),
            ],
        )
        .await
    }

    /// One page of history; `extra` overrides or adds fields.
    pub async fn history_page(
        &self,
        user: &User,
        fintech_use_num: &str,
        extra: &[(&str, &str)],
    ) -> Value {
        let id = self.next_id(user.institution);
        let dtime = self.tran_dtime();
        let today = self.today();
        let from = (today - chrono::Days::new(400))
            .format("%Y%m%d")
            .to_string();
        let to = today.format("%Y%m%d").to_string();
        let mut query: Vec<(&str, &str)> = vec![
            ("bank_tran_id", &id),
            ("fintech_use_num", fintech_use_num),
            ("inquiry_type", "A"),
            ("inquiry_base", "D"),
            ("from_date", &from),
            ("to_date", &to),
            ("sort_order", "D"),
            ("tran_dtime", &dtime),
            ("befor_inquiry_trace_info", ""),
        ];
        for (name, value) in extra {
            query.retain(|(k, _)| k != name);
            query.push((name, value));
        }
        self.get(
            "/v2.0/account/transaction_list/fin_num",
            &user.access_token,
            &query,
        )
        .await
    }

    /// Every row of an account's history for `extra`'s query, page by page.
    pub async fn history_all(
        &self,
        user: &User,
        fintech_use_num: &str,
        extra: &[(&str, &str)],
    ) -> Vec<Value> {
        let mut rows = Vec::new();
        let mut cursor = String::new();
        let mut seen_ids = std::collections::HashSet::new();
        for _ in 0..1000 {
            let mut query: Vec<(&str, &str)> = extra.to_vec();
            query.push(("befor_inquiry_trace_info", &cursor));
            let page = self.history_page(user, fintech_use_num, &query).await;
            assert_eq!(page["rsp_code"], "A0000", "{page}");
            assert!(
                seen_ids.insert(page["bank_tran_id"].as_str().expect("id").to_owned()),
                "every page has its own bank_tran_id"
            );
            let list = page["res_list"].as_array().expect("res_list");
            assert_eq!(
                page["page_record_cnt"],
                list.len().to_string(),
                "page_record_cnt counts the page"
            );
            rows.extend(list.iter().cloned());
            if page["next_page_yn"] == "N" {
                assert_eq!(page["befor_inquiry_trace_info"], "");
                return rows;
            }
            assert_eq!(list.len(), 25, "a page that is not the last holds 25 rows");
            cursor = page["befor_inquiry_trace_info"]
                .as_str()
                .expect("cursor")
                .to_owned();
            assert!(
                !cursor.is_empty() && cursor.len() <= 20,
                "cursor {cursor:?}"
            );
        }
        panic!("history never ended");
    }

    pub async fn real_name(&self, institution: usize, token: &str, body: Value) -> Value {
        let mut body = body;
        body["bank_tran_id"] = json!(self.next_id(institution));
        body["tran_dtime"] = json!(self.tran_dtime());
        self.post("/v2.0/inquiry/real_name", token, &body).await
    }
}

/// A number field that may be a digit string or a JSON number.
pub fn amount(value: &Value) -> i64 {
    match value {
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("amount {s:?}")),
        Value::Number(n) => n.as_i64().expect("integer"),
        other => panic!("amount {other}"),
    }
}

pub mod money;
