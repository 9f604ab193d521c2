//! The consent pages of `/oauth/2.0/authorize` and `/oauth/2.0/authorize_account`: identity check,
//! one-time code, account selection and consents, then the redirect back to the institution.
//!
//! Plain HTML forms without JavaScript, so a webview and a scripted HTTP client complete them
//! alike. Korean by default, English with `lang=eng`.

use std::fmt::Write as _;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use rusqlite::{OptionalExtension, params};

use crate::api::method_not_allowed;
use crate::db::DbError;
use crate::oauth::{self, Grant};
use crate::seed::BANKS;
use crate::session::{AuthRequest, MAX_OTP_ATTEMPTS, Session, Stage, one_time_code};
use crate::state::{Institution, Testbed};
use crate::wire::ApiError;

pub(crate) fn routes() -> Router<Testbed> {
    Router::new()
        .route(
            "/oauth/2.0/authorize",
            get(authorize).fallback(method_not_allowed),
        )
        .route(
            "/oauth/2.0/authorize_account",
            get(authorize_account).fallback(method_not_allowed),
        )
        .route(
            "/oauth/2.0/authorize/identity",
            post(identity).fallback(method_not_allowed),
        )
        .route(
            "/oauth/2.0/authorize/otp",
            post(otp).fallback(method_not_allowed),
        )
        .route(
            "/oauth/2.0/authorize/consent",
            post(consent).fallback(method_not_allowed),
        )
}

/// The words of the pages, in Korean and English.
struct Words {
    title: &'static str,
    reconfirm_title: &'static str,
    requested_by: &'static str,
    identity_heading: &'static str,
    user_name: &'static str,
    birth_date: &'static str,
    birth_hint: &'static str,
    cell_no: &'static str,
    send_code: &'static str,
    no_such_person: &'static str,
    otp_heading: &'static str,
    otp_sent: &'static str,
    otp_testbed: &'static str,
    otp_label: &'static str,
    confirm: &'static str,
    wrong_otp: &'static str,
    too_many_attempts: &'static str,
    accounts_heading: &'static str,
    accounts_hint: &'static str,
    registered: &'static str,
    other_account: &'static str,
    bank: &'static str,
    account_num: &'static str,
    consents_heading: &'static str,
    inquiry_agree: &'static str,
    transfer_agree: &'static str,
    terms_service: &'static str,
    terms_privacy: &'static str,
    agree: &'static str,
    refuse: &'static str,
    pick_account: &'static str,
    need_terms: &'static str,
    need_inquiry: &'static str,
    not_yours: &'static str,
    session_gone: &'static str,
    error_heading: &'static str,
    refused_description: &'static str,
}

const KOREAN: Words = Words {
    title: "오픈뱅킹 사용자 인증",
    reconfirm_title: "오픈뱅킹 계좌 등록 확인",
    requested_by: "이(가) 오픈뱅킹 서비스 이용을 요청했습니다.",
    identity_heading: "본인 확인",
    user_name: "이름",
    birth_date: "생년월일",
    birth_hint: "8자리, 예: 19880101",
    cell_no: "휴대폰 번호",
    send_code: "인증번호 받기",
    no_such_person: "입력하신 정보와 일치하는 사용자가 없습니다.",
    otp_heading: "휴대폰 인증",
    otp_sent: "인증번호를 보냈습니다:",
    otp_testbed: "테스트베드 인증번호",
    otp_label: "인증번호 6자리",
    confirm: "확인",
    wrong_otp: "인증번호가 일치하지 않습니다.",
    too_many_attempts: "인증번호를 여러 번 틀렸습니다. 처음부터 다시 시작하세요.",
    accounts_heading: "계좌 선택",
    accounts_hint: "오픈뱅킹으로 조회하고 이체할 계좌를 고르세요.",
    registered: "등록됨",
    other_account: "다른 계좌 직접 입력",
    bank: "은행",
    account_num: "계좌번호",
    consents_heading: "동의",
    inquiry_agree: "[필수] 제3자 정보제공 동의 (잔액·거래내역 조회)",
    transfer_agree: "[선택] 출금 동의 (계좌에서 출금이체)",
    terms_service: "[필수] 오픈뱅킹 서비스 이용약관",
    terms_privacy: "[필수] 개인정보 수집·이용 동의",
    agree: "동의하고 등록",
    refuse: "취소",
    pick_account: "계좌를 하나 이상 선택하세요.",
    need_terms: "필수 약관에 동의해야 합니다.",
    need_inquiry: "조회 서비스를 쓰려면 제3자 정보제공에 동의해야 합니다.",
    not_yours: "본인 명의의 계좌가 아닙니다:",
    session_gone: "인증 세션이 만료되었습니다. 처음부터 다시 시작하세요.",
    error_heading: "요청을 처리할 수 없습니다",
    refused_description: "사용자가 동의를 거부했습니다",
};

