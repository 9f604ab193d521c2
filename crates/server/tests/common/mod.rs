//! What the server's integration tests share: a sandbox (moa-server and its testbed center, both
//! on loopback) in a temporary folder, a [`Device`] that signs every request with a DPoP proof
//! as the app does, a person who goes through the center's consent pages like a browser, and
//! the auditor that checks the center's money after every scenario.
//!
//! Nothing here is a mock: requests go over HTTP to the real server, which talks HTTP to the
//! real testbed.
#![allow(dead_code)] // Each test binary uses its own part.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use moa_server::api::{self, ErrorCode};
use moa_server::dpop::DeviceKey;
use moa_server::saga::SettlePolicy;
use moa_server::sandbox::SandboxOptions;
use moa_server::store::Database;
use moa_testbed::Manifest;
pub use moa_testbed::harness::{Admin, CenterTransfer, Ledger, assert_invariants};
use reqwest::Method;
use serde_json::Value;
use url::Url;

mod html;
use html::{element_text, field};

/// A temporary folder, removed when dropped.
#[derive(Debug)]
pub struct DataDir(pub PathBuf);

impl DataDir {
    /// A fresh, empty folder under the system's temporary folder; `name` makes it findable.
    pub fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("moa-server-{name}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path).expect("the data folder is made");
        Self(path)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The server's options for tests: the system clock, short settling waits, no background
/// resume within a test's life (tests that want one call `saga::resume` themselves), and a
/// rate limit high enough that a sweep of requests never meets it.
pub fn options() -> moa_server::Options {
    moa_server::Options {
        settle: SettlePolicy {
            first_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            wait_in_run: Duration::from_secs(2),
            resume_every: Duration::from_secs(3600),
        },
        rate_per_second: 10_000,
        ..moa_server::Options::default()
    }
}

/// The system's clock moved by an offset the test sets: days passing without waiting for them.
#[derive(Debug, Default)]
pub struct TestClock(Mutex<chrono::Duration>);

impl TestClock {
    /// Moves the clock on by `by`.
    pub fn shift(&self, by: chrono::Duration) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }

    /// How far the clock is from the system's.
    pub fn offset(&self) -> chrono::Duration {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the clock to read `at` now.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at - Utc::now();
    }
}

impl moa_openbanking::Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset()
    }
}

/// A running sandbox in its own folder, with the center's ledger as it stood when it started.
#[derive(Debug)]
pub struct Sandbox {
    /// The server and its center.
    pub inner: moa_server::sandbox::Sandbox,
    /// The ledger at start: what the auditor compares with.
    pub opening: Ledger,
    /// The server's clock.
    pub clock: Arc<TestClock>,
    /// The server's PostgreSQL database, when the tests run on PostgreSQL.
    pub database: Option<Database>,
    /// The folder of both databases; dropped last.
    pub dir: DataDir,
}

