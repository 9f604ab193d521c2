import { render } from 'svelte/server';
import { describe, expect, it } from 'vitest';
import { dictionaries } from '../../lib/i18n';
import { ipcErrorMessage } from '../../lib/i18n/messages';
import type { AppState, ServerInput } from '../../lib/ipc/bindings';
import Provided from '../../lib/testing/Provided.svelte';
import Settings from './Settings.svelte';
import { SettingsModel, checkServerUrl } from './settings.svelte';
import { account, appState, fakeApi } from '../../lib/testing/fake-api';

const base = {
  appState: async () => appState(),
  dashboard: async () => ({ accounts: [account({ id: 1 }), account({ id: 2 })], total: '0' }),
};

describe('checkServerUrl', () => {
  it('accepts https anywhere and http on this machine only', () => {
    for (const url of ['https://moa.example.com', 'http://127.0.0.1:8420', 'http://localhost:8420', 'http://[::1]:8420']) {
      expect(checkServerUrl(url), url).toEqual({ ok: true, url });
    }
  });

  it('gives the address trimmed, as typed', () => {
    expect(checkServerUrl('  https://moa.example.com/v1 \n')).toEqual({ ok: true, url: 'https://moa.example.com/v1' });
  });

  it('refuses plain http to another machine, and any other scheme, as insecure', () => {
    for (const url of ['http://moa.example.com', 'ftp://moa.example.com', 'http://127.0.0.1.example.com', 'http://10.0.0.1:8420']) {
      expect(checkServerUrl(url), url).toEqual({ ok: false, error: 'insecure' });
    }
  });

  it('refuses what is not an address, and nothing at all', () => {
    for (const url of ['garbage', 'moa.example.com', 'https://', 'https://moa example.com']) {
      expect(checkServerUrl(url), url).toEqual({ ok: false, error: 'invalid' });
    }
    expect(checkServerUrl('')).toEqual({ ok: false, error: 'empty' });
    expect(checkServerUrl('   ')).toEqual({ ok: false, error: 'empty' });
  });
});

