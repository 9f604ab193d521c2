import { render } from 'svelte/server';
import { describe, expect, it } from 'vitest';
import type { AccountView, SyncEvent } from '../../lib/ipc/bindings';
import { DashboardModel, accountLabel, groupByBank, isOpenTransfer, sourceLabel, totalOf } from './dashboard.svelte';
import Dashboard from './Dashboard.svelte';
import { account, fakeApi, transfer } from '../../lib/testing/fake-api';
import Provided from '../../lib/testing/Provided.svelte';

const appState = {
  environment: 'sandbox' as const,
  server_url: null,
  registered: true,
  person_name: '홍길동',
  language: 'ko' as const,
  theme: 'system' as const,
  consent: { expires_at: null, days_left: 10, renew_soon: true },
  open_transfers: [transfer({ id: 'open', state: 'depositing' }), transfer({ id: 'done', state: 'completed' })],
};

describe('the dashboard’s pure parts', () => {
  it('sums the known balances as bigint and skips unknown ones', () => {
    expect(
      totalOf([
        account({ balance: '9007199254740993' }),
        account({ id: 2, balance: '7' }),
        account({ id: 3, balance: null }),
      ]),
    ).toBe(9007199254741000n);
  });

  it('groups accounts by bank in the order they come', () => {
    const groups = groupByBank([
      account({ id: 1, bank_code: '004' }),
      account({ id: 2, bank_code: '088', bank_name: '신한은행' }),
      account({ id: 3, bank_code: '004' }),
    ]);
    expect(groups.map((g) => [g.bankCode, g.accounts.map((a) => a.id)])).toEqual([
      ['004', [1, 3]],
      ['088', [2]],
    ]);
  });

  it('names an account by alias, then product, then bank', () => {
    expect(accountLabel(account({ alias: '생활비' }))).toBe('생활비');
    expect(accountLabel(account({ alias: ' ', product_name: '직장인통장' }))).toBe('직장인통장');
    expect(accountLabel(account({ alias: '', product_name: null }))).toBe('KB국민은행');
    expect(accountLabel(account({ alias: '', product_name: null }), 'en')).toBe('KB Kookmin Bank');
  });

  it('names where a transfer left from in the reader’s language, or as the shell did once the account is gone', () => {
    const accounts = [account({ id: 1, bank_code: '004' }), account({ id: 2, alias: '생활비' })];
    const from = (id: number) => transfer({ from_account: id, from_label: 'KB국민은행 1234567890***' });
    expect(sourceLabel(from(1), accounts, 'en')).toBe('KB Kookmin Bank 1234567890***');
    expect(sourceLabel(from(1), accounts, 'ko')).toBe('KB국민은행 1234567890***');
    expect(sourceLabel(from(2), accounts, 'en')).toBe('생활비');
    expect(sourceLabel(from(3), accounts, 'en')).toBe('KB국민은행 1234567890***');
  });

  it('counts transfers that have not ended as open', () => {
    expect(isOpenTransfer(transfer({ state: 'withdrawing' }))).toBe(true);
    expect(isOpenTransfer(transfer({ state: 'refunding' }))).toBe(true);
    for (const state of ['completed', 'refunded', 'failed'] as const) {
      expect(isOpenTransfer(transfer({ state }))).toBe(false);
    }
  });
});

