//! The registration window: the center's consent pages in a window of their own, with no IPC
//! at all, an ephemeral data store, and a guard on every navigation ([`crate::navigation`]):
//! the pages may go only within the center's origin, and when they head for the redirect URI the
//! shell takes the URL instead of loading it, hands it to the core and closes the window. Above
//! the pages, a bar the page cannot touch shows the host the person is talking to
//! ([`bar`]). The UI only ever hears how many accounts were added — never a code or a token.
//!
//! On Linux the shell draws the window itself (`auth/webkit.rs`); elsewhere it is a Tauri
//! webview whose title carries the bar (`auth/portable.rs`).

pub mod bar;
mod portable;
#[cfg(target_os = "linux")]
mod webkit;

use std::sync::{Arc, Mutex};

use moa_core::Code;
use tauri::{AppHandle, Manager, Runtime, WindowEvent};
use tokio::sync::oneshot;
use url::Url;

use crate::core::Core;
use crate::ipc::{IpcError, Language, RegistrationResult};
use crate::navigation::{ConsentGuard, logged_origin};

/// The label of the registration window: no capability file names it.
pub const AUTH_WINDOW: &str = "auth";

/// How the window ended.
#[derive(Debug)]
enum Ending {
    /// It headed for the redirect URI with this URL.
    Callback(String),
    /// The person closed it.
    Closed,
    /// It could not be drawn.
    Broken,
}

/// Hands the window's ending to the waiting registration, once; later endings are dropped.
#[derive(Debug, Clone)]
struct Finish(Arc<Mutex<Option<oneshot::Sender<Ending>>>>);

impl Finish {
    fn send(&self, ending: Ending) {
        if let Some(tx) = self.0.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = tx.send(ending);
        }
    }
}

/// What a consent window is opened with.
#[derive(Debug)]
struct Consent {
    /// The center's first page.
    pages: Url,
    /// Where the pages may go.
    guard: ConsentGuard,
    /// The person's language, for the bar.
    language: Language,
    /// Where its ending goes.
    finish: Finish,
}

/// Opens the consent pages and waits for them to finish; then completes the registration.
pub async fn register<R: Runtime>(
    app: &AppHandle<R>,
    core: &Core,
    reconfirm: bool,
) -> Result<RegistrationResult, IpcError> {
    if let Some(open) = app.get_window(AUTH_WINDOW) {
        let _ = open.set_focus();
        return Err(core.refuse(Code::RegistrationInProgress));
    }
    let language = core.language();
    let lang = match language {
        Language::Ko => moa_openbanking::Lang::Ko,
        Language::En => moa_openbanking::Lang::En,
    };
    let start = core
        .moa
        .begin_registration(reconfirm, lang)
        .await
        .map_err(|e| core.error(e))?;
    let pages = Url::parse(&start.url).map_err(|_| core.refuse(Code::NotConfigured))?;
    let redirect = Url::parse(&start.redirect_uri).map_err(|_| core.refuse(Code::NotConfigured))?;
    let guard = ConsentGuard::new(&pages, &redirect).map_err(|refusal| {
        log::warn!(
            "the consent window stays shut: {} (center {}, callback {})",
            refusal.code(),
            logged_origin(&pages),
            logged_origin(&redirect)
        );
        core.refuse(refusal.code())
    })?;

    let (tx, rx) = oneshot::channel::<Ending>();
    let finish = Finish(Arc::new(Mutex::new(Some(tx))));
    let consent = Consent {
        pages,
        guard,
        language,
        finish: finish.clone(),
    };
    #[cfg(target_os = "linux")]
    let window = webkit::open(app, consent);
    #[cfg(not(target_os = "linux"))]
    let window = portable::open(app, consent);
    let window = window.map_err(|e| {
        log::error!("the registration window could not open: {e}");
        core.refuse(Code::Internal)
    })?;
    window.on_window_event(move |event| {
        if matches!(
            event,
            WindowEvent::Destroyed | WindowEvent::CloseRequested { .. }
        ) {
            finish.send(Ending::Closed);
        }
    });

    let ending = rx.await.unwrap_or(Ending::Closed);
    // The window goes out of sight at once, and away once the registration is done: destroying
    // it while the click that led to the callback is still being answered left that answer
    // (and a WebDriver waiting on it) hanging now and then.
    let _ = window.hide();
    let outcome = match ending {
        Ending::Closed => Err(core.refuse(Code::RegistrationCancelled)),
        Ending::Broken => Err(core.refuse(Code::Internal)),
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
