// A stand-in for the shell in tests: every command rejects unless the test gives it an answer.

import type { Api } from '../ipc/api';
import type { AccountView, AppState, TransferView } from '../ipc/bindings';

export function fakeApi(overrides: Partial<Api> = {}): Api {
  const missing = (name: string) => () => Promise.reject({ code: 'internal', command: name });
  const names: Array<keyof Api> = [
    'appState', 'dashboard', 'refreshBalances', 'bankStatuses', 'accountHistory', 'syncHistory',
    'balanceChart', 'saveExport', 'registerAccounts', 'cancelAccount', 'signOut',
    'preflightTransfer', 'confirmTransfer', 'transfers', 'setPreferences', 'useSandbox', 'useServer',
    'dashboardPainted',
  ];
  const api = Object.fromEntries(names.map((n) => [n, missing(n)])) as unknown as Api;
  return { ...api, storedDashboard: () => null, ...overrides };
}

export function account(overrides: Partial<AccountView> = {}): AccountView {
  return {
    id: 1,
    bank_code: '004',
    bank_name: 'KB국민은행',
    alias: '',
    product_name: '직장인통장',
    masked_number: '1234567890***',
    holder_name: '홍길동',
    account_type: '1',
    inquiry_agreed: true,
    transfer_agreed: true,
    balance: '1000000',
    available: '1000000',
    as_of: '2026-11-27T02:00:00.000Z',
    stale: null,
    ...overrides,
  };
}

export function transfer(overrides: Partial<TransferView> = {}): TransferView {
  return {
    id: 't1',
    state: 'completed',
    amount: '50000',
    from_account: 1,
    from_label: '직장인통장',
    recipient_name: '홍길동',
    recipient_bank_code: '088',
    memo: '',
    failure_code: null,
    failure_rsp_code: null,
    created_at: '2026-11-27T02:00:00.000Z',
    updated_at: '2026-11-27T02:00:05.000Z',
    ...overrides,
  };
}

export function appState(overrides: Partial<AppState> = {}): AppState {
  return {
    environment: 'sandbox',
    server_url: null,
    registered: true,
    person_name: '홍길동',
    language: 'ko',
    theme: 'system',
    consent: { expires_at: '2027-11-27T00:00:00.000Z', days_left: 365, renew_soon: false },
    open_transfers: [],
    ...overrides,
  };
}