impl Sandbox {
    /// The server's base URL, `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.inner.server.base_url
    }

    /// The server's state, for reading what it keeps.
    pub fn app(&self) -> &Arc<moa_server::App> {
        &self.inner.server.app
    }

    /// The in-process center.
    pub fn center(&self) -> &moa_testbed::Spawned {
        &self.inner.center
    }

    /// The center's manifest: credentials and demo people.
    pub fn manifest(&self) -> &Manifest {
        &self.inner.center.manifest
    }

    /// The center's admin API.
    pub fn admin(&self) -> Admin {
        Admin::of(&self.inner.center)
    }

    /// A new device of this server, with a fresh key, not enrolled yet.
    pub fn device(&self) -> Device {
        Device::new(self, DeviceKey::generate().expect("a device key is made"))
    }

    /// A new device, enrolled.
    pub async fn enrolled(&self) -> Device {
        let mut device = self.device();
        let (status, body) = device.enrol().await;
        assert_eq!(status, 201, "enrolment: {body}");
        device
    }

    /// A new device, enrolled and linked to demo person `person` with all their accounts.
    pub async fn person(&self, person: usize) -> Device {
        let device = self.enrolled().await;
        register(&device, person).await;
        device
    }

    /// Checks the center's money against the opening ledger: see [`assert_money_invariants`].
    pub async fn assert_money_invariants(&self) {
        assert_money_invariants(&self.inner.center, &self.opening).await;
    }

    /// What the server's clock reads.
    pub fn clock_now(&self) -> DateTime<Utc> {
        use moa_openbanking::Clock as _;
        self.clock.now()
    }

    /// Lets the saga's cutoff pass for every call made so far: the server's clock and the
    /// center's move on three days together, as if the days had passed.
    pub async fn pass_cutoff(&self) {
        let by = chrono::Duration::days(3);
        self.clock.shift(by);
        let admin = self.admin();
        let offset = admin.clock().await.offset_seconds;
        admin.set_clock_offset(offset + by.num_seconds()).await;
    }

    /// Stops the server and the center, then removes the folder.
    pub async fn stop(self) {
        let Sandbox { inner, dir, .. } = self;
        inner.shutdown().await;
        drop(dir);
    }

    /// Stops both and starts them again on the same folder (the same databases) with
    /// `options`: a restart of the server, keeping the opening ledger. The server comes back
    /// on the same address, so devices keep talking to it (their proofs name its URL); the
    /// center may come back on another port: [`Device::follow`] catches a device up.
    pub async fn restart(self, mut options: moa_server::Options) -> Sandbox {
        let Sandbox {
            inner,
            dir,
            opening,
            clock,
            database,
        } = self;
        let addr = inner.server.addr;
        inner.shutdown().await;
        options.clock = clock.clone();
        let mut sandbox = sandbox_options(&dir, options, database.as_ref());
        sandbox.addr = addr;
        let inner = moa_server::sandbox::start(sandbox)
            .await
            .expect("the sandbox starts again");
        Sandbox {
            inner,
            opening,
            clock,
            database,
            dir,
        }
    }

    /// The server's store, opened beside the running server (PostgreSQL), or `None` on SQLite,
    /// whose file the running server holds locked.
    pub fn database(&self) -> Option<&Database> {
        self.database.as_ref()
    }
}

/// The sandbox's options for a test: banks answer at once, and the center's admin API is on. The server's database is a SQLite
/// file in `dir`, or, when `MOA_TEST_POSTGRES` names a PostgreSQL server
/// (`scripts/with-postgres`), the database `database` there.
pub fn sandbox_options(
    dir: &DataDir,
    options: moa_server::Options,
    database: Option<&Database>,
) -> SandboxOptions {
    let mut sandbox = SandboxOptions::new(dir.path());
    sandbox.latency = Duration::ZERO;
    sandbox.center_admin = true;
    sandbox.options = options;
    if let Some(database) = database {
        sandbox.database = database.clone();
    }
    sandbox
}

/// A fresh, empty database on the PostgreSQL server `MOA_TEST_POSTGRES` names, when it names
/// one: every test has its own, so the same tests run on both backends side by side.
pub async fn test_database() -> Option<Database> {
    let server = std::env::var("MOA_TEST_POSTGRES").ok()?;
    let (client, connection) = tokio_postgres::connect(&server, tokio_postgres::NoTls)
        .await
        .expect("the test PostgreSQL server answers");
    tokio::spawn(connection);
    let name = format!("moa_{}", uuid::Uuid::new_v4().simple());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("a test database is made");
    let base = server
        .rsplit_once('/')
        .map(|(base, _)| base)
        .expect("a database URL");
    Some(Database::Postgres(format!("{base}/{name}")))
}

/// The store of `database`, or of the SQLite file in `dir`.
pub async fn open_store(dir: &Path, database: Option<&Database>) -> moa_server::store::Store {
    let database = database
        .cloned()
        .unwrap_or_else(|| Database::Sqlite(dir.join("moa-server.db")));
    moa_server::store::Store::connect(&database)
        .await
        .expect("the server's database opens")
}

/// Starts a sandbox with the test [`options`] in a fresh folder.
pub async fn start() -> Sandbox {
    start_with(options()).await
}

