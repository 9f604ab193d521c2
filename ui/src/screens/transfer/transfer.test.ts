import { describe, expect, it } from 'vitest';
import type { PreflightView, TransferDraft, TransferEventView, TransferState } from '../../lib/ipc/bindings';
import { MEMO_MAX, TransferModel, legMark, legOf, sendBlock } from './transfer.svelte';
import { account, fakeApi, transfer } from '../../lib/testing/fake-api';

const accounts = [
  account({ id: 1, available: '100000', transfer_agreed: true }),
  account({ id: 2, bank_code: '088', bank_name: '신한은행', transfer_agreed: false }),
  account({ id: 3, available: null }),
];

function preflight(draft: TransferDraft): PreflightView {
  return {
    token: 'tok-1',
    from: accounts[0] ?? account(),
    recipient_name: '홍길동',
    recipient_bank_name: '신한은행',
    recipient_masked: '110123***',
    amount: draft.amount,
    available: '100000',
    remaining_limit: '5000000',
    memo: draft.memo,
  };
}

function transferApi(events: TransferState[], end: TransferState, drafts: TransferDraft[] = []) {
  return fakeApi({
    dashboard: async () => ({ accounts, total: '0' }),
    preflightTransfer: async (draft) => {
      drafts.push(draft);
      return preflight(draft);
    },
    confirmTransfer: async (token, onEvent: (e: TransferEventView) => void) => {
      expect(token).toBe('tok-1');
      for (const state of events) onEvent({ id: 't1', state });
      return transfer({
        state: end,
        failure_code: end === 'completed' ? null : 'bank_refused',
        failure_rsp_code: end === 'completed' ? null : '499',
      });
    },
  });
}

describe('which accounts may send', () => {
  it('needs transfer consent and a known available amount', () => {
    expect(sendBlock(accounts[0] ?? account())).toBeNull();
    expect(sendBlock(accounts[1] ?? account())).toBe('no_consent');
    expect(sendBlock(accounts[2] ?? account())).toBe('no_balance');
  });

  it('places each state on its leg', () => {
    expect(['created', 'withdrawing', 'withdrawn', 'depositing', 'completed'].map((s) => legOf(s as TransferState))).toEqual([
      0, 0, 1, 2, 3,
    ]);
  });

  it('never shows a leg as done that did not happen', () => {
    // Failed: the withdraw did not happen. Refunded: the deposit did not.
    expect(['failed', 'refunding', 'refunded'].map((s) => legOf(s as TransferState))).toEqual([0, 2, 2]);
  });

  it('marks the leg a transfer stopped at apart from a leg under way', () => {
    const marks = (state: TransferState) => [0, 1, 2].map((leg) => legMark(state, leg));
    expect(marks('withdrawing')).toEqual(['current', 'todo', 'todo']);
    expect(marks('depositing')).toEqual(['done', 'done', 'current']);
    expect(marks('completed')).toEqual(['done', 'done', 'done']);
    expect(marks('failed')).toEqual(['stopped', 'todo', 'todo']);
    expect(marks('refunding')).toEqual(['done', 'done', 'stopped']);
    expect(marks('refunded')).toEqual(['done', 'done', 'stopped']);
  });
});

