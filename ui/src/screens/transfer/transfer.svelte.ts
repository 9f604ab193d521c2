// The transfer screen's state: the form, its checks, the confirmation the center answered, the
// legs as they stream in, and how it ended.

import type { Api } from '../../lib/ipc/api';
import { asIpcError } from '../../lib/ipc/api';
import type {
  AccountView,
  IpcError,
  PreflightView,
  RecipientInput,
  TransferState,
  TransferView,
} from '../../lib/ipc/bindings';
import { toWon } from '../../lib/money';
import { validateTransferAmount, type AmountCheck } from '../../lib/validate';

export type Step = 'form' | 'review' | 'sending' | 'done';
export type TargetKind = 'own' | 'external';
export type FieldProblem = 'pick_from' | 'pick_to' | 'pick_bank' | 'number_error';

/** The longest memo the statements print; the core refuses a longer one (`bad_memo`). */
export const MEMO_MAX = 20;

// Before the center answers, the only limit the UI knows is what the account can pay; the
// per-transfer and daily limits are checked by the center in the preflight and reported there.
const UNKNOWN_LIMIT = 10n ** 15n;

/** Why an account cannot send, or null when it can. */
export function sendBlock(account: AccountView): 'no_consent' | 'no_balance' | null {
  if (!account.transfer_agreed) return 'no_consent';
  if (account.available === null) return 'no_balance';
  return null;
}

/**
 * Which leg a state is on, for the progress list: 0 withdraw, 1 move, 2 deposit, 3 done. A
 * failed transfer never got past its withdraw, and a refunded one never past its deposit: the
 * legs after those are not shown as done.
 */
export function legOf(state: TransferState): number {
  switch (state) {
    case 'created':
    case 'withdrawing':
    case 'failed':
      return 0;
    case 'withdrawn':
      return 1;
    case 'depositing':
    case 'refunding':
    case 'refunded':
      return 2;
    case 'completed':
      return 3;
  }
}

/** How the progress list shows one leg. */
export type LegMark = 'done' | 'current' | 'stopped' | 'todo';

/**
 * How leg `leg` (0 withdraw, 1 move, 2 deposit) is shown in `state`: the legs before the
 * transfer's are done; its own is under way, or — once it failed or is being refunded — the
 * one where it stopped, which must not read as still moving.
 */
export function legMark(state: TransferState, leg: number): LegMark {
  const at = legOf(state);
  if (leg < at) return 'done';
  if (leg > at) return 'todo';
  const stopped = state === 'failed' || state === 'refunding' || state === 'refunded';
  return stopped ? 'stopped' : 'current';
}

export class TransferModel {
  accounts: AccountView[] = $state([]);
  loading = $state(true);
  step: Step = $state('form');
  fromId: number | null = $state(null);
  targetKind: TargetKind = $state('own');
  toId: number | null = $state(null);
  bankCode = $state('');
  accountNumber = $state('');
  amount = $state('');
  memo = $state('');
  /** Set once the person has tried to go on, so errors do not shout while they type. */
  attempted = $state(false);
  checking = $state(false);
  preflight: PreflightView | null = $state(null);
  state: TransferState | null = $state(null);
  result: TransferView | null = $state(null);
  error: IpcError | null = $state(null);

  readonly #api: Api;

  constructor(api: Api, fromId: number | null = null) {
    this.#api = api;
    this.fromId = fromId;
  }

  async start(): Promise<void> {
    try {
      const dashboard = await this.#api.dashboard();
      this.accounts = dashboard.accounts;
      const from = this.from;
      if (from === null || sendBlock(from) !== null) {
        this.fromId = this.accounts.find((a) => sendBlock(a) === null)?.id ?? null;
      }
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      this.loading = false;
    }
  }

  get from(): AccountView | null {
    return this.accounts.find((a) => a.id === this.fromId) ?? null;
  }

  /** The person's other accounts, which money may go to. */
  get ownTargets(): AccountView[] {
    return this.accounts.filter((a) => a.id !== this.fromId);
  }

  /** The bank of the account money goes to, as the form names it. */
  get recipientBankCode(): string | null {
    if (this.targetKind === 'external') return this.bankCode === '' ? null : this.bankCode;
    return this.accounts.find((a) => a.id === this.toId)?.bank_code ?? null;
  }

  get amountCheck(): AmountCheck {
    const from = this.from;
    const available = from?.available == null ? 0n : toWon(from.available);
    return validateTransferAmount(this.amount, {
      available,
      perTransfer: UNKNOWN_LIMIT,
      dailyRemaining: UNKNOWN_LIMIT,
    });
  }

  /** The first thing wrong with the form other than the amount, or null. */
  get fieldProblem(): FieldProblem | null {
    const from = this.from;
    if (from === null || sendBlock(from) !== null) return 'pick_from';
    if (this.targetKind === 'own') {
      return this.toId === null || this.toId === this.fromId ? 'pick_to' : null;
    }
    if (this.bankCode === '') return 'pick_bank';
    const digits = this.accountNumber.replace(/[\s-]/g, '');
    if (!/^[0-9]{6,16}$/.test(digits)) return 'number_error';
    return null;
  }

  get recipient(): RecipientInput | null {
    if (this.targetKind === 'own') {
      return this.toId === null ? null : { kind: 'own', account_id: this.toId };
    }
    return { kind: 'external', bank_code: this.bankCode, account_num: this.accountNumber.replace(/[\s-]/g, '') };
  }

  /** Checks the form, then asks the center; on success shows the confirmation. */
  async review(): Promise<void> {
    this.attempted = true;
    const check = this.amountCheck;
    const to = this.recipient;
    if (this.fieldProblem !== null || !check.ok || to === null || this.fromId === null) return;
    this.checking = true;
    try {
      this.preflight = await this.#api.preflightTransfer({
        from_account: this.fromId,
        to,
        amount: check.won.toString(),
        memo: this.memo.trim(),
      });
      this.step = 'review';
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      this.checking = false;
    }
  }

  /** Back from the confirmation to the form, keeping what was typed. */
  edit(): void {
    this.preflight = null;
    this.step = 'form';
  }

  /**
   * Sends exactly what was checked, following each leg as the shell reports it. The command's
   * answer is the last word: a leg's message that reaches the page after it is old news. (After
   * an error, a late message is still the latest known state of the transfer.)
   */
  async confirm(): Promise<void> {
    const preflight = this.preflight;
    if (preflight === null || this.step !== 'review') return;
    this.step = 'sending';
    this.state = 'created';
    this.error = null;
    let answered = false;
    try {
      const done = await this.#api.confirmTransfer(preflight.token, (event) => {
        if (!answered) this.state = event.state;
      });
      answered = true;
      this.result = done;
      this.state = done.state;
    } catch (e) {
      // The saga is journaled: an error here means "not known yet", never "lost".
      this.error = asIpcError(e);
    } finally {
      this.step = 'done';
    }
  }

  /** A fresh form, from the same account. */
  reset(): void {
    this.step = 'form';
    this.preflight = null;
    this.state = null;
    this.result = null;
    this.error = null;
    this.amount = '';
    this.memo = '';
    this.attempted = false;
    void this.start();
  }
}
