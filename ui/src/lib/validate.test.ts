import { describe, expect, it } from 'vitest';
import { checkAmount, validateTransferAmount, type TransferLimits } from './validate';

const roomy: TransferLimits = {
  available: 1_000_000n,
  perTransfer: 5_000_000n,
  dailyRemaining: 10_000_000n,
};

describe('checkAmount', () => {
  it('passes an amount within every limit', () => {
    expect(checkAmount(50_000n, roomy)).toEqual({ ok: true, won: 50_000n });
  });

  it('passes an amount exactly at every limit', () => {
    const limits = { available: 300n, perTransfer: 300n, dailyRemaining: 300n };
    expect(checkAmount(300n, limits)).toEqual({ ok: true, won: 300n });
  });

  it('refuses zero and negative amounts', () => {
    expect(checkAmount(0n, roomy)).toEqual({ ok: false, error: 'zero' });
    expect(checkAmount(-1n, roomy)).toEqual({ ok: false, error: 'signed' });
  });

  it('refuses one won over the balance and says how much is available', () => {
    expect(checkAmount(1_000_001n, roomy)).toEqual({
      ok: false,
      error: 'over_balance',
      max: 1_000_000n,
    });
  });

  it('refuses an amount over the per-transfer limit', () => {
    const limits = { ...roomy, available: 9_000_000n };
    expect(checkAmount(6_000_000n, limits)).toEqual({
      ok: false,
      error: 'over_per_transfer_limit',
      max: 5_000_000n,
    });
  });

  it('refuses an amount over what is left of the daily limit', () => {
    const limits = { ...roomy, dailyRemaining: 20_000n };
    expect(checkAmount(30_000n, limits)).toEqual({
      ok: false,
      error: 'over_daily_limit',
      max: 20_000n,
    });
  });

  it('names the tightest limit when several are broken', () => {
    const limits = { available: 800_000n, perTransfer: 500_000n, dailyRemaining: 700_000n };
    expect(checkAmount(900_000n, limits)).toMatchObject({
      error: 'over_per_transfer_limit',
      max: 500_000n,
    });
    const spent = { available: 800_000n, perTransfer: 500_000n, dailyRemaining: 100_000n };
    expect(checkAmount(900_000n, spent)).toMatchObject({ error: 'over_daily_limit', max: 100_000n });
  });

  it('names the balance first when it ties with a limit', () => {
    const limits = { available: 500_000n, perTransfer: 500_000n, dailyRemaining: 500_000n };
    expect(checkAmount(600_000n, limits)).toMatchObject({ error: 'over_balance' });
    const noBalance = { available: 9n, perTransfer: 5n, dailyRemaining: 5n };
    expect(checkAmount(10n, noBalance)).toMatchObject({ error: 'over_per_transfer_limit' });
  });

  it('treats an overdrawn balance as nothing available', () => {
    const limits = { ...roomy, available: -20_000n };
    expect(checkAmount(1n, limits)).toEqual({ ok: false, error: 'over_balance', max: 0n });
  });

  it('refuses everything once the daily limit is used up', () => {
    const limits = { ...roomy, dailyRemaining: 0n };
    expect(checkAmount(1n, limits)).toEqual({ ok: false, error: 'over_daily_limit', max: 0n });
  });
});

describe('validateTransferAmount', () => {
  it('parses typed text and then checks it', () => {
    expect(validateTransferAmount('50,000원', roomy)).toEqual({ ok: true, won: 50_000n });
    expect(validateTransferAmount('2,000,000', roomy)).toMatchObject({ error: 'over_balance' });
  });

  it('reports typing mistakes before limits', () => {
    expect(validateTransferAmount('', roomy)).toEqual({ ok: false, error: 'empty' });
    expect(validateTransferAmount('99.5', roomy)).toEqual({ ok: false, error: 'fraction' });
    expect(validateTransferAmount('1,000,000,000,000', roomy)).toEqual({
      ok: false,
      error: 'too_large',
    });
    expect(validateTransferAmount('0', roomy)).toEqual({ ok: false, error: 'zero' });
  });
});
