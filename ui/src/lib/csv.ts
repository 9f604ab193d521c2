// CSV export of transactions, made for Excel, which is where people in Korea open it.
//
// What Excel needs, and what this does:
// - UTF-8 with a byte order mark; without it Korean Excel reads the file as CP949 and shows
//   mojibake.
// - CRLF between records (RFC 4180), and fields quoted when they hold a comma, a quote or a line
//   break, with quotes doubled.
// - No formulas from the bank's text: a memo that starts with = + - @ (or a tab or CR, or their
//   full-width forms) would run as a formula when opened, so such text gets a leading `'`.
//   Amounts are written from bigint/number cells and are never prefixed, so a negative amount
//   stays a number Excel can sum.
// - Dates as yyyy-MM-dd and times as HH:mm:ss, which Excel recognises in any locale; amounts as
//   bare digits, without grouping or 원, so they are numbers, not text.

import type { Lang } from './lang';
import { translate } from './i18n/index';
import { toWon, type WonLike } from './money';
import { parseKftcDate, parseKftcTime } from './time';

/** One cell: text from outside (guarded), or a number we produced (written as is). */
export type CsvCell = string | bigint | number | null;

export const BOM = '\uFEFF';
const CRLF = '\r\n';

// Leading characters that make a spreadsheet treat a cell as a formula.
const FORMULA_START = /^[\s]*[=+\-@\t\r＝＋－＠]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One field, guarded and quoted as needed. */
export function csvField(cell: CsvCell): string {
  if (cell === null) return '';
  if (typeof cell === 'bigint') return cell.toString();
  if (typeof cell === 'number') return Number.isFinite(cell) ? String(cell) : '';
  const text = FORMULA_START.test(cell) ? `'${cell}` : cell;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A whole file: BOM, then each row's fields joined by commas, each record ended by CRLF. */
export function toCsv(rows: ReadonlyArray<ReadonlyArray<CsvCell>>): string {
  return BOM + rows.map((row) => row.map(csvField).join(',') + CRLF).join('');
}

/** The bytes to save: UTF-8, BOM included. */
export function csvBytes(csv: string): Uint8Array {
  return new TextEncoder().encode(csv);
}

/**
 * A transaction as exported. Screens map the store's transaction rows onto this; it holds only
 * what a statement shows, with the center's date and time formats.
 */
export interface ExportedTransaction {
  /** `yyyyMMdd`, Korea time. */
  date: string;
  /** `HHmmss`, Korea time. */
  time: string;
  bank: string;
  /** The account as shown in the app (alias or masked number), never a full account number. */
  account: string;
  description: string;
  direction: 'in' | 'out';
  amount: WonLike;
  balanceAfter: WonLike;
}

/** Transactions as a CSV file with headers in the given language, in the order given. */
export function transactionsCsv(rows: ReadonlyArray<ExportedTransaction>, lang: Lang): string {
  const header: CsvCell[] = [
    translate(lang, 'csv.date'),
    translate(lang, 'csv.time'),
    translate(lang, 'csv.bank'),
    translate(lang, 'csv.account'),
    translate(lang, 'csv.description'),
    translate(lang, 'csv.withdrawal'),
    translate(lang, 'csv.deposit'),
    translate(lang, 'csv.balance_after'),
  ];
  const body = rows.map((row): CsvCell[] => {
    const amount = toWon(row.amount);
    return [
      isoDate(row.date),
      isoTime(row.time),
      row.bank,
      row.account,
      row.description,
      row.direction === 'out' ? amount : null,
      row.direction === 'in' ? amount : null,
      toWon(row.balanceAfter),
    ];
  });
  return toCsv([header, ...body]);
}

// A date the center sent that does not parse is kept as text, so nothing silently disappears.
function isoDate(text: string): string {
  const d = parseKftcDate(text);
  return d === null ? text : `${d.year}-${pad2(d.month)}-${pad2(d.day)}`;
}

function isoTime(text: string): string {
  const t = parseKftcTime(text);
  return t === null ? text : `${pad2(t.hour)}:${pad2(t.minute)}:${pad2(t.second)}`;
}

function pad2(n: number): string {
  return n.toString().padStart(2, '0');
}
