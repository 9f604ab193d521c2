//! The consent pages as HTML: the documents, their headers (a strict CSP, no caching, no
//! framing) and the redirect back to the institution.

use std::fmt::Write as _;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::store::Choice;
use super::words::{Words, words};
use crate::seed::BANKS;
use crate::session::AuthRequest;
use crate::state::Institution;
use crate::wire::ApiError;

/// Escapes text for HTML content and attribute values.
pub(crate) fn esc(text: &str) -> String {
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

/// The page for a refused request, with the center's code and message.
pub(super) fn error_page(english: bool, error: &ApiError) -> Response {
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

/// A form page is `422` when it is shown again with an error, `200` otherwise.
fn form_status(error: Option<&str>) -> StatusCode {
    if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
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

/// The identity page: name, birth date and mobile number.
pub(super) fn identity_page(
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
    let status = form_status(error);
    html(status, page(english, w.title, &body))
}

/// The page for a session that has expired or never was.
pub(super) fn session_gone(english: bool) -> Response {
    let w = words(english);
    ended(english, w.session_gone)
}

/// The page for a session ended by too many wrong one-time codes.
pub(super) fn too_many_attempts(english: bool) -> Response {
    let w = words(english);
    ended(english, w.too_many_attempts)
}

/// An error page with one of the pages' own lines.
fn ended(english: bool, line: &str) -> Response {
    let w = words(english);
    let body = format!(
        "<h1>{}</h1><p id=\"testbed-error\" class=\"error\">{}</p>",
        w.error_heading, line
    );
    html(
        StatusCode::BAD_REQUEST,
        page(english, w.error_heading, &body),
    )
}

/// A mobile number as the one-time code page shows it: `010-****-5678`.
fn masked_cell(cell: &str) -> String {
    let digits: Vec<char> = cell.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 8 {
        return "***".into();
    }
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("{head}-****-{tail}")
}

/// The one-time code page, showing the code (this is a testbed) and where it was "sent".
#[allow(clippy::too_many_arguments)]
pub(super) fn otp_page(
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
    let status = form_status(error);
    html(status, page(english, w.title, &body))
}

/// The accounts page: the person's accounts (`list`), another account, and the consents.
pub(super) fn accounts_page(
    institution: &Institution,
    session: &str,
    request: &AuthRequest,
    list: &[Choice],
    error: Option<&str>,
) -> Response {
    let english = request.english;
    let w = words(english);
    let mut items = String::new();
    for c in list {
        let value = c.value();
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
    let status = form_status(error);
    html_to(
        status,
        page(english, w.title, &body),
        Some(&request.redirect_uri),
    )
}

/// Where the browser goes back to: the redirect URI with the answer's parameters.
pub(super) fn callback(request: &AuthRequest, pairs: &[(&str, &str)]) -> Response {
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
