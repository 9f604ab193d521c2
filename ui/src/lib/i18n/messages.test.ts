import { describe, expect, it } from 'vitest';
import type { BankState, Code, StaleCode } from '../ipc/bindings';
import { checkAmount } from '../validate';
import { dictionaries } from './index';
import {
  amountErrorMessage,
  bankStatusName,
  failureMessage,
  ipcErrorMessage,
  isCode,
  staleReasonMessage,
} from './messages';

const codes = Object.keys(dictionaries.ko.failure) as Code[];

describe('bankStatusName', () => {
  it('names every state the center announces, in both languages', () => {
    const states: BankState[] = ['available', 'down', 'not_open', 'terminated', 'unknown'];
    expect(states.map((s) => bankStatusName('ko', s))).toEqual(['거래가능', '장애', '개시이전', '종료', '상태 모름']);
    expect(bankStatusName('en', 'down')).toBe('Outage');
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

describe('failureMessage', () => {
  it('words every code in both languages, each code its own words', () => {
    for (const lang of ['ko', 'en'] as const) {
      const words = codes.map((code) => failureMessage(lang, code));
      for (const [i, w] of words.entries()) expect(w.trim(), `${lang} ${codes[i]}`).not.toBe('');
      expect(new Set(words).size, lang).toBe(codes.length);
    }
    expect(failureMessage('ko', 'bank_refused')).toBe('은행에서 요청을 거절했어요.');
    expect(failureMessage('en', 'not_sent')).toContain('never reached the server');
    expect(failureMessage('en', null)).toBeNull();
  });

  it('says what is wrong with an account number, a memo or an export, not only that something is', () => {
    expect(failureMessage('ko', 'bad_account_number')).toContain('숫자');
    expect(failureMessage('en', 'bad_account_number')).toContain('digits');
    expect(failureMessage('ko', 'bad_memo')).toContain('20자');
    expect(failureMessage('en', 'export_too_large')).toContain('16 MiB');
    expect(failureMessage('ko', 'write_failed')).not.toBe(failureMessage('ko', 'no_download_folder'));
  });
});

describe('ipcErrorMessage', () => {
  it('words a shell error by its code alone', () => {
    expect(ipcErrorMessage('ko', { code: 'insufficient_funds' })).toBe('출금 가능 금액이 부족해요.');
    expect(ipcErrorMessage('en', { code: 'registration_cancelled' })).toBe(
      'The consent window was closed; nothing changed.',
    );
  });

  it('knows the shell’s codes from any other word', () => {
    expect(isCode('auth_expired')).toBe(true);
    expect(isCode('A0007')).toBe(false);
    expect(isCode('toString')).toBe(false);
    expect(isCode(7)).toBe(false);
  });
});

describe('staleReasonMessage', () => {
  it('words every stale code the shell sends, each its own words', () => {
    const stale = Object.keys(dictionaries.ko.stale.reason) as StaleCode[];
    const words = stale.map((c) => staleReasonMessage('ko', c));
    expect(new Set(words).size).toBe(stale.length);
    expect(staleReasonMessage('ko', 'bank_down')).toBe('은행 장애로 최신 잔액을 받지 못했어요');
    expect(staleReasonMessage('en', 'internal')).toBe('The latest balance could not be read');
  });
});

describe('one voice', () => {
  it('speaks Korean in the 해요 style throughout, never 습니다', () => {
    const leaves = (node: unknown): string[] =>
      typeof node === 'string' ? [node] : Object.values(node as object).flatMap(leaves);
    const formal = leaves(dictionaries.ko).filter((w) => /(습니다|니다\.?$|십시오)/.test(w));
    expect(formal).toEqual([]);
  });
});
