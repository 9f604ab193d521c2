import { describe, expect, it } from 'vitest';
import { BANKS, bankName } from './banks';

describe('bank names', () => {
  it('are given in the reader’s language, whatever name the center sent', () => {
    expect(bankName('088', 'ko', '신한은행')).toBe('신한은행');
    expect(bankName('088', 'en', '신한은행')).toBe('Shinhan Bank');
    expect(bankName('004', 'en')).toBe('KB Kookmin Bank');
  });

  it('fall back to the center’s name, then the code, for a bank the table does not know', () => {
    expect(bankName('999', 'en', '미래은행')).toBe('미래은행');
    expect(bankName('999', 'en', ' ')).toBe('999');
    expect(bankName('999', 'ko')).toBe('999');
  });

  it('have one entry per code, named in both languages', () => {
    expect(new Set(BANKS.map((b) => b.code)).size).toBe(BANKS.length);
    for (const bank of BANKS) {
      expect(bank.ko.trim(), bank.code).not.toBe('');
      expect(bank.en, bank.code).toMatch(/^[\x20-\x7e]+$/);
    }
  });
});
