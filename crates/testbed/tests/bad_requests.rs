//! Requests the center must refuse, each with its exact code, in the order of checks of
//! docs/protocol.md §5, and never with a 500 or a trace left behind.

mod common;

use chrono::TimeDelta;
use common::{Bed, User};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Whose token a request carries.
#[derive(Clone, Copy, Debug)]
enum Bearer {
    User,
    Oob,
    Refresh,
    Garbage,
    /// A correctly signed-looking token whose signature is not the center's.
    Forged,
    Missing,
    /// `Authorization: Basic …`.
    Basic,
}

/// What a request sends besides its bearer.
#[derive(Clone, Debug)]
enum Send {
    Query(Vec<(String, String)>),
    Body(&'static str, Vec<u8>),
    Nothing,
}

struct Case {
    what: &'static str,
    method: Method,
    path: &'static str,
    bearer: Bearer,
    send: Send,
    rsp_code: &'static str,
    /// Text the message must hold (the detail of `O0001`, the field of `A0004`).
    detail: Option<&'static str>,
}

struct World {
    bed: Bed,
    user: User,
    oob: String,
    fintech: Vec<String>,
}

async fn world() -> World {
    let bed = common::spawn().await;
    let user = bed.user(0, 0, &[0, 1]).await;
    let oob = bed.oob_token(0).await;
    let fintech = bed.fintech_nums(&user).await;
    World {
        bed,
        user,
        oob,
        fintech,
    }
}

impl World {
    async fn send(&self, case: &Case) -> (StatusCode, Value) {
        let mut request = self
            .bed
            .http
            .request(case.method.clone(), self.bed.url(case.path));
        let token = match case.bearer {
            Bearer::User => Some(self.user.access_token.clone()),
            Bearer::Oob => Some(self.oob.clone()),
            Bearer::Refresh => Some(self.user.refresh_token.clone()),
            Bearer::Garbage => Some("not-a-token".to_owned()),
            Bearer::Forged => {
                let mut parts: Vec<&str> = self.user.access_token.split('.').collect();
                parts[2] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
                Some(parts.join("."))
            }
            Bearer::Missing => None,
            Bearer::Basic => {
                request = request.header("Authorization", "Basic dXNlcjpwYXNz");
                None
            }
        };
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request = match &case.send {
            Send::Query(pairs) => request.query(pairs),
            Send::Body(content_type, bytes) => request
                .header("Content-Type", *content_type)
                .body(bytes.clone()),
            Send::Nothing => request,
        };
        let response = request.send().await.expect("the testbed answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{}: not JSON ({status}): {text}", case.what));
        (status, value)
    }

    /// What a client can see of the person's state: accounts, consents, aliases and balances.
    async fn snapshot(&self) -> Vec<String> {
        let mut seen = Vec::new();
        let list = self.bed.account_list(&self.user, "Y", "A").await;
        for item in list["res_list"].as_array().expect("an array") {
            seen.push(format!(
                "{} {} {} {} {}",
                item["fintech_use_num"],
                item["account_state"],
                item["inquiry_agree_yn"],
                item["transfer_agree_yn"],
                item["account_alias"]
            ));
        }
        for fintech in &self.fintech {
            let balance = self.bed.balance(&self.user, fintech).await;
            seen.push(format!("{fintech} {}", balance["balance_amt"]));
        }
        seen
    }

