// Messages built from domain values, so every screen words the same thing the same way.
// The compiler ties each domain code to a dictionary key: a new code without a message fails
// `npm run check`.

import type { Lang } from '../lang';
import { formatWon } from '../money';
import type { AmountCheck } from '../validate';
import { dictionaries, translate } from './index';

/** A bank's status as the center reports it: 거래가능, 장애, 개시이전, 종료. */
export type BankStatus = 'Y' | 'D' | 'L' | 'E';

export function bankStatusName(lang: Lang, status: BankStatus): string {
  return translate(lang, `bank_status.${status}`);
}

/** Error codes about one bank; their messages name it. */
export type BankErrorCode = 'bank_outage' | 'bank_not_open' | 'bank_terminated' | 'bank_slow';

/**
 * The error codes the UI has words for, meant to be the IPC edge's stable codes. When the
 * generated bindings arrive, their code type must be assignable to this one (or this becomes it).
 */
export type ErrorCode =
  | BankErrorCode
  | 'network'
  | 'auth_expired'
  | 'consent_expired'
  | 'refused'
  | 'unknown';

/** An error to show: bank errors carry the bank's display name. */
export type ShownError =
  | { code: BankErrorCode; bank: string }
  | { code: Exclude<ErrorCode, BankErrorCode> };

const ERROR_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'bank_outage',
  'bank_not_open',
  'bank_terminated',
  'bank_slow',
  'network',
  'auth_expired',
  'consent_expired',
  'refused',
  'unknown',
]);

/** Whether a code from outside is one the UI has words for; others are shown as 'unknown'. */
export function isErrorCode(code: string): code is ErrorCode {
  return ERROR_CODES.has(code);
}

export function errorMessage(lang: Lang, error: ShownError): string {
  return 'bank' in error
    ? translate(lang, `error.${error.code}`, { bank: error.bank })
    : translate(lang, `error.${error.code}`);
}

/** Why a bank cannot be used, from its status; null when it can (Y). */
export function bankStatusError(status: BankStatus): BankErrorCode | null {
  switch (status) {
    case 'Y':
      return null;
    case 'D':
      return 'bank_outage';
    case 'L':
      return 'bank_not_open';
    case 'E':
      return 'bank_terminated';
  }
}

/** Where a transfer stands, as the person is told. Every transfer ends completed or refunded. */
export type TransferStatus = 'settling' | 'outcome_unknown' | 'refunded' | 'completed';

export function transferStatusMessage(lang: Lang, status: TransferStatus): string {
  return translate(lang, `transfer.status.${status}`);
}

/** The message for an amount that failed its check, with any limit formatted as money. */
export function amountErrorMessage(lang: Lang, failure: Extract<AmountCheck, { ok: false }>): string {
  return 'max' in failure
    ? translate(lang, `amount.error.${failure.error}`, { max: formatWon(failure.max, lang) })
    : translate(lang, `amount.error.${failure.error}`);
}

/**
 * Our words for a stable failure code, or null when we have none. A code may carry a detail after
 * a colon (a transfer's `bank_refused:453` keeps the bank's own code): the words go by the part
 * before it.
 */
export function failureMessage(lang: Lang, code: string | null): string | null {
  if (code === null) return null;
  const base = code.split(':', 1)[0] ?? code;
  const words = dictionaries[lang].failure;
  return Object.prototype.hasOwnProperty.call(words, base)
    ? translate(lang, `failure.${base as keyof typeof words}`)
    : null;
}

/** A failure from the IPC edge, in our own words when the dictionary has its code, else the
 * shell's localized message, else a general one. Never parses the message. */
export function ipcErrorMessage(lang: Lang, error: { code: string; message: string }): string {
  const ours = failureMessage(lang, error.code);
  if (ours !== null) return ours;
  return error.message.trim() !== '' ? error.message : translate(lang, 'error.unknown');
}

/** Why a balance is not fresh, from the stale reason's stable code. */
export function staleReasonMessage(lang: Lang, code: string): string {
  const words = dictionaries[lang].stale;
  const known = code !== 'badge' && Object.prototype.hasOwnProperty.call(words, code);
  return translate(lang, `stale.${known ? (code as Exclude<keyof typeof words, 'badge'>) : 'unknown'}`);
}
