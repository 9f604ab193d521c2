// The list of transfers, newest first, with the ones still moving marked.

import type { Api } from '../ipc/api';
import { asIpcError } from '../ipc/api';
import type { IpcError, TransferView } from '../ipc/bindings';
import { isOpenTransfer } from './dashboard.svelte';

export class TransfersModel {
  transfers: TransferView[] = $state([]);
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
      this.transfers = await this.#api.transfers();
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      this.loading = false;
    }
  }
}