    fn query(&self, fields: &[(&str, &str)]) -> Send {
        Send::Query(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    /// A valid balance query with `changes` applied (an empty value removes the field).
    fn balance_query(&self, changes: &[(&str, &str)]) -> Send {
        let mut fields = vec![
            ("bank_tran_id".to_owned(), self.bed.next_id(0)),
            ("fintech_use_num".to_owned(), self.fintech[0].clone()),
            ("tran_dtime".to_owned(), self.bed.tran_dtime()),
        ];
        apply(&mut fields, changes);
        Send::Query(fields)
    }

    fn history_query(&self, changes: &[(&str, &str)]) -> Send {
        let today = self.bed.today();
        let mut fields = vec![
            ("bank_tran_id".to_owned(), self.bed.next_id(0)),
            ("fintech_use_num".to_owned(), self.fintech[0].clone()),
            ("inquiry_type".to_owned(), "A".to_owned()),
            ("inquiry_base".to_owned(), "D".to_owned()),
            (
                "from_date".to_owned(),
                (today - chrono::Days::new(30)).format("%Y%m%d").to_string(),
            ),
            ("to_date".to_owned(), today.format("%Y%m%d").to_string()),
            ("sort_order".to_owned(), "D".to_owned()),
            ("tran_dtime".to_owned(), self.bed.tran_dtime()),
            ("befor_inquiry_trace_info".to_owned(), String::new()),
        ];
        apply(&mut fields, changes);
        Send::Query(fields)
    }

    fn cancel_body(&self, changes: &[(&str, Value)]) -> Send {
        let mut body = json!({
            "bank_tran_id": self.bed.next_id(0),
            "scope": "inquiry",
            "fintech_use_num": self.fintech[0],
        });
        for (name, value) in changes {
            if value.is_null() {
                body.as_object_mut().expect("an object").remove(*name);
            } else {
                body[*name] = value.clone();
            }
        }
        Send::Body(
            "application/json",
            serde_json::to_vec(&body).expect("serializable"),
        )
    }
}

fn apply(fields: &mut Vec<(String, String)>, changes: &[(&str, &str)]) {
    for (name, value) in changes {
        fields.retain(|(k, _)| k != name);
        if !value.is_empty() {
            fields.push((name.to_string(), value.to_string()));
        }
    }
}

fn json_body(value: Value) -> Send {
    Send::Body(
        "application/json",
        serde_json::to_vec(&value).expect("serializable"),
    )
}

fn case(
    what: &'static str,
    method: Method,
    path: &'static str,
    bearer: Bearer,
    send: Send,
    rsp_code: &'static str,
    detail: Option<&'static str>,
) -> Case {
    Case {
        what,
        method,
        path,
        bearer,
        send,
        rsp_code,
        detail,
    }
}

const BALANCE: &str = "/v2.0/account/balance/fin_num";
const HISTORY: &str = "/v2.0/account/transaction_list/fin_num";
const CANCEL: &str = "/v2.0/account/cancel";
const ALIAS: &str = "/v2.0/account/update_info";
const ME: &str = "/v2.0/user/me";
const STATUS: &str = "/v2.0/bank/status";
const REAL_NAME: &str = "/v2.0/inquiry/real_name";

fn cases(w: &World) -> Vec<Case> {
    use Bearer::*;
    let me = w.query(&[("user_seq_no", &w.user.user_seq_no)]);
    let big_alias = "가".repeat(51);
    let huge = {
        let mut body = json!({
            "fintech_use_num": w.fintech[0],
            "account_alias": "x",
            "padding": "p".repeat(70 * 1024),
        });
        body["account_alias"] = json!("x");
        serde_json::to_vec(&body).expect("serializable")
    };
    let user_seq = w.user.user_seq_no.clone();
    vec![
        // 1. The HTTP method.
        case(
            "POST to a GET API",
            Method::POST,
            BALANCE,
            User,
            w.balance_query(&[]),
            "O0010",
            None,
        ),
        case(
            "GET to a POST API",
            Method::GET,
            CANCEL,
            User,
            Send::Nothing,
            "O0010",
            None,
        ),
        case(
            "PUT to user/me",
            Method::PUT,
            ME,
            User,
            me.clone(),
            "O0010",
            None,
        ),
        case(
            "DELETE to the token endpoint",
            Method::DELETE,
            "/oauth/2.0/token",
            Missing,
            Send::Nothing,
            "O0010",
            None,
        ),
        case(
            "DELETE to the consent pages",
            Method::DELETE,
            "/oauth/2.0/authorize",
            Missing,
            Send::Nothing,
            "O0010",
            None,
        ),
        case(
            "GET to real_name",
            Method::GET,
            REAL_NAME,
            Oob,
            Send::Nothing,
            "O0010",
            None,
        ),
        case(
            "method before bearer",
            Method::POST,
            STATUS,
            Missing,
            Send::Nothing,
            "O0010",
            None,
        ),
        // 2. The bearer.
        case(
            "no bearer on user/me",
            Method::GET,
            ME,
            Missing,
            me.clone(),
            "O0001",
            Some("[992]"),
        ),
        case(
            "no bearer on bank/status",
            Method::GET,
            STATUS,
            Missing,
            Send::Nothing,
            "O0001",
            Some("[992]"),
        ),
        case(
            "no bearer on cancel",
            Method::POST,
            CANCEL,
            Missing,
            w.cancel_body(&[]),
            "O0001",
            Some("[992]"),
        ),
        case(
            "basic instead of bearer",
            Method::GET,
            ME,
            Basic,
            me.clone(),
            "O0001",
            Some("[992]"),
        ),
        // 3. The token.
        case(
            "garbage token",
            Method::GET,
            ME,
            Garbage,
            me.clone(),
            "O0002",
            None,
        ),
        case(
            "forged signature",
            Method::GET,
            ME,
            Forged,
            me.clone(),
            "O0002",
            None,
        ),
        case(
            "refresh token as bearer",
            Method::GET,
            ME,
            Refresh,
            me.clone(),
            "O0002",
            None,
        ),
        case(
            "garbage token before format",
            Method::GET,
            BALANCE,
            Garbage,
            w.query(&[]),
            "O0002",
            None,
        ),
        // 4. The scope.
        case(
            "oob token on user/me",
            Method::GET,
            ME,
            Oob,
            me.clone(),
            "O0011",
            None,
        ),
        case(
            "oob token on balance",
            Method::GET,
            BALANCE,
            Oob,
            w.balance_query(&[]),
            "O0011",
            None,
        ),
        case(
            "user token on bank/status",
            Method::GET,
            STATUS,
            User,
            Send::Nothing,
            "O0011",
            None,
        ),
        case(
            "user token on real_name",
            Method::POST,
            REAL_NAME,
            User,
            json_body(json!({})),
            "O0011",
            None,
        ),
        case(
            "scope before format",
            Method::GET,
            BALANCE,
            Oob,
            w.query(&[]),
            "O0011",
            None,
        ),
        // 5. The message format.
        case(
            "malformed JSON",
            Method::POST,
            CANCEL,
            User,
            Send::Body("application/json", b"{\"scope\":".to_vec()),
            "A0004",
            Some("body"),
        ),
        case(
            "JSON that is not an object",
            Method::POST,
            CANCEL,
            User,
            Send::Body("application/json", b"[1,2]".to_vec()),
            "A0004",
            Some("body"),
        ),
        case(
            "wrong content type",
            Method::POST,
            ALIAS,
            User,
            Send::Body(
                "text/plain",
                serde_json::to_vec(&json!({"fintech_use_num": w.fintech[0], "account_alias": "x"}))
                    .expect("serializable"),
            ),
            "A0004",
            Some("Content-Type"),
        ),
        case(
            "form instead of JSON",
            Method::POST,
            CANCEL,
            User,
            Send::Body(
                "application/x-www-form-urlencoded",
                b"scope=inquiry".to_vec(),
            ),
            "A0004",
            Some("Content-Type"),
        ),
        case(
            "body over 64 KiB",
            Method::POST,
            ALIAS,
            User,
            Send::Body("application/json", huge),
            "A0004",
            Some("body"),
        ),
        case(
            "missing tran_dtime",
            Method::GET,
            BALANCE,
            User,
            w.balance_query(&[("tran_dtime", "")]),
            "A0004",
            Some("tran_dtime"),
        ),
        case(
            "missing fintech_use_num",
            Method::GET,
            BALANCE,
            User,
            w.balance_query(&[("fintech_use_num", "")]),
            "A0004",
            Some("fintech_use_num"),
        ),
        case(
            "missing bank_tran_id",
            Method::GET,
            BALANCE,
            User,
            w.balance_query(&[("bank_tran_id", "")]),
            "A0004",
            Some("bank_tran_id"),
        ),
        case(
            "non-digit fintech number",
            Method::GET,
            BALANCE,
            User,
            w.balance_query(&[("fintech_use_num", "12345678901234567890123A")]),
            "A0004",
            Some("fintech_use_num"),
        ),
        case(
            "short fintech number",
            Method::GET,
            BALANCE,
            User,
            w.balance_query(&[("fintech_use_num", "12345678901234567890123")]),
            "A0004",
            Some("fintech_use_num"),
        ),
        case(
            "long fintech number",
            Method::GET,
            BALANCE,
            User,
            w.balance_query(&[("fintech_use_num", "1234567890123456789012345")]),
            "A0004",
            Some("fintech_use_num"),
        ),
        case(
            "tran_dtime month 13",
            Method::GET,
            BALANCE,
            User,
            w.balance_query(&[("tran_dtime", "20261301120000")]),
            "A0004",
            Some("tran_dtime"),
        ),
        case(
            "tran_dtime too short",
            Method::GET,
            BALANCE,
            User,
            w.balance_query(&[("tran_dtime", "2026010112")]),
            "A0004",
            Some("tran_dtime"),
        ),
        case(
            "doubled query field",
            Method::GET,
            BALANCE,
            User,
            Send::Query(vec![
                ("bank_tran_id".into(), w.bed.next_id(0)),
                ("bank_tran_id".into(), w.bed.next_id(0)),
                ("fintech_use_num".into(), w.fintech[0].clone()),
                ("tran_dtime".into(), w.bed.tran_dtime()),
            ]),
            "A0004",
            Some("bank_tran_id"),
        ),
        case(
            "bank_tran_id of 19",
            Method::GET,
            BALANCE,
            User,
            w.balance_query(&[("bank_tran_id", &w.bed.next_id(0)[..19])]),
            "A0004",
            Some("bank_tran_id"),
        ),
        case(
            "bank_tran_id of 21",
            Method::GET,
            BALANCE,
            User,
            w.balance_query(&[("bank_tran_id", &format!("{}1", w.bed.next_id(0)))]),
            "A0004",
            Some("bank_tran_id"),
        ),
        case(
            "bank_tran_id without U",
            Method::GET,
            BALANCE,
            User,
            w.balance_query(&[("bank_tran_id", &format!("{}X123456789", w.bed.code_of(0)))]),
            "A0004",
            Some("bank_tran_id"),
        ),
        case(
            "bank_tran_id with a hyphen",
            Method::GET,
            BALANCE,
            User,
            w.balance_query(&[("bank_tran_id", &format!("{}U1234-6789", w.bed.code_of(0)))]),
            "A0004",
            Some("bank_tran_id"),
        ),
        case(
            "bank_tran_id with Hangul",
            Method::GET,
            BALANCE,
            User,
            w.balance_query(&[("bank_tran_id", &format!("{}U1234567가", w.bed.code_of(0)))]),
            "A0004",
            Some("bank_tran_id"),
        ),
        case(
            "bank_tran_id of another institution",
            Method::GET,
            BALANCE,
            User,
            w.balance_query(&[("bank_tran_id", &common::bank_tran_id(&w.bed.code_of(1)))]),
            "A0004",
            Some("bank_tran_id"),
        ),
        case(
            "impossible from_date",
            Method::GET,
            HISTORY,
            User,
            w.history_query(&[("from_date", "20260230")]),
            "A0004",
            Some("from_date"),
        ),
        case(
            "to_date not a date",
            Method::GET,
            HISTORY,
            User,
            w.history_query(&[("to_date", "2026-1-1")]),
            "A0004",
            Some("to_date"),
        ),
        case(
            "from after to",
            Method::GET,
            HISTORY,
            User,
            w.history_query(&[("from_date", "20260102"), ("to_date", "20260101")]),
            "A0004",
            Some("from_date"),
        ),
        case(
            "unknown inquiry_type",
            Method::GET,
            HISTORY,
            User,
            w.history_query(&[("inquiry_type", "X")]),
            "A0004",
            Some("inquiry_type"),
        ),
        case(
            "unknown sort_order",
            Method::GET,
            HISTORY,
            User,
            w.history_query(&[("sort_order", "Z")]),
            "A0004",
            Some("sort_order"),
        ),
        case(
            "bad from_time",
            Method::GET,
            HISTORY,
            User,
            w.history_query(&[
                ("inquiry_base", "T"),
                ("from_time", "250000"),
                ("to_time", "235959"),
            ]),
            "A0004",
            Some("from_time"),
        ),
        case(
            "foreign cursor",
            Method::GET,
            HISTORY,
            User,
            w.history_query(&[("befor_inquiry_trace_info", "R999999999")]),
            "A0004",
            Some("befor_inquiry_trace_info"),
        ),
        case(
            "garbled cursor",
            Method::GET,
            HISTORY,
            User,
            w.history_query(&[("befor_inquiry_trace_info", "page2")]),
            "A0004",
            Some("befor_inquiry_trace_info"),
        ),
        case(
            "over-long cursor",
            Method::GET,
            HISTORY,
            User,
            w.history_query(&[("befor_inquiry_trace_info", "R123456789012345678901")]),
            "A0004",
            Some("befor_inquiry_trace_info"),
        ),
        case(
            "over-long alias",
            Method::POST,
            ALIAS,
            User,
            json_body(json!({"fintech_use_num": w.fintech[0], "account_alias": big_alias})),
            "A0004",
            Some("account_alias"),
        ),
        case(
            "alias with a control character",
            Method::POST,
            ALIAS,
            User,
            json_body(json!({"fintech_use_num": w.fintech[0], "account_alias": "a\u{7}b"})),
            "A0004",
            Some("account_alias"),
        ),
        case(
            "alias as an object",
            Method::POST,
            ALIAS,
            User,
            json_body(json!({"fintech_use_num": w.fintech[0], "account_alias": {"x": 1}})),
            "A0004",
            Some("account_alias"),
        ),
        case(
            "cancel with an unknown scope",
            Method::POST,
            CANCEL,
            User,
            w.cancel_body(&[("scope", json!("login"))]),
            "A0004",
            Some("scope"),
        ),
        case(
            "cancel without bank_tran_id",
            Method::POST,
            CANCEL,
            User,
            w.cancel_body(&[("bank_tran_id", Value::Null)]),
            "A0004",
            Some("bank_tran_id"),
        ),
        case(
            "cancel with a numeric fintech number too short",
            Method::POST,
            CANCEL,
            User,
            w.cancel_body(&[("fintech_use_num", json!(12345))]),
            "A0004",
            Some("fintech_use_num"),
        ),
        case(
            "user_seq_no of 9 digits",
            Method::GET,
            ME,
            User,
            w.query(&[("user_seq_no", &user_seq[..9])]),
            "A0004",
            Some("user_seq_no"),
        ),
        case(
            "real_name without holder info",
            Method::POST,
            REAL_NAME,
            Oob,
            json_body(
                json!({"bank_tran_id": w.bed.next_id(0), "bank_code_std": "004", "account_num": "1234", "account_holder_info_type": " ", "tran_dtime": w.bed.tran_dtime()}),
            ),
            "A0004",
            Some("account_holder_info"),
        ),
        case(
            "real_name with a bad holder type",
            Method::POST,
            REAL_NAME,
            Oob,
            json_body(
                json!({"bank_tran_id": w.bed.next_id(0), "bank_code_std": "004", "account_num": "1234", "account_holder_info_type": "Q", "account_holder_info": "880101", "tran_dtime": w.bed.tran_dtime()}),
            ),
            "A0004",
            Some("account_holder_info_type"),
        ),
        case(
            "real_name with a 4-digit bank code",
            Method::POST,
            REAL_NAME,
            Oob,
            json_body(
                json!({"bank_tran_id": w.bed.next_id(0), "bank_code_std": "0044", "account_num": "1234", "account_holder_info_type": " ", "account_holder_info": "880101", "tran_dtime": w.bed.tran_dtime()}),
            ),
            "A0004",
            Some("bank_code_std"),
        ),
        case(
            "real_name with a hyphenated account",
            Method::POST,
            REAL_NAME,
            Oob,
            json_body(
                json!({"bank_tran_id": w.bed.next_id(0), "bank_code_std": "004", "account_num": "123-456", "account_holder_info_type": " ", "account_holder_info": "880101", "tran_dtime": w.bed.tran_dtime()}),
            ),
            "A0004",
            Some("account_num"),
        ),
        // 8. The fintech number.
        case(
            "unknown fintech number",
            Method::GET,
            BALANCE,
            User,
            w.balance_query(&[("fintech_use_num", "120260000100000000000000")]),
            "A0304",
            None,
        ),
        case(
            "unknown fintech number on history",
            Method::GET,
            HISTORY,
            User,
            w.history_query(&[("fintech_use_num", "120260000100000000000000")]),
            "A0304",
            None,
        ),
        case(
            "unknown fintech number on cancel",
            Method::POST,
            CANCEL,
            User,
            w.cancel_body(&[("fintech_use_num", json!("120260000100000000000000"))]),
            "A0304",
            None,
        ),
        case(
            "unknown fintech number on alias",
            Method::POST,
            ALIAS,
            User,
            json_body(json!({"fintech_use_num": "120260000100000000000000", "account_alias": "x"})),
            "A0304",
            None,
        ),
    ]
}

#[tokio::test]
async fn every_bad_request_is_refused_with_its_exact_code_and_changes_nothing() {
    let w = world().await;
    let before = w.snapshot().await;
    for case in cases(&w) {
        let (status, answer) = w.send(&case).await;
        assert_eq!(status, StatusCode::OK, "{}: HTTP {status}", case.what);
        assert_eq!(answer["rsp_code"], case.rsp_code, "{}: {answer}", case.what);
        let message = answer["rsp_message"].as_str().unwrap_or_default();
        if let Some(detail) = case.detail {
            assert!(
                message.contains(detail),
                "{}: {detail:?} not in {message:?}",
                case.what
            );
        }
        assert!(!message.is_empty(), "{}: a refusal says why", case.what);
    }
    assert_eq!(w.snapshot().await, before, "nothing was written");
}

#[tokio::test]
async fn an_unknown_path_is_http_404_with_o0004() {
    let w = world().await;
    for (method, path) in [
        (Method::GET, "/v2.0/account/balance/acnt_num"),
        (Method::POST, "/v2.0/nothing"),
        (Method::GET, "/"),
        (Method::GET, "/v1.0/user/me"),
    ] {
        let response = w
            .bed
            .http
            .request(method, w.bed.url(path))
            .bearer_auth(&w.user.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["rsp_code"], "O0004", "{path}");
    }
}

#[tokio::test]
async fn a_bank_tran_id_reused_the_same_day_is_refused_with_a0326() {
    let w = world().await;
    let id = w.bed.next_id(0);
    let query = |fintech: &str| {
        vec![
            ("bank_tran_id".to_owned(), id.clone()),
            ("fintech_use_num".to_owned(), fintech.to_owned()),
            ("tran_dtime".to_owned(), w.bed.tran_dtime()),
        ]
    };
    let balance = |fintech: String| {
        let pairs = query(&fintech);
        let w = &w;
        async move {
            let pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            w.bed.get(BALANCE, &w.user.access_token, &pairs).await
        }
    };
    assert_eq!(balance(w.fintech[0].clone()).await["rsp_code"], "A0000");
    let again = balance(w.fintech[0].clone()).await;
    assert_eq!(again["rsp_code"], "A0326", "{again}");
    // The id is spent for every API and every account of the institution.
    assert_eq!(balance(w.fintech[1].clone()).await["rsp_code"], "A0326");
    let history = w
        .bed
        .history_page(&w.user, &w.fintech[0], &[("bank_tran_id", &id)])
        .await;
    assert_eq!(history["rsp_code"], "A0326");
    let cancel = w
        .bed
        .post(
            CANCEL,
            &w.user.access_token,
            &json!({"bank_tran_id": id, "scope": "inquiry", "fintech_use_num": w.fintech[0]}),
        )
        .await;
    assert_eq!(cancel["rsp_code"], "A0326");
    // ... and the refused cancel did not cancel.
    assert_eq!(
        w.bed.balance(&w.user, &w.fintech[0]).await["rsp_code"],
        "A0000"
    );

    // The center keeps ids per day: the next day the same id is accepted again.
    w.bed.spawned.testbed.clock().set_offset(TimeDelta::days(1));
    assert_eq!(balance(w.fintech[0].clone()).await["rsp_code"], "A0000");
    assert_eq!(balance(w.fintech[0].clone()).await["rsp_code"], "A0326");
}

#[tokio::test]
async fn a_malformed_request_does_not_spend_its_bank_tran_id_but_a_refused_account_does() {
    let w = world().await;
    let id = w.bed.next_id(0);
    let dtime = w.bed.tran_dtime();
    let malformed = w
        .bed
        .get(
            BALANCE,
            &w.user.access_token,
            &[
                ("bank_tran_id", &id),
                ("fintech_use_num", &w.fintech[0]),
                ("tran_dtime", "bad"),
            ],
        )
        .await;
    assert_eq!(malformed["rsp_code"], "A0004");
    let unknown = w
        .bed
        .get(
            BALANCE,
            &w.user.access_token,
            &[
                ("bank_tran_id", &id),
                ("fintech_use_num", "120260000100000000000000"),
                ("tran_dtime", &dtime),
            ],
        )
        .await;
    assert_eq!(unknown["rsp_code"], "A0304", "the id was still fresh");
    // The center checks reuse before the fintech number, so that id is now spent.
    let reused = w
        .bed
        .get(
            BALANCE,
            &w.user.access_token,
            &[
                ("bank_tran_id", &id),
                ("fintech_use_num", &w.fintech[0]),
                ("tran_dtime", &dtime),
            ],
        )
        .await;
    assert_eq!(reused["rsp_code"], "A0326");
}

#[tokio::test]
async fn the_sandbox_shortcut_refuses_what_the_pages_refuse_and_registers_nothing() {
    let w = world().await;
    let bed = &w.bed;
    let mut someone_elses = bed.sandbox_body(0, 0, &[0], "login inquiry");
    someone_elses["accounts"] = json!([{
        "bank_code_std": bed.person(1).accounts[0].bank_code_std,
        "account_num": bed.person(1).accounts[0].account_num,
    }]);
    let mut no_accounts = bed.sandbox_body(0, 0, &[0], "login inquiry");
    no_accounts["accounts"] = json!([]);
    let mut unknown_person = bed.sandbox_body(0, 0, &[0], "login inquiry");
    unknown_person["cell_no"] = json!("01000000000");
    let mut foreign_uri = bed.sandbox_body(0, 0, &[0], "login inquiry");
    foreign_uri["redirect_uri"] = json!("https://evil.example/cb");
    let mut bad_secret = bed.sandbox_body(0, 0, &[0], "login inquiry");
    bad_secret["client_secret"] = json!("nope");
    let mut oob_scope = bed.sandbox_body(0, 0, &[0], "login inquiry");
    oob_scope["scope"] = json!("oob");
    let mut bad_agree = bed.sandbox_body(0, 0, &[0], "login inquiry");
    bad_agree["inquiry_agree"] = json!("maybe");
    let mut second_persons_account_too = bed.sandbox_body(0, 0, &[0, 1], "login inquiry");
    second_persons_account_too["accounts"][1] = json!({
        "bank_code_std": bed.person(2).accounts[0].bank_code_std,
        "account_num": bed.person(2).accounts[0].account_num,
    });
    for (body, detail) in [
        (someone_elses, "3000103"),
        (no_accounts, "3000103"),
        (unknown_person, "3000103"),
        (foreign_uri, "3000114"),
        (bad_secret, "3000201"),
        (oob_scope, "3000115"),
        (bad_agree, "3000103"),
        (second_persons_account_too, "3000103"),
    ] {
        let answer = bed.sandbox_authorize_raw(body.clone()).await;
        assert_eq!(answer["rsp_code"], "O0001", "{body}: {answer}");
        assert!(
            answer["rsp_message"].as_str().unwrap().contains(detail),
            "{answer}"
        );
        assert!(answer.get("code").is_none());
    }
    // Person 0 still has exactly the two accounts of the world, and person 2 only what they
    // register now.
    assert_eq!(bed.fintech_nums(&w.user).await, w.fintech);
    let person_two = bed.user(0, 2, &[1]).await;
    assert_eq!(bed.fintech_nums(&person_two).await.len(), 1);
}

#[tokio::test]
async fn a_refusal_carries_the_centers_time_like_any_answer() {
    let w = world().await;
    w.bed.spawned.testbed.clock().set_offset(TimeDelta::days(3));
    let center_day = w.bed.today().format("%Y%m%d").to_string();
    let answered = w.bed.user_me(&w.user).await;
    assert_eq!(answered["rsp_code"], "A0000");
    let refused = w
        .bed
        .get(ME, &w.user.access_token, &[("user_seq_no", "12")])
        .await;
    assert_eq!(refused["rsp_code"], "A0004");
    let not_found = w
        .bed
        .http
        .get(w.bed.url("/v2.0/nothing"))
        .send()
        .await
        .expect("an answer")
        .json::<Value>()
        .await
        .expect("JSON");
    for answer in [&answered, &refused, &not_found] {
        let dtm = answer["api_tran_dtm"].as_str().expect("api_tran_dtm");
        assert_eq!(&dtm[..8], center_day, "{answer}");
    }
}

/// Every route the center serves, with concrete path parameters.
const ROUTES: &[&str] = &[
    "/oauth/2.0/authorize",
    "/oauth/2.0/authorize_account",
    "/oauth/2.0/authorize/identity",
    "/oauth/2.0/authorize/otp",
    "/oauth/2.0/authorize/consent",
    "/oauth/2.0/token",
    "/testbed/sandbox/authorize",
    "/testbed/admin/banks",
    "/testbed/admin/banks/004",
    "/testbed/admin/banks/9999",
    "/testbed/admin/faults",
    "/testbed/admin/clock",
    "/testbed/admin/accounts/004/123",
    "/testbed/admin/accounts/004/123/history",
    "/testbed/admin/people/01012345678/accounts",
    "/testbed/admin/ledger",
    "/testbed/admin/transfers",
    "/v2.0/user/me",
    "/v2.0/user/unlink",
    "/v2.0/user/close",
    "/v2.0/account/list",
    "/v2.0/account/update_info",
    "/v2.0/account/cancel",
    "/v2.0/account/balance/fin_num",
    "/v2.0/account/transaction_list/fin_num",
    "/v2.0/inquiry/real_name",
    "/v2.0/inquiry/receive",
    "/v2.0/inquiry/remit_list",
    "/v2.0/transfer/withdraw/fin_num",
    "/v2.0/transfer/deposit/fin_num",
    "/v2.0/transfer/deposit/acnt_num",
    "/v2.0/transfer/result",
    "/v2.0/return/claim",
    "/v2.0/return/result",
    "/v2.0/bank/status",
];

/// Bodies no client should send: broken bytes, wrong types in every known field, absurd numbers.
fn garbage_bodies(w: &World) -> Vec<(&'static str, Vec<u8>)> {
    let wrong_types = json!({
        "bank_tran_id": [], "fintech_use_num": {}, "tran_amt": -1, "tran_dtime": true,
        "req_cnt": "99999999999999999999", "req_list": [{}, 1, null, "x"],
        "cntr_account_type": {"a": 1}, "cntr_account_num": 1.5, "scope": ["inquiry"],
        "user_seq_no": 12345678901234567890u64, "client_use_code": null,
        "check_type": "9", "account_holder_info_type": [" "], "bank_code_std": 4,
        "account_num": 1e300, "from_date": "99999999", "to_date": "00000000",
        "befor_inquiry_trace_info": "R18446744073709551616", "org_bank_tran_date": "20260230",
        "offset_seconds": "soon", "status": 7, "latency_ms": -5, "state": [],
    });
    let plausible = json!({
        "bank_tran_id": w.bed.next_id(0), "fintech_use_num": w.fintech[0],
        "tran_amt": "999999999999", "tran_dtime": w.bed.tran_dtime(), "req_cnt": "26",
        "req_list": (0..30).map(|n| json!({"tran_no": n.to_string()})).collect::<Vec<_>>(),
        "cntr_account_type": "N", "cntr_account_num": "0", "check_type": "1",
        "user_seq_no": w.user.user_seq_no, "client_use_code": "X000000000",
    });
    vec![
        ("empty", Vec::new()),
        ("binary", vec![0xff, 0xfe, 0x00, b'{', 0x80]),
        ("deep", "[".repeat(5000).into_bytes()),
        ("number out of range", b"{\"tran_amt\": 1e400}".to_vec()),
        (
            "wrong types",
            serde_json::to_vec(&wrong_types).expect("serializable"),
        ),
        (
            "plausible but wrong",
            serde_json::to_vec(&plausible).expect("serializable"),
        ),
    ]
}

#[tokio::test]
async fn no_route_answers_a_5xx_or_breaks_the_connection_whatever_it_is_sent() {
    let w = world().await;
    let admin = w.bed.spawned.manifest.admin_token.clone();
    let tokens = [
        None,
        Some(w.user.access_token.clone()),
        Some(w.oob.clone()),
        Some(admin),
    ];
    let bodies = garbage_bodies(&w);
    let mut sent = 0;
    for path in ROUTES {
        for method in [Method::GET, Method::POST, Method::PUT, Method::DELETE] {
            for token in &tokens {
                for (what, body) in &bodies {
                    for content_type in ["application/json", "application/x-www-form-urlencoded"] {
                        let mut request = w
                            .bed
                            .http
                            .request(
                                method.clone(),
                                format!("{}{path}?%zz=&&=%00", w.bed.spawned.base_url),
                            )
                            .header("Content-Type", content_type)
                            .body(body.clone());
                        if let Some(token) = token {
                            request = request.bearer_auth(token);
                        }
                        let response = request.send().await.unwrap_or_else(|e| {
                            panic!("{method} {path} with {what} ({content_type}): no answer: {e}")
                        });
                        let status = response.status();
                        assert!(
                            !status.is_server_error(),
                            "{method} {path} with {what} ({content_type}): HTTP {status}"
                        );
                        let _ = response.bytes().await.expect("the whole body arrives");
                        sent += 1;
                    }
                }
            }
        }
    }
    assert!(sent > 1000);
    // The center is still whole: the person's state and the ledger are as they were.
    assert_eq!(w.bed.user_me(&w.user).await["rsp_code"], "A0000");
    w.bed.assert_invariants().await;
}
