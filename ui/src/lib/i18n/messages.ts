// Messages built from domain values, so every screen words the same thing the same way.
// The compiler ties each domain code to a dictionary key: a new code without a message fails
// `npm run check`.

import type { Lang } from '../lang';
import { formatWon } from '../money';
import type { AmountCheck } from '../validate';
import { translate } from './index';

/** A bank's status as the center reports it: 거래가능, 장애, 개시이전, 종료. */
export type BankStatus = 'Y' | 'D' | 'L' | 'E';

export function bankStatusName(lang: Lang, status: BankStatus): string {
  return translate(lang, `bank_status.${status}`);
}

/** The message for an amount that failed its check, with any limit formatted as money. */
export function amountErrorMessage(lang: Lang, failure: Extract<AmountCheck, { ok: false }>): string {
  return 'max' in failure
    ? translate(lang, `amount.error.${failure.error}`, { max: formatWon(failure.max, lang) })
    : translate(lang, `amount.error.${failure.error}`);
}
