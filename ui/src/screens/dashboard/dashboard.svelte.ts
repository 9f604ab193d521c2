// The dashboard's state: painted at once from the local store, then refreshed bank by bank as
// the shell streams answers. Also registration, consent renewal, bank statuses and open transfers.

import type { Api } from '../../lib/ipc/api';
import { asIpcError } from '../../lib/ipc/api';
import type {
  AccountView,
  AppState,
  BankStatusView,
  IpcError,
  RegistrationResult,
  TransferView,
} from '../../lib/ipc/bindings';
import { bankName } from '../../lib/banks';
import type { Lang } from '../../lib/lang';
import { toWon, type Won } from '../../lib/money';

export interface BankGroup {
  bankCode: string;
  bankName: string;
  accounts: AccountView[];
}

export interface Progress {
  done: number;
  total: number;
}

/** Sums the known balances; an account without one adds nothing (it is shown as unknown). */
export function totalOf(accounts: readonly AccountView[]): Won {
  return accounts.reduce((sum, a) => (a.balance === null ? sum : sum + toWon(a.balance)), 0n);
}

/** Accounts by bank, banks in the order their first account appears. */
export function groupByBank(accounts: readonly AccountView[]): BankGroup[] {
  const groups: BankGroup[] = [];
  for (const account of accounts) {
    let group = groups.find((g) => g.bankCode === account.bank_code);
    if (group === undefined) {
      group = { bankCode: account.bank_code, bankName: account.bank_name, accounts: [] };
      groups.push(group);
    }
    group.accounts.push(account);
  }
  return groups;
}

/**
 * What an account is called: the person's alias, else the bank's product name, else the bank —
 * in `lang` when given, else as the center named it.
 */
export function accountLabel(account: AccountView, lang?: Lang): string {
  if (account.alias.trim() !== '') return account.alias;
  if (account.product_name !== null && account.product_name.trim() !== '') return account.product_name;
  return lang === undefined ? account.bank_name : bankName(account.bank_code, lang, account.bank_name);
}

/**
 * The account a transfer left from, as the person knows it: their alias, else the bank (in the
 * reader's language) and the masked number. The shell's own label is kept for an account no
 * longer among `accounts` (cancelled since).
 */
export function sourceLabel(t: TransferView, accounts: readonly AccountView[], lang: Lang): string {
  const from = accounts.find((a) => a.id === t.from_account);
  if (from === undefined) return t.from_label;
  if (from.alias.trim() !== '') return from.alias;
  return `${bankName(from.bank_code, lang, from.bank_name)} ${from.masked_number}`;
}

/** Transfers that have not ended, which the dashboard shows as incidents. */
export function isOpenTransfer(t: TransferView): boolean {
  return t.state !== 'completed' && t.state !== 'refunded' && t.state !== 'failed';
}

export class DashboardModel {
  state: AppState | null = $state(null);
  // Replaced whole, never changed in place: no deep proxy to pay for on every read.
  accounts: AccountView[] = $state.raw([]);
  banks: BankStatusView[] = $state.raw([]);
  /** Whether the banks' statuses have been answered once; until then the strip says it asks. */
  banksKnown = $state(false);
  banksFailed = $state(false);
  loading = $state(true);
  refreshing = $state(false);
  progress: Progress | null = $state(null);
  lastRefresh: { fresh: number; stale: number } | null = $state(null);
  registering = $state(false);
  registration: RegistrationResult | null = $state(null);
  renewed = $state(false);
  error: IpcError | null = $state(null);

  readonly #api: Api;
  /** Counts refreshes, so a late message from one that has ended is known for what it is. */
  #refreshRun = 0;

  /** Whether the shell handed the page the stored dashboard, which the model then starts with. */
  readonly #fromStore: boolean;

  constructor(api: Api) {
    this.#api = api;
    // Taken now, not in `start`: the screen's first render then draws the stored balances, and
    // the page never lays out a loading line only to replace it.
    const stored = api.storedDashboard();
    this.#fromStore = stored !== null;
    if (stored !== null) {
      this.accounts = stored.accounts;
      this.loading = false;
    }
  }

  get total(): Won {
    return totalOf(this.accounts);
  }

  get groups(): BankGroup[] {
    return groupByBank(this.accounts);
  }

  /** Banks that cannot be used now: the strip shows these prominently. */
  get troubledBanks(): BankStatusView[] {
    return this.banks.filter((b) => b.status !== 'available');
  }

  get openTransfers(): TransferView[] {
    return (this.state?.open_transfers ?? []).filter(isOpenTransfer);
  }

  get isEmpty(): boolean {
    return !this.loading && this.accounts.length === 0;
  }

  /**
   * Paints from the store, then (unless told not to) refreshes every balance. `loaded` runs once
   * the store's view is in the model, before any bank is asked: at once when the shell handed
   * the page the stored dashboard (and the shell is asked for more only once it is done, so the
   * first frame goes out first), else after asking for it.
   */
  async start(refresh = true, loaded?: () => void | Promise<void>): Promise<void> {
    if (this.#fromStore) {
      await loaded?.();
      await this.load();
    } else {
      await this.load();
      loaded?.();
    }
    void this.loadBanks();
    if (refresh && this.accounts.length > 0) await this.refresh();
  }

  /** The store's view: app state and last known balances, without asking any bank. */
  async load(): Promise<void> {
    try {
      const [state, dashboard] = await Promise.all([this.#api.appState(), this.#api.dashboard()]);
      this.state = state;
      this.accounts = dashboard.accounts;
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      this.loading = false;
    }
  }

  async loadBanks(): Promise<void> {
    try {
      this.banks = await this.#api.bankStatuses();
      this.banksKnown = true;
      this.banksFailed = false;
    } catch {
      this.banksFailed = true;
    }
  }

  /**
   * Asks every bank; each answer replaces its account as it arrives.
   *
   * The command's answer and its stream's messages reach the page by different ways, so a
   * message may come after the answer: it still brings its account's balance, but the refresh
   * it reports on has ended, and its progress is not shown.
   */
  async refresh(): Promise<void> {
    if (this.refreshing) return;
    const run = ++this.#refreshRun;
    let answered = false;
    this.refreshing = true;
    this.lastRefresh = null;
    this.progress = { done: 0, total: this.accounts.filter((a) => a.inquiry_agreed).length };
    try {
      await this.#api.refreshBalances((event) => {
        if (run !== this.#refreshRun) return;
        switch (event.kind) {
          case 'started':
            if (!answered) this.progress = { done: 0, total: event.total };
            break;
          case 'account':
            if (!answered) this.progress = { done: event.done, total: event.total };
            this.#replace(event.account);
            break;
          case 'finished':
            this.lastRefresh = { fresh: event.fresh, stale: event.stale };
            break;
        }
      });
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      answered = true;
      this.refreshing = false;
      this.progress = null;
    }
    void this.loadBanks();
  }

  /** Opens the center's consent pages; afterwards, shows how many were added and refreshes. */
  async register(reconfirm = false): Promise<void> {
    if (this.registering) return;
    this.registering = true;
    this.registration = null;
    this.renewed = false;
    try {
      const result = await this.#api.registerAccounts(reconfirm);
      if (reconfirm) this.renewed = true;
      else this.registration = result;
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
      return;
    } finally {
      this.registering = false;
    }
    await this.load();
    await this.refresh();
  }

  #replace(account: AccountView): void {
    const at = this.accounts.findIndex((a) => a.id === account.id);
    if (at === -1) this.accounts = [...this.accounts, account];
    else this.accounts = this.accounts.map((a, i) => (i === at ? account : a));
  }
}