describe('TransferModel', () => {
  it('starts from the first account that can send, skipping a blocked one asked for', async () => {
    const model = new TransferModel(transferApi([], 'completed'), 2);
    await model.start();
    expect(model.fromId).toBe(1);
    expect(model.ownTargets.map((a) => a.id)).toEqual([2, 3]);
  });

  it('refuses to go on with a bad amount or no recipient, without asking the center', async () => {
    const drafts: TransferDraft[] = [];
    const model = new TransferModel(transferApi([], 'completed', drafts));
    await model.start();
    model.amount = '1,000.5';
    await model.review();
    expect(model.fieldProblem).toBe('pick_to');
    expect(model.amountCheck).toEqual({ ok: false, error: 'fraction' });
    model.toId = 2;
    model.amount = '200000';
    expect(model.amountCheck).toEqual({ ok: false, error: 'over_balance', max: 100000n });
    model.amount = '0';
    expect(model.amountCheck).toEqual({ ok: false, error: 'zero' });
    await model.review();
    expect(drafts).toEqual([]);
    expect(model.step).toBe('form');
  });

  it('checks an external recipient’s bank and number', async () => {
    const model = new TransferModel(transferApi([], 'completed'));
    await model.start();
    model.targetKind = 'external';
    expect(model.fieldProblem).toBe('pick_bank');
    model.bankCode = '088';
    model.accountNumber = '12';
    expect(model.fieldProblem).toBe('number_error');
    model.accountNumber = '110-123-456789';
    expect(model.fieldProblem).toBeNull();
    expect(model.recipient).toEqual({ kind: 'external', bank_code: '088', account_num: '110123456789' });
  });

  it('knows the recipient’s bank from the form, to name it in the reader’s language', async () => {
    const model = new TransferModel(transferApi([], 'completed'));
    await model.start();
    expect(model.recipientBankCode).toBeNull();
    model.toId = 2;
    expect(model.recipientBankCode).toBe('088');
    model.targetKind = 'external';
    expect(model.recipientBankCode).toBeNull();
    model.bankCode = '090';
    expect(model.recipientBankCode).toBe('090');
  });

  it('reviews, sends, follows each leg and ends with a receipt', async () => {
    const drafts: TransferDraft[] = [];
    const model = new TransferModel(transferApi(['withdrawing', 'withdrawn', 'depositing'], 'completed', drafts));
    await model.start();
    model.toId = 2;
    model.amount = '50,000원';
    model.memo = '  생활비 보내기  ';
    await model.review();
    expect(drafts).toEqual([{ from_account: 1, to: { kind: 'own', account_id: 2 }, amount: '50000', memo: '생활비 보내기' }]);
    // A memo too long is sent whole, for the core to refuse with its code, never cut short here.
    model.step = 'form';
    model.memo = '가'.repeat(MEMO_MAX + 1);
    await model.review();
    expect(drafts[1]?.memo).toBe('가'.repeat(MEMO_MAX + 1));
    expect(model.step).toBe('review');
    expect(model.preflight?.recipient_name).toBe('홍길동');
    await model.confirm();
    expect(model.step).toBe('done');
    expect(model.state).toBe('completed');
    expect(model.result?.state).toBe('completed');
  });

  it('ends refunded with the bank’s reason and code when the deposit could not be made', async () => {
    const model = new TransferModel(transferApi(['withdrawing', 'withdrawn', 'depositing', 'refunding'], 'refunded'));
    await model.start();
    model.toId = 2;
    model.amount = '1000';
    await model.review();
    await model.confirm();
    expect(model.state).toBe('refunded');
    expect(model.result?.failure_code).toBe('bank_refused');
    expect(model.result?.failure_rsp_code).toBe('499');
  });

  it('keeps a preflight refusal on the form, and an unknown outcome as pending, never as lost', async () => {
    const api = fakeApi({
      dashboard: async () => ({ accounts, total: '0' }),
      preflightTransfer: async () => Promise.reject({ code: 'insufficient_funds' }),
    });
    const model = new TransferModel(api);
    await model.start();
    model.toId = 2;
    model.amount = '1000';
    await model.review();
    expect(model.step).toBe('form');
    expect(model.error?.code).toBe('insufficient_funds');

    const pending = new TransferModel(
      fakeApi({
        dashboard: async () => ({ accounts, total: '0' }),
        preflightTransfer: async (d) => preflight(d),
        confirmTransfer: async (_t, onEvent) => {
          onEvent({ id: 't', state: 'withdrawing' });
          throw { code: 'network' };
        },
      }),
    );
    await pending.start();
    pending.toId = 2;
    pending.amount = '1000';
    await pending.review();
    await pending.confirm();
    expect(pending.step).toBe('done');
    expect(pending.state).toBe('withdrawing');
    expect(pending.result).toBeNull();
    expect(pending.error?.code).toBe('network');
  });

  it('keeps the answer’s state when a leg’s message reaches the page after it', async () => {
    // The answer and the stream's messages reach the page by different ways, in either order.
    let late: (() => void) | null = null;
    const model = new TransferModel(
      fakeApi({
        dashboard: async () => ({ accounts, total: '0' }),
        preflightTransfer: async (d) => preflight(d),
        confirmTransfer: async (_t, onEvent) => {
          onEvent({ id: 't1', state: 'withdrawing' });
          late = () => onEvent({ id: 't1', state: 'depositing' });
          return transfer({ state: 'completed' });
        },
      }),
    );
    await model.start();
    model.toId = 2;
    model.amount = '1000';
    await model.review();
    await model.confirm();
    expect(model.state).toBe('completed');
    expect(late).not.toBeNull();
    late!();
    expect(model.state).toBe('completed');
    expect(model.step).toBe('done');
  });

  it('goes back to edit keeping what was typed', async () => {
    const model = new TransferModel(transferApi([], 'completed'));
    await model.start();
    model.toId = 2;
    model.amount = '1000';
    await model.review();
    model.edit();
    expect(model.step).toBe('form');
    expect(model.amount).toBe('1000');
  });
});
