//! Declares the app's commands so that Tauri's access control covers them: a window may call
//! only what its capability file allows.

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(moa_commands())),
    )
    .expect("tauri-build");
}

/// Every command the UI may invoke; keep in step with `commands::handler()`.
fn moa_commands() -> &'static [&'static str] {
    &[
        "app_state",
        "dashboard",
        "refresh_balances",
        "bank_statuses",
        "account_history",
        "sync_history",
        "balance_chart",
        "save_export",
        "register_accounts",
        "cancel_account",
        "sign_out",
        "preflight_transfer",
        "confirm_transfer",
        "transfers",
        "set_preferences",
        "use_sandbox",
        "use_server",
        "dashboard_painted",
        "core_ready",
    ]
}