describe('SettingsModel', () => {
  it('never sends a refused address, and names what is wrong only once the person tries', async () => {
    const sent: ServerInput[] = [];
    const model = new SettingsModel(fakeApi({ ...base, useServer: async (input) => void sent.push(input) }));
    await model.load();
    model.environment = 'server';
    model.serverUrl = 'http://moa.example.com';
    expect(model.urlError).toBeNull();
    await model.useServer();
    expect(model.urlError).toBe('insecure');
    for (const [url, error] of [['ftp://moa.example.com', 'insecure'], ['garbage', 'invalid'], ['', 'empty']] as const) {
      model.serverUrl = url;
      await model.useServer();
      expect(model.urlError, url).toBe(error);
    }
    expect(sent).toEqual([]);
    expect(model.notice).toBeNull();
    expect(model.busy).toBe(false);
    // Once shown, the problem follows the person's corrections.
    model.serverUrl = 'https://moa.example.com';
    expect(model.urlError).toBeNull();
  });

  it('sends a good address trimmed, says it switched, and then shows the server as active', async () => {
    const sent: ServerInput[] = [];
    let current: AppState = appState();
    const model = new SettingsModel(
      fakeApi({
        ...base,
        appState: async () => current,
        useServer: async (input) => {
          sent.push(input);
          current = appState({ environment: 'server', server_url: 'https://moa.example.com/' });
        },
      }),
    );
    await model.load();
    model.environment = 'server';
    model.serverUrl = '  https://moa.example.com  ';
    await model.useServer();
    expect(sent).toEqual([{ url: 'https://moa.example.com' }]);
    expect(model.notice).toBe('saved_server');
    expect(model.error).toBeNull();
    expect(model.urlError).toBeNull();
    expect(model.state?.environment).toBe('server');
    expect(model.state?.server_url).toBe('https://moa.example.com/');
    expect(model.environment).toBe('server');
  });

  it('shows the words of the code a failed switch ends with, and stays on the server form', async () => {
    for (const code of ['network', 'device_refused', 'server_url_insecure'] as const) {
      const model = new SettingsModel(
        fakeApi({ ...base, useServer: async () => Promise.reject({ code }) }),
      );
      await model.load();
      model.environment = 'server';
      model.serverUrl = 'https://moa.example.com';
      await model.useServer();
      expect(model.error?.code).toBe(code);
      expect(ipcErrorMessage('ko', model.error ?? { code: 'internal' })).toBe(dictionaries.ko.failure[code]);
      expect(ipcErrorMessage('en', model.error ?? { code: 'internal' })).toBe(dictionaries.en.failure[code]);
      expect(model.notice).toBeNull();
      expect(model.busy).toBe(false);
      expect(model.environment).toBe('server');
      expect(model.serverUrl).toBe('https://moa.example.com');
    }
  });

  it('chooses the radio of the active server, and fills in its address without overwriting typing', async () => {
    const sandbox = new SettingsModel(fakeApi(base));
    await sandbox.load();
    expect(sandbox.environment).toBe('sandbox');
    expect(sandbox.serverUrl).toBe('');

    const model = new SettingsModel(
      fakeApi({ ...base, appState: async () => appState({ environment: 'server', server_url: 'https://moa.example.com/' }) }),
    );
    await model.load();
    expect(model.environment).toBe('server');
    expect(model.serverUrl).toBe('https://moa.example.com/');
    model.serverUrl = 'https://other.example.com';
    await model.load();
    expect(model.serverUrl).toBe('https://other.example.com');
  });

  it('keeps the radio the person chose while Settings was still loading', async () => {
    let answer: (state: AppState) => void = () => {};
    const model = new SettingsModel(
      fakeApi({ ...base, appState: () => new Promise<AppState>((resolve) => (answer = resolve)) }),
    );
    const loading = model.load();
    model.environment = 'server';
    answer(appState({ environment: 'sandbox' }));
    await loading;
    expect(model.state?.environment).toBe('sandbox');
    expect(model.environment).toBe('server');
  });

  it('asks twice before cancelling an account or signing out', async () => {
    const cancelled: number[] = [];
    let signedOut = 0;
    const model = new SettingsModel(
      fakeApi({
        ...base,
        cancelAccount: async (id) => void cancelled.push(id),
        signOut: async () => void signedOut++,
      }),
    );
    await model.cancelAccount(2);
    expect(cancelled).toEqual([]);
    expect(model.confirmingCancel).toBe(2);
    await model.cancelAccount(2);
    expect(cancelled).toEqual([2]);
    expect(model.notice).toBe('account_cancelled');
    await model.signOut();
    expect(signedOut).toBe(0);
    await model.signOut();
    expect(signedOut).toBe(1);
    expect(model.notice).toBe('signed_out');
  });

  it('switches to the sandbox and renews consent with reconfirm', async () => {
    const reconfirms: boolean[] = [];
    let sandbox = 0;
    const model = new SettingsModel(
      fakeApi({
        ...base,
        useSandbox: async () => void sandbox++,
        registerAccounts: async (r) => {
          reconfirms.push(r);
          return { added: 0, updated: 2 };
        },
      }),
    );
    await model.useSandbox();
    expect(sandbox).toBe(1);
    expect(model.notice).toBe('saved_sandbox');
    await model.renewConsent();
    expect(reconfirms).toEqual([true]);
    expect(model.notice).toBe('consent_renewed');
    expect(model.accounts).toHaveLength(2);
  });
});

describe('Settings, as first painted', () => {
  // Before the state arrives, the line naming the active server holds its place: the radios
  // below it must not move under a pointer already on its way to them.
  const { body } = render(Provided, { props: { screen: Settings, api: fakeApi(base) } });

  it('keeps a line for the active server above the choices while the state loads', () => {
    const card = body.slice(body.indexOf('id="env-title"'), body.indexOf('<form'));
    expect(card).toMatch(/<p class="muted small[^"]*"[^>]*>/);
  });
});
