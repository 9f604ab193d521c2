import { describe, expect, it } from 'vitest';
import {
  formatAsOf,
  formatInstant,
  formatKftcDate,
  formatKftcTime,
  formatRelative,
  inKorea,
  parseInstant,
  parseKftcDate,
  parseKftcTime,
} from './time';

const at = (iso: string): Date => {
  const d = parseInstant(iso);
  if (d === null) throw new Error(`bad instant in test: ${iso}`);
  return d;
};

describe('parseKftcDate', () => {
  it('reads yyyyMMdd', () => {
    expect(parseKftcDate('20261127')).toEqual({ year: 2026, month: 11, day: 27 });
  });

  it('refuses dates that do not exist and text of the wrong shape', () => {
    expect(parseKftcDate('20260230')).toBeNull();
    expect(parseKftcDate('20261301')).toBeNull();
    expect(parseKftcDate('20261100')).toBeNull();
    expect(parseKftcDate('2026-11-27')).toBeNull();
    expect(parseKftcDate('2026112')).toBeNull();
    expect(parseKftcDate('')).toBeNull();
  });

  it('knows leap years', () => {
    expect(parseKftcDate('20280229')).toEqual({ year: 2028, month: 2, day: 29 });
    expect(parseKftcDate('21000229')).toBeNull();
  });
});

describe('parseKftcTime', () => {
  it('reads HHmmss', () => {
    expect(parseKftcTime('140509')).toEqual({ hour: 14, minute: 5, second: 9 });
    expect(parseKftcTime('000000')).toEqual({ hour: 0, minute: 0, second: 0 });
  });

  it('refuses out-of-range parts and other shapes', () => {
    expect(parseKftcTime('240000')).toBeNull();
    expect(parseKftcTime('126000')).toBeNull();
    expect(parseKftcTime('120060')).toBeNull();
    expect(parseKftcTime('14:05:09')).toBeNull();
  });
});

describe('formatKftcDate', () => {
  it('writes the short form for lists', () => {
    expect(formatKftcDate('20261127', 'ko')).toBe('2026.11.27');
    expect(formatKftcDate('20260105', 'en')).toBe('Jan 5, 2026');
  });

  it('writes the long form with the weekday', () => {
    expect(formatKftcDate('20261127', 'ko', 'long')).toBe('2026년 11월 27일 (금)');
    expect(formatKftcDate('20261127', 'en', 'long')).toBe('Fri, Nov 27, 2026');
    expect(formatKftcDate('20260301', 'ko', 'long')).toBe('2026년 3월 1일 (일)');
  });

  it('shows text that is not a date as it came', () => {
    expect(formatKftcDate('20260230', 'ko')).toBe('20260230');
  });
});

describe('formatKftcTime', () => {
  it('writes 24-hour time, with seconds when asked', () => {
    expect(formatKftcTime('140509')).toBe('14:05');
    expect(formatKftcTime('090509', { seconds: true })).toBe('09:05:09');
  });

  it('shows text that is not a time as it came', () => {
    expect(formatKftcTime('99')).toBe('99');
  });
});

describe('parseInstant', () => {
  it('reads instants with a zone', () => {
    expect(parseInstant('2026-11-27T05:05:09Z')?.toISOString()).toBe('2026-11-27T05:05:09.000Z');
    expect(parseInstant('2026-11-27T14:05:09+09:00')?.toISOString()).toBe(
      '2026-11-27T05:05:09.000Z',
    );
    expect(parseInstant('2026-11-27T14:05:09.123456789+09:00')?.toISOString()).toBe(
      '2026-11-27T05:05:09.123Z',
    );
  });

  it('refuses instants without a zone, and nonsense', () => {
    expect(parseInstant('2026-11-27T14:05:09')).toBeNull();
    expect(parseInstant('2026-11-27')).toBeNull();
    expect(parseInstant('yesterday')).toBeNull();
    expect(parseInstant('2026-13-45T99:99:99Z')).toBeNull();
  });
});

describe('inKorea and formatInstant', () => {
  it('shows instants in Korea time whatever zone they were written in', () => {
    // 23:30 UTC is already the next morning in Seoul.
    const late = at('2026-11-26T23:30:00Z');
    expect(inKorea(late).date).toEqual({ year: 2026, month: 11, day: 27 });
    expect(formatInstant(late, 'ko')).toBe('2026.11.27 08:30');
    expect(formatInstant(late, 'en')).toBe('Nov 27, 2026 08:30');
    expect(formatInstant(at('2026-11-27T08:30:00+09:00'), 'ko', 'long')).toBe(
      '2026년 11월 27일 (금) 08:30',
    );
  });
});

describe('formatRelative', () => {
  const now = at('2026-11-27T12:00:00+09:00');
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const s = 1000;
  const min = 60 * s;
  const h = 60 * min;
  const d = 24 * h;

  it('says just now for under a minute', () => {
    expect(formatRelative(now, now, 'ko')).toBe('방금');
    expect(formatRelative(ago(59 * s), now, 'en')).toBe('just now');
  });

  it('counts whole minutes, hours and days down', () => {
    expect(formatRelative(ago(60 * s), now, 'ko')).toBe('1분 전');
    expect(formatRelative(ago(3 * min + 59 * s), now, 'ko')).toBe('3분 전');
    expect(formatRelative(ago(59 * min + 59 * s), now, 'en')).toBe('59 minutes ago');
    expect(formatRelative(ago(h), now, 'en')).toBe('1 hour ago');
    expect(formatRelative(ago(23 * h + 59 * min), now, 'ko')).toBe('23시간 전');
    expect(formatRelative(ago(d), now, 'en')).toBe('1 day ago');
    expect(formatRelative(ago(6 * d + 23 * h), now, 'ko')).toBe('6일 전');
  });

  it('gives the date once a week has passed', () => {
    expect(formatRelative(ago(7 * d), now, 'ko')).toBe('2026.11.20');
    expect(formatRelative(ago(400 * d), now, 'en')).toBe('Oct 23, 2025');
  });

  it('says nothing for an invalid date rather than a nonsense count', () => {
    expect(formatRelative(new Date(Number.NaN), now, 'ko')).toBe('');
  });

  it('treats a time slightly ahead as just now and one far ahead as a date', () => {
    expect(formatRelative(ago(-30 * s), now, 'ko')).toBe('방금');
    expect(formatRelative(ago(-2 * h), now, 'en')).toBe('Nov 27, 2026');
  });
});

describe('formatAsOf', () => {
  const now = at('2026-11-27T12:00:00+09:00');

  it('says how fresh a balance is in both languages', () => {
    const then = at('2026-11-27T11:57:00+09:00');
    expect(formatAsOf(then, now, 'ko')).toBe('3분 전 기준');
    expect(formatAsOf(then, now, 'en')).toBe('as of 3 minutes ago');
    expect(formatAsOf(now, now, 'ko')).toBe('방금 기준');
    expect(formatAsOf(at('2026-11-01T09:00:00+09:00'), now, 'en')).toBe('as of Nov 1, 2026');
  });
});
