import { beforeEach, describe, expect, it, vi } from 'vitest';

// The only place the real `invoke` would be called; here it records what would cross.
const invoked: Array<[string, Record<string, unknown> | undefined]> = [];
// What `core_ready` answers: the core open (null), or why it could not open.
let coreFailure: { code: string } | null = null;
vi.mock('@tauri-apps/api/core', () => {
  class Channel<T> {
    onmessage: (message: T) => void = () => undefined;
  }
  return {
    Channel,
    invoke: vi.fn(async (cmd: string, args?: Record<string, unknown>) => {
      invoked.push([cmd, args]);
      if (cmd === 'core_ready' && coreFailure !== null) throw coreFailure;
      if (cmd === 'refresh_balances' || cmd === 'confirm_transfer') {
        const channel = args?.onEvent as { onmessage: (m: unknown) => void };
        channel.onmessage({ kind: 'started', total: 2 });
      }
      return null;
    }),
  };
});

const { asIpcError, tauriApi } = await import('./api');

/** The commands sent, without the one wait for the core before the first. */
function commands(): Array<[string, Record<string, unknown> | undefined]> {
  return invoked.filter(([cmd]) => cmd !== 'core_ready');
}

describe('tauriApi', () => {
  beforeEach(() => {
    invoked.length = 0;
    coreFailure = null;
  });

  it('waits for the shell’s core once, before the first command', async () => {
    vi.resetModules();
    const { tauriApi: fresh } = await import('./api');
    await Promise.all([fresh.dashboard(), fresh.appState()]);
    await fresh.transfers();
    expect(invoked.map(([cmd]) => cmd)).toEqual(['core_ready', 'dashboard', 'app_state', 'transfers']);
  });

  it('rejects every command with the reason when the core could not open', async () => {
    vi.resetModules();
    const { tauriApi: fresh } = await import('./api');
    coreFailure = { code: 'sandbox' };
    await expect(fresh.dashboard()).rejects.toEqual(coreFailure);
    await expect(fresh.transfers()).rejects.toEqual(coreFailure);
    expect(invoked.map(([cmd]) => cmd)).toEqual(['core_ready']);
  });

  it('names each command as the shell declares it, with camelCase arguments', async () => {
    const filter = { from: null, to: null, direction: null, search: null, offset: 0, limit: 200 };
    await tauriApi.accountHistory(3, filter);
    await tauriApi.syncHistory(3);
    await tauriApi.balanceChart(3);
    await tauriApi.saveExport('a.csv', 'x');
    await tauriApi.registerAccounts(true);
    await tauriApi.cancelAccount(3);
    await tauriApi.setPreferences({ language: 'en', theme: null });
    expect(commands()).toEqual([
      ['account_history', { accountId: 3, filter }],
      ['sync_history', { accountId: 3 }],
      ['balance_chart', { accountId: 3 }],
      ['save_export', { fileName: 'a.csv', content: 'x' }],
      ['register_accounts', { reconfirm: true }],
      ['cancel_account', { accountId: 3 }],
      ['set_preferences', { preferences: { language: 'en', theme: null } }],
    ]);
  });

  it('hands streamed events to the callback through a channel', async () => {
    const events: unknown[] = [];
    await tauriApi.refreshBalances((e) => events.push(e));
    await tauriApi.confirmTransfer('tok', (e) => events.push(e));
    expect(commands().map(([cmd]) => cmd)).toEqual(['refresh_balances', 'confirm_transfer']);
    expect(commands()[1]?.[1]?.token).toBe('tok');
    expect(events).toHaveLength(2);
  });
});

describe('the stored dashboard', () => {
  it('is taken from the page once, and only when it has a dashboard’s shape', () => {
    const page = globalThis as Record<string, unknown>;
    page.__MOA_STORED_DASHBOARD__ = { accounts: [], total: '5' };
    expect(tauriApi.storedDashboard()).toEqual({ accounts: [], total: '5' });
    expect(tauriApi.storedDashboard()).toBeNull();
    page.__MOA_STORED_DASHBOARD__ = { accounts: 'no' };
    expect(tauriApi.storedDashboard()).toBeNull();
    expect('__MOA_STORED_DASHBOARD__' in page).toBe(false);
  });
});

describe('asIpcError', () => {
  it('keeps the shell’s code, and makes anything else internal', () => {
    expect(asIpcError({ code: 'network' })).toEqual({ code: 'network' });
    expect(asIpcError({ code: 'network', message: 'words of anyone else' })).toEqual({ code: 'network' });
    expect(asIpcError({ code: 'brand_new' })).toEqual({ code: 'internal' });
    expect(asIpcError(new Error('boom'))).toEqual({ code: 'internal' });
    expect(asIpcError('text')).toEqual({ code: 'internal' });
    expect(asIpcError(undefined)).toEqual({ code: 'internal' });
  });
});
