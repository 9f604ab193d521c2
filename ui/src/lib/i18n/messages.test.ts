import { describe, expect, it } from 'vitest';
import { checkAmount } from '../validate';
import {
  amountErrorMessage,
  bankStatusError,
  bankStatusName,
  errorMessage,
  isErrorCode,
  transferStatusMessage,
} from './messages';

describe('bankStatusName', () => {
  it('names every status the center reports, in both languages', () => {
    expect((['Y', 'D', 'L', 'E'] as const).map((s) => bankStatusName('ko', s))).toEqual([
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

describe('errorMessage', () => {
  it('names the bank in bank errors', () => {
    expect(errorMessage('ko', { code: 'bank_outage', bank: '모아은행' })).toBe(
      '모아은행 전산 장애로 지금은 이용할 수 없어요.',
    );
    expect(errorMessage('en', { code: 'bank_slow', bank: 'Moa Bank' })).toBe(
      'Moa Bank is slow to answer.',
    );
  });

  it('words other errors on their own', () => {
    expect(errorMessage('ko', { code: 'network' })).toBe('인터넷 연결을 확인해 주세요.');
    expect(errorMessage('en', { code: 'consent_expired' })).toMatch(/^Your consent/);
  });

  it('knows which codes from outside it has words for', () => {
    expect(isErrorCode('auth_expired')).toBe(true);
    expect(isErrorCode('A0007')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
  });
});

describe('bankStatusError', () => {
  it('turns every status but Y into the error that explains it', () => {
    expect(bankStatusError('Y')).toBeNull();
    expect(bankStatusError('D')).toBe('bank_outage');
    expect(bankStatusError('L')).toBe('bank_not_open');
    expect(bankStatusError('E')).toBe('bank_terminated');
  });
});

describe('transferStatusMessage', () => {
  it('tells the person not to resend while the outcome is unknown', () => {
    expect(transferStatusMessage('ko', 'outcome_unknown')).toContain('다시 보내지 마세요');
    expect(transferStatusMessage('en', 'outcome_unknown')).toContain('Do not send it again');
    expect(transferStatusMessage('en', 'completed')).toBe('Transfer complete.');
  });
});

describe('ipcErrorMessage', () => {
  it('uses our words for a known code, the shell’s message for others, a general one last', async () => {
    const { ipcErrorMessage } = await import('./messages');
    expect(ipcErrorMessage('ko', { code: 'insufficient_funds', message: 'x' })).toBe('출금 가능 금액이 부족해요.');
    expect(ipcErrorMessage('en', { code: 'registration_cancelled', message: 'x' })).toBe(
      'The consent window was closed; nothing changed.',
    );
    expect(ipcErrorMessage('ko', { code: 'brand_new', message: '새 오류' })).toBe('새 오류');
    expect(ipcErrorMessage('en', { code: 'brand_new', message: ' ' })).toBe(
      'Something went wrong. Please try again in a moment.',
    );
    expect(ipcErrorMessage('en', { code: 'toString', message: 'own' })).toBe('own');
  });
});

describe('failureMessage', () => {
  it('words a transfer’s failure code by the part before its detail, and knows when it has no words', async () => {
    const { failureMessage } = await import('./messages');
    expect(failureMessage('ko', 'bank_refused:453')).toBe('은행에서 요청을 거절했어요.');
    expect(failureMessage('en', 'not_sent')).toContain('never reached the server');
    expect(failureMessage('en', 'brand_new')).toBeNull();
    expect(failureMessage('en', null)).toBeNull();
  });

  it('has words for every code the server and the core can end a request or a transfer with', async () => {
    const { failureMessage } = await import('./messages');
    const codes = ['network', 'device_refused', 'server_url_invalid', 'server_url_insecure', 'center_refused',
      'center_unavailable', 'bad_memo', 'no_such_recipient', 'idempotency_conflict', 'not_sent', 'withdraw_not_applied',
      'deposit_not_applied', 'not_configured', 'amount_not_positive', 'no_such_transfer', 'rate_limited'];
    for (const code of codes) {
      expect(failureMessage('ko', code), code).not.toBeNull();
      expect(failureMessage('en', code), code).not.toBeNull();
    }
  });
});

describe('staleReasonMessage', () => {
  it('words every stale code the shell sends, and an unknown one generally', async () => {
    const { staleReasonMessage } = await import('./messages');
    const codes = ['bank_down', 'bank_not_open', 'bank_terminated', 'timeout', 'network', 'consent_missing',
      'consent_expired', 'auth_expired', 'bank_refused', 'center_refused', 'account_unregistered'];
    const words = codes.map((c) => staleReasonMessage('ko', c));
    expect(new Set(words).size).toBe(codes.length);
    expect(staleReasonMessage('ko', 'bank_down')).toBe('은행 장애로 최신 잔액을 받지 못했어요');
    expect(staleReasonMessage('en', 'something')).toBe('The latest balance could not be read');
    expect(staleReasonMessage('ko', 'badge')).toBe('최신 잔액을 받지 못했어요');
  });
});
