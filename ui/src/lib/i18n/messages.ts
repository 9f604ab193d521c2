// Messages built from domain values, so every screen words the same thing the same way.
// The codes come from the shell (generated from Rust in ../ipc/bindings.ts); the dictionaries are
// keyed by them, so a new code without words fails `npm run check`.

import type { BankState, Code, IpcError, StaleCode } from '../ipc/bindings';
import type { Lang } from '../lang';
import { formatWon } from '../money';
import type { AmountCheck } from '../validate';
import { dictionaries, translate } from './index';

/** A bank's state as the center announces it: 거래가능, 장애, 개시이전, 종료. */
export function bankStatusName(lang: Lang, status: BankState): string {
  return dictionaries[lang].bank_status[status];
}

/** The message for an amount that failed its check, with any limit formatted as money. */
export function amountErrorMessage(lang: Lang, failure: Extract<AmountCheck, { ok: false }>): string {
  return 'max' in failure
    ? translate(lang, `amount.error.${failure.error}`, { max: formatWon(failure.max, lang) })
    : translate(lang, `amount.error.${failure.error}`);
}

/** The words for a code: an error's, or the reason a transfer failed. None for none. */
export function failureMessage(lang: Lang, code: Code): string;
export function failureMessage(lang: Lang, code: Code | null): string | null;
export function failureMessage(lang: Lang, code: Code | null): string | null {
  return code === null ? null : dictionaries[lang].failure[code];
}

/** Whether a word from outside is one of the shell's codes. */
export function isCode(code: unknown): code is Code {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(dictionaries.ko.failure, code);
}

/** A failure from the IPC edge, in the UI's words for its code. */
export function ipcErrorMessage(lang: Lang, error: IpcError): string {
  return failureMessage(lang, error.code);
}

/** Why a balance is not fresh, from the stale reason's stable code. */
export function staleReasonMessage(lang: Lang, code: StaleCode): string {
  return dictionaries[lang].stale.reason[code];
}
