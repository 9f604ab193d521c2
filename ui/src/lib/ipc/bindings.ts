// The IPC contract, generated from src-tauri/src/ipc.rs. Do not edit: run
// `MOA_UPDATE_BINDINGS=1 cargo test -p moa ipc_bindings` after changing the Rust side.

export type Code = "store" | "vault" | "sandbox" | "internal" | "network" | "not_configured" | "server_url_invalid" | "server_url_insecure" | "device_refused" | "rate_limited" | "not_registered" | "auth_expired" | "consent_refused" | "registration_cancelled" | "registration_expired" | "registration_in_progress" | "center_insecure" | "redirect_invalid" | "no_such_account" | "no_such_transfer" | "bad_filter" | "amount_not_positive" | "same_account" | "bad_bank_code" | "bad_account_number" | "bad_memo" | "no_such_recipient" | "over_limit" | "insufficient_funds" | "no_transfer_consent" | "idempotency_conflict" | "preflight_expired" | "center_refused" | "bank_refused" | "center_unavailable" | "not_sent" | "withdraw_not_applied" | "deposit_not_applied" | "bad_file_name" | "export_too_large" | "no_download_folder" | "write_failed";

export type StaleCode = "bank_down" | "bank_not_open" | "bank_terminated" | "timeout" | "network" | "consent_missing" | "consent_expired" | "auth_expired" | "bank_refused" | "account_unregistered" | "center_unreadable" | "center_refused" | "internal";

export type BankState = "available" | "down" | "not_open" | "terminated" | "unknown";

export type EnvironmentKind = "sandbox" | "server";

export type Language = "ko" | "en";

export type Theme = "system" | "light" | "dark";

export type AppState = { 
/**
 * The active server.
 */
environment: EnvironmentKind, 
/**
 * Its address, for an institution's server (the sandbox's is its own business).
 */
server_url: string | null, 
/**
 * Whether a person has registered accounts (and their tokens are in the keyring).
 */
registered: boolean, 
/**
 * Their name, as the center knows it.
 */
person_name: string | null, 
/**
 * Chosen language.
 */
language: Language, 
/**
 * Chosen theme.
 */
theme: Theme, 
/**
 * How the person's consent stands.
 */
consent: ConsentView, 
/**
 * Transfers that have not ended (settling or being refunded): shown as incident cards.
 */
open_transfers: Array<TransferView>, };

export type ConsentView = { 
/**
 * When it runs out (RFC 3339).
 */
expires_at: string | null, 
/**
 * Whole days left.
 */
days_left: number | null, 
/**
 * Ask the person to renew now.
 */
renew_soon: boolean, };

export type StaleReason = { 
/**
 * Stable code; the UI has the words.
 */
code: StaleCode, };

export type AccountView = { 
/**
 * Row id.
 */
id: number, 
/**
 * Bank code.
 */
bank_code: string, 
/**
 * Bank name.
 */
bank_name: string, 
/**
 * The person's name for it (may be empty).
 */
alias: string, 
/**
 * Product name, when the bank reported one.
 */
product_name: string | null, 
/**
 * Masked number, e.g. `1002123456***`.
 */
masked_number: string, 
/**
 * Holder.
 */
holder_name: string, 
/**
 * `1` demand deposit, `2` savings, `6` trust, `T` combined.
 */
account_type: string, 
/**
 * Inquiry consent given.
 */
inquiry_agreed: boolean, 
/**
 * Transfer (withdraw) consent given.
 */
transfer_agreed: boolean, 
/**
 * Last good balance, whole won.
 */
balance: string | null, 
/**
 * Last good withdrawable amount.
 */
available: string | null, 
/**
 * When the last good value was read (RFC 3339).
 */
as_of: string | null, 
/**
 * Set when the last refresh failed; the value above is then older.
 */
stale: StaleReason | null, };

export type Dashboard = { 
/**
 * Every active account.
 */
accounts: Array<AccountView>, 
/**
 * Sum of the known balances, whole won.
 */
total: string, };

export type BankStatusView = { 
/**
 * Bank code.
 */
bank_code: string, 
/**
 * Bank name.
 */
bank_name: string, 
/**
 * Its state, as the center announces it.
 */
status: BankState, };

export type SyncEvent = { "kind": "started", 
/**
 * Accounts to refresh.
 */
total: number, } | { "kind": "account", 
/**
 * The account as it now stands (boxed: events are small but for this one).
 */
account: AccountView, 
/**
 * Answers so far.
 */
done: number, 
/**
 * Accounts in all.
 */
total: number, } | { "kind": "finished", 
/**
 * Accounts now fresh.
 */
fresh: number, 
/**
 * Accounts left stale.
 */
stale: number, };

