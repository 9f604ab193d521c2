//! Consent pages gone wrong, under `/testbed/fixtures/consent/`, for testing an app's consent
//! window: a page whose links, redirects, forms and new windows lead away from the center, that
//! sets a look-alike title, and that stores what it can (cookies, local storage) and shows what
//! it found. No flow of the center links to them; a test opens them in the window itself.
//!
//! - `GET /testbed/fixtures/consent/trap?to=URL&to=URL…`: for each `to` (numbered from 0), a
//!   link `#link-N`, a link in a new window `#blank-N`, a link through the center's redirect
//!   `#redirect-N`, a form posting there `#post-N`, and a button `#open-N` calling
//!   `window.open`. `#found-cookie` shows the cookies the request carried, `#found-storage`
//!   what the page's script found in `document.cookie` and `localStorage` before it stored its
//!   own (`moa-fixture` in both, and an HttpOnly cookie `moa-fixture-http`); both read `none`
//!   when nothing was there.
//! - `GET /testbed/fixtures/consent/redirect?to=URL`: `302 Found` to `URL`, as a center's page
//!   answering a form might — the open redirect a real center must never have.

use axum::Router;
use axum::extract::RawQuery;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::api::method_not_allowed;
use crate::pages::esc;
use crate::state::Testbed;

pub(crate) fn routes() -> Router<Testbed> {
    Router::new()
        .route(
            "/testbed/fixtures/consent/trap",
            get(trap).fallback(method_not_allowed),
        )
        .route(
            "/testbed/fixtures/consent/redirect",
            get(redirect).fallback(method_not_allowed),
        )
}

/// The title the trap gives itself: a lock and the real center's host, which a window's own
/// origin display must not echo.
const SPOOFED_TITLE: &str = "🔒 openapi.openbanking.or.kr — 오픈뱅킹 사용자 인증";

/// The page's script: spoof the title, report what storage held, then store.
const SCRIPT: &str = "
document.title = document.body.dataset.title;
const cookie = document.cookie;
const stored = localStorage.getItem('moa-fixture');
document.getElementById('found-storage').textContent =
  (cookie === '' && stored === null) ? 'none' : 'cookie=' + cookie + '; localStorage=' + stored;
document.cookie = 'moa-fixture=stored; path=/; max-age=86400';
localStorage.setItem('moa-fixture', 'stored');
for (const button of document.querySelectorAll('button[data-open]')) {
  button.addEventListener('click', () => window.open(button.dataset.open));
}
";

fn targets(raw: Option<&str>) -> Vec<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw.unwrap_or(""))
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k == "to")
        .map(|(_, v)| v)
        .collect()
}

async fn trap(headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let cookie = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none");
    let mut links = String::new();
    for (i, target) in targets(raw.as_deref()).iter().enumerate() {
        let to = esc(target);
        let through = esc(&format!(
            "/testbed/fixtures/consent/redirect?{}",
            serde_urlencoded::to_string([("to", target.as_str())]).unwrap_or_default()
        ));
        links.push_str(&format!(
            "<li><a id=\"link-{i}\" href=\"{to}\">{to}</a> · \
             <a id=\"blank-{i}\" href=\"{to}\" target=\"_blank\">new window</a> · \
             <a id=\"redirect-{i}\" href=\"{through}\">redirect</a> · \
             <form method=\"post\" action=\"{to}\" style=\"display:inline\">\
             <button id=\"post-{i}\" type=\"submit\">form</button></form> · \
             <button id=\"open-{i}\" type=\"button\" data-open=\"{to}\">window.open</button></li>"
        ));
    }
    let document = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>fixture</title>\
         </head><body data-title=\"{title}\"><h1>A consent page gone wrong</h1>\
         <p>Cookies sent: <code id=\"found-cookie\">{cookie}</code></p>\
         <p>Storage found: <code id=\"found-storage\">…</code></p><ul>{links}</ul>\
         <script>{SCRIPT}</script></body></html>",
        title = esc(SPOOFED_TITLE),
        cookie = esc(cookie),
    );
    let mut response = (StatusCode::OK, Html(document)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    // Like every page of the center, never framed.
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::SET_COOKIE,
        HeaderValue::from_static("moa-fixture-http=stored; Path=/; Max-Age=86400; HttpOnly"),
    );
    response
}

async fn redirect(RawQuery(raw): RawQuery) -> Response {
    let to = targets(raw.as_deref()).into_iter().next();
    match to.and_then(|to| HeaderValue::from_str(&to).ok()) {
        Some(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        None => (StatusCode::BAD_REQUEST, "to: a URL to redirect to").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;
    use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

    /// A testbed on a socket, and a client that does not follow redirects.
    async fn bed() -> (crate::Spawned, reqwest::Client) {
        let bed = crate::spawn(crate::Config::in_memory()).await.unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        (bed, http)
    }

    #[tokio::test]
    async fn the_trap_leads_every_way_to_every_target_and_shows_the_cookies_it_got() {
        let (bed, http) = bed().await;
        let response = http
            .get(format!("{}/testbed/fixtures/consent/trap", bed.base_url))
            .query(&[
                ("to", "http://127.0.0.1:9/x?a=1&b=2"),
                ("to", "https://evil.example/"),
            ])
            .header(COOKIE, "moa-fixture=stored")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
        assert!(cookie.starts_with("moa-fixture-http=") && cookie.contains("HttpOnly"));
        let page = response.text().await.unwrap();
        for id in [
            "link-0",
            "blank-0",
            "redirect-0",
            "post-0",
            "open-0",
            "link-1",
        ] {
            assert!(page.contains(&format!("id=\"{id}\"")), "{id} in {page}");
        }
        assert!(!page.contains("link-2"), "{page}");
        assert!(
            page.contains("href=\"http://127.0.0.1:9/x?a=1&amp;b=2\""),
            "{page}"
        );
        assert!(
            page.contains("redirect?to=http%3A%2F%2F127.0.0.1%3A9%2Fx%3Fa%3D1%26b%3D2"),
            "{page}"
        );
        assert!(page.contains("<code id=\"found-cookie\">moa-fixture=stored</code>"));
        bed.shutdown().await;
    }

    #[tokio::test]
    async fn the_redirect_goes_where_it_is_told() {
        let (bed, http) = bed().await;
        let url = format!("{}/testbed/fixtures/consent/redirect", bed.base_url);
        let response = http
            .get(&url)
            .query(&[("to", "http://localhost:1234/phish")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(response.headers()[LOCATION], "http://localhost:1234/phish");
        let nowhere = http.get(&url).send().await.unwrap();
        assert_eq!(nowhere.status(), StatusCode::BAD_REQUEST);
        bed.shutdown().await;
    }
}
