// Settings: which center Moa talks to (and the KFTC credentials for the real ones), consent
// health per account, cancelling an account and signing out.

import type { Api } from '../ipc/api';
import { asIpcError } from '../ipc/api';
import type { AccountView, AppState, EnvironmentKind, IpcError, KftcInput } from '../ipc/bindings';

export type SettingsNotice = 'saved_kftc' | 'saved_sandbox' | 'account_cancelled' | 'signed_out' | 'consent_renewed';

export interface KftcForm {
  environment: Exclude<EnvironmentKind, 'sandbox'>;
  client_id: string;
  client_secret: string;
  client_use_code: string;
  redirect_uri: string;
  collection_account: string;
  payout_account: string;
}

export function emptyKftcForm(): KftcForm {
  return {
    environment: 'kftc_test',
    client_id: '',
    client_secret: '',
    client_use_code: '',
    redirect_uri: '',
    collection_account: '',
    payout_account: '',
  };
}

/** Whether every field has something in it; the shell checks the formats. */
export function kftcFormComplete(form: KftcForm): boolean {
  return Object.values(form).every((v) => v.trim() !== '');
}

export class SettingsModel {
  state: AppState | null = $state(null);
  accounts: AccountView[] = $state([]);
  /** The environment chosen in the form; saved only by its button. */
  environment: EnvironmentKind = $state('sandbox');
  kftc: KftcForm = $state(emptyKftcForm());
  kftcAttempted = $state(false);
  busy = $state(false);
  notice: SettingsNotice | null = $state(null);
  error: IpcError | null = $state(null);
  /** The account whose cancellation is waiting for a second click. */
  confirmingCancel: number | null = $state(null);
  confirmingSignOut = $state(false);

  readonly #api: Api;

  constructor(api: Api) {
    this.#api = api;
  }

  async load(): Promise<void> {
    try {
      const [state, dashboard] = await Promise.all([this.#api.appState(), this.#api.dashboard()]);
      this.state = state;
      this.accounts = dashboard.accounts;
      this.environment = state.environment;
      if (state.environment !== 'sandbox') this.kftc.environment = state.environment;
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  async useSandbox(): Promise<void> {
    await this.#act('saved_sandbox', () => this.#api.useSandbox());
  }

  /** Sends the credentials; the secret is cleared from the form at once, whatever happens. */
  async useKftc(): Promise<void> {
    this.kftcAttempted = true;
    if (!kftcFormComplete(this.kftc)) return;
    const input: KftcInput = { ...this.kftc };
    this.kftc.client_secret = '';
    const ok = await this.#act('saved_kftc', () => this.#api.useKftc(input));
    if (ok) this.kftcAttempted = false;
  }

  async renewConsent(): Promise<void> {
    await this.#act('consent_renewed', () => this.#api.registerAccounts(true).then(() => undefined));
  }

  async cancelAccount(accountId: number): Promise<void> {
    if (this.confirmingCancel !== accountId) {
      this.confirmingCancel = accountId;
      return;
    }
    this.confirmingCancel = null;
    await this.#act('account_cancelled', () => this.#api.cancelAccount(accountId));
  }

  async signOut(): Promise<void> {
    if (!this.confirmingSignOut) {
      this.confirmingSignOut = true;
      return;
    }
    this.confirmingSignOut = false;
    await this.#act('signed_out', () => this.#api.signOut());
  }

  async #act(notice: SettingsNotice, action: () => Promise<void>): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    this.notice = null;
    try {
      await action();
      this.notice = notice;
      this.error = null;
      await this.load();
      return true;
    } catch (e) {
      this.error = asIpcError(e);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