export type Direction = "in" | "out";

export type HistoryFilter = { 
/**
 * From this day (`yyyy-mm-dd`), inclusive.
 */
from: string | null, 
/**
 * To this day (`yyyy-mm-dd`), inclusive.
 */
to: string | null, 
/**
 * Only one direction.
 */
direction: Direction | null, 
/**
 * Text in the statement or type.
 */
search: string | null, 
/**
 * Rows to skip.
 */
offset: number, 
/**
 * Rows to return (at most 500).
 */
limit: number, };

export type HistoryRowView = { 
/**
 * Row id.
 */
id: number, 
/**
 * `yyyy-mm-dd`.
 */
date: string, 
/**
 * `HH:MM:SS`.
 */
time: string, 
/**
 * Deposit or withdrawal.
 */
direction: Direction, 
/**
 * `급여`, `이체`, `체크카드`, ….
 */
kind: string, 
/**
 * The statement text.
 */
content: string, 
/**
 * Whole won.
 */
amount: string, 
/**
 * Balance after it.
 */
after_balance: string, 
/**
 * Branch.
 */
branch: string, };

export type HistoryPage = { 
/**
 * The rows, newest first.
 */
rows: Array<HistoryRowView>, 
/**
 * Whether more rows match.
 */
has_more: boolean, 
/**
 * Rows stored for the account in all.
 */
stored_rows: number, 
/**
 * Places where rows are missing (the after-balance chain breaks).
 */
gaps: number, };

export type HistorySyncView = { 
/**
 * Rows new to Moa.
 */
inserted: number, 
/**
 * Places where rows are missing.
 */
gaps: number, };

export type ChartPoint = { 
/**
 * `yyyy-mm-dd`.
 */
date: string, 
/**
 * Whole won.
 */
balance: string, };

export type RecipientInput = { "kind": "own", 
/**
 * Its row id.
 */
account_id: number, } | { "kind": "external", 
/**
 * Bank code.
 */
bank_code: string, 
/**
 * Account number, digits only.
 */
account_num: string, };

export type TransferDraft = { 
/**
 * Source account row id.
 */
from_account: number, 
/**
 * Target.
 */
to: RecipientInput, 
/**
 * Whole won, as typed (digits only).
 */
amount: string, 
/**
 * Memo.
 */
memo: string, };

export type PreflightView = { 
/**
 * Identifies this check: confirming sends exactly what was checked.
 */
token: string, 
/**
 * Source account.
 */
from: AccountView, 
/**
 * Recipient's name from the receive check.
 */
recipient_name: string, 
/**
 * Recipient's bank.
 */
recipient_bank_name: string, 
/**
 * Recipient's masked number.
 */
recipient_masked: string, 
/**
 * Whole won.
 */
amount: string, 
/**
 * What the source can pay now.
 */
available: string, 
/**
 * What may still be transferred today.
 */
remaining_limit: string, 
/**
 * Memo.
 */
memo: string, };

export type TransferState = "created" | "withdrawing" | "withdrawn" | "depositing" | "completed" | "refunding" | "refunded" | "failed";

export type TransferView = { 
/**
 * Id.
 */
id: string, 
/**
 * State.
 */
state: TransferState, 
/**
 * Whole won.
 */
amount: string, 
/**
 * Source account row id.
 */
from_account: number, 
/**
 * Source account, as the person knows it.
 */
from_label: string, 
/**
 * Recipient's name.
 */
recipient_name: string, 
/**
 * Recipient's bank code.
 */
recipient_bank_code: string, 
/**
 * Memo.
 */
memo: string, 
/**
 * Why it failed or is being refunded: a stable code; the UI has the words.
 */
failure_code: Code | null, 
/**
 * The bank's or the center's own code for it (`499`, `A0004`), when they gave one.
 */
failure_rsp_code: string | null, 
/**
 * RFC 3339.
 */
created_at: string, 
/**
 * RFC 3339.
 */
updated_at: string, };

export type TransferEventView = { 
/**
 * The transfer.
 */
id: string, 
/**
 * Its new state.
 */
state: TransferState, };

export type RegistrationResult = { 
/**
 * Accounts new to Moa.
 */
added: number, 
/**
 * Accounts already known, updated.
 */
updated: number, };

export type PreferencesInput = { 
/**
 * Language.
 */
language: Language | null, 
/**
 * Theme.
 */
theme: Theme | null, };

export type ServerInput = { 
/**
 * Its address: `https://…`, or `http://` on this machine only.
 */
url: string, };

export type IpcError = { 
/**
 * Stable code.
 */
code: Code, };
