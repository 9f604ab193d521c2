// Whether an amount may be sent: the rules a transfer form checks before it asks the backend.
// The backend and the bank check again; this is for telling the person early and precisely.
//
// Errors are keys, not sentences: each is an i18n key under `amount.error`, and `max` (when
// present) is the largest amount that would have passed, for the message to show.

import { parseWonInput, type AmountParseError, type Won } from './money';

/** What bounds one transfer, all in whole won, as the backend reports them. */
export interface TransferLimits {
  /** What the source account can pay out now (출금가능금액). */
  available: Won;
  /** The most one transfer may move (1회 이체 한도). */
  perTransfer: Won;
  /** What is left of today's limit (1일 이체 한도 잔여). */
  dailyRemaining: Won;
}

export type LimitError = 'over_balance' | 'over_per_transfer_limit' | 'over_daily_limit';

export type AmountError = AmountParseError | LimitError;

export type AmountCheck =
  | { ok: true; won: Won }
  | { ok: false; error: AmountParseError }
  | { ok: false; error: LimitError; max: Won };

/**
 * Checks a whole-won amount against the limits. When it breaks several, it reports the tightest
 * one, because that is the one the person has to get under; on a tie the balance is named first,
 * then the per-transfer limit, as those are the easier to understand.
 */
export function checkAmount(won: Won, limits: TransferLimits): AmountCheck {
  if (won <= 0n) return { ok: false, error: won === 0n ? 'zero' : 'signed' };
  const caps: ReadonlyArray<readonly [LimitError, Won]> = [
    ['over_balance', nonNegative(limits.available)],
    ['over_per_transfer_limit', nonNegative(limits.perTransfer)],
    ['over_daily_limit', nonNegative(limits.dailyRemaining)],
  ];
  let tightest: readonly [LimitError, Won] | null = null;
  for (const cap of caps) {
    if (won > cap[1] && (tightest === null || cap[1] < tightest[1])) tightest = cap;
  }
  return tightest === null ? { ok: true, won } : { ok: false, error: tightest[0], max: tightest[1] };
}

/** Parses what the person typed, then checks it: the one call a transfer form needs. */
export function validateTransferAmount(input: string, limits: TransferLimits): AmountCheck {
  const parsed = parseWonInput(input);
  return parsed.ok ? checkAmount(parsed.won, limits) : parsed;
}

// An overdrawn account (마이너스 통장) can report a negative balance; nothing can be sent from it.
function nonNegative(won: Won): Won {
  return won < 0n ? 0n : won;
}
