// Dates and times for display: the center's `yyyyMMdd` and `HHmmss`, ISO instants from the
// backend, and relative "as of" times.
//
// Everything is shown in Korea time (UTC+9, which has no daylight saving). The center dates
// transactions in Korea time and sends no zone, so showing the other times in the viewer's own
// zone would put them beside the bank's dates on a different clock. The formats, which every
// screen follows:
//   Korean   2026.11.27   2026년 11월 27일 (금)   14:05   방금 / 3분 전 / 2시간 전 / 5일 전
//   English  Nov 27, 2026 Fri, Nov 27, 2026       14:05   just now / 3 minutes ago / 5 days ago
// Older than a week, a relative time becomes the short date.
//
// No Intl here: its output differs between webviews and Node versions, and these strings are
// tested exactly. `now` is always passed in.

import { translate, translateCount } from './i18n/index';
import type { Lang } from './lang';

/** A calendar date, as the center writes it (`yyyyMMdd`), checked to exist. */
export interface CalendarDate {
  year: number;
  month: number; // 1–12
  day: number; // 1–31
}

/** A time of day, as the center writes it (`HHmmss`). */
export interface TimeOfDay {
  hour: number;
  minute: number;
  second: number;
}

export type DateStyle = 'short' | 'long';

const KST_OFFSET_MS = 9 * 60 * 60 * 1000;
const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS_EN = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const WEEKDAYS_KO = ['일', '월', '화', '수', '목', '금', '토'];

/** Reads `yyyyMMdd`; null unless it is a real date (no 20260230). */
export function parseKftcDate(text: string): CalendarDate | null {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
  if (m === null) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(year, month - 1, day));
  const real =
    probe.getUTCFullYear() === year && probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day;
  return real && year >= 1000 ? { year, month, day } : null;
}

/** Reads `HHmmss`; null unless each part is in range. */
export function parseKftcTime(text: string): TimeOfDay | null {
  const m = /^(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (m === null) return null;
  const [hour, minute, second] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return hour < 24 && minute < 60 && second < 60 ? { hour, minute, second } : null;
}

/**
 * Reads an ISO 8601 instant. It must carry its zone (`Z` or `+09:00`): without one the moment is
 * ambiguous, and guessing it is how a balance ends up nine hours "old".
 */
export function parseInstant(text: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return null;
  // Date.parse accepts at most millisecond precision everywhere; drop finer digits first.
  const ms = Date.parse(text.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(ms) ? null : new Date(ms);
}

/** The Korea-time calendar date and time of day of an instant. */
export function inKorea(instant: Date): { date: CalendarDate; time: TimeOfDay } {
  const shifted = new Date(instant.getTime() + KST_OFFSET_MS);
  return {
    date: {
      year: shifted.getUTCFullYear(),
      month: shifted.getUTCMonth() + 1,
      day: shifted.getUTCDate(),
    },
    time: {
      hour: shifted.getUTCHours(),
      minute: shifted.getUTCMinutes(),
      second: shifted.getUTCSeconds(),
    },
  };
}

export function formatDate(date: CalendarDate, lang: Lang, style: DateStyle = 'short'): string {
  const weekday = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
  if (lang === 'ko') {
    return style === 'short'
      ? `${date.year}.${pad2(date.month)}.${pad2(date.day)}`
      : `${date.year}년 ${date.month}월 ${date.day}일 (${WEEKDAYS_KO[weekday] ?? ''})`;
  }
  const short = `${MONTHS_EN[date.month - 1] ?? ''} ${date.day}, ${date.year}`;
  return style === 'short' ? short : `${WEEKDAYS_EN[weekday] ?? ''}, ${short}`;
}

/** 24-hour time in both languages, as Korean banks print it. */
export function formatTime(time: TimeOfDay, options: { seconds?: boolean } = {}): string {
  const hm = `${pad2(time.hour)}:${pad2(time.minute)}`;
  return options.seconds === true ? `${hm}:${pad2(time.second)}` : hm;
}

/** Formats a center date; text that is not a date is shown as it came rather than hidden. */
export function formatKftcDate(text: string, lang: Lang, style: DateStyle = 'short'): string {
  const date = parseKftcDate(text);
  return date === null ? text : formatDate(date, lang, style);
}

/** Formats a center time; text that is not a time is shown as it came rather than hidden. */
export function formatKftcTime(text: string, options: { seconds?: boolean } = {}): string {
  const time = parseKftcTime(text);
  return time === null ? text : formatTime(time, options);
}

/** An instant as a Korea-time date and time: "2026.11.27 14:05" / "Nov 27, 2026 14:05". */
export function formatInstant(instant: Date, lang: Lang, style: DateStyle = 'short'): string {
  const { date, time } = inKorea(instant);
  return `${formatDate(date, lang, style)} ${formatTime(time)}`;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * How long ago `then` was: "방금", "3분 전", "2시간 전", "5일 전", counting whole units down.
 * From a week on, or for a time more than a minute in the future (a clock out of step), it is
 * the Korea-time short date instead, which is never wrong.
 */
export function formatRelative(then: Date, now: Date, lang: Lang): string {
  const elapsed = now.getTime() - then.getTime();
  // An invalid Date has no time to show; saying nothing beats "NaN일 전".
  if (Number.isNaN(elapsed)) return '';
  if (elapsed < -MINUTE || elapsed >= 7 * DAY) return formatDate(inKorea(then).date, lang);
  if (elapsed < MINUTE) return translate(lang, 'time.just_now');
  if (elapsed < HOUR) return translateCount(lang, 'time.minutes_ago', Math.floor(elapsed / MINUTE));
  if (elapsed < DAY) return translateCount(lang, 'time.hours_ago', Math.floor(elapsed / HOUR));
  return translateCount(lang, 'time.days_ago', Math.floor(elapsed / DAY));
}

/** "3분 전 기준" / "as of 3 minutes ago": how fresh a balance is. */
export function formatAsOf(then: Date, now: Date, lang: Lang): string {
  return translate(lang, 'time.as_of', { when: formatRelative(then, now, lang) });
}

function pad2(n: number): string {
  return n.toString().padStart(2, '0');
}
