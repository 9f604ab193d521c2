//! The consent window where the shell does not draw its own (macOS, Windows): a Tauri webview
//! with an ephemeral data store (`incognito`: WKWebView's non-persistent store, WebView2's
//! InPrivate), the same guard on every navigation, no new windows and no downloads. The origin
//! and what was stopped are shown in the window's title, which the shell alone sets: Tauri
//! copies a page's `<title>` into it only when asked to (`on_document_title_changed`), and
//! Moa never asks.

use std::sync::{Arc, Mutex};

use tauri::webview::{DownloadEvent, NewWindowResponse, PageLoadEvent};
use tauri::{AppHandle, Runtime, WebviewUrl, WebviewWindowBuilder};
use url::Url;

use super::bar::{Bar, Stopped};
use super::{AUTH_WINDOW, Consent, Ending};
use crate::navigation::{Decision, logged_origin};

/// Opens the window at the center's first page.
#[cfg_attr(target_os = "linux", allow(dead_code))]
pub(super) fn open<R: Runtime>(
    app: &AppHandle<R>,
    consent: Consent,
) -> tauri::Result<tauri::Window<R>> {
    let Consent {
        pages,
        guard,
        language,
        finish,
    } = consent;
    let bar = Arc::new(Mutex::new(Bar::new(&pages)));
    let title = bar.lock().map(|b| b.title(language)).unwrap_or_default();
    let stop = {
        let (bar, app) = (bar.clone(), app.clone());
        move |what: Stopped, url: &Url| {
            log::warn!(
                "consent window: stopped {} to {}",
                what.what(),
                logged_origin(url)
            );
            let mut bar = bar.lock().unwrap_or_else(|e| e.into_inner());
            bar.stop(what, url);
            if let Some(window) = tauri::Manager::get_window(&app, AUTH_WINDOW) {
                let _ = window.set_title(&bar.title(language));
            }
        }
    };
    let stop_window = stop.clone();
    let stop_download = stop.clone();
    let window = WebviewWindowBuilder::new(app, AUTH_WINDOW, WebviewUrl::External(pages))
        .title(title)
        .inner_size(520.0, 760.0)
        .center()
        .incognito(true)
        .on_navigation(move |url| match guard.decide(url) {
            Decision::Load => true,
            Decision::Callback => {
                finish.send(Ending::Callback(url.to_string()));
                false
            }
            Decision::Stop => {
                stop(Stopped::Navigation, url);
                false
            }
        })
        .on_new_window(move |url, _| {
            stop_window(Stopped::NewWindow, &url);
            NewWindowResponse::Deny
        })
        .on_download(move |_, event| {
            if let DownloadEvent::Requested { url, .. } = event {
                stop_download(Stopped::Download, &url);
            }
            false
        })
        .on_page_load(move |window, payload| {
            if payload.event() == PageLoadEvent::Finished {
                let mut bar = bar.lock().unwrap_or_else(|e| e.into_inner());
                // WKWebView and WebView2 do not load a page whose certificate fails.
                bar.shown(payload.url(), false);
                let _ = window.set_title(&bar.title(language));
            }
        })
        .build()?;
    Ok(window.as_ref().window())
}
