//! The consent window on Linux: a window of the app's with the origin bar on top — a GTK
//! widget, out of any page's reach — and below it a WebKitGTK view that the shell makes itself.
//!
//! Why not a Tauri webview: Tauri's `incognito` gives the view a web context of its own, and
//! WebKitGTK lets WebDriver drive the pages of one context only (the main window's), so the
//! consent pages could no longer be tested as a person fills them in. A view made here is
//! *ephemeral* — its own website data store in memory: cookies, local storage and caches die
//! with it — while it shares the main window's context, so the one code path that ships is
//! the one the end-to-end tests drive. That context also carries Tauri's `tauri:` and `ipc:`
//! schemes; the view has no Tauri scripts, the guard stops navigation to them, and Tauri answers
//! an IPC request from a view it does not know with an error. The view has no IPC at all.
//!
//! Every navigation, redirect included, asks the guard before a request leaves (WebKit's
//! `decide-policy`): the center's pages load, the redirect URI is taken and never loaded, and
//! everything else is stopped with a message in the bar. New windows, downloads and permission
//! requests (camera, location, notifications) are refused.

use std::cell::RefCell;
use std::rc::Rc;

use gtk::prelude::*;
use tauri::{AppHandle, Manager, Runtime};
use url::Url;
use webkit2gtk::{
    HardwareAccelerationPolicy, LoadEvent, NavigationPolicyDecision,
    NavigationPolicyDecisionExt as _, PermissionRequestExt as _, PolicyDecision,
    PolicyDecisionExt as _, PolicyDecisionType, ResponsePolicyDecision,
    ResponsePolicyDecisionExt as _, SettingsExt as _, URIRequestExt as _, WebContext,
    WebContextExt as _, WebView, WebViewExt,
};

use super::bar::{Bar, Stopped};
use super::{AUTH_WINDOW, Consent, Ending};
use crate::ipc::Language;
use crate::navigation::{Decision, logged_origin};

/// Opens the window, hidden until its bar and view are in place on the main thread.
pub(super) fn open<R: Runtime>(
    app: &AppHandle<R>,
    consent: Consent,
) -> tauri::Result<tauri::Window<R>> {
    let bar = Bar::new(&consent.pages);
    let window = tauri::window::WindowBuilder::new(app, AUTH_WINDOW)
        .title(bar.title(consent.language))
        .inner_size(520.0, 760.0)
        .center()
        .visible(false)
        .build()?;
    let main = app
        .get_webview_window("main")
        .ok_or(tauri::Error::WindowNotFound)?;
    let filled = window.clone();
    main.with_webview(move |main| {
        let finish = consent.finish.clone();
        if let Err(e) = fill(&filled, &main.inner(), consent, bar) {
            log::error!("the consent window could not be drawn: {e}");
            finish.send(Ending::Broken);
        }
    })?;
    Ok(window)
}

/// Puts the bar and the view into the window and loads the center's first page. Runs on the
/// main thread, in the main window's webview callback, whose web context the view shares.
fn fill<R: Runtime>(
    window: &tauri::Window<R>,
    main: &WebView,
    consent: Consent,
    bar: Bar,
) -> tauri::Result<()> {
    let Consent {
        pages,
        guard,
        language,
        finish,
    } = consent;
    let context = main.context().unwrap_or_else(WebContext::new_ephemeral);
    let view = WebView::builder()
        .web_context(&context)
        .is_ephemeral(true)
        .is_controlled_by_automation(context.is_automation_allowed())
        .build();
    if let Some(settings) = WebViewExt::settings(&view) {
        // Painted directly, like the main window (see `lib.rs`).
        settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        settings.set_enable_developer_extras(false);
        settings.set_javascript_can_open_windows_automatically(false);
    }

    let drawn = Rc::new(DrawnBar::new());
    let state = Rc::new(RefCell::new(bar));
    let vbox = window.default_vbox()?;
    vbox.pack_start(&drawn.root, false, false, 0);
    vbox.pack_start(&view, true, true, 0);

    let show = {
        let (drawn, state, window) = (drawn.clone(), state.clone(), window.clone());
        move || drawn.draw(&state.borrow(), language, &window)
    };
    let stop = {
        let (state, show) = (state.clone(), show.clone());
        move |what: Stopped, url: &Url| {
            log::warn!(
                "consent window: stopped {} to {}",
                what.what(),
                logged_origin(url)
            );
            state.borrow_mut().stop(what, url);
            show();
        }
    };

    let taken = window.clone();
    view.connect_decide_policy(move |_, decision, kind| match kind {
        PolicyDecisionType::NavigationAction | PolicyDecisionType::NewWindowAction => {
            let url = navigation_url(decision);
            let new_window = kind == PolicyDecisionType::NewWindowAction;
            match url.as_ref().map(|url| (guard.decide(url), url)) {
                Some((Decision::Load, _)) if !new_window => decision.use_(),
                Some((Decision::Callback, url)) if !new_window => {
                    decision.ignore();
                    let _ = taken.hide();
                    finish.send(Ending::Callback(url.to_string()));
                }
                _ => {
                    decision.ignore();
                    let what = if new_window {
                        Stopped::NewWindow
                    } else {
                        Stopped::Navigation
                    };
                    stop(what, &url.unwrap_or_else(unreadable));
                }
            }
            true
        }
        PolicyDecisionType::Response => {
            let Some(response) = decision.downcast_ref::<ResponsePolicyDecision>() else {
                return false;
            };
            if response.is_mime_type_supported() {
                return false;
            }
            decision.ignore();
            let url = response
                .request()
                .and_then(|r| r.uri())
                .and_then(|uri| Url::parse(&uri).ok());
            stop(Stopped::Download, &url.unwrap_or_else(unreadable));
            true
        }
        _ => false,
    });
    let (shown, show_shown) = (state.clone(), show.clone());
    view.connect_load_changed(move |view, event| {
        if event != LoadEvent::Committed {
            return;
        }
        let Some(url) = view.uri().and_then(|uri| Url::parse(&uri).ok()) else {
            return;
        };
        let tls_errors = match view.tls_info() {
            Some((_, errors)) => !errors.is_empty(),
            None => url.scheme() == "https",
        };
        shown.borrow_mut().shown(&url, tls_errors);
        show_shown();
    });
    // No camera, microphone, location or notifications for the center's pages.
    view.connect_permission_request(|_, request| {
        request.deny();
        true
    });
    // New windows are refused in `decide-policy`; should WebKit still ask, it gets none.
    view.connect_create(|_, _| None);
    // WebKit asks to close the view (WebDriver's "close window"; a page's `window.close()` only
    // for windows a script opened, which this one is not): closed as the person closing it.
    let closing = window.clone();
    view.connect_close(move |_| {
        let _ = closing.close();
    });

    vbox.show_all();
    show();
    view.load_uri(pages.as_str());
    window.show()?;
    window.set_focus()?;
    Ok(())
}

