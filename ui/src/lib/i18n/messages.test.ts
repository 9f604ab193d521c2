import { describe, expect, it } from 'vitest';
import { checkAmount } from '../validate';
import { amountErrorMessage, bankStatusName } from './messages';

describe('bankStatusName', () => {
  it('names every status the center reports, in both languages', () => {
    expect(['Y', 'D', 'L', 'E'].map((s) => bankStatusName('ko', s as 'Y'))).toEqual([
      '거래가능',
      '장애',
      '개시이전',
      '종료',
    ]);
    expect(bankStatusName('en', 'D')).toBe('Outage');
  });
});

describe('amountErrorMessage', () => {
  const limits = { available: 12_345n, perTransfer: 1_000_000n, dailyRemaining: 1_000_000n };

  it('words a limit error with the limit as money in the reader’s language', () => {
    const check = checkAmount(20_000n, limits);
    if (check.ok) throw new Error('expected the amount to be refused');
    expect(amountErrorMessage('ko', check)).toBe('출금 가능 금액(12,345원)보다 많아요.');
    expect(amountErrorMessage('en', check)).toBe(
      'That is more than the available balance (₩12,345).',
    );
  });

  it('words a typing error without any amount', () => {
    expect(amountErrorMessage('ko', { ok: false, error: 'fraction' })).toBe(
      '원 단위까지만 입력할 수 있어요.',
    );
    expect(amountErrorMessage('en', { ok: false, error: 'empty' })).toBe('Enter an amount.');
  });
});
