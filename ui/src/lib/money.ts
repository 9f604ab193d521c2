// Money in the UI: whole Korean won held as bigint, read from the backend, shown to people, and
// parsed from what they type.
//
// The display format, which every screen follows:
//   Korean   1,234,567원     -1,234,567원     +50,000원 (with sign: 'always')
//   English  ₩1,234,567      -₩1,234,567      +₩50,000
// Digits are grouped by thousands with ',' in both languages; the minus is ASCII '-' so a copied
// amount pastes into a spreadsheet as a number. Grouping is done here rather than by
// Intl.NumberFormat so the text is the same in every webview and in the tests.
//
// Amounts never pass through floating point: the backend sends digit strings (or safe integers),
// and they become bigint at once.

import type { Lang } from './lang';

/** Whole won. */
export type Won = bigint;

/** What the backend may send for an amount: a bigint, a safe integer, or a string of digits. */
export type WonLike = bigint | number | string;

/** The largest amount a person may type: twelve digits, just under 1조 won. */
export const MAX_INPUT_DIGITS = 12;

const DIGITS = /^[0-9]+$/;
const SIGNED_DIGITS = /^-?[0-9]+$/;

/**
 * Reads an amount from the backend. Anything other than a whole number is a broken contract, not
 * a user mistake, so it throws rather than guessing.
 */
export function toWon(value: WonLike): Won {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`amount is not a safe whole number: ${String(value)}`);
    }
    return BigInt(value);
  }
  const text = value.trim();
  if (!SIGNED_DIGITS.test(text)) {
    throw new RangeError(`amount is not a string of digits: ${JSON.stringify(value)}`);
  }
  return BigInt(text);
}

/** Groups the digits of a non-negative amount by thousands: 1234567 → "1,234,567". */
export function groupDigits(amount: Won): string {
  const digits = (amount < 0n ? -amount : amount).toString();
  const head = digits.length % 3 || 3;
  const groups = [digits.slice(0, head)];
  for (let i = head; i < digits.length; i += 3) groups.push(digits.slice(i, i + 3));
  return groups.join(',');
}

export interface FormatWonOptions {
  /** 'auto' shows '-' on negative amounts only; 'always' also shows '+' on positive ones. */
  sign?: 'auto' | 'always';
}

/** Formats whole won for display in the given language (see the header for the format). */
export function formatWon(value: WonLike, lang: Lang, options: FormatWonOptions = {}): string {
  const won = toWon(value);
  const sign = won < 0n ? '-' : won > 0n && options.sign === 'always' ? '+' : '';
  const digits = groupDigits(won);
  return lang === 'ko' ? `${sign}${digits}원` : `${sign}₩${digits}`;
}

/** Why typed text is not an amount. Each is also an i18n key under `amount.error`. */
export type AmountParseError = 'empty' | 'not_a_number' | 'fraction' | 'signed' | 'zero' | 'too_large';

export type AmountParseResult = { ok: true; won: Won } | { ok: false; error: AmountParseError };

// Separators people type or paste: any space (no-break and ideographic too) and the comma.
// NFKC has already turned full-width digits, commas and spaces into ASCII ones.
const SEPARATORS = /[\s,]/g;
// A number with a decimal point: "10.5", ".5", "10.".
const DECIMAL = /^[0-9]*[.][0-9]+$|^[0-9]+[.]$/;

/**
 * Parses an amount a person typed: "1,234,567", "1 234 567원", "₩50000", "５０００".
 * It refuses rather than repairs: fractions, signs, letters and stray symbols are errors, because
 * a transfer amount that was silently reinterpreted is worse than one that has to be retyped.
 */
export function parseWonInput(input: string): AmountParseResult {
  let text = input.normalize('NFKC').replace(SEPARATORS, '');
  if (text.startsWith('₩')) text = text.slice(1);
  if (text.endsWith('원')) text = text.slice(0, -1);
  if (text === '') return { ok: false, error: 'empty' };
  if (text.startsWith('-') || text.startsWith('+')) {
    const rest = text.slice(1);
    return DIGITS.test(rest) || DECIMAL.test(rest)
      ? { ok: false, error: 'signed' }
      : { ok: false, error: 'not_a_number' };
  }
  if (DECIMAL.test(text)) return { ok: false, error: 'fraction' };
  if (!DIGITS.test(text)) return { ok: false, error: 'not_a_number' };
  const significant = text.replace(/^0+/, '');
  if (significant === '') return { ok: false, error: 'zero' };
  if (significant.length > MAX_INPUT_DIGITS) return { ok: false, error: 'too_large' };
  return { ok: true, won: BigInt(significant) };
}
