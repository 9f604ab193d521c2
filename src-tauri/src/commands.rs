//! The commands the UI may invoke: each a line or two that calls the core. `build.rs` declares
//! them for the access-control list, and `capabilities/main.json` grants them to the main
//! window only.

use moa_core::Code;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State};

use crate::auth;
use crate::core::Core;
use crate::ipc::{
    AppState, BankStatusView, ChartPoint, Dashboard, HistoryFilter, HistoryPage, HistorySyncView,
    IpcError, PreferencesInput, PreflightView, RegistrationResult, ServerInput, SyncEvent,
    TransferDraft, TransferEventView, TransferView,
};
use crate::startup::Startup;

type Answer<T> = Result<T, IpcError>;

/// Waits until the core has opened (the window loads its page meanwhile); the UI asks this
/// once before its first command.
#[tauri::command]
pub async fn core_ready(startup: State<'_, Startup>) -> Answer<()> {
    startup.core_ready().await
}

/// What the UI needs at start: environment, person, preferences, consent, open transfers.
#[tauri::command]
pub async fn app_state(core: State<'_, Core>) -> Answer<AppState> {
    core.app_state().await
}

/// Every account with its last known balance, from the store, at once.
#[tauri::command]
pub async fn dashboard(core: State<'_, Core>) -> Answer<Dashboard> {
    core.dashboard().await
}

/// Refreshes every balance, streaming each answer as it arrives.
#[tauri::command]
pub async fn refresh_balances(core: State<'_, Core>, on_event: Channel<SyncEvent>) -> Answer<()> {
    crate::sync::refresh(&core, on_event).await
}

/// Every participating bank's status (Y, D, L, E).
#[tauri::command]
pub async fn bank_statuses(core: State<'_, Core>) -> Answer<Vec<BankStatusView>> {
    crate::sync::bank_statuses(&core).await
}

/// A page of an account's stored history, filtered.
#[tauri::command]
pub async fn account_history(
    core: State<'_, Core>,
    account_id: i64,
    filter: HistoryFilter,
) -> Answer<HistoryPage> {
    core.history(account_id, filter).await
}

/// Fetches an account's new history from the center.
#[tauri::command]
pub async fn sync_history(core: State<'_, Core>, account_id: i64) -> Answer<HistorySyncView> {
    crate::sync::history(&core, account_id).await
}

/// The account's balance at the end of each day.
#[tauri::command]
pub async fn balance_chart(core: State<'_, Core>, account_id: i64) -> Answer<Vec<ChartPoint>> {
    core.chart(account_id).await
}

/// Saves a CSV the UI prepared into the Downloads folder; returns its path.
#[tauri::command]
pub async fn save_export<R: Runtime>(
    app: AppHandle<R>,
    core: State<'_, Core>,
    file_name: String,
    content: String,
) -> Answer<String> {
    crate::export::save(
        &crate::export::folder(app.path()).ok_or_else(|| core.refuse(Code::NoDownloadFolder))?,
        &file_name,
        &content,
    )
    .map_err(|code| core.refuse(code))
}

/// Opens the center's consent pages and registers the accounts chosen there.
#[tauri::command]
pub async fn register_accounts<R: Runtime>(
    app: AppHandle<R>,
    core: State<'_, Core>,
    reconfirm: bool,
) -> Answer<RegistrationResult> {
    auth::register(&app, &core, reconfirm).await
}

/// Cancels an account's registration.
#[tauri::command]
pub async fn cancel_account(core: State<'_, Core>, account_id: i64) -> Answer<()> {
    core.moa
        .cancel_account(account_id)
        .await
        .map_err(|e| core.error(e))
}

/// Signs the person out: tokens removed, accounts off the dashboard.
#[tauri::command]
pub async fn sign_out(core: State<'_, Core>) -> Answer<()> {
    core.moa.sign_out().await.map_err(|e| core.error(e))
}

/// Checks a transfer against the center and holds it for confirmation.
#[tauri::command]
pub async fn preflight_transfer(
    core: State<'_, Core>,
    draft: TransferDraft,
) -> Answer<PreflightView> {
    core.preflight(draft).await
}

/// Sends a checked transfer, streaming its legs.
#[tauri::command]
pub async fn confirm_transfer(
    core: State<'_, Core>,
    token: String,
    on_event: Channel<TransferEventView>,
) -> Answer<TransferView> {
    crate::sync::transfer(&core, &token, on_event).await
}

/// The transfers, newest first.
#[tauri::command]
pub async fn transfers(core: State<'_, Core>) -> Answer<Vec<TransferView>> {
    core.transfers().await
}

/// Saves the language and theme.
#[tauri::command]
pub async fn set_preferences(core: State<'_, Core>, preferences: PreferencesInput) -> Answer<()> {
    core.set_preferences(preferences)
}

/// Switches to the sandbox.
#[tauri::command]
pub async fn use_sandbox(core: State<'_, Core>) -> Answer<()> {
    core.moa.use_sandbox().await.map_err(|e| core.error(e))
}

/// Switches to an institution's moa-server.
#[tauri::command]
pub async fn use_server(core: State<'_, Core>, input: ServerInput) -> Answer<()> {
    core.use_server(input).await
}

/// The UI painted the dashboard from the store: the first time, logs how long the start took.
#[tauri::command]
pub fn dashboard_painted(startup: State<'_, Startup>) {
    if let Some(ms) = startup.painted() {
        log::info!("dashboard painted from the store {ms} ms after start");
    }
}
