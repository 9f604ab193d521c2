import { describe, expect, it } from 'vitest';
import type { HistoryFilter, HistoryRowView } from '../../lib/ipc/bindings';
import { BOM } from '../../lib/csv';
import { AccountModel, PAGE_SIZE, exportFileName, exportedRow, filterFor } from './account.svelte';
import { account, fakeApi } from '../../lib/testing/fake-api';

function row(id: number, overrides: Partial<HistoryRowView> = {}): HistoryRowView {
  return {
    id,
    date: '2026-11-27',
    time: '09:05:00',
    direction: 'out',
    kind: '체크카드',
    content: `가게 ${id}`,
    amount: '1000',
    after_balance: String(100000 - id * 1000),
    branch: '',
    ...overrides,
  };
}

// A store of `n` rows that pages like the shell: newest first, offset/limit, has_more.
function pagedHistory(n: number, calls: HistoryFilter[]) {
  const rows = Array.from({ length: n }, (_, i) => row(i + 1));
  return async (_id: number, filter: HistoryFilter) => {
    calls.push(filter);
    const page = rows.slice(filter.offset, filter.offset + filter.limit);
    return { rows: page, has_more: filter.offset + filter.limit < n, stored_rows: n, gaps: 0 };
  };
}

describe('the history filter', () => {
  it('sends blanks as null and trims the search', () => {
    expect(filterFor({ from: '', to: '2026-11-27', direction: 'all', search: '  급여 ' }, 200, 200)).toEqual({
      from: null,
      to: '2026-11-27',
      direction: null,
      search: '급여',
      offset: 200,
      limit: 200,
    });
    expect(filterFor({ from: '2026-01-01', to: '', direction: 'in', search: '' }, 0, 10).direction).toBe('in');
  });
});

describe('AccountModel', () => {
  it('pages through a long history with load more, asking the shell for each page', async () => {
    const calls: HistoryFilter[] = [];
    const api = fakeApi({
      accountHistory: pagedHistory(10_000, calls),
      balanceChart: async () => [],
      dashboard: async () => ({ accounts: [account({ id: 7 })], total: '0' }),
    });
    const model = new AccountModel(api, 7);
    await model.start();
    expect(model.account?.id).toBe(7);
    expect(model.rows).toHaveLength(PAGE_SIZE);
    expect(model.hasMore).toBe(true);
    expect(model.storedRows).toBe(10_000);
    for (let i = 0; i < 49; i++) await model.loadMore();
    expect(model.rows).toHaveLength(10_000);
    expect(model.hasMore).toBe(false);
    expect(calls.at(-1)?.offset).toBe(9_800);
    expect(new Set(model.rows.map((r) => r.id)).size).toBe(10_000);
  });

  it('searches on the shell’s side and starts again from the first page', async () => {
    const calls: HistoryFilter[] = [];
    const model = new AccountModel(fakeApi({ accountHistory: pagedHistory(500, calls) }), 1);
    await model.search();
    await model.loadMore();
    model.criteria.search = '급여';
    model.criteria.direction = 'in';
    await model.search();
    expect(calls.at(-1)).toMatchObject({ offset: 0, search: '급여', direction: 'in' });
    expect(model.rows).toHaveLength(PAGE_SIZE);
  });

  it('drops an older answer that arrives after a newer search', async () => {
    const resolvers: Array<(rows: HistoryRowView[]) => void> = [];
    const api = fakeApi({
      accountHistory: () =>
        new Promise((resolve) => {
          resolvers.push((rows) => resolve({ rows, has_more: false, stored_rows: rows.length, gaps: 0 }));
        }),
    });
    const model = new AccountModel(api, 1);
    const first = model.search();
    const second = model.search();
    resolvers[1]?.([row(2)]);
    await second;
    resolvers[0]?.([row(1)]);
    await first;
    expect(model.rows.map((r) => r.id)).toEqual([2]);
  });

  it('fetches new rows, reports them and the gaps, and reloads', async () => {
    const calls: HistoryFilter[] = [];
    const api = fakeApi({
      syncHistory: async () => ({ inserted: 12, gaps: 1 }),
      accountHistory: async (id, filter) => ({ ...(await pagedHistory(3, calls)(id, filter)), gaps: 1 }),
      balanceChart: async () => [{ date: '2026-11-27', balance: '1000' }],
    });
    const model = new AccountModel(api, 1);
    await model.sync();
    expect(model.synced).toEqual({ inserted: 12, gaps: 1 });
    expect(model.gaps).toBe(1);
    expect(model.chart).toHaveLength(1);
    expect(calls).toHaveLength(1);
  });

  it('exports every matching row as CSV into Downloads and remembers the path', async () => {
    const calls: HistoryFilter[] = [];
    const saved: Array<[string, string]> = [];
    const api = fakeApi({
      accountHistory: pagedHistory(1_200, calls),
      saveExport: async (name, content) => {
        saved.push([name, content]);
        return `/home/hong/Downloads/${name}`;
      },
    });
    const model = new AccountModel(api, 1);
    const acc = account({ masked_number: '1234-567***' });
    await model.exportCsv(acc, '직장인통장', 'ko', '2026-11-27');
    expect(calls.map((c) => [c.offset, c.limit])).toEqual([[0, 500], [500, 500], [1000, 500]]);
    const [name, content] = saved[0] ?? ['', ''];
    expect(name).toBe('moa-KB국민은행-1234567-20261127.csv');
    expect(content.startsWith(BOM)).toBe(true);
    expect(content.split('\r\n')).toHaveLength(1 + 1_200 + 1);
    expect(content).toContain('2026-11-27,09:05:00,KB국민은행,직장인통장,가게 1,1000,,99000');
    expect(model.exportedPath).toBe('/home/hong/Downloads/moa-KB국민은행-1234567-20261127.csv');
  });

  it('maps a row to the center’s compact date and time for CSV', () => {
    expect(exportedRow(row(1, { direction: 'in' }), 'KB', 'x')).toMatchObject({
      date: '20261127',
      time: '090500',
      direction: 'in',
    });
    expect(exportFileName(account({ bank_name: 'KB 국민/은행', masked_number: '12***' }), '2026-01-02')).toBe(
      'moa-KB국민은행-12-20260102.csv',
    );
  });

  it('cancels the account, or keeps the error when the shell refuses', async () => {
    let refuse = true;
    const api = fakeApi({
      cancelAccount: async () => {
        if (refuse) throw { code: 'network' };
      },
    });
    const model = new AccountModel(api, 1);
    expect(await model.cancelAccount()).toBe(false);
    expect(model.error?.code).toBe('network');
    refuse = false;
    expect(await model.cancelAccount()).toBe(true);
    expect(model.cancelled).toBe(true);
  });
});