/// Starts a sandbox with `options` in a fresh folder; its server reads a [`TestClock`].
pub async fn start_with(mut options: moa_server::Options) -> Sandbox {
    let clock = Arc::new(TestClock::default());
    options.clock = clock.clone();
    let dir = DataDir::new("sandbox");
    let database = test_database().await;
    let inner = moa_server::sandbox::start(sandbox_options(&dir, options, database.as_ref()))
        .await
        .expect("the sandbox starts");
    let opening = Admin::of(&inner.center).ledger().await;
    Sandbox {
        inner,
        opening,
        clock,
        database,
        dir,
    }
}

/// An HTTP client that never goes through a proxy and never follows redirects: every request
/// here is to loopback, and the consent pages' last redirect is what the tests want to see.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("the HTTP client is built")
}

/// Reads an answer's body: `Null` when empty, the JSON value when it is JSON, else the text
/// as a JSON string.
fn body_value(text: &str) -> Value {
    if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
    }
}

/// The refusal code of an answer's body, or `""`.
pub fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("")
}

/// Asserts that an answer is the refusal `expected`: its status and its code.
#[track_caller]
pub fn assert_refused(answer: &(u16, Value), expected: ErrorCode) {
    let (status, body) = answer;
    assert_eq!(
        (*status, code(body)),
        (expected.status(), expected.as_str()),
        "expected {} {}, got {status} {body}",
        expected.status(),
        expected.as_str()
    );
}

/// Where to reach the center's consent pages, for a device's person.
#[derive(Debug, Clone)]
struct CenterPages {
    base_url: String,
    manifest: Arc<Manifest>,
}

/// A test client of the server as the app is one: a device key, and once enrolled, a device
/// token; every request carries `Authorization: DPoP <token>` and a fresh proof made with the
/// key for its method and URL.
#[derive(Debug)]
pub struct Device {
    /// The key that signs its proofs.
    pub key: DeviceKey,
    /// The server's base URL.
    pub base_url: String,
    /// The device token, once enrolled.
    pub token: Option<String>,
    /// The device's id, once enrolled.
    pub id: Option<String>,
    http: reqwest::Client,
    pages: CenterPages,
    /// The device's clock, which agrees with the server's, as a proof's `iat` must.
    pub clock: Arc<TestClock>,
}

impl Device {
    /// A device of `sandbox`'s server with `key`, not enrolled.
    pub fn new(sandbox: &Sandbox, key: DeviceKey) -> Self {
        Self {
            key,
            base_url: sandbox.base_url().to_owned(),
            token: None,
            id: None,
            http: http(),
            pages: CenterPages {
                base_url: sandbox.center().base_url.clone(),
                manifest: Arc::new(sandbox.manifest().clone()),
            },
            clock: sandbox.clock.clone(),
        }
    }

    /// Catches the device up with `sandbox` after a restart: the server's and the center's
    /// addresses, and the center's manifest.
    pub fn follow(&mut self, sandbox: &Sandbox) {
        self.base_url = sandbox.base_url().to_owned();
        self.pages = CenterPages {
            base_url: sandbox.center().base_url.clone(),
            manifest: Arc::new(sandbox.manifest().clone()),
        };
    }

    /// The same device (token and all) signing with another key: a stolen token.
    pub fn with_key(&self, key: DeviceKey) -> Self {
        Self {
            key,
            base_url: self.base_url.clone(),
            token: self.token.clone(),
            id: self.id.clone(),
            http: self.http.clone(),
            pages: self.pages.clone(),
            clock: self.clock.clone(),
        }
    }

    /// The device token.
    pub fn token(&self) -> &str {
        self.token.as_deref().expect("the device is enrolled")
    }

