//! The IPC contract: every type that crosses between the Rust shell and the web UI, declared
//! once here. The TypeScript in `ui/src/lib/ipc/bindings.ts` is generated from these types and
//! committed; a test fails when the two drift apart.
//!
//! Money crosses as digit strings (the UI reads them as `bigint`), ids as numbers, times as
//! RFC 3339 strings. Nothing here can carry a token, a code or a secret.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use moa_core::Code;
pub use moa_core::journal::TransferState;
pub use moa_core::sync::{BankState, StaleCode};

/// Which moa-server Moa talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentKind {
    /// The server and open banking center inside the app, with demo people and test money.
    Sandbox,
    /// An institution's moa-server, by its URL.
    Server,
}

/// The interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// 한국어.
    Ko,
    /// English.
    En,
}

/// The colour theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Follow the system.
    System,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

/// What the UI needs to know at start.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AppState {
    /// The active server.
    pub environment: EnvironmentKind,
    /// Its address, for an institution's server (the sandbox's is its own business).
    pub server_url: Option<String>,
    /// Whether a person has registered accounts (and their tokens are in the keyring).
    pub registered: bool,
    /// Their name, as the center knows it.
    pub person_name: Option<String>,
    /// Chosen language.
    pub language: Language,
    /// Chosen theme.
    pub theme: Theme,
    /// How the person's consent stands.
    pub consent: ConsentView,
    /// Transfers that have not ended (settling or being refunded): shown as incident cards.
    pub open_transfers: Vec<TransferView>,
}

/// How long the person's consent lasts.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ConsentView {
    /// When it runs out (RFC 3339).
    pub expires_at: Option<String>,
    /// Whole days left.
    #[ts(type = "number | null")]
    pub days_left: Option<i64>,
    /// Ask the person to renew now.
    pub renew_soon: bool,
}

/// Why a balance is not fresh.
#[derive(Debug, Clone, Serialize, TS)]
pub struct StaleReason {
    /// Stable code; the UI has the words.
    pub code: StaleCode,
}

/// A registered account with its last known balance.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AccountView {
    /// Row id.
    #[ts(type = "number")]
    pub id: i64,
    /// Bank code.
    pub bank_code: String,
    /// Bank name.
    pub bank_name: String,
    /// The person's name for it (may be empty).
    pub alias: String,
    /// Product name, when the bank reported one.
    pub product_name: Option<String>,
    /// Masked number, e.g. `1002123456***`.
    pub masked_number: String,
    /// Holder.
    pub holder_name: String,
    /// `1` demand deposit, `2` savings, `6` trust, `T` combined.
    pub account_type: String,
    /// Inquiry consent given.
    pub inquiry_agreed: bool,
    /// Transfer (withdraw) consent given.
    pub transfer_agreed: bool,
    /// Last good balance, whole won.
    pub balance: Option<String>,
    /// Last good withdrawable amount.
    pub available: Option<String>,
    /// When the last good value was read (RFC 3339).
    pub as_of: Option<String>,
    /// Set when the last refresh failed; the value above is then older.
    pub stale: Option<StaleReason>,
}

/// The dashboard, painted from the store at once.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Dashboard {
    /// Every active account.
    pub accounts: Vec<AccountView>,
    /// Sum of the known balances, whole won.
    pub total: String,
}

/// A participating bank's status.
#[derive(Debug, Clone, Serialize, TS)]
pub struct BankStatusView {
    /// Bank code.
    pub bank_code: String,
    /// Bank name.
    pub bank_name: String,
    /// Its state, as the center announces it.
    pub status: BankState,
}

/// Progress of a balance refresh, streamed as answers arrive.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SyncEvent {
    /// The refresh began.
    Started {
        /// Accounts to refresh.
        total: u32,
    },
    /// One account has its answer (fresh or stale).
    Account {
        /// The account as it now stands (boxed: events are small but for this one).
        account: Box<AccountView>,
        /// Answers so far.
        done: u32,
        /// Accounts in all.
        total: u32,
    },
    /// Every account has answered.
    Finished {
        /// Accounts now fresh.
        fresh: u32,
        /// Accounts left stale.
        stale: u32,
    },
}

/// Which way money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Deposits.
    In,
    /// Withdrawals.
    Out,
}

/// Filters for an account's history.
#[derive(Debug, Clone, Default, Deserialize, TS)]
pub struct HistoryFilter {
    /// From this day (`yyyy-mm-dd`), inclusive.
    pub from: Option<String>,
    /// To this day (`yyyy-mm-dd`), inclusive.
    pub to: Option<String>,
    /// Only one direction.
    pub direction: Option<Direction>,
    /// Text in the statement or type.
    pub search: Option<String>,
    /// Rows to skip.
    pub offset: u32,
    /// Rows to return (at most 500).
    pub limit: u32,
}

/// One history row.
#[derive(Debug, Clone, Serialize, TS)]
pub struct HistoryRowView {
    /// Row id.
    #[ts(type = "number")]
    pub id: i64,
    /// `yyyy-mm-dd`.
    pub date: String,
    /// `HH:MM:SS`.
    pub time: String,
    /// Deposit or withdrawal.
    pub direction: Direction,
    /// `급여`, `이체`, `체크카드`, ….
    pub kind: String,
    /// The statement text.
    pub content: String,
    /// Whole won.
    pub amount: String,
    /// Balance after it.
    pub after_balance: String,
    /// Branch.
    pub branch: String,
}