const ENGLISH: Words = Words {
    title: "Open Banking sign-in",
    reconfirm_title: "Open Banking account confirmation",
    requested_by: " asks to use Open Banking on your behalf.",
    identity_heading: "Identity check",
    user_name: "Name",
    birth_date: "Date of birth",
    birth_hint: "8 digits, e.g. 19880101",
    cell_no: "Mobile number",
    send_code: "Send code",
    no_such_person: "No person matches what you entered.",
    otp_heading: "Mobile verification",
    otp_sent: "We sent a code to",
    otp_testbed: "Testbed code",
    otp_label: "6-digit code",
    confirm: "Confirm",
    wrong_otp: "That code is not right.",
    too_many_attempts: "Too many wrong codes. Please start again.",
    accounts_heading: "Choose accounts",
    accounts_hint: "Pick the accounts to view and transfer from through Open Banking.",
    registered: "registered",
    other_account: "Enter another account",
    bank: "Bank",
    account_num: "Account number",
    consents_heading: "Consents",
    inquiry_agree: "[Required] Share account information (balances and history)",
    transfer_agree: "[Optional] Allow withdrawals (transfers from the account)",
    terms_service: "[Required] Open Banking terms of service",
    terms_privacy: "[Required] Collection and use of personal data",
    agree: "Agree and register",
    refuse: "Cancel",
    pick_account: "Choose at least one account.",
    need_terms: "You must accept the required terms.",
    need_inquiry: "Viewing accounts needs the information-sharing consent.",
    not_yours: "This account is not in your name:",
    session_gone: "This sign-in has expired. Please start again.",
    error_heading: "This request cannot be processed",
    refused_description: "The user refused consent",
};

fn words(english: bool) -> &'static Words {
    if english { &ENGLISH } else { &KOREAN }
}