/// Where a navigation leads, from WebKit's decision.
fn navigation_url(decision: &PolicyDecision) -> Option<Url> {
    let decision = decision.downcast_ref::<NavigationPolicyDecision>()?;
    let uri = decision.navigation_action()?.request()?.uri()?;
    Url::parse(&uri).ok()
}

/// A stand-in for a URL that does not parse: stopped all the same, shown as `about:`.
fn unreadable() -> Url {
    Url::parse("about:blank").unwrap_or_else(|_| unreachable!("a valid URL"))
}

/// The bar's widgets: the host line, and the warning under it while something was stopped.
struct DrawnBar {
    root: gtk::Box,
    icon: gtk::Image,
    host: gtk::Label,
    note: gtk::Label,
    warning: gtk::InfoBar,
    message: gtk::Label,
}

impl DrawnBar {
    fn new() -> DrawnBar {
        let icon = gtk::Image::new();
        let host = gtk::Label::new(None);
        host.set_selectable(true);
        host.set_can_focus(false);
        let note = gtk::Label::new(None);
        note.style_context().add_class("dim-label");
        note.set_ellipsize(gtk::pango::EllipsizeMode::End);
        let line = gtk::Box::new(gtk::Orientation::Horizontal, 8);
        line.set_margin_top(8);
        line.set_margin_bottom(8);
        line.set_margin_start(12);
        line.set_margin_end(12);
        line.pack_start(&icon, false, false, 0);
        line.pack_start(&host, false, false, 0);
        line.pack_start(&note, false, false, 0);

        let message = gtk::Label::new(None);
        message.set_line_wrap(true);
        message.set_xalign(0.0);
        let sign =
            gtk::Image::from_icon_name(Some("dialog-warning-symbolic"), gtk::IconSize::Button);
        let warning = gtk::InfoBar::new();
        warning.set_message_type(gtk::MessageType::Warning);
        warning.content_area().add(&sign);
        warning.content_area().add(&message);
        warning.set_no_show_all(true);
        sign.show();
        message.show();

        let root = gtk::Box::new(gtk::Orientation::Vertical, 0);
        root.pack_start(&line, false, false, 0);
        root.pack_start(&warning, false, false, 0);
        root.pack_start(
            &gtk::Separator::new(gtk::Orientation::Horizontal),
            false,
            false,
            0,
        );
        DrawnBar {
            root,
            icon,
            host,
            note,
            warning,
            message,
        }
    }

    /// Shows `bar`, and mirrors it in the window's title.
    fn draw<R: Runtime>(&self, bar: &Bar, language: Language, window: &tauri::Window<R>) {
        self.icon
            .set_from_icon_name(Some(bar.connection.icon()), gtk::IconSize::Button);
        self.host.set_markup(&format!(
            "<b>{}</b>",
            gtk::glib::markup_escape_text(&bar.host)
        ));
        self.note.set_text(bar.note(language));
        match bar.message(language) {
            Some(message) => {
                self.message.set_text(&message);
                self.warning.show();
            }
            None => self.warning.hide(),
        }
        let _ = window.set_title(&bar.title(language));
    }
}