describe('DashboardModel', () => {
  it('paints from the store, then updates each account as its answer arrives', async () => {
    const seen: Array<{ done: number; total: number } | null> = [];
    let model: DashboardModel | null = null;
    const api = fakeApi({
      appState: async () => appState,
      dashboard: async () => ({
        accounts: [account({ id: 1, balance: '100' }), account({ id: 2, balance: '200' })],
        total: '300',
      }),
      bankStatuses: async () => [
        { bank_code: '004', bank_name: 'KB국민은행', status: 'available' },
        { bank_code: '088', bank_name: '신한은행', status: 'down' },
      ],
      refreshBalances: async (onEvent: (e: SyncEvent) => void) => {
        onEvent({ kind: 'started', total: 2 });
        onEvent({ kind: 'account', account: account({ id: 2, balance: '250' }), done: 1, total: 2 });
        seen.push(model?.progress ?? null);
        expect(model?.total).toBe(350n);
        onEvent({
          kind: 'account',
          account: account({ id: 1, balance: '100', stale: { code: 'bank_down' } }),
          done: 2,
          total: 2,
        });
        onEvent({ kind: 'finished', fresh: 1, stale: 1 });
      },
    });
    model = new DashboardModel(api);
    expect(model.banksKnown).toBe(false);
    await model.load();
    expect(model.accounts.map((a) => a.balance)).toEqual(['100', '200']);
    expect(model.total).toBe(300n);
    await model.refresh();
    expect(seen).toEqual([{ done: 1, total: 2 }]);
    expect(model.progress).toBeNull();
    expect(model.refreshing).toBe(false);
    expect(model.lastRefresh).toEqual({ fresh: 1, stale: 1 });
    expect(model.accounts[0]?.stale?.code).toBe('bank_down');
    expect(model.accounts[0]?.balance).toBe('100');
    expect(model.openTransfers.map((t) => t.id)).toEqual(['open']);
    await Promise.resolve();
    expect(model.troubledBanks.map((b) => b.bank_code)).toEqual(['088']);
    expect(model.banksKnown).toBe(true);
  });

  it('ends the refresh when its answer comes, and still takes a balance whose message comes after', async () => {
    // The answer and the stream's messages reach the page by different ways, in either order.
    let late: Array<() => void> = [];
    const model = new DashboardModel(
      fakeApi({
        appState: async () => appState,
        dashboard: async () => ({ accounts: [account({ id: 1, balance: '100' }), account({ id: 2, balance: '200' })], total: '300' }),
        refreshBalances: async (onEvent: (e: SyncEvent) => void) => {
          onEvent({ kind: 'started', total: 2 });
          onEvent({ kind: 'account', account: account({ id: 1, balance: '150' }), done: 1, total: 2 });
          late = [
            () => onEvent({ kind: 'account', account: account({ id: 2, balance: '250' }), done: 2, total: 2 }),
            () => onEvent({ kind: 'finished', fresh: 2, stale: 0 }),
          ];
        },
      }),
    );
    await model.load();
    await model.refresh();
    expect(model.refreshing).toBe(false);
    expect(model.progress).toBeNull();
    for (const message of late) message();
    expect(model.progress).toBeNull();
    expect(model.accounts.map((a) => a.balance)).toEqual(['150', '250']);
    expect(model.lastRefresh).toEqual({ fresh: 2, stale: 0 });

    // A message of a refresh that has ended is not taken for one of the next.
    let stale: (() => void) | null = null;
    let release: () => void = () => undefined;
    const second = new DashboardModel(
      fakeApi({
        appState: async () => appState,
        dashboard: async () => ({ accounts: [account({ id: 1, balance: '100' })], total: '100' }),
        refreshBalances: async (onEvent: (e: SyncEvent) => void) => {
          if (stale === null) {
            stale = () => onEvent({ kind: 'account', account: account({ id: 1, balance: '1' }), done: 1, total: 1 });
            return;
          }
          onEvent({ kind: 'started', total: 1 });
          await new Promise<void>((resolve) => (release = resolve));
        },
      }),
    );
    await second.load();
    await second.refresh();
    const next = second.refresh();
    stale!();
    expect(second.progress).toEqual({ done: 0, total: 1 });
    expect(second.accounts[0]?.balance).toBe('100');
    release();
    await next;
    expect(second.progress).toBeNull();
  });

  it('shows the empty state when nobody is registered, and after registering says how many', async () => {
    let registered = false;
    const calls: boolean[] = [];
    const api = fakeApi({
      appState: async () => ({ ...appState, registered }),
      dashboard: async () => ({ accounts: registered ? [account({ id: 1 }), account({ id: 2 }), account({ id: 3 })] : [], total: '0' }),
      bankStatuses: async () => [],
      registerAccounts: async (reconfirm) => {
        calls.push(reconfirm);
        registered = true;
        return { added: 3, updated: 0 };
      },
      refreshBalances: async () => undefined,
    });
    const model = new DashboardModel(api);
    await model.start();
    expect(model.isEmpty).toBe(true);
    await model.register();
    expect(calls).toEqual([false]);
    expect(model.registration).toEqual({ added: 3, updated: 0 });
    expect(model.accounts).toHaveLength(3);
    expect(model.isEmpty).toBe(false);
  });

  it('renews consent with reconfirm and keeps a refused registration as an error', async () => {
    const calls: boolean[] = [];
    const api = fakeApi({
      appState: async () => appState,
      dashboard: async () => ({ accounts: [account()], total: '0' }),
      refreshBalances: async () => undefined,
      bankStatuses: async () => [],
      registerAccounts: async (reconfirm) => {
        calls.push(reconfirm);
        if (calls.length === 2) throw { code: 'consent_refused' };
        return { added: 0, updated: 1 };
      },
    });
    const model = new DashboardModel(api);
    await model.register(true);
    expect(model.renewed).toBe(true);
    await model.register(true);
    expect(calls).toEqual([true, true]);
    expect(model.error?.code).toBe('consent_refused');
    expect(model.registering).toBe(false);
  });

  it('paints from the store without asking the banks when told not to refresh', async () => {
    let refreshed = 0;
    const api = fakeApi({
      appState: async () => appState,
      dashboard: async () => ({ accounts: [account()], total: '1000000' }),
      bankStatuses: async () => [],
      refreshBalances: async () => void refreshed++,
    });
    const model = new DashboardModel(api);
    await model.start(false);
    expect(refreshed).toBe(0);
    expect(model.accounts).toHaveLength(1);
    await model.start();
    expect(refreshed).toBe(1);
  });

  it('paints the dashboard the shell handed the page, and asks the shell only after that frame', async () => {
    const order: string[] = [];
    let answer: (d: { accounts: AccountView[]; total: string }) => void = () => undefined;
    let asked: () => void = () => undefined;
    const requested = new Promise<void>((resolve) => (asked = resolve));
    const api = fakeApi({
      storedDashboard: () => ({ accounts: [account({ id: 7 })], total: '1000000' }),
      appState: async () => appState,
      dashboard: () =>
        new Promise((resolve) => {
          order.push('asked');
          answer = resolve;
          asked();
        }),
      bankStatuses: async () => [],
      refreshBalances: async () => void order.push('refresh'),
    });
    let drawn: () => void = () => undefined;
    const model = new DashboardModel(api);
    // Held from the start: the screen's first render draws the stored balances, no loading line.
    expect(model.loading).toBe(false);
    expect(model.accounts.map((a) => a.id)).toEqual([7]);
    const started = model.start(true, () => {
      order.push(`loaded ${model.accounts.map((a) => a.id)}`);
      return new Promise<void>((resolve) => (drawn = resolve));
    });
    expect(model.loading).toBe(false);
    await Promise.resolve();
    expect(order).toEqual(['loaded 7']);
    drawn();
    await requested;
    answer({ accounts: [account({ id: 7 }), account({ id: 8 })], total: '2000000' });
    await started;
    expect(order).toEqual(['loaded 7', 'asked', 'refresh']);
    expect(model.accounts.map((a) => a.id)).toEqual([7, 8]);
  });

  it('says it has loaded from the store before asking any bank', async () => {
    const order: string[] = [];
    const api = fakeApi({
      appState: async () => appState,
      dashboard: async () => ({ accounts: [account()], total: '1000000' }),
      bankStatuses: async () => [],
      refreshBalances: async () => void order.push('refresh'),
    });
    const model = new DashboardModel(api);
    await model.start(true, () => void order.push(`loaded ${model.accounts.length}`));
    expect(order).toEqual(['loaded 1', 'refresh']);
  });

  it('keeps the painted balances when the refresh itself fails', async () => {
    const api = fakeApi({
      appState: async () => appState,
      dashboard: async () => ({ accounts: [account({ balance: '5' })], total: '5' }),
      bankStatuses: async () => Promise.reject(new Error('down')),
      refreshBalances: async () => Promise.reject({ code: 'network' }),
    });
    const model = new DashboardModel(api);
    await model.start();
    expect(model.error?.code).toBe('network');
    expect(model.total).toBe(5n);
    expect(model.refreshing).toBe(false);
    await Promise.resolve();
    expect(model.banksFailed).toBe(true);
    expect(model.banksKnown).toBe(false);
  });
});

describe('the dashboard, as first painted from the store', () => {
  const { body } = render(Provided, {
    props: {
      screen: Dashboard,
      api: fakeApi({ storedDashboard: () => ({ accounts: [account({ id: 7 })], total: '1000000' }) }),
    },
  });

  it('draws the stored balances, with no loading line', () => {
    expect(body).toContain('1,000,000');
    expect(body).not.toContain('불러오는 중');
  });

  it('keeps the banks’ status line in its place while the statuses are asked', () => {
    // The line the answer brings replaces this one: the cards below it must not move.
    const strip = body.slice(body.indexOf('role="region"'), body.indexOf('class="groups"'));
    expect(strip).toContain('은행 상태를 확인하는 중…');
  });
});
