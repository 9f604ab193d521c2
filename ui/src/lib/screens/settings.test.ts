import { describe, expect, it } from 'vitest';
import type { AppState, KftcInput } from '../ipc/bindings';
import { SettingsModel, kftcFormComplete, emptyKftcForm } from './settings.svelte';
import { account, fakeApi } from './fake-api';

const state: AppState = {
  environment: 'sandbox',
  registered: true,
  person_name: '홍길동',
  language: 'ko',
  theme: 'system',
  consent: { expires_at: '2027-11-27T00:00:00.000Z', days_left: 365, renew_soon: false },
  open_transfers: [],
};

const base = {
  appState: async () => state,
  dashboard: async () => ({ accounts: [account({ id: 1 }), account({ id: 2 })], total: '0' }),
};

describe('SettingsModel', () => {
  it('sends the KFTC credentials once and forgets the secret at once', async () => {
    const sent: KftcInput[] = [];
    const model = new SettingsModel(fakeApi({ ...base, useKftc: async (input) => void sent.push(input) }));
    await model.load();
    model.kftc.client_id = 'id';
    await model.useKftc();
    expect(sent).toEqual([]);
    expect(model.kftcAttempted).toBe(true);
    Object.assign(model.kftc, {
      environment: 'kftc_test',
      client_secret: 's3cret',
      client_use_code: 'M202600001',
      redirect_uri: 'http://localhost:8080/callback',
      collection_account: '100',
      payout_account: '200',
    });
    await model.useKftc();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.client_secret).toBe('s3cret');
    expect(model.kftc.client_secret).toBe('');
    expect(model.notice).toBe('saved_kftc');
  });

  it('clears the secret even when the shell refuses the credentials', async () => {
    const model = new SettingsModel(
      fakeApi({ ...base, useKftc: async () => Promise.reject({ code: 'bad_client_use_code', message: '' }) }),
    );
    Object.assign(model.kftc, { ...emptyKftcForm(), client_id: 'a', client_secret: 'b', client_use_code: 'c', redirect_uri: 'd', collection_account: 'e', payout_account: 'f' });
    expect(kftcFormComplete(model.kftc)).toBe(true);
    await model.useKftc();
    expect(model.error?.code).toBe('bad_client_use_code');
    expect(model.kftc.client_secret).toBe('');
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
