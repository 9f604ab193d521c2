import { describe, expect, it } from 'vitest';
import { TransfersModel } from './transfers.svelte';
import { account, fakeApi, transfer } from '../../lib/testing/fake-api';

describe('TransfersModel', () => {
  it('lists the transfers and counts the open ones', async () => {
    const model = new TransfersModel(
      fakeApi({
        transfers: async () => [
          transfer({ id: 'a', state: 'depositing' }),
          transfer({ id: 'b', state: 'refunded' }),
          transfer({ id: 'c', state: 'withdrawing' }),
        ],
      }),
    );
    await model.load();
    expect(model.transfers.map((t) => t.id)).toEqual(['a', 'b', 'c']);
    expect(model.openCount).toBe(2);
    expect(model.loading).toBe(false);
  });

  it('reads the person’s accounts alongside, to name where each transfer left from', async () => {
    const model = new TransfersModel(
      fakeApi({
        transfers: async () => [transfer()],
        dashboard: async () => ({ accounts: [account({ id: 1 })], total: '1000000' }),
      }),
    );
    await model.load();
    expect(model.accounts.map((a) => a.id)).toEqual([1]);
    expect(model.error).toBeNull();
  });

  it('lists the transfers even when the accounts cannot be read', async () => {
    const model = new TransfersModel(fakeApi({ transfers: async () => [transfer()] }));
    await model.load();
    expect(model.transfers).toHaveLength(1);
    expect(model.accounts).toEqual([]);
    expect(model.error).toBeNull();
  });

  it('keeps the error when the list cannot be read', async () => {
    const model = new TransfersModel(fakeApi());
    await model.load();
    expect(model.error?.code).toBe('internal');
  });
});
