//! From the core's records to the IPC contract's views.

use chrono::{DateTime, Utc};
use moa_core::journal::TransferRecord;
use moa_core::store::{AccountRecord, BalanceRecord, Store, StoredRow};

use crate::ipc::{AccountView, Dashboard, Direction, HistoryRowView, StaleReason, TransferView};

/// RFC 3339 with milliseconds, in UTC.
pub fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Every active account of an environment with its last known balance, and their total.
pub fn dashboard(store: &Store, environment_id: i64) -> moa_core::Result<Dashboard> {
    let accounts = store.accounts(environment_id)?;
    let balances = store.balances(environment_id)?;
    let total = moa_core::dashboard::total(&balances);
    Ok(Dashboard {
        accounts: accounts
            .iter()
            .map(|a| account(a, balances.iter().find(|b| b.account_id == a.id)))
            .collect(),
        total: total.to_string(),
    })
}

/// An account with its last known balance.
pub fn account(a: &AccountRecord, b: Option<&BalanceRecord>) -> AccountView {
    AccountView {
        id: a.id,
        bank_code: a.details.bank_code.clone(),
        bank_name: a.details.bank_name.clone(),
        alias: a.details.alias.clone(),
        product_name: b.and_then(|b| b.product_name.clone()),
        masked_number: a.details.account_num_masked.clone(),
        holder_name: a.details.holder_name.clone(),
        account_type: a.details.account_type.clone(),
        inquiry_agreed: a.details.inquiry_agreed_at.is_some(),
        transfer_agreed: a.details.transfer_agreed_at.is_some(),
        balance: b.and_then(|b| b.balance).map(|v| v.to_string()),
        available: b.and_then(|b| b.available).map(|v| v.to_string()),
        as_of: b.and_then(|b| b.as_of.as_ref()).map(time),
        stale: b.and_then(|b| b.stale_code.map(|code| StaleReason { code })),
    }
}

/// A stored history row.
pub fn history_row(stored: &StoredRow) -> HistoryRowView {
    let r = &stored.row;
    HistoryRowView {
        id: stored.id,
        date: r.tran_date.to_string(),
        time: r.tran_time.format("%H:%M:%S").to_string(),
        direction: if r.is_deposit() {
            Direction::In
        } else {
            Direction::Out
        },
        kind: r.tran_type.clone(),
        content: r.print_content.clone(),
        amount: r.tran_amt.to_string(),
        after_balance: r.after_balance.to_string(),
        branch: r.branch_name.clone(),
    }
}

/// A transfer, with its source account's label.
pub fn transfer(t: &TransferRecord, from: Option<&AccountRecord>) -> TransferView {
    let from_label = from
        .map(|a| {
            if a.details.alias.is_empty() {
                format!("{} {}", a.details.bank_name, a.details.account_num_masked)
            } else {
                a.details.alias.clone()
            }
        })
        .unwrap_or_default();
    TransferView {
        id: t.transfer.id.clone(),
        state: t.state,
        amount: t.transfer.amount.to_string(),
        from_account: t.transfer.from_account,
        from_label,
        recipient_name: t.transfer.to_holder_name.clone(),
        recipient_bank_code: t.transfer.to_bank_code.clone(),
        memo: t.transfer.memo.clone(),
        failure_code: t.failure_code,
        failure_rsp_code: t.failure_rsp_code.clone(),
        created_at: time(&t.created_at),
        updated_at: time(&t.updated_at),
    }
}
