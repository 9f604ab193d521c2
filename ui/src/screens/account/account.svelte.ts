// One account's screen: its stored history, filtered on the shell's side and paged, new rows
// fetched from the center, the daily balance chart, CSV export and cancelling the account.

import type { Api } from '../../lib/ipc/api';
import { asIpcError } from '../../lib/ipc/api';
import type {
  AccountView,
  ChartPoint,
  Direction,
  HistoryFilter,
  HistoryRowView,
  HistorySyncView,
  IpcError,
} from '../../lib/ipc/bindings';
import { transactionsCsv, type ExportedTransaction } from '../../lib/csv';
import type { Lang } from '../../lib/lang';

/** Rows asked for per page; the shell allows up to 500. */
export const PAGE_SIZE = 200;

export interface HistoryCriteria {
  from: string;
  to: string;
  direction: Direction | 'all';
  search: string;
}

export function filterFor(criteria: HistoryCriteria, offset: number, limit: number): HistoryFilter {
  const blank = (s: string) => (s.trim() === '' ? null : s.trim());
  return {
    from: blank(criteria.from),
    to: blank(criteria.to),
    direction: criteria.direction === 'all' ? null : criteria.direction,
    search: blank(criteria.search),
    offset,
    limit,
  };
}

/** A history row as csv.ts exports it (the center's compact date and time). */
export function exportedRow(row: HistoryRowView, bank: string, accountName: string): ExportedTransaction {
  return {
    date: row.date.replaceAll('-', ''),
    time: row.time.replaceAll(':', ''),
    bank,
    account: accountName,
    description: row.content,
    direction: row.direction,
    amount: row.amount,
    balanceAfter: row.after_balance,
  };
}

/** `moa-KB국민은행-1234567890-20261127.csv`: readable, and safe on every file system. */
export function exportFileName(account: AccountView, today: string): string {
  const safe = (s: string) => s.replace(/[^0-9A-Za-z가-힣]+/g, '');
  return `moa-${safe(account.bank_name)}-${safe(account.masked_number)}-${today.replaceAll('-', '')}.csv`;
}

export class AccountModel {
  readonly accountId: number;
  account: AccountView | null = $state(null);
  missing = $state(false);
  criteria: HistoryCriteria = $state({ from: '', to: '', direction: 'all', search: '' });
  rows: HistoryRowView[] = $state([]);
  hasMore = $state(false);
  storedRows = $state(0);
  gaps = $state(0);
  loading = $state(false);
  chart: ChartPoint[] = $state([]);
  syncing = $state(false);
  synced: HistorySyncView | null = $state(null);
  exporting = $state(false);
  exportedPath: string | null = $state(null);
  cancelled = $state(false);
  error: IpcError | null = $state(null);

  readonly #api: Api;
  // Answers to an older query are dropped when the person has already asked again.
  #generation = 0;

  constructor(api: Api, accountId: number) {
    this.#api = api;
    this.accountId = accountId;
  }

  async start(): Promise<void> {
    await Promise.all([this.loadAccount(), this.search(), this.loadChart()]);
  }

  /** The account itself, as the dashboard knows it. */
  async loadAccount(): Promise<void> {
    try {
      const dashboard = await this.#api.dashboard();
      this.account = dashboard.accounts.find((a) => a.id === this.accountId) ?? null;
      this.missing = this.account === null;
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  /** The first page for the current criteria. */
  async search(): Promise<void> {
    const generation = ++this.#generation;
    this.loading = true;
    try {
      const page = await this.#api.accountHistory(this.accountId, filterFor(this.criteria, 0, PAGE_SIZE));
      if (generation !== this.#generation) return;
      this.rows = page.rows;
      this.hasMore = page.has_more;
      this.storedRows = page.stored_rows;
      this.gaps = page.gaps;
      this.error = null;
    } catch (e) {
      if (generation === this.#generation) this.error = asIpcError(e);
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }

  /** The next page, appended. */
  async loadMore(): Promise<void> {
    if (this.loading || !this.hasMore) return;
    const generation = this.#generation;
    this.loading = true;
    try {
      const page = await this.#api.accountHistory(
        this.accountId,
        filterFor(this.criteria, this.rows.length, PAGE_SIZE),
      );
      if (generation !== this.#generation) return;
      this.rows = [...this.rows, ...page.rows];
      this.hasMore = page.has_more;
      this.storedRows = page.stored_rows;
      this.gaps = page.gaps;
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }

  async loadChart(): Promise<void> {
    try {
      this.chart = await this.#api.balanceChart(this.accountId);
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  /** Fetches new rows from the center, then shows the first page and the chart again. */
  async sync(): Promise<void> {
    if (this.syncing) return;
    this.syncing = true;
    this.synced = null;
    try {
      this.synced = await this.#api.syncHistory(this.accountId);
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
      return;
    } finally {
      this.syncing = false;
    }
    await Promise.all([this.search(), this.loadChart()]);
  }

  /** Every row matching the criteria, as a CSV in the Downloads folder; remembers where. */
  async exportCsv(account: AccountView, accountName: string, lang: Lang, today: string): Promise<void> {
    if (this.exporting) return;
    this.exporting = true;
    this.exportedPath = null;
    try {
      const all: HistoryRowView[] = [];
      for (;;) {
        const page = await this.#api.accountHistory(this.accountId, filterFor(this.criteria, all.length, 500));
        all.push(...page.rows);
        if (!page.has_more || page.rows.length === 0) break;
      }
      const csv = transactionsCsv(
        all.map((r) => exportedRow(r, account.bank_name, accountName)),
        lang,
      );
      this.exportedPath = await this.#api.saveExport(exportFileName(account, today), csv);
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      this.exporting = false;
    }
  }

  async cancelAccount(): Promise<boolean> {
    try {
      await this.#api.cancelAccount(this.accountId);
      this.cancelled = true;
      return true;
    } catch (e) {
      this.error = asIpcError(e);
      return false;
    }
  }
}
