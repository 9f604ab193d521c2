//! The commands through Tauri's mock runtime with the app's real configuration and access
//! control: what the main window may call, what another window may not, and how errors reach
//! the UI.

use std::sync::Arc;
use std::time::Duration;

use moa_app::core::Core;
use serde_json::{Value, json};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewUrl, WebviewWindowBuilder};

struct TestApp {
    app: App<MockRuntime>,
    dir: std::path::PathBuf,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The app with a fresh data folder, an in-memory vault and the sandbox's center.
fn app() -> TestApp {
    let dir = std::env::temp_dir().join(format!("moa-app-{}", uuid::Uuid::new_v4()));
    let mut options = moa_core::Options::new(&dir);
    options.vault = Arc::new(moa_core::MemoryVault::new());
    options.sandbox_latency = Duration::ZERO;
    let moa = tauri::async_runtime::block_on(moa_core::Moa::open(options)).expect("the core opens");
    let app = mock_builder()
        .invoke_handler(moa_app::handler())
        .build(tauri::generate_context!())
        .expect("the app builds");
    tauri::Manager::manage(&app, Core::new(moa));
    tauri::Manager::manage(&app, moa_app::startup::Startup::now());
    TestApp { app, dir }
}

fn invoke(app: &App<MockRuntime>, window: &str, cmd: &str, args: Value) -> Result<Value, Value> {
    let webview = match tauri::Manager::get_webview_window(app, window) {
        Some(w) => w,
        None => WebviewWindowBuilder::new(app, window, WebviewUrl::App("index.html".into()))
            .build()
            .expect("a window"),
    };
    get_ipc_response(
        &webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().expect("url"),
            body: tauri::ipc::InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().expect("JSON"))
}

#[test]
fn the_main_window_paints_the_dashboard_and_knows_nobody_is_registered() {
    let t = app();
    let state = invoke(&t.app, "main", "app_state", json!({})).expect("app_state");
    assert_eq!(state["environment"], "sandbox");
    assert_eq!(state["registered"], false);
    assert_eq!(state["language"], "ko");
    assert_eq!(state["consent"]["renew_soon"], true);
    let dashboard = invoke(&t.app, "main", "dashboard", json!({})).expect("dashboard");
    assert_eq!(dashboard, json!({"accounts": [], "total": "0"}));
}

#[test]
fn the_main_window_reports_its_first_paint_and_no_other_window_may() {
    let t = app();
    assert_eq!(
        invoke(&t.app, "main", "dashboard_painted", json!({})),
        Ok(Value::Null)
    );
    assert!(invoke(&t.app, "auth", "dashboard_painted", json!({})).is_err());
}

#[test]
fn a_window_without_the_permission_is_refused() {
    let t = app();
    for window in ["auth", "elsewhere"] {
        let refused = invoke(&t.app, window, "dashboard", json!({}));
        assert!(refused.is_err(), "{window} was allowed: {refused:?}");
        let message = refused.unwrap_err().to_string();
        assert!(
            message.contains("not allowed") || message.contains("denied"),
            "{message}"
        );
    }
    // The same command from the main window goes through.
    assert!(invoke(&t.app, "main", "dashboard", json!({})).is_ok());
}

#[test]
fn errors_reach_the_ui_as_a_stable_code_and_no_words_of_the_shells() {
    let t = app();
    let refused = invoke(&t.app, "main", "cancel_account", json!({"accountId": 4711})).unwrap_err();
    assert_eq!(refused, json!({"code": "no_such_account"}));
    invoke(
        &t.app,
        "main",
        "set_preferences",
        json!({"preferences": {"language": "en", "theme": "dark"}}),
    )
    .unwrap();
    let state = invoke(&t.app, "main", "app_state", json!({})).unwrap();
    assert_eq!(
        (state["language"].as_str(), state["theme"].as_str()),
        (Some("en"), Some("dark"))
    );
    let refused = invoke(
        &t.app,
        "main",
        "preflight_transfer",
        json!({"draft": {
            "from_account": 1, "to": {"kind": "own", "account_id": 2}, "amount": "0", "memo": ""
        }}),
    )
    .unwrap_err();
    assert_eq!(refused, json!({"code": "amount_not_positive"}));
}

#[test]
fn a_transfer_confirmation_needs_a_check_made_moments_ago() {
    let t = app();
    let refused = invoke(
        &t.app,
        "main",
        "confirm_transfer",
        json!({"token": "made-up", "onEvent": "__CHANNEL__:1"}),
    );
    let refused = refused.unwrap_err();
    assert_eq!(refused["code"], "preflight_expired", "{refused}");
}

#[test]
fn an_account_number_or_memo_the_core_refuses_comes_back_with_its_code_not_altered() {
    let t = app();
    let preflight = |account_num: &str, memo: &str| {
        let draft = json!({"draft": {
            "from_account": 1,
            "to": {"kind": "external", "bank_code": "004", "account_num": account_num},
            "amount": "1000",
            "memo": memo,
        }});
        invoke(&t.app, "main", "preflight_transfer", draft).unwrap_err()
    };
    // Dashes stripped, this would have gone on as account 110123456.
    assert_eq!(
        preflight("110-123-456", ""),
        json!({"code": "bad_account_number"})
    );
    // A letter O for a zero is not dropped either.
    assert_eq!(preflight("12O4", ""), json!({"code": "bad_account_number"}));
    // Cut to 20 characters, this memo would have been printed other than typed.
    let long = "가".repeat(21);
    assert_eq!(preflight("110123456", &long), json!({"code": "bad_memo"}));
    // As typed and acceptable, the draft gets past the shell and the core's own checks.
    assert_eq!(
        preflight("110123456", "월세"),
        json!({"code": "no_such_account"})
    );
}

#[test]
fn the_main_window_may_not_listen_to_events_move_windows_or_write_the_log() {
    let t = app();
    for cmd in [
        "plugin:event|listen",
        "plugin:event|emit",
        "plugin:window|set_focus",
        "plugin:log|log",
        "plugin:window-state|save_window_state",
    ] {
        let refused = invoke(&t.app, "main", cmd, json!({}));
        let message = refused.expect_err(cmd).to_string();
        assert!(
            message.contains("not allowed") || message.contains("denied"),
            "{cmd}: {message}"
        );
    }
}
