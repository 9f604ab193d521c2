// Every command of the shell, as a typed function: the only module that calls `invoke`.
// Screens take an `Api` (this one in the app, a fake in tests), so none of them knows about Tauri.
// Streams arrive through a Tauri `Channel`, made here, and reach the screens as plain callbacks.

import { Channel, invoke as tauriInvoke, type InvokeArgs } from '@tauri-apps/api/core';
import { isCode } from '../i18n/messages';
import type {
  AppState,
  BankStatusView,
  ChartPoint,
  Dashboard,
  HistoryFilter,
  HistoryPage,
  HistorySyncView,
  IpcError,
  PreferencesInput,
  PreflightView,
  RegistrationResult,
  ServerInput,
  SyncEvent,
  TransferDraft,
  TransferEventView,
  TransferView,
} from './bindings';

export interface Api {
  appState(): Promise<AppState>;
  dashboard(): Promise<Dashboard>;
  refreshBalances(onEvent: (event: SyncEvent) => void): Promise<void>;
  bankStatuses(): Promise<BankStatusView[]>;
  accountHistory(accountId: number, filter: HistoryFilter): Promise<HistoryPage>;
  syncHistory(accountId: number): Promise<HistorySyncView>;
  balanceChart(accountId: number): Promise<ChartPoint[]>;
  saveExport(fileName: string, content: string): Promise<string>;
  registerAccounts(reconfirm: boolean): Promise<RegistrationResult>;
  cancelAccount(accountId: number): Promise<void>;
  signOut(): Promise<void>;
  preflightTransfer(draft: TransferDraft): Promise<PreflightView>;
  confirmTransfer(token: string, onEvent: (event: TransferEventView) => void): Promise<TransferView>;
  transfers(): Promise<TransferView[]>;
  setPreferences(preferences: PreferencesInput): Promise<void>;
  useSandbox(): Promise<void>;
  useServer(input: ServerInput): Promise<void>;
  dashboardPainted(): Promise<void>;
  /** The dashboard the store held when the window opened, once; then null. */
  storedDashboard(): Dashboard | null;
}

// The shell opens its core while the page loads: the first command waits until it has, and a
// core that could not open rejects every command with its reason.
let coreReady: Promise<void> | null = null;

function invoke<T>(cmd: string, args?: InvokeArgs): Promise<T> {
  coreReady ??= tauriInvoke<void>('core_ready');
  return coreReady.then(() => tauriInvoke<T>(cmd, args));
}

function channel<T>(onEvent: (event: T) => void): Channel<T> {
  const ch = new Channel<T>();
  ch.onmessage = onEvent;
  return ch;
}

// The shell hands the page the store's dashboard before any script runs, so the first paint
// needs no command (`src-tauri/src/startup.rs`).
const STORED_DASHBOARD = '__MOA_STORED_DASHBOARD__';

function takeStoredDashboard(): Dashboard | null {
  const page = globalThis as Record<string, unknown>;
  const stored = page[STORED_DASHBOARD];
  delete page[STORED_DASHBOARD];
  const ok =
    typeof stored === 'object' &&
    stored !== null &&
    Array.isArray((stored as Dashboard).accounts) &&
    typeof (stored as Dashboard).total === 'string';
  return ok ? (stored as Dashboard) : null;
}

/** The shell, through Tauri's IPC. Arguments go by their camelCase names, as Tauri expects. */
export const tauriApi: Api = {
  appState: () => invoke('app_state'),
  dashboard: () => invoke('dashboard'),
  refreshBalances: (onEvent) => invoke('refresh_balances', { onEvent: channel(onEvent) }),
  bankStatuses: () => invoke('bank_statuses'),
  accountHistory: (accountId, filter) => invoke('account_history', { accountId, filter }),
  syncHistory: (accountId) => invoke('sync_history', { accountId }),
  balanceChart: (accountId) => invoke('balance_chart', { accountId }),
  saveExport: (fileName, content) => invoke('save_export', { fileName, content }),
  registerAccounts: (reconfirm) => invoke('register_accounts', { reconfirm }),
  cancelAccount: (accountId) => invoke('cancel_account', { accountId }),
  signOut: () => invoke('sign_out'),
  preflightTransfer: (draft) => invoke('preflight_transfer', { draft }),
  confirmTransfer: (token, onEvent) =>
    invoke('confirm_transfer', { token, onEvent: channel(onEvent) }),
  transfers: () => invoke('transfers'),
  setPreferences: (preferences) => invoke('set_preferences', { preferences }),
  useSandbox: () => invoke('use_sandbox'),
  useServer: (input) => invoke('use_server', { input }),
  // Needs no core: it must not wait for one.
  dashboardPainted: () => tauriInvoke('dashboard_painted'),
  storedDashboard: takeStoredDashboard,
};

/**
 * Whatever a command rejected with, as an IpcError. The shell always rejects with one of its
 * codes; anything else (a Tauri failure, a thrown Error) becomes `internal`, so screens handle one
 * shape and always have words for it.
 */
export function asIpcError(error: unknown): IpcError {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const { code } = error as { code: unknown };
    if (isCode(code)) return { code };
  }
  return { code: 'internal' };
}
