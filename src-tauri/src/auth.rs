//! The registration window: the center's consent pages in a webview of their own, with no IPC
//! permission at all. The shell watches its navigations; when it heads for the redirect URI,
//! the navigation is cancelled, the URL handed to the core, and the window closed. The UI only
//! ever hears how many accounts were added — never a code or a token.

use std::sync::{Arc, Mutex};

use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder, WindowEvent};
use tokio::sync::oneshot;
use url::Url;

use crate::core::Core;
use crate::ipc::{IpcError, Language, RegistrationResult};

/// The label of the registration window: no capability file names it.
pub const AUTH_WINDOW: &str = "auth";

/// How the window ended.
enum Ending {
    /// It navigated to the redirect URI with this URL.
    Callback(String),
    /// The person closed it.
    Closed,
}

/// Whether `url` is the redirect URI (same scheme, host, port and path), whatever its query.
pub fn is_callback(url: &Url, redirect: &Url) -> bool {
    url.scheme() == redirect.scheme()
        && url.host_str() == redirect.host_str()
        && url.port_or_known_default() == redirect.port_or_known_default()
        && url.path() == redirect.path()
}

/// Opens the consent pages and waits for them to finish; then completes the registration.
pub async fn register<R: Runtime>(
    app: &AppHandle<R>,
    core: &Core,
    reconfirm: bool,
) -> Result<RegistrationResult, IpcError> {
    if let Some(open) = app.get_webview_window(AUTH_WINDOW) {
        let _ = open.set_focus();
        return Err(core.refuse("registration_in_progress"));
    }
    let lang = match core.language() {
        Language::Ko => moa_openbanking::Lang::Ko,
        Language::En => moa_openbanking::Lang::En,
    };
    let start = core
        .moa
        .begin_registration(reconfirm, lang)
        .await
        .map_err(|e| core.error(e))?;
    let pages = Url::parse(&start.url).map_err(|_| core.refuse("not_configured"))?;
    let redirect = Url::parse(&start.redirect_uri).map_err(|_| core.refuse("not_configured"))?;

    let (tx, rx) = oneshot::channel::<Ending>();
    let tx = Arc::new(Mutex::new(Some(tx)));
    let finish = move |ending: Ending| {
        if let Some(tx) = tx.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = tx.send(ending);
        }
    };
    let on_callback = finish.clone();
    let title = match core.language() {
        Language::Ko => "계좌 연결 — 오픈뱅킹",
        Language::En => "Connect accounts — Open Banking",
    };
    let window = WebviewWindowBuilder::new(app, AUTH_WINDOW, WebviewUrl::External(pages))
        .title(title)
        .inner_size(520.0, 760.0)
        .center()
        .on_navigation(move |url| {
            if is_callback(url, &redirect) {
                on_callback(Ending::Callback(url.to_string()));
                false
            } else {
                true
            }
        })
        .build()
        .map_err(|e| {
            log::error!("the registration window could not open: {e}");
            core.refuse("internal")
        })?;
    window.on_window_event(move |event| {
        if matches!(
            event,
            WindowEvent::Destroyed | WindowEvent::CloseRequested { .. }
        ) {
            finish(Ending::Closed);
        }
    });

    let ending = rx.await.unwrap_or(Ending::Closed);
    // The window goes out of sight at once, and away once the registration is done: destroying
    // it while the click that led to the callback is still being answered left that answer
    // (and a WebDriver waiting on it) hanging now and then.
    let _ = window.hide();
    let outcome = match ending {
        Ending::Closed => Err(core.refuse("registration_cancelled")),
        Ending::Callback(url) => core
            .moa
            .complete_registration(&url)
            .await
            .map(|done| RegistrationResult {
                added: done.added as u32,
                updated: done.updated as u32,
            })
            .map_err(|e| core.error(e)),
    };
    let _ = window.destroy();
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_redirect_uri_itself_ends_the_registration() {
        let redirect = Url::parse("http://127.0.0.1/callback").unwrap();
        let yes = |s: &str| is_callback(&Url::parse(s).unwrap(), &redirect);
        assert!(yes("http://127.0.0.1/callback?code=x&state=y"));
        assert!(yes("http://127.0.0.1:80/callback?error=access_denied"));
        assert!(!yes("http://127.0.0.1/callback/more"));
        assert!(!yes("http://127.0.0.1:8080/callback"));
        assert!(!yes("https://127.0.0.1/callback"));
        assert!(!yes("http://127.0.0.1.evil.example/callback"));
        assert!(!yes("http://localhost:53127/oauth/2.0/authorize"));
    }
}