    /// The absolute URL of `path` (which may carry a query).
    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}{path}", self.base_url)).expect("the request URL parses")
    }

    /// A proof of this device's key for `method` and `url` made at `iat`, bound to `token`.
    pub fn proof_at(
        &self,
        method: &str,
        url: &Url,
        token: Option<&str>,
        iat: DateTime<Utc>,
    ) -> String {
        self.key
            .proof(method, url, token, iat)
            .expect("the proof is signed")
    }

    /// A fresh proof for `method` and `path`, bound to the device token when it has one.
    pub fn proof(&self, method: &str, path: &str) -> String {
        use moa_openbanking::Clock as _;
        let now = self.clock.now();
        self.proof_at(method, &self.url(path), self.token.as_deref(), now)
    }

    /// The headers an honest request carries: `Authorization` and `DPoP`.
    pub fn auth_headers(&self, method: &str, path: &str) -> Vec<(String, String)> {
        vec![
            ("authorization".into(), format!("DPoP {}", self.token())),
            ("dpop".into(), self.proof(method, path)),
        ]
    }

    /// `POST /v1/devices` with only a proof; keeps the token on success.
    pub async fn enrol(&mut self) -> (u16, Value) {
        let proof = self.proof_at("POST", &self.url("/v1/devices"), None, Utc::now());
        let answer = self
            .raw(Method::POST, "/v1/devices", &[("dpop".into(), proof)], None)
            .await;
        if answer.0 == 201 {
            let enrolled: api::Enrolled =
                serde_json::from_value(answer.1.clone()).expect("an enrolment answer");
            self.token = Some(enrolled.device_token);
            self.id = Some(enrolled.device_id);
        }
        answer
    }

    /// A request with exactly `headers` (nothing added but `content-type: application/json`
    /// for a body, unless `headers` has a content type): what attacks are made of.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
    ) -> (u16, Value) {
        let (status, text) = self.raw_text(method, path, headers, body).await;
        (status, body_value(&text))
    }

    /// As [`Device::raw`], with the answer's body as text.
    pub async fn raw_text(
        &self,
        method: Method,
        path: &str,
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
    ) -> (u16, String) {
        let mut request = self.http.request(method, self.url(path));
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some(body) = body {
            if !headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            {
                request = request.header("content-type", "application/json");
            }
            request = request.body(body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("the answer's body is read");
        (status, text)
    }

    /// An honest request with `extra` headers and an optional JSON body; the body as text.
    pub async fn send_text(
        &self,
        method: Method,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (u16, String) {
        let mut headers = self.auth_headers(method.as_str(), path);
        headers.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let body = body.map(|b| serde_json::to_vec(b).expect("the body serialises"));
        self.raw_text(method, path, &headers, body).await
    }

    /// An honest request with `extra` headers and an optional JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (u16, Value) {
        let (status, text) = self.send_text(method, path, extra, body).await;
        (status, body_value(&text))
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, &[], None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::POST, path, &[], Some(&body)).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(Method::DELETE, path, &[], None).await
    }

    /// An NDJSON stream read to its end: its status and its lines.
    pub async fn ndjson(&self, method: Method, path: &str) -> (u16, Vec<Value>) {
        let (status, text) = self.send_text(method, path, &[], None).await;
        if status != 200 {
            return (status, vec![body_value(&text)]);
        }
        let lines = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        (status, lines)
    }

    /// `POST /v1/transfers` with `key` as its `Idempotency-Key`.
    pub async fn transfer(&self, key: &str, body: &Value) -> (u16, Value) {
        self.send(
            Method::POST,
            "/v1/transfers",
            &[(api::IDEMPOTENCY_KEY, key)],
            Some(body),
        )
        .await
    }

    /// Follows transfer `id`'s progress stream to its end and returns the last state seen.
    pub async fn wait_final(&self, id: &str) -> api::Transfer {
        let (status, lines) = self
            .ndjson(Method::GET, &format!("/v1/transfers/{id}/events"))
            .await;
        assert_eq!(status, 200, "events: {lines:?}");
        let last = lines.last().expect("the stream has a line").clone();
        let last: api::Transfer = serde_json::from_value(last).expect("a transfer line");
        assert!(
            last.state.is_final(),
            "the stream ended at {:?}",
            last.state
        );
        last
    }

    /// The person's accounts.
    pub async fn accounts(&self) -> Vec<api::Account> {
        let (status, body) = self.get("/v1/accounts").await;
        assert_eq!(status, 200, "accounts: {body}");
        serde_json::from_value(body).expect("a list of accounts")
    }

    /// The manifest's demo person `person`.
    pub fn demo_person(&self, person: usize) -> &moa_testbed::manifest::ManifestUser {
        &self.pages.manifest.users[person]
    }
}