/// Escapes text for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
:root{color-scheme:light dark;--ink:#1b1f24;--muted:#5b6470;--line:#d9dee5;--accent:#1f5fd1;--bg:#f5f7fa;--card:#fff;--bad:#b3261e}
@media (prefers-color-scheme:dark){:root{--ink:#e8ebf0;--muted:#a3acb9;--line:#39414c;--accent:#7aa7ff;--bg:#15181c;--card:#1e2227;--bad:#ff8a80}}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 'Noto Sans KR','Apple SD Gothic Neo','Malgun Gothic',system-ui,sans-serif;background:var(--bg);color:var(--ink)}
main{max-width:440px;margin:40px auto;padding:28px;background:var(--card);border:1px solid var(--line);border-radius:14px}
header{font-size:13px;color:var(--muted);letter-spacing:.02em;margin-bottom:18px}h1{font-size:22px;margin:0 0 6px}p{margin:6px 0 16px;color:var(--muted)}
label{display:block;margin:14px 0 4px;font-weight:600}input[type=text],input[type=tel],select{width:100%;padding:10px 12px;font:inherit;border:1px solid var(--line);border-radius:8px;background:transparent;color:inherit}
.check{display:flex;gap:10px;align-items:flex-start;font-weight:400;padding:10px 0;border-bottom:1px solid var(--line)}.check input{margin-top:4px}
.tag{font-size:12px;color:var(--accent);margin-left:6px}.error{color:var(--bad);font-weight:600}
.otp{padding:12px;border:1px dashed var(--accent);border-radius:8px;margin:12px 0}.otp strong{font-size:22px;letter-spacing:.2em}
.actions{display:flex;gap:10px;margin-top:22px}button{flex:1;padding:12px;font:inherit;font-weight:700;border-radius:8px;border:1px solid var(--accent);cursor:pointer}
button.primary{background:var(--accent);color:#fff}button.secondary{background:transparent;color:var(--accent)}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}fieldset{border:0;padding:0;margin:0}legend{font-weight:700;margin-top:18px}
";

fn page(english: bool, title: &str, body: &str) -> String {
    let lang = if english { "en" } else { "ko" };
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body><main>\
         <header>금융결제원 오픈뱅킹 · KFTC Open Banking (testbed)</header>{body}</main></body></html>",
        title = esc(title)
    )
}

fn html(status: StatusCode, document: String) -> Response {
    html_to(status, document, None)
}

/// The origin (`scheme://host[:port]`) of a URL, for a CSP source.
fn origin(url: &str) -> Option<&str> {
    let start = url.find("://")? + 3;
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    Some(&url[..end])
}

/// A page whose form may also lead to `redirect_uri`: a browser applies `form-action` to the
/// redirect that follows a form submission, so the institution's callback must be allowed too.
fn html_to(status: StatusCode, document: String, redirect_uri: Option<&str>) -> Response {
    let mut response = (status, Html(document)).into_response();
    let mut form_action = "'self'".to_owned();
    if let Some(origin) = redirect_uri.and_then(origin) {
        // A loopback callback registered without a port accepts any port.
        let source = match origin {
            "http://127.0.0.1" | "http://localhost" => format!("{origin}:*"),
            other => other.to_owned(),
        };
        form_action = format!("'self' {origin} {source}");
    }
    let policy = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action {form_action}; \
         frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // No page of the center may be framed: a framed consent page can be clickjacked into
    // agreeing (RFC 9700 §4.16). Older browsers read the second header.
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

fn error_page(english: bool, error: &ApiError) -> Response {
    let w = words(english);
    let body = format!(
        "<h1>{}</h1><p id=\"testbed-error\" class=\"error\">{} {}</p>",
        w.error_heading,
        esc(error.rsp_code),
        esc(&error.message)
    );
    html(
        StatusCode::BAD_REQUEST,
        page(english, w.error_heading, &body),
    )
}

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    serde_urlencoded::from_str(raw.unwrap_or("")).unwrap_or_default()
}

fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

async fn authorize(state: State<Testbed>, query: RawQuery) -> Response {
    start(state, query, false).await
}

async fn authorize_account(state: State<Testbed>, query: RawQuery) -> Response {
    start(state, query, true).await
}

/// Checks the authorize request, as the center does before showing anything, and opens a session.
async fn start(
    State(testbed): State<Testbed>,
    RawQuery(raw): RawQuery,
    reconfirm: bool,
) -> Response {
    let pairs = query_pairs(raw.as_deref());
    let english = first(&pairs, "lang") == Some("eng");
    match check_request(&testbed, &pairs, reconfirm) {
        Ok((institution, request)) => {
            let id = testbed.sessions().start(request);
            identity_page(&institution, &id, english, reconfirm, None)
        }
        Err(error) => error_page(english, &error),
    }
}

fn check_request(
    testbed: &Testbed,
    pairs: &[(String, String)],
    reconfirm: bool,
) -> Result<(Institution, AuthRequest), ApiError> {
    let required =
        |name: &str| first(pairs, name).ok_or_else(|| ApiError::auth_parameter("3000103"));
    let client_id = required("client_id")?;
    let institution = testbed
        .institution_by_client_id(client_id)
        .ok_or_else(|| ApiError::auth_parameter("3000201"))?;
    let redirect_uri = required("redirect_uri")?;
    if !institution.accepts_redirect(redirect_uri) {
        return Err(ApiError::auth_parameter("3000114"));
    }
    if required("response_type")? != "code" {
        return Err(ApiError::auth_parameter("3000116"));
    }
    let scope = oauth::parse_scope(&institution, required("scope")?)?;
    let state = required("state")?.to_owned();
    if !matches!(required("auth_type")?, "0" | "1" | "2") {
        return Err(ApiError::auth_parameter("3000103"));
    }
    let code_challenge = match (
        first(pairs, "code_challenge"),
        first(pairs, "code_challenge_method"),
    ) {
        (None, _) => None,
        (Some(challenge), Some("S256")) if (43..=128).contains(&challenge.len()) => {
            Some(challenge.to_owned())
        }
        _ => return Err(ApiError::auth_parameter("3000103")),
    };
    if institution.public && code_challenge.is_none() {
        return Err(oauth::pkce_required());
    }
    let request = AuthRequest {
        institution_id: institution.id,
        client_info: first(pairs, "client_info").unwrap_or("").to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state,
        code_challenge,
        english: first(pairs, "lang") == Some("eng"),
        reconfirm,
    };
    Ok((institution, request))
}

fn heading(w: &Words, institution: &Institution, reconfirm: bool) -> String {
    format!(
        "<h1>{}</h1><p><strong>{}</strong>{}</p>",
        if reconfirm {
            w.reconfirm_title
        } else {
            w.title
        },
        esc(&institution.name),
        w.requested_by
    )
}

fn error_line(error: Option<&str>) -> String {
    error
        .map(|e| {
            format!(
                "<p role=\"alert\" id=\"testbed-error\" class=\"error\">{}</p>",
                esc(e)
            )
        })
        .unwrap_or_default()
}

fn identity_page(
    institution: &Institution,
    session: &str,
    english: bool,
    reconfirm: bool,
    error: Option<&str>,
) -> Response {
    let w = words(english);
    let body = format!(
        "{head}<h2>{h}</h2>{err}<form method=\"post\" action=\"/oauth/2.0/authorize/identity\">\
         <input type=\"hidden\" name=\"session\" value=\"{session}\">\
         <label for=\"user_name\">{name}</label><input type=\"text\" id=\"user_name\" name=\"user_name\" autocomplete=\"name\" required>\
         <label for=\"birth_date\">{birth}</label><input type=\"text\" id=\"birth_date\" name=\"birth_date\" inputmode=\"numeric\" pattern=\"[0-9]{{8}}\" placeholder=\"{hint}\" required>\
         <label for=\"cell_no\">{cell}</label><input type=\"tel\" id=\"cell_no\" name=\"cell_no\" inputmode=\"numeric\" placeholder=\"01012345678\" required>\
         <div class=\"actions\"><button class=\"primary\" type=\"submit\" id=\"send-code\">{send}</button></div></form>",
        head = heading(w, institution, reconfirm),
        h = w.identity_heading,
        err = error_line(error),
        session = esc(session),
        name = w.user_name,
        birth = w.birth_date,
        hint = w.birth_hint,
        cell = w.cell_no,
        send = w.send_code,
    );
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html(status, page(english, w.title, &body))
}

fn form(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// The page for a session that has expired or never was.
fn session_gone(english: bool) -> Response {
    let w = words(english);
    let body = format!(
        "<h1>{}</h1><p id=\"testbed-error\" class=\"error\">{}</p>",
        w.error_heading, w.session_gone
    );
    html(
        StatusCode::BAD_REQUEST,
        page(english, w.error_heading, &body),
    )
}

/// The session named in a posted form, with its institution; `None` when it is gone.
fn session_of(
    testbed: &Testbed,
    fields: &[(String, String)],
) -> Option<(String, Session, Institution)> {
    let id = first(fields, "session").unwrap_or("").to_owned();
    let session = testbed.sessions().get(&id)?;
    let institution = testbed
        .institutions()
        .into_iter()
        .find(|i| i.id == session.request.institution_id)?;
    Some((id, session, institution))
}

async fn identity(State(testbed): State<Testbed>, body: Bytes) -> Response {
    let fields = form(&body);
    let Some((id, session, institution)) = session_of(&testbed, &fields) else {
        return session_gone(false);
    };
    let english = session.request.english;
    let reconfirm = session.request.reconfirm;
    let w = words(english);
    let name = first(&fields, "user_name").unwrap_or("").trim().to_owned();
    let birth = first(&fields, "birth_date").unwrap_or("").trim().to_owned();
    let cell: String = first(&fields, "cell_no")
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let person = testbed
        .db()
        .read(move |conn| -> Result<Option<i64>, DbError> {
            Ok(conn
                .query_row(
                    "SELECT id FROM people WHERE user_name = ?1 AND birth_date = ?2 AND cell_no = ?3",
                    params![name, birth, cell],
                    |r| r.get(0),
                )
                .optional()?)
        })
        .await;
    match person {
        Ok(Some(person_id)) => {
            let code = one_time_code();
            testbed.sessions().advance(
                &id,
                Stage::Otp {
                    person_id,
                    otp: code.clone(),
                    attempts: 0,
                },
            );
            let cell = first(&fields, "cell_no").unwrap_or("");
            otp_page(&institution, &id, english, reconfirm, &code, cell, None)
        }
        Ok(None) => identity_page(
            &institution,
            &id,
            english,
            reconfirm,
            Some(w.no_such_person),
        ),
        Err(e) => error_page(english, &ApiError::from(e)),
    }
}

fn masked_cell(cell: &str) -> String {
    let digits: Vec<char> = cell.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 8 {
        return "***".into();
    }
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("{head}-****-{tail}")
}

#[allow(clippy::too_many_arguments)]
fn otp_page(
    institution: &Institution,
    session: &str,
    english: bool,
    reconfirm: bool,
    code: &str,
    cell: &str,
    error: Option<&str>,
) -> Response {
    let w = words(english);
    let body = format!(
        "{head}<h2>{h}</h2><p>{sent} {cell}</p>\
         <div class=\"otp\">{testbed}: <strong id=\"testbed-otp\">{code}</strong></div>{err}\
         <form method=\"post\" action=\"/oauth/2.0/authorize/otp\">\
         <input type=\"hidden\" name=\"session\" value=\"{session}\">\
         <label for=\"otp\">{label}</label><input type=\"text\" id=\"otp\" name=\"otp\" inputmode=\"numeric\" pattern=\"[0-9]{{6}}\" autocomplete=\"one-time-code\" required>\
         <div class=\"actions\"><button class=\"primary\" type=\"submit\" id=\"confirm-otp\">{confirm}</button></div></form>",
        head = heading(w, institution, reconfirm),
        h = w.otp_heading,
        sent = w.otp_sent,
        cell = esc(&masked_cell(cell)),
        testbed = w.otp_testbed,
        code = esc(code),
        err = error_line(error),
        session = esc(session),
        label = w.otp_label,
        confirm = w.confirm,
    );
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html(status, page(english, w.title, &body))
}

async fn otp(State(testbed): State<Testbed>, body: Bytes) -> Response {
    let fields = form(&body);
    let Some((id, session, institution)) = session_of(&testbed, &fields) else {
        return session_gone(false);
    };
    let english = session.request.english;
    let reconfirm = session.request.reconfirm;
    let w = words(english);
    let Stage::Otp {
        person_id,
        otp,
        attempts,
    } = session.stage
    else {
        return error_page(english, &ApiError::auth_parameter("3002110"));
    };
    if first(&fields, "otp") == Some(otp.as_str()) {
        testbed
            .sessions()
            .advance(&id, Stage::Accounts { person_id });
        return accounts_page(
            &testbed,
            &institution,
            &id,
            &session.request,
            person_id,
            None,
        )
        .await;
    }
    if attempts + 1 >= MAX_OTP_ATTEMPTS {
        testbed.sessions().end(&id);
        let body = format!(
            "<h1>{}</h1><p id=\"testbed-error\" class=\"error\">{}</p>",
            w.error_heading, w.too_many_attempts
        );
        return html(
            StatusCode::BAD_REQUEST,
            page(english, w.error_heading, &body),
        );
    }
    testbed.sessions().advance(
        &id,
        Stage::Otp {
            person_id,
            otp: otp.clone(),
            attempts: attempts + 1,
        },
    );
    otp_page(
        &institution,
        &id,
        english,
        reconfirm,
        &otp,
        "",
        Some(w.wrong_otp),
    )
}

/// A person's account as the selection page lists it.
struct Choice {
    bank_code: String,
    bank_name: String,
    account_num: String,
    product: String,
    registered: bool,
}

async fn choices(
    testbed: &Testbed,
    institution_id: i64,
    person_id: i64,
) -> Result<Vec<Choice>, ApiError> {
    Ok(testbed
        .db()
        .read(move |conn| -> Result<Vec<Choice>, DbError> {
            let mut stmt = conn.prepare(
                "SELECT a.bank_code, b.name, a.account_num, a.product_name,
                    EXISTS (SELECT 1 FROM registrations r WHERE r.account_id = a.id
                            AND r.institution_id = ?2 AND r.state = '01')
                 FROM accounts a JOIN banks b ON b.code = a.bank_code
                 WHERE a.person_id = ?1 AND a.state != 'closed' ORDER BY a.id",
            )?;
            let rows = stmt.query_map(params![person_id, institution_id], |r| {
                Ok(Choice {
                    bank_code: r.get(0)?,
                    bank_name: r.get(1)?,
                    account_num: r.get(2)?,
                    product: r.get(3)?,
                    registered: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await?)
}

async fn accounts_page(
    testbed: &Testbed,
    institution: &Institution,
    session: &str,
    request: &AuthRequest,
    person_id: i64,
    error: Option<&str>,
) -> Response {
    let english = request.english;
    let w = words(english);
    let list = match choices(testbed, institution.id, person_id).await {
        Ok(list) => list,
        Err(e) => return error_page(english, &e),
    };
    let mut items = String::new();
    for c in &list {
        let value = format!("{}-{}", c.bank_code, c.account_num);
        let _ = write!(
            items,
            "<label class=\"check\"><input type=\"checkbox\" name=\"account\" value=\"{v}\"{checked}>\
             <span>{bank} {num}<br><small>{product}</small>{tag}</span></label>",
            v = esc(&value),
            checked = if request.reconfirm && c.registered {
                " checked"
            } else {
                ""
            },
            bank = esc(&c.bank_name),
            num = esc(&c.account_num),
            product = esc(&c.product),
            tag = if c.registered {
                format!("<span class=\"tag\">{}</span>", w.registered)
            } else {
                String::new()
            },
        );
    }
    let mut banks = String::from("<option value=\"\">—</option>");
    for (code, name) in BANKS {
        let _ = write!(banks, "<option value=\"{code}\">{name} ({code})</option>");
    }
    let mut consents = String::new();
    let wants = |s: &str| request.scope.iter().any(|x| x == s);
    if wants("inquiry") {
        let _ = write!(
            consents,
            "<label class=\"check\"><input type=\"checkbox\" name=\"inquiry_agree\" value=\"Y\"><span>{}</span></label>",
            w.inquiry_agree
        );
    }
    if wants("transfer") {
        let _ = write!(
            consents,
            "<label class=\"check\"><input type=\"checkbox\" name=\"transfer_agree\" value=\"Y\"><span>{}</span></label>",
            w.transfer_agree
        );
    }
    let _ = write!(
        consents,
        "<label class=\"check\"><input type=\"checkbox\" name=\"terms_service\" value=\"Y\"><span>{}</span></label>\
         <label class=\"check\"><input type=\"checkbox\" name=\"terms_privacy\" value=\"Y\"><span>{}</span></label>",
        w.terms_service, w.terms_privacy
    );
    let body = format!(
        "{head}<h2>{h}</h2><p>{hint}</p>{err}<form method=\"post\" action=\"/oauth/2.0/authorize/consent\">\
         <input type=\"hidden\" name=\"session\" value=\"{session}\">\
         <fieldset><legend>{h}</legend>{items}</fieldset>\
         <fieldset><legend>{other}</legend><label for=\"bank_code_std\">{bank}</label><select id=\"bank_code_std\" name=\"bank_code_std\">{banks}</select>\
         <label for=\"account_num\">{num}</label><input type=\"text\" id=\"account_num\" name=\"account_num\" inputmode=\"numeric\"></fieldset>\
         <fieldset><legend>{ch}</legend>{consents}</fieldset>\
         <div class=\"actions\"><button class=\"secondary\" type=\"submit\" name=\"action\" value=\"refuse\" id=\"refuse\" formnovalidate>{refuse}</button>\
         <button class=\"primary\" type=\"submit\" name=\"action\" value=\"agree\" id=\"agree\">{agree}</button></div></form>",
        head = heading(w, institution, request.reconfirm),
        h = w.accounts_heading,
        hint = w.accounts_hint,
        err = error_line(error),
        session = esc(session),
        other = w.other_account,
        bank = w.bank,
        num = w.account_num,
        ch = w.consents_heading,
        refuse = w.refuse,
        agree = w.agree,
    );
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html_to(
        status,
        page(english, w.title, &body),
        Some(&request.redirect_uri),
    )
}

/// Where the browser goes back to: the redirect URI with the answer's parameters.
fn callback(request: &AuthRequest, pairs: &[(&str, &str)]) -> Response {
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    let separator = if request.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    let location = format!("{}{separator}{query}", request.redirect_uri);
    // KFTC answers 302 Found, and so do we.
    match HeaderValue::from_str(&location) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => error_page(request.english, &ApiError::auth_parameter("3000114")),
    }
}

async fn consent(State(testbed): State<Testbed>, body: Bytes) -> Response {
    let fields = form(&body);
    let Some((id, session, institution)) = session_of(&testbed, &fields) else {
        return session_gone(false);
    };
    let request = session.request.clone();
    let english = request.english;
    let w = words(english);
    let Stage::Accounts { person_id } = session.stage else {
        return error_page(english, &ApiError::auth_parameter("3002110"));
    };
    if first(&fields, "action") == Some("refuse") {
        testbed.sessions().end(&id);
        let description = w.refused_description;
        return callback(
            &request,
            &[
                ("error", "access_denied"),
                ("error_description", description),
                ("state", &request.state),
            ],
        );
    }
    let retry = |message: String| {
        let testbed = testbed.clone();
        let institution = institution.clone();
        let request = request.clone();
        let id = id.clone();
        async move {
            accounts_page(
                &testbed,
                &institution,
                &id,
                &request,
                person_id,
                Some(&message),
            )
            .await
        }
    };
    let list = match choices(&testbed, institution.id, person_id).await {
        Ok(list) => list,
        Err(e) => return error_page(english, &e),
    };
    let mut picked: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "account")
        .map(|(_, v)| v.clone())
        .collect();
    if let (Some(bank), Some(number)) = (
        first(&fields, "bank_code_std"),
        first(&fields, "account_num"),
    ) {
        let number: String = number.chars().filter(char::is_ascii_digit).collect();
        picked.push(format!("{bank}-{number}"));
    }
    picked.sort();
    picked.dedup();
    if picked.is_empty() {
        return retry(w.pick_account.into()).await;
    }
    let mut wanted = Vec::new();
    for value in &picked {
        let found = list
            .iter()
            .find(|c| format!("{}-{}", c.bank_code, c.account_num) == *value);
        match found {
            Some(c) => wanted.push((c.bank_code.clone(), c.account_num.clone())),
            None => return retry(format!("{} {value}", w.not_yours)).await,
        }
    }
    let checked = |name: &str| first(&fields, name) == Some("Y");
    if !checked("terms_service") || !checked("terms_privacy") {
        return retry(w.need_terms.into()).await;
    }
    if request.scope.iter().any(|s| s == "inquiry") && !checked("inquiry_agree") {
        return retry(w.need_inquiry.into()).await;
    }
    let accounts = testbed
        .db()
        .read(move |conn| -> Result<Vec<i64>, DbError> {
            let mut ids = Vec::new();
            for (bank, number) in wanted {
                ids.push(conn.query_row(
                    "SELECT id FROM accounts WHERE bank_code = ?1 AND account_num = ?2",
                    params![bank, number],
                    |r| r.get(0),
                )?);
            }
            Ok(ids)
        })
        .await;
    let accounts = match accounts {
        Ok(ids) => ids,
        Err(e) => return error_page(english, &ApiError::from(e)),
    };
    let grant = Grant {
        institution,
        person_id,
        scope: request.scope.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        client_info: request.client_info.clone(),
        accounts,
        inquiry_agree: checked("inquiry_agree"),
        transfer_agree: checked("transfer_agree"),
    };
    match oauth::grant(&testbed, grant).await {
        Ok(code) => {
            testbed.sessions().end(&id);
            let scope = request.scope.join(" ");
            callback(
                &request,
                &[
                    ("code", &code),
                    ("scope", &scope),
                    ("client_info", &request.client_info),
                    ("state", &request.state),
                ],
            )
        }
        Err(e) => error_page(english, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn the_consent_form_may_lead_to_the_callback_and_nowhere_else() {
        assert_eq!(
            origin("http://127.0.0.1/callback?x=1"),
            Some("http://127.0.0.1")
        );
        assert_eq!(
            origin("https://moa.example:8443/cb"),
            Some("https://moa.example:8443")
        );
        let response = html_to(
            StatusCode::OK,
            String::new(),
            Some("http://127.0.0.1/callback"),
        );
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(
            csp.contains("form-action 'self' http://127.0.0.1 http://127.0.0.1:*"),
            "{csp}"
        );
        let plain = html(StatusCode::OK, String::new());
        let csp = plain.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(
            csp.contains("form-action 'self';") && !csp.contains("http"),
            "{csp}"
        );
    }

    #[test]
    fn a_mobile_number_is_shown_masked() {
        assert_eq!(masked_cell("01012345678"), "010-****-5678");
        assert_eq!(masked_cell("12"), "***");
    }
}
