//! The consent pages as a scripted browser walks them: authorize, identity, one-time code,
//! accounts and consents, and the redirect back to the institution.

mod common;

use common::{Bed, CALLBACK, pkce};
use reqwest::StatusCode;

/// The value of `<input ... name="{name}" value="...">` on a page.
fn input_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {html}"))
        + marker.len();
    html[start..][..html[start..].find('"').expect("closing quote")].to_owned()
}

/// The text of the element with `id`.
fn element_text(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let start = at + html[at..].find('>').expect("tag end") + 1;
    html[start..][..html[start..].find('<').expect("text end")].to_owned()
}

/// The query parameters of a redirect's `Location`.
fn location_params(response: &reqwest::Response) -> (String, Vec<(String, String)>) {
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .expect("a Location")
        .to_str()
        .expect("ASCII")
        .to_owned();
    let (base, query) = location.split_once('?').expect("a query");
    let pairs = serde_urlencoded::from_str(query).expect("pairs");
    (base.to_owned(), pairs)
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A scripted walk through the pages, step by step.
struct Walk<'a> {
    bed: &'a Bed,
    session: String,
    html: String,
}

impl<'a> Walk<'a> {
    /// The standard authorize query for institution 0, with `overrides` replacing fields.
    fn query(bed: &Bed, challenge: &str, overrides: &[(&str, &str)]) -> Vec<(String, String)> {
        let i = bed.institution(0);
        let mut query: Vec<(String, String)> = [
            ("response_type", "code"),
            ("client_id", i.client_id.as_str()),
            ("redirect_uri", CALLBACK),
            ("scope", "login inquiry transfer"),
            ("state", "0123456789abcdef0123456789abcdef"),
            ("auth_type", "0"),
            ("client_info", "moa-test"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (name, value) in overrides {
            query.retain(|(k, _)| k != name);
            query.push((name.to_string(), value.to_string()));
        }
        query
    }

    async fn open(bed: &'a Bed, path: &str, query: &[(String, String)]) -> (StatusCode, String) {
        let response = bed
            .http
            .get(bed.url(path))
            .query(query)
            .send()
            .await
            .expect("the page answers");
        let status = response.status();
        (status, response.text().await.expect("text"))
    }

    async fn start(bed: &'a Bed, path: &str, query: &[(String, String)]) -> Self {
        let (status, html) = Self::open(bed, path, query).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        let session = input_value(&html, "session");
        assert!(html.contains("action=\"/oauth/2.0/authorize/identity\""));
        Walk { bed, session, html }
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![("session", &self.session)];
        form.extend_from_slice(fields);
        self.bed
            .http
            .post(self.bed.url(path))
            .form(&form)
            .send()
            .await
            .expect("the page answers")
    }

    async fn post_page(&mut self, path: &str, fields: &[(&str, &str)]) -> StatusCode {
        let response = self.post(path, fields).await;
        let status = response.status();
        self.html = response.text().await.expect("text");
        status
    }

    async fn identity(&mut self, person: usize) -> StatusCode {
        let p = self.bed.person(person).clone();
        self.post_page(
            "/oauth/2.0/authorize/identity",
            &[
                ("user_name", &p.user_name),
                ("birth_date", &p.birth_date),
                ("cell_no", &p.cell_no),
            ],
        )
        .await
    }

    async fn pass_otp(&mut self) {
        let otp = element_text(&self.html, "testbed-otp");
        assert_eq!(otp.len(), 6, "a six-digit code");
        let status = self
            .post_page("/oauth/2.0/authorize/otp", &[("otp", &otp)])
            .await;
        assert_eq!(status, StatusCode::OK, "{}", self.html);
        assert!(
            self.html
                .contains("action=\"/oauth/2.0/authorize/consent\"")
        );
    }

    /// Identity and one-time code for `person`, landing on the accounts page.
    async fn sign_in(&mut self, person: usize) {
        assert_eq!(self.identity(person).await, StatusCode::OK, "{}", self.html);
        self.pass_otp().await;
    }

    fn account_value(&self, person: usize, account: usize) -> String {
        let a = &self.bed.person(person).accounts[account];
        format!("{}-{}", a.bank_code_std, a.account_num)
    }

    async fn agree(&mut self, picked: &[String]) -> reqwest::Response {
        let mut fields: Vec<(&str, &str)> =
            picked.iter().map(|v| ("account", v.as_str())).collect();
        fields.extend_from_slice(&[
            ("inquiry_agree", "Y"),
            ("transfer_agree", "Y"),
            ("terms_service", "Y"),
            ("terms_privacy", "Y"),
            ("action", "agree"),
        ]);
        self.post("/oauth/2.0/authorize/consent", &fields).await
    }
}

fn error_text(html: &str) -> String {
    element_text(html, "testbed-error")
}

#[tokio::test]
async fn the_whole_consent_journey_registers_exactly_the_chosen_accounts() {
    let bed = common::spawn().await;
    let (verifier, challenge) = pkce();
    let query = Walk::query(&bed, &challenge, &[]);
    let mut walk = Walk::start(&bed, "/oauth/2.0/authorize", &query).await;
    assert!(walk.html.contains("lang=\"ko\""));
    walk.sign_in(0).await;
    for a in 0..bed.person(0).accounts.len() {
        let value = walk.account_value(0, a);
        assert!(
            walk.html
                .contains(&format!("name=\"account\" value=\"{value}\">")),
            "account {value} offered unchecked"
        );
    }
    let picked = vec![walk.account_value(0, 0), walk.account_value(0, 2)];
    let response = walk.agree(&picked).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let (base, pairs) = location_params(&response);
    assert_eq!(base, CALLBACK);
    let code = param(&pairs, "code").expect("code").to_owned();
    assert_eq!(param(&pairs, "scope"), Some("inquiry login transfer"));
    assert_eq!(param(&pairs, "client_info"), Some("moa-test"));
    assert_eq!(
        param(&pairs, "state"),
        Some("0123456789abcdef0123456789abcdef")
    );

    let answer = bed.exchange_as(0, &code, CALLBACK, Some(&verifier)).await;
    assert!(answer.get("rsp_code").is_none(), "{answer}");
    let user = bed.user_from(0, &answer);
    let me = bed.user_me(&user).await;
    assert_eq!(me["rsp_code"], "A0000", "{me}");
    assert_eq!(me["user_name"], bed.person(0).user_name);
    assert_eq!(me["res_cnt"], "2");
    let mut banks: Vec<&str> = me["res_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["bank_code_std"].as_str().unwrap())
        .collect();
    banks.sort_unstable();
    let mut expected = vec![
        bed.person(0).accounts[0].bank_code_std.as_str(),
        bed.person(0).accounts[2].bank_code_std.as_str(),
    ];
    expected.sort_unstable();
    assert_eq!(banks, expected);
    for item in me["res_list"].as_array().unwrap() {
        assert_eq!(item["inquiry_agree_yn"], "Y");
        assert_eq!(item["transfer_agree_yn"], "Y");
        assert_eq!(item["fintech_use_num"].as_str().unwrap().len(), 24);
    }

    // The session is spent: the consent form cannot be posted twice.
    let again = walk.agree(&picked).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn refusing_consent_redirects_with_access_denied_and_registers_nothing() {
    let bed = common::spawn().await;
    let (_, challenge) = pkce();
    let query = Walk::query(&bed, &challenge, &[]);
    let mut walk = Walk::start(&bed, "/oauth/2.0/authorize", &query).await;
    walk.sign_in(1).await;
    let picked = walk.account_value(1, 0);
    let response = walk
        .post(
            "/oauth/2.0/authorize/consent",
            &[("account", &picked), ("action", "refuse")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let (base, pairs) = location_params(&response);
    assert_eq!(base, CALLBACK);
    assert_eq!(param(&pairs, "error"), Some("access_denied"));
    assert!(param(&pairs, "error_description").is_some());
    assert_eq!(
        param(&pairs, "state"),
        Some("0123456789abcdef0123456789abcdef")
    );
    assert_eq!(param(&pairs, "code"), None);

    // Nothing was registered: a later sign-in offers the account as unregistered.
    let mut walk = Walk::start(&bed, "/oauth/2.0/authorize_account", &query).await;
    walk.sign_in(1).await;
    assert!(
        walk.html
            .contains(&format!("name=\"account\" value=\"{picked}\">"))
    );
}

#[tokio::test]
async fn a_wrong_one_time_code_is_asked_again_and_five_close_the_session() {
    let bed = common::spawn().await;
    let (_, challenge) = pkce();
    let query = Walk::query(&bed, &challenge, &[]);
    let mut walk = Walk::start(&bed, "/oauth/2.0/authorize", &query).await;
    assert_eq!(walk.identity(0).await, StatusCode::OK);
    let real = element_text(&walk.html, "testbed-otp");
    let wrong = if real == "000000" { "111111" } else { "000000" };
    for attempt in 1..=4 {
        let status = walk
            .post_page("/oauth/2.0/authorize/otp", &[("otp", wrong)])
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "attempt {attempt}"
        );
        assert!(!error_text(&walk.html).is_empty());
        assert_eq!(
            element_text(&walk.html, "testbed-otp"),
            real,
            "the same code"
        );
    }
    let status = walk
        .post_page("/oauth/2.0/authorize/otp", &[("otp", wrong)])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!walk.html.contains("action=\"/oauth/2.0/authorize/otp\""));
    // Even the right code is now too late.
    let status = walk
        .post_page("/oauth/2.0/authorize/otp", &[("otp", &real)])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!walk.html.contains("authorize/consent"));
}

#[tokio::test]
async fn a_typed_in_account_that_is_not_the_persons_is_refused_on_the_page() {
    let bed = common::spawn().await;
    let (_, challenge) = pkce();
    let query = Walk::query(&bed, &challenge, &[]);
    let mut walk = Walk::start(&bed, "/oauth/2.0/authorize", &query).await;
    walk.sign_in(0).await;
    let someone_elses = bed.person(1).accounts[0].clone();
    let status = walk
        .post_page(
            "/oauth/2.0/authorize/consent",
            &[
                ("bank_code_std", &someone_elses.bank_code_std),
                ("account_num", &someone_elses.account_num),
                ("inquiry_agree", "Y"),
                ("transfer_agree", "Y"),
                ("terms_service", "Y"),
                ("terms_privacy", "Y"),
                ("action", "agree"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_text(&walk.html).contains(&someone_elses.account_num));
    // The page stays usable: the person's own typed-in account goes through.
    let own = bed.person(0).accounts[1].clone();
    let response = walk
        .post(
            "/oauth/2.0/authorize/consent",
            &[
                ("bank_code_std", &own.bank_code_std),
                ("account_num", &own.account_num),
                ("inquiry_agree", "Y"),
                ("terms_service", "Y"),
                ("terms_privacy", "Y"),
                ("action", "agree"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn missing_terms_or_no_account_re_render_the_accounts_page() {
    let bed = common::spawn().await;
    let (_, challenge) = pkce();
    let query = Walk::query(&bed, &challenge, &[]);
    let mut walk = Walk::start(&bed, "/oauth/2.0/authorize", &query).await;
    walk.sign_in(0).await;
    let status = walk
        .post_page(
            "/oauth/2.0/authorize/consent",
            &[
                ("terms_service", "Y"),
                ("terms_privacy", "Y"),
                ("action", "agree"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let picked = walk.account_value(0, 0);
    let status = walk
        .post_page(
            "/oauth/2.0/authorize/consent",
            &[
                ("account", &picked),
                ("inquiry_agree", "Y"),
                ("action", "agree"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let status = walk
        .post_page(
            "/oauth/2.0/authorize/consent",
            &[
                ("account", &picked),
                ("terms_service", "Y"),
                ("terms_privacy", "Y"),
                ("action", "agree"),
            ],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "inquiry needs its consent"
    );
}

#[tokio::test]
async fn an_unknown_person_is_told_so_at_identity() {
    let bed = common::spawn().await;
    let (_, challenge) = pkce();
    let query = Walk::query(&bed, &challenge, &[]);
    let mut walk = Walk::start(&bed, "/oauth/2.0/authorize", &query).await;
    let p = bed.person(0).clone();
    let status = walk
        .post_page(
            "/oauth/2.0/authorize/identity",
            &[
                ("user_name", &p.user_name),
                ("birth_date", "19000101"),
                ("cell_no", &p.cell_no),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!error_text(&walk.html).is_empty());
    assert!(!walk.html.contains("testbed-otp"));
    // The same session may try again.
    assert_eq!(walk.identity(0).await, StatusCode::OK);
}

#[tokio::test]
async fn lang_eng_renders_the_pages_in_english() {
    let bed = common::spawn().await;
    let (_, challenge) = pkce();
    let query = Walk::query(&bed, &challenge, &[("lang", "eng")]);
    let mut walk = Walk::start(&bed, "/oauth/2.0/authorize", &query).await;
    assert!(walk.html.contains("lang=\"en\""));
    assert!(walk.html.contains("Identity check"));
    walk.sign_in(0).await;
    assert!(walk.html.contains("Choose accounts"));
    assert!(walk.html.contains("Agree and register"));

    let (status, html) = Walk::open(
        &bed,
        "/oauth/2.0/authorize",
        &Walk::query(
            &bed,
            &challenge,
            &[("lang", "eng"), ("client_id", "nobody")],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("This request cannot be processed"));
}

#[tokio::test]
async fn bad_authorize_parameters_render_an_error_page_with_o0001_and_the_detail() {
    let bed = common::spawn().await;
    let (_, challenge) = pkce();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("client_id", "no-such-client")], "3000201"),
        (
            &[("redirect_uri", "https://evil.example/callback")],
            "3000114",
        ),
        (
            &[("redirect_uri", "http://127.0.0.1:53127/other")],
            "3000114",
        ),
        (&[("response_type", "token")], "3000116"),
        (&[("scope", "login inquiry oob")], "3000115"),
        (&[("scope", "login admin")], "3000115"),
        (&[("state", "")], "3000103"),
        (&[("auth_type", "7")], "3000103"),
        (&[("code_challenge_method", "plain")], "3000103"),
        (&[("code_challenge", "short")], "3000103"),
    ];
    for (overrides, detail) in cases {
        let query = Walk::query(&bed, &challenge, overrides);
        let (status, html) = Walk::open(&bed, "/oauth/2.0/authorize", &query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{overrides:?}");
        let error = error_text(&html);
        assert!(error.contains("O0001"), "{overrides:?}: {error}");
        assert!(error.contains(detail), "{overrides:?}: {error}");
        assert!(!html.contains("name=\"session\""), "no session is opened");
    }
}

#[tokio::test]
async fn authorize_account_pre_checks_already_registered_accounts() {
    let bed = common::spawn().await;
    let user = bed.user(0, 2, &[1, 3]).await;
    let (_, challenge) = pkce();
    let query = Walk::query(&bed, &challenge, &[]);
    let mut walk = Walk::start(&bed, "/oauth/2.0/authorize_account", &query).await;
    walk.sign_in(2).await;
    for a in 0..bed.person(2).accounts.len() {
        let value = walk.account_value(2, a);
        let checked = format!("name=\"account\" value=\"{value}\" checked>");
        let unchecked = format!("name=\"account\" value=\"{value}\">");
        if a == 1 || a == 3 {
            assert!(walk.html.contains(&checked), "{value} pre-checked");
        } else {
            assert!(walk.html.contains(&unchecked), "{value} not pre-checked");
        }
    }
    // The first authorize page does not pre-check, but still marks what is registered.
    let mut first = Walk::start(&bed, "/oauth/2.0/authorize", &query).await;
    first.sign_in(2).await;
    assert!(!first.html.contains(" checked>"));
    drop(user);
}

#[tokio::test]
async fn registering_an_account_again_updates_it_and_keeps_its_fintech_number() {
    let bed = common::spawn().await;
    let first = bed.user(0, 0, &[0, 1]).await;
    let before = bed.fintech_nums(&first).await;
    assert_eq!(before.len(), 2);

    let (verifier, challenge) = pkce();
    let query = Walk::query(&bed, &challenge, &[]);
    let mut walk = Walk::start(&bed, "/oauth/2.0/authorize_account", &query).await;
    walk.sign_in(0).await;
    let picked = vec![
        walk.account_value(0, 0),
        walk.account_value(0, 1),
        walk.account_value(0, 2),
    ];
    let response = walk.agree(&picked).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let (_, pairs) = location_params(&response);
    let code = param(&pairs, "code").unwrap().to_owned();
    let answer = bed.exchange_as(0, &code, CALLBACK, Some(&verifier)).await;
    let second = bed.user_from(0, &answer);
    assert_eq!(second.user_seq_no, first.user_seq_no, "the same person");
    let after = bed.fintech_nums(&second).await;
    assert_eq!(after.len(), 3, "one new account, no duplicates: {after:?}");
    for fintech in &before {
        assert!(after.contains(fintech), "{fintech} kept");
    }
    let list = bed.account_list(&second, "Y", "A").await;
    assert_eq!(list["res_cnt"], "3");
}

#[tokio::test]
async fn skipping_a_step_or_an_unknown_session_is_refused() {
    let bed = common::spawn().await;
    let (_, challenge) = pkce();
    let query = Walk::query(&bed, &challenge, &[]);
    let mut walk = Walk::start(&bed, "/oauth/2.0/authorize", &query).await;
    let picked = walk.account_value(0, 0);
    let agree = [
        ("account", picked.as_str()),
        ("inquiry_agree", "Y"),
        ("terms_service", "Y"),
        ("terms_privacy", "Y"),
        ("action", "agree"),
    ];
    // Straight to consent, or to the code, before saying who you are.
    let response = walk.post("/oauth/2.0/authorize/consent", &agree).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let status = walk
        .post_page("/oauth/2.0/authorize/otp", &[("otp", "123456")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Identity given, but the code skipped.
    assert_eq!(walk.identity(0).await, StatusCode::OK);
    let response = walk.post("/oauth/2.0/authorize/consent", &agree).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // The session survives those attempts and finishes normally.
    walk.pass_otp().await;
    assert_eq!(walk.agree(&[picked]).await.status(), StatusCode::FOUND);

    walk.session = "no-such-session".to_owned();
    let status = walk.identity(0).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!error_text(&walk.html).is_empty());
}

/// Asserts that a page of the center may not be framed.
fn assert_unframeable(response: &reqwest::Response, what: &str) {
    let headers = response.headers();
    let policy = headers
        .get(reqwest::header::CONTENT_SECURITY_POLICY)
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"))
        .to_str()
        .expect("ASCII");
    assert!(
        policy
            .split(';')
            .any(|d| d.trim() == "frame-ancestors 'none'"),
        "{what}: {policy}"
    );
    assert_eq!(
        headers
            .get(reqwest::header::X_FRAME_OPTIONS)
            .map(|v| v.to_str().expect("ASCII")),
        Some("DENY"),
        "{what}"
    );
}

#[tokio::test]
async fn no_page_of_the_center_may_be_framed() {
    let bed = common::spawn().await;
    let (_, challenge) = pkce();
    let query = Walk::query(&bed, &challenge, &[]);
    let start = bed.authorize_page(&query).await;
    assert_unframeable(&start, "the identity page");
    let html = start.text().await.expect("text");
    let mut walk = Walk {
        bed: &bed,
        session: input_value(&html, "session"),
        html,
    };
    let p = bed.person(0).clone();
    let otp_page = walk
        .post(
            "/oauth/2.0/authorize/identity",
            &[
                ("user_name", &p.user_name),
                ("birth_date", &p.birth_date),
                ("cell_no", &p.cell_no),
            ],
        )
        .await;
    assert_eq!(otp_page.status(), StatusCode::OK);
    assert_unframeable(&otp_page, "the one-time code page");
    walk.html = otp_page.text().await.expect("text");
    let otp = element_text(&walk.html, "testbed-otp");
    let accounts_page = walk
        .post("/oauth/2.0/authorize/otp", &[("otp", &otp)])
        .await;
    assert_eq!(accounts_page.status(), StatusCode::OK);
    assert_unframeable(&accounts_page, "the accounts page");

    let error = bed
        .authorize_page(&Walk::query(&bed, &challenge, &[("client_id", "nobody")]))
        .await;
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    assert_unframeable(&error, "an error page");
    walk.session = "no-such-session".into();
    let gone = walk
        .post("/oauth/2.0/authorize/otp", &[("otp", "123456")])
        .await;
    assert_unframeable(&gone, "the session-gone page");
    let fixture = bed
        .http
        .get(bed.url("/testbed/fixtures/consent/trap"))
        .send()
        .await
        .expect("the fixture answers");
    assert_unframeable(&fixture, "the consent fixture");
}