/// What a person does on the consent pages.
#[derive(Debug, Clone)]
pub enum Choice {
    /// Agree to inquiry and transfer, registering the accounts at these indexes of the
    /// manifest's person.
    Agree(Vec<usize>),
    /// Agree to inquiry only (no transfer consent) for the accounts at these indexes.
    InquiryOnly(Vec<usize>),
    /// Refuse.
    Refuse,
}

/// `POST /v1/registrations`: the pages to open.
pub async fn begin(device: &Device) -> api::RegistrationStarted {
    let (status, body) = device
        .post("/v1/registrations", serde_json::json!({}))
        .await;
    assert_eq!(status, 200, "registration begins: {body}");
    serde_json::from_value(body).expect("a registration start")
}

/// Follows the consent pages from `authorize_url` as demo person `person` would, like a
/// browser, and returns the URL the pages end by redirecting to: the callback.
pub async fn consent(
    device: &Device,
    authorize_url: &str,
    person: usize,
    choice: Choice,
) -> String {
    let base = &device.pages.base_url;
    let who = device.demo_person(person);
    let http = http();
    let page = http
        .get(authorize_url)
        .send()
        .await
        .expect("the authorize page answers")
        .text()
        .await
        .expect("the authorize page is read");
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
        .expect("the identity page answers")
        .text()
        .await
        .expect("the identity page is read");
    let otp = element_text(&page, "testbed-otp");
    http.post(format!("{base}/oauth/2.0/authorize/otp"))
        .form(&[("session", session.as_str()), ("otp", &otp)])
        .send()
        .await
        .expect("the OTP page answers");
    let mut form: Vec<(String, String)> = vec![("session".into(), session.clone())];
    match &choice {
        Choice::Refuse => form.push(("action".into(), "refuse".into())),
        Choice::Agree(accounts) | Choice::InquiryOnly(accounts) => {
            for i in accounts {
                let a = &who.accounts[*i];
                form.push((
                    "account".into(),
                    format!("{}-{}", a.bank_code_std, a.account_num),
                ));
            }
            let consents: &[&str] = if matches!(choice, Choice::InquiryOnly(_)) {
                &["inquiry_agree", "terms_service", "terms_privacy"]
            } else {
                &[
                    "inquiry_agree",
                    "transfer_agree",
                    "terms_service",
                    "terms_privacy",
                ]
            };
            for name in consents {
                form.push(((*name).into(), "Y".into()));
            }
            form.push(("action".into(), "agree".into()));
        }
    }
    let answer = http
        .post(format!("{base}/oauth/2.0/authorize/consent"))
        .form(&form)
        .send()
        .await
        .expect("the consent page answers");
    assert_eq!(
        answer.status(),
        reqwest::StatusCode::FOUND,
        "the pages end with a redirect"
    );
    answer
        .headers()
        .get("location")
        .expect("the redirect has a location")
        .to_str()
        .expect("the location is text")
        .to_owned()
}

/// `POST /v1/registrations/complete` with `callback_url`.
pub async fn complete(device: &Device, callback_url: &str) -> (u16, Value) {
    device
        .post(
            "/v1/registrations/complete",
            serde_json::json!({ "callback_url": callback_url }),
        )
        .await
}

/// The callback URL of a consent flow that `device` began and demo person `person` agreed
/// to with all their accounts, not yet posted back.
pub async fn agreed_callback(device: &Device, person: usize) -> String {
    let started = begin(device).await;
    let all = (0..device.demo_person(person).accounts.len()).collect();
    let callback = consent(device, &started.authorize_url, person, Choice::Agree(all)).await;
    assert!(
        callback.starts_with(&started.redirect_uri),
        "the pages redirect to the registered callback: {callback}"
    );
    callback
}

/// Registers all accounts of demo person `person` for `device`: begins, goes through the
/// consent pages, and completes with the callback.
pub async fn register(device: &Device, person: usize) -> api::Registered {
    let callback = agreed_callback(device, person).await;
    let (status, body) = complete(device, &callback).await;
    assert_eq!(status, 200, "the registration completes: {body}");
    serde_json::from_value(body).expect("a registration outcome")
}

