// The list of transfers, newest first, with the ones still moving marked, and the person's
// accounts to name where each one left from.

import type { Api } from '../../lib/ipc/api';
import { asIpcError } from '../../lib/ipc/api';
import type { AccountView, IpcError, TransferView } from '../../lib/ipc/bindings';
import { isOpenTransfer } from '../dashboard/dashboard.svelte';

export class TransfersModel {
  transfers: TransferView[] = $state([]);
  accounts: AccountView[] = $state([]);
  loading = $state(true);
  error: IpcError | null = $state(null);

  readonly #api: Api;

  constructor(api: Api) {
    this.#api = api;
  }

  get openCount(): number {
    return this.transfers.filter(isOpenTransfer).length;
  }

  async load(): Promise<void> {
    this.loading = true;
    try {
      // The accounts only name the sources better; the list stands without them.
      const [transfers, dashboard] = await Promise.all([
        this.#api.transfers(),
        this.#api.dashboard().catch(() => null),
      ]);
      this.transfers = transfers;
      if (dashboard !== null) this.accounts = dashboard.accounts;
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      this.loading = false;
    }
  }
}
