import { describe, expect, it } from 'vitest';
import { formatWon, groupDigits, parseWonInput, toWon } from './money';

describe('toWon', () => {
  it('reads digit strings from the backend into bigint without losing precision', () => {
    expect(toWon('9007199254740993')).toBe(9007199254740993n);
    expect(toWon('-1500')).toBe(-1500n);
    expect(toWon('000012345')).toBe(12345n);
  });

  it('accepts safe integers and bigints as they are', () => {
    expect(toWon(1234)).toBe(1234n);
    expect(toWon(-7n)).toBe(-7n);
  });

  it('throws on amounts that are not whole numbers', () => {
    expect(() => toWon(12.5)).toThrow(RangeError);
    expect(() => toWon(Number.MAX_SAFE_INTEGER + 1)).toThrow(RangeError);
    expect(() => toWon(Number.NaN)).toThrow(RangeError);
    expect(() => toWon('12.50')).toThrow(RangeError);
    expect(() => toWon('1,000')).toThrow(RangeError);
    expect(() => toWon('')).toThrow(RangeError);
    expect(() => toWon('1e3')).toThrow(RangeError);
  });
});

describe('groupDigits', () => {
  it('groups by thousands at every length', () => {
    expect(groupDigits(0n)).toBe('0');
    expect(groupDigits(999n)).toBe('999');
    expect(groupDigits(1000n)).toBe('1,000');
    expect(groupDigits(12345n)).toBe('12,345');
    expect(groupDigits(123456n)).toBe('123,456');
    expect(groupDigits(1234567n)).toBe('1,234,567');
    expect(groupDigits(999999999999n)).toBe('999,999,999,999');
  });

  it('drops the sign, which formatWon places itself', () => {
    expect(groupDigits(-1234n)).toBe('1,234');
  });
});

describe('formatWon', () => {
  it('writes Korean amounts with a trailing 원', () => {
    expect(formatWon('1234567', 'ko')).toBe('1,234,567원');
    expect(formatWon(0n, 'ko')).toBe('0원');
  });

  it('writes English amounts with a leading ₩', () => {
    expect(formatWon('1234567', 'en')).toBe('₩1,234,567');
  });

  it('puts the minus before the number in Korean and before the symbol in English', () => {
    expect(formatWon(-50000n, 'ko')).toBe('-50,000원');
    expect(formatWon('-50000', 'en')).toBe('-₩50,000');
  });

  it('shows a plus on positive amounts only when asked, and never on zero', () => {
    expect(formatWon(50000n, 'ko', { sign: 'always' })).toBe('+50,000원');
    expect(formatWon(50000n, 'en', { sign: 'always' })).toBe('+₩50,000');
    expect(formatWon(0n, 'ko', { sign: 'always' })).toBe('0원');
    expect(formatWon(-1n, 'en', { sign: 'always' })).toBe('-₩1');
  });

  it('formats amounts beyond the range of a double exactly', () => {
    expect(formatWon('123456789012345678', 'ko')).toBe('123,456,789,012,345,678원');
  });
});

describe('parseWonInput', () => {
  const won = (input: string) => {
    const result = parseWonInput(input);
    if (!result.ok) throw new Error(`expected ${JSON.stringify(input)} to parse, got ${result.error}`);
    return result.won;
  };
  const error = (input: string) => {
    const result = parseWonInput(input);
    return result.ok ? `parsed as ${result.won}` : result.error;
  };

  it('reads plain digits', () => {
    expect(won('50000')).toBe(50000n);
  });

  it('strips thousands commas, spaces and the 원 or ₩ people type', () => {
    expect(won('1,234,567')).toBe(1234567n);
    expect(won(' 1 234 567 ')).toBe(1234567n);
    expect(won('50,000원')).toBe(50000n);
    expect(won('50000 원')).toBe(50000n);
    expect(won('₩50,000')).toBe(50000n);
    expect(won('50\u00a0000')).toBe(50000n);
  });

  it('reads full-width digits and the full-width won sign an IME may produce', () => {
    expect(won('５０，０００')).toBe(50000n);
    expect(won('￦1000')).toBe(1000n);
  });

  it('ignores leading zeros', () => {
    expect(won('007')).toBe(7n);
  });

  it('says empty for nothing, blanks and a bare unit', () => {
    expect(error('')).toBe('empty');
    expect(error('   ')).toBe('empty');
    expect(error('원')).toBe('empty');
    expect(error(',')).toBe('empty');
  });

  it('refuses fractions, even ones that happen to be whole', () => {
    expect(error('1000.5')).toBe('fraction');
    expect(error('1,000.00')).toBe('fraction');
    expect(error('.5')).toBe('fraction');
    expect(error('10.')).toBe('fraction');
  });

  it('refuses signs rather than dropping them', () => {
    expect(error('-5000')).toBe('signed');
    expect(error('+5000')).toBe('signed');
    expect(error('-5.5')).toBe('signed');
  });

  it('refuses letters, leading garbage and Korean number words', () => {
    expect(error('abc')).toBe('not_a_number');
    expect(error('x100')).toBe('not_a_number');
    expect(error('100x')).toBe('not_a_number');
    expect(error('1e5')).toBe('not_a_number');
    expect(error('5만')).toBe('not_a_number');
    expect(error('0x10')).toBe('not_a_number');
    expect(error('1.2.3')).toBe('not_a_number');
    expect(error('--5')).toBe('not_a_number');
    expect(error('-')).toBe('not_a_number');
    expect(error('원100')).toBe('not_a_number');
    expect(error('100원원')).toBe('not_a_number');
  });

  it('says zero for amounts of nothing', () => {
    expect(error('0')).toBe('zero');
    expect(error('0,000원')).toBe('zero');
  });

  it('accepts twelve digits and refuses thirteen', () => {
    expect(won('999,999,999,999')).toBe(999999999999n);
    expect(error('1,000,000,000,000')).toBe('too_large');
    expect(won('0000999999999999')).toBe(999999999999n);
  });
});