/// Whether the center applied `bank_tran_id` (`Some(true)`), refused it (`Some(false)`), or
/// never saw it (`None`); a call reaches a bank at most once.
pub fn center_verdict(records: &[CenterTransfer], bank_tran_id: &str) -> Option<bool> {
    let mut found = records.iter().filter(|r| r.bank_tran_id == bank_tran_id);
    let first = found.next().map(CenterTransfer::applied);
    assert!(
        found.next().is_none(),
        "{bank_tran_id} reached a bank only once"
    );
    first
}

/// Checks the center's money against `opening` with the testbed's one auditor.
pub async fn assert_money_invariants(center: &moa_testbed::Spawned, opening: &Ledger) {
    assert_invariants(&Admin::of(center), opening).await;
}

/// The journal's auditor, run after every saga scenario beside [`assert_money_invariants`]: for
/// every transfer the server journaled, the calls it sent (its call log and the legs it
/// journaled) agree with what the center applied, and the transfer's state says the same.
///
/// - `completed`: the withdraw applied once, one deposit applied, no refund;
/// - `refunded`: the withdraw applied once, no deposit, one refund;
/// - `failed`: nothing applied;
/// - still open: at most one of each applied, never a deposit and a refund both — and not open
///   at all once the cutoff of its leg out has passed at `now`;
/// - no `bank_tran_id` belongs to two transfers.
pub async fn assert_journal_agrees(
    store: &moa_server::store::Store,
    admin: &Admin,
    now: DateTime<Utc>,
) {
    use moa_server::store::{LegKind, TransferState};
    let center = admin.transfers().await;
    let applied_at_center = |id: &str| center_verdict(&center, id) == Some(true);
    let mut seen = HashSet::new();
    for record in store.every_transfer().await.expect("the journal reads") {
        let calls = store.calls(&record.id).await.expect("the call log reads");
        let mut sent: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for call in calls.iter().filter(|c| c.call == "send") {
            sent.entry(call.leg.as_str())
                .or_default()
                .push(call.bank_tran_id.clone());
        }
        for (kind, leg) in [
            (LegKind::Withdraw, &record.withdraw),
            (LegKind::Deposit, &record.deposit),
            (LegKind::Refund, &record.refund),
        ] {
            if let Some(leg) = leg {
                sent.entry(kind.as_str())
                    .or_default()
                    .push(leg.bank_tran_id.clone());
            }
        }
        let mut applied = BTreeMap::new();
        for (kind, ids) in &mut sent {
            ids.sort();
            ids.dedup();
            for id in ids.iter() {
                assert!(
                    seen.insert(id.clone()),
                    "{id} is journaled for two transfers or two legs"
                );
            }
            let done = ids.iter().filter(|id| applied_at_center(id)).count();
            applied.insert(*kind, done);
        }
        let of = |kind: &str| applied.get(kind).copied().unwrap_or(0);
        let legs = (of("withdraw"), of("deposit"), of("refund"));
        let context = format!(
            "transfer {} ({}): {record:?}; calls {calls:?}",
            record.id,
            record.state.as_str()
        );
        match record.state {
            TransferState::Completed => assert_eq!(legs, (1, 1, 0), "{context}"),
            TransferState::Refunded => assert_eq!(legs, (1, 0, 1), "{context}"),
            TransferState::Failed => assert_eq!(legs, (0, 0, 0), "{context}"),
            _ => {
                assert!(legs.0 <= 1 && legs.1 + legs.2 <= 1, "{context}");
                let out = match record.state {
                    TransferState::Withdrawing => record.withdraw.as_ref(),
                    TransferState::Depositing => record.deposit.as_ref(),
                    TransferState::Refunding => record.refund.as_ref(),
                    _ => None,
                };
                if let Some(leg) = out {
                    assert!(
                        now < moa_server::saga::cutoff(leg) + chrono::Duration::hours(1),
                        "left open after its cutoff: {context}"
                    );
                }
            }
        }
    }
}

// What the saga's fault tests and crash tests add: scripted faults and bank outages through the
// center's admin API, a device of a server running in another process, and the transfer
// requests they make.

