//! Long-running work streamed to the UI over a channel as it happens: balance refreshes and
//! transfers. The core sends its events on a Tokio channel; these forward them as IPC views.

use moa_core::Code;
use tauri::ipc::Channel;
use tokio::sync::mpsc;

use crate::core::Core;
use crate::ipc::{
    BankStatusView, HistorySyncView, IpcError, SyncEvent, TransferEventView, TransferView,
};

/// Refreshes every balance, streaming each account's answer as it arrives.
pub async fn refresh(core: &Core, on_event: Channel<SyncEvent>) -> Result<(), IpcError> {
    let dashboard = core.dashboard().await?;
    let total = dashboard
        .accounts
        .iter()
        .filter(|a| a.inquiry_agreed)
        .count() as u32;
    let _ = on_event.send(SyncEvent::Started { total });
    let (tx, mut rx) = mpsc::channel(64);
    let forward = async {
        while let Some(event) = rx.recv().await {
            let event: moa_core::sync::BalanceEvent = event;
            if let Some(account) = core.account_view(event.account_id) {
                let _ = on_event.send(SyncEvent::Account {
                    account: Box::new(account),
                    done: event.done as u32,
                    total: event.total as u32,
                });
            }
        }
    };
    let (summary, ()) = tokio::join!(core.moa.refresh_balances(Some(tx)), forward);
    let summary = summary.map_err(|e| core.error(e))?;
    let _ = on_event.send(SyncEvent::Finished {
        fresh: summary.fresh as u32,
        stale: summary.stale_count() as u32,
    });
    Ok(())
}

/// Every participating bank's status.
pub async fn bank_statuses(core: &Core) -> Result<Vec<BankStatusView>, IpcError> {
    let banks = core.moa.bank_statuses().await.map_err(|e| core.error(e))?;
    Ok(banks
        .into_iter()
        .map(|b| BankStatusView {
            bank_code: b.bank_code,
            bank_name: b.bank_name,
            status: b.state,
        })
        .collect())
}

/// Fetches an account's new history.
pub async fn history(core: &Core, account_id: i64) -> Result<HistorySyncView, IpcError> {
    let synced = core
        .moa
        .sync_history(account_id)
        .await
        .map_err(|e| core.error(e))?;
    Ok(HistorySyncView {
        inserted: synced.inserted as u32,
        gaps: synced.gaps as u32,
    })
}

/// Sends a confirmed transfer, streaming its legs, and returns it as it ended (or waits).
pub async fn transfer(
    core: &Core,
    token: &str,
    on_event: Channel<TransferEventView>,
) -> Result<TransferView, IpcError> {
    let preflight = core
        .take(token)
        .ok_or_else(|| core.refuse(Code::PreflightExpired))?;
    let (tx, mut rx) = mpsc::channel(16);
    let forward = async {
        while let Some(event) = rx.recv().await {
            let event: moa_core::transfer::TransferEvent = event;
            let _ = on_event.send(TransferEventView {
                id: event.id,
                state: event.state,
            });
        }
    };
    let (done, ()) = tokio::join!(core.moa.transfer(&preflight, Some(tx)), forward);
    let done = done.map_err(|e| core.error(e))?;
    Ok(core.transfer_view(&done))
}
