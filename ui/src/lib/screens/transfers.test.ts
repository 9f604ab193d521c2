import { describe, expect, it } from 'vitest';
import { TransfersModel } from './transfers.svelte';
import { fakeApi, transfer } from './fake-api';

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

  it('keeps the error when the list cannot be read', async () => {
    const model = new TransfersModel(fakeApi());
    await model.load();
    expect(model.error?.code).toBe('unexpected');
  });
});