/// A page of history.
#[derive(Debug, Clone, Serialize, TS)]
pub struct HistoryPage {
    /// The rows, newest first.
    pub rows: Vec<HistoryRowView>,
    /// Whether more rows match.
    pub has_more: bool,
    /// Rows stored for the account in all.
    #[ts(type = "number")]
    pub stored_rows: u64,
    /// Places where rows are missing (the after-balance chain breaks).
    pub gaps: u32,
}

/// What a history sync did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct HistorySyncView {
    /// Rows new to Moa.
    pub inserted: u32,
    /// Places where rows are missing.
    pub gaps: u32,
}

/// The balance at the end of a day.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ChartPoint {
    /// `yyyy-mm-dd`.
    pub date: String,
    /// Whole won.
    pub balance: String,
}

/// Where a transfer goes.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecipientInput {
    /// One of the person's accounts.
    Own {
        /// Its row id.
        #[ts(type = "number")]
        account_id: i64,
    },
    /// Any account by bank and number.
    External {
        /// Bank code.
        bank_code: String,
        /// Account number, digits only.
        account_num: String,
    },
}

/// A transfer as the person fills it in.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct TransferDraft {
    /// Source account row id.
    #[ts(type = "number")]
    pub from_account: i64,
    /// Target.
    pub to: RecipientInput,
    /// Whole won, as typed (digits only).
    pub amount: String,
    /// Memo.
    pub memo: String,
}

/// The confirmation screen's facts, checked against the center.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PreflightView {
    /// Identifies this check: confirming sends exactly what was checked.
    pub token: String,
    /// Source account.
    pub from: AccountView,
    /// Recipient's name from the receive check.
    pub recipient_name: String,
    /// Recipient's bank.
    pub recipient_bank_name: String,
    /// Recipient's masked number.
    pub recipient_masked: String,
    /// Whole won.
    pub amount: String,
    /// What the source can pay now.
    pub available: String,
    /// What may still be transferred today.
    pub remaining_limit: String,
    /// Memo.
    pub memo: String,
}

/// A transfer, for the list, the receipt and the incident card.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TransferView {
    /// Id.
    pub id: String,
    /// State.
    pub state: TransferState,
    /// Whole won.
    pub amount: String,
    /// Source account row id.
    #[ts(type = "number")]
    pub from_account: i64,
    /// Source account, as the person knows it.
    pub from_label: String,
    /// Recipient's name.
    pub recipient_name: String,
    /// Recipient's bank code.
    pub recipient_bank_code: String,
    /// Memo.
    pub memo: String,
    /// Why it failed or is being refunded: a stable code; the UI has the words.
    pub failure_code: Option<Code>,
    /// The bank's or the center's own code for it (`499`, `A0004`), when they gave one.
    pub failure_rsp_code: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// A transfer's progress.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TransferEventView {
    /// The transfer.
    pub id: String,
    /// Its new state.
    pub state: TransferState,
}

/// What a registration did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RegistrationResult {
    /// Accounts new to Moa.
    pub added: u32,
    /// Accounts already known, updated.
    pub updated: u32,
}

/// Preferences the person changes in Settings.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct PreferencesInput {
    /// Language.
    pub language: Option<Language>,
    /// Theme.
    pub theme: Option<Theme>,
}

/// An institution's moa-server, as the person enters it in Settings.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct ServerInput {
    /// Its address: `https://…`, or `http://` on this machine only.
    pub url: String,
}

/// Every failure the UI sees: a stable code; the UI has the words for each.
#[derive(Debug, Clone, Serialize, TS, thiserror::Error)]
#[error("{code}")]
pub struct IpcError {
    /// Stable code.
    pub code: Code,
}

/// The TypeScript of the whole contract, as committed in the UI.
pub fn typescript() -> String {
    let cfg = ts_rs::Config::new();
    let decls = [
        Code::decl(&cfg),
        StaleCode::decl(&cfg),
        BankState::decl(&cfg),
        EnvironmentKind::decl(&cfg),
        Language::decl(&cfg),
        Theme::decl(&cfg),
        AppState::decl(&cfg),
        ConsentView::decl(&cfg),
        StaleReason::decl(&cfg),
        AccountView::decl(&cfg),
        Dashboard::decl(&cfg),
        BankStatusView::decl(&cfg),
        SyncEvent::decl(&cfg),
        Direction::decl(&cfg),
        HistoryFilter::decl(&cfg),
        HistoryRowView::decl(&cfg),
        HistoryPage::decl(&cfg),
        HistorySyncView::decl(&cfg),
        ChartPoint::decl(&cfg),
        RecipientInput::decl(&cfg),
        TransferDraft::decl(&cfg),
        PreflightView::decl(&cfg),
        TransferState::decl(&cfg),
        TransferView::decl(&cfg),
        TransferEventView::decl(&cfg),
        RegistrationResult::decl(&cfg),
        PreferencesInput::decl(&cfg),
        ServerInput::decl(&cfg),
        IpcError::decl(&cfg),
    ];
    let mut out = String::from(
        "// The IPC contract, generated from src-tauri/src/ipc.rs. Do not edit: run\n\
         // `MOA_UPDATE_BINDINGS=1 cargo test -p moa ipc_bindings` after changing the Rust side.\n\n",
    );
    for decl in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// The committed TypeScript must be what the Rust types generate today.
    #[test]
    fn ipc_bindings_are_up_to_date() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/ipc/bindings.ts");
        let generated = super::typescript();
        if std::env::var_os("MOA_UPDATE_BINDINGS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "ui/src/lib/ipc/bindings.ts is out of date: run `MOA_UPDATE_BINDINGS=1 cargo test -p moa ipc_bindings`"
        );
    }
}