/// A fault rule in the admin API's JSON form: the next `remaining` calls of `api` at
/// `bank_code` (any bank when `None`) misbehave as `fault` says (`testbed::faults::Fault`).
pub fn fault_rule(api: &str, bank_code: Option<&str>, remaining: u32, fault: Value) -> Value {
    serde_json::json!({
        "api": api,
        "bank_code": bank_code,
        "remaining": remaining,
        "fault": fault,
    })
}

impl Device {
    /// A device of the server at `base_url` — one running in another process — whose center
    /// is `center`, with a fresh key, not enrolled.
    pub fn of_server(base_url: &str, center: &moa_testbed::Spawned) -> Self {
        Self {
            key: DeviceKey::generate().expect("a device key is made"),
            base_url: base_url.to_owned(),
            token: None,
            id: None,
            http: http(),
            pages: CenterPages {
                base_url: center.base_url.clone(),
                manifest: Arc::new(center.manifest.clone()),
            },
            clock: Arc::new(TestClock::default()),
        }
    }

    /// As [`Device::transfer`], but a server that drops the connection (it died in the middle
    /// of the request) answers `None` rather than failing the test.
    pub async fn try_transfer(&self, key: &str, body: &Value) -> Option<(u16, Value)> {
        let path = "/v1/transfers";
        let mut request = self.http.post(self.url(path));
        for (name, value) in self.auth_headers("POST", path) {
            request = request.header(name, value);
        }
        let response = request
            .header(api::IDEMPOTENCY_KEY, key)
            .json(body)
            .send()
            .await
            .ok()?;
        let status = response.status().as_u16();
        let text = response.text().await.ok()?;
        Some((status, body_value(&text)))
    }

    /// Demo person `person`'s accounts as this device's person has them, in the manifest's
    /// order (each matched by bank and masked number).
    pub async fn demo_accounts(&self, person: usize) -> Vec<api::Account> {
        let registered = self.accounts().await;
        self.demo_person(person)
            .accounts
            .iter()
            .map(|a| {
                let prefix = &a.account_num[..a.account_num.len().saturating_sub(3)];
                registered
                    .iter()
                    .find(|r| {
                        r.bank_code == a.bank_code_std && r.account_num_masked.starts_with(prefix)
                    })
                    .cloned()
                    .unwrap_or_else(|| panic!("{} is registered", a.account_num))
            })
            .collect()
    }
}

/// A transfer request between two of the person's own accounts, as `POST /v1/transfers`
/// takes it.
pub fn own_transfer(from: &api::Account, to: &api::Account, amount: i64) -> Value {
    serde_json::json!({
        "from": from.fintech_use_num,
        "to": { "kind": "own", "fintech_use_num": to.fintech_use_num },
        "amount": amount,
        "memo": "생활비",
    })
}

/// Writes a server's private files in `dir` — the client secret of `center`'s first institution
/// and a sealing key, each readable by the owner only — and returns a `moa-server` config for
/// that institution on `database`, without `listen`.
pub fn server_config(dir: &Path, center: &moa_testbed::Spawned, database: &str) -> toml::Table {
    let institution = &center.manifest.institutions[0];
    let secret = dir.join("client-secret");
    {
        use std::io::Write as _;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(&secret)
            .and_then(|mut f| f.write_all(institution.client_secret.as_bytes()))
            .expect("the client secret file is written");
    }
    let key = dir.join("sealing.key");
    moa_server::seal::SealingKey::generate()
        .expect("a sealing key is made")
        .to_file(&key)
        .expect("the sealing key file is written");
    let path = |p: PathBuf| p.to_str().expect("a UTF-8 path").to_owned();
    let mut config = toml::Table::new();
    for (name, value) in [
        ("center", center.base_url.clone()),
        ("client_id", institution.client_id.clone()),
        ("client_secret_file", path(secret)),
        ("client_use_code", institution.client_use_code.clone()),
        ("redirect_uri", moa_server::sandbox::REDIRECT_URI.to_owned()),
        (
            "collection_account",
            institution.collection_account.account_num.clone(),
        ),
        (
            "payout_account",
            institution.payout_account.account_num.clone(),
        ),
        ("database", database.to_owned()),
        ("sealing_key_file", path(key)),
    ] {
        config.insert(name.to_owned(), toml::Value::String(value));
    }
    config
}
