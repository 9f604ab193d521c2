// Settings: which moa-server Moa talks to (the sandbox inside the app, or an institution's by its
// address), consent health per account, cancelling an account and signing out.

import type { Api } from '../../lib/ipc/api';
import { asIpcError } from '../../lib/ipc/api';
import type { AccountView, AppState, EnvironmentKind, IpcError } from '../../lib/ipc/bindings';
import { sandboxAvailable } from '../../lib/build';

export type SettingsNotice = 'saved_server' | 'saved_sandbox' | 'account_cancelled' | 'signed_out' | 'consent_renewed';

/**
 * Why an address cannot be a server's: nothing typed, not an address at all, or one whose
 * requests could be read on the way (anything but https, save http to this machine).
 */
export type ServerUrlError = 'empty' | 'invalid' | 'insecure';

export type ServerUrlCheck = { ok: true; url: string } | { ok: false; error: ServerUrlError };

/** Hosts that are this machine, as the URL parser writes them. */
const LOOPBACK_IPV6 = '[::1]';

function isLoopback(hostname: string): boolean {
  // The parser has already lowered names and written IPv4 in dotted decimal (`127.1` becomes
  // `127.0.0.1`), so a textual check is exact. 127.0.0.0/8 is all loopback, as the core agrees.
  return hostname === 'localhost' || hostname === LOOPBACK_IPV6 || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * Whether a typed address may carry the app's requests: https, or http to this machine only
 * (127.0.0.1, ::1, localhost). The same rule as the core's, checked here so a plain mistake is
 * named beside the field before anything is sent; the core checks again. Gives the address
 * trimmed, as typed.
 */
export function checkServerUrl(text: string): ServerUrlCheck {
  const url = text.trim();
  if (url === '') return { ok: false, error: 'empty' };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, error: 'invalid' };
  }
  switch (parsed.protocol) {
    case 'https:':
      // The parser refuses an https address without a host, so any that gets here has one.
      return { ok: true, url };
    case 'http:':
      return isLoopback(parsed.hostname) ? { ok: true, url } : { ok: false, error: 'insecure' };
    default:
      return { ok: false, error: 'insecure' };
  }
}

export class SettingsModel {
  state: AppState | null = $state(null);
  accounts: AccountView[] = $state([]);
  /** The radio the person picked in the form, if any; saved only by its button. */
  #picked: EnvironmentKind | null = $state(null);
  /** The server's address as typed; sent only by the form's button. */
  serverUrl = $state('');
  /** Whether the person tried to send the address: only then is what is wrong with it shown. */
  urlAttempted = $state(false);
  busy = $state(false);
  /** The action under way, by the notice it ends with (so a button can say what is happening). */
  acting: SettingsNotice | null = $state(null);
  notice: SettingsNotice | null = $state(null);
  error: IpcError | null = $state(null);
  /** The account whose cancellation is waiting for a second click. */
  confirmingCancel: number | null = $state(null);
  confirmingSignOut = $state(false);

  readonly #api: Api;

  constructor(api: Api) {
    this.#api = api;
  }

  /**
   * The environment chosen in the form: the person's pick once they make one (a load that
   * finishes later never takes it back), until then the active one.
   */
  get environment(): EnvironmentKind {
    return this.#picked ?? this.state?.environment ?? (sandboxAvailable() ? 'sandbox' : 'server');
  }

  set environment(env: EnvironmentKind) {
    this.#picked = env;
  }

  /** What is wrong with the typed address, once the person has tried to send it; it follows
   * their corrections from then on. */
  get urlError(): ServerUrlError | null {
    if (!this.urlAttempted) return null;
    const check = checkServerUrl(this.serverUrl);
    return check.ok ? null : check.error;
  }

  async load(): Promise<void> {
    try {
      const [state, dashboard] = await Promise.all([this.#api.appState(), this.#api.dashboard()]);
      this.state = state;
      this.accounts = dashboard.accounts;
      // The active server's address fills an empty field, never one the person is typing in.
      if (state.server_url !== null && this.serverUrl.trim() === '') this.serverUrl = state.server_url;
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  async useSandbox(): Promise<void> {
    await this.#act('saved_sandbox', () => this.#api.useSandbox());
  }

  /** Switches to the server at the typed address, if it is one the app may talk to. */
  async useServer(): Promise<void> {
    this.urlAttempted = true;
    const check = checkServerUrl(this.serverUrl);
    if (!check.ok) {
      this.notice = null;
      return;
    }
    if (await this.#act('saved_server', () => this.#api.useServer({ url: check.url }))) {
      this.urlAttempted = false;
    }
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
    this.acting = notice;
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
      this.acting = null;
    }
  }
}
