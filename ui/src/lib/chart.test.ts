import { describe, expect, it } from 'vitest';
import { CHART_HEIGHT, chartGeometry } from './chart';

describe('chartGeometry', () => {
  it('draws nothing without points', () => {
    expect(chartGeometry([])).toBeNull();
  });

  it('puts the lowest balance at the bottom and the highest at the top', () => {
    const g = chartGeometry([
      { date: '2026-11-25', balance: '1000' },
      { date: '2026-11-26', balance: '3000' },
      { date: '2026-11-27', balance: '2000' },
    ]);
    expect(g?.line).toBe('M8,152L300,8L592,80');
    expect(g?.min).toBe(1000n);
    expect(g?.max).toBe(3000n);
    expect([g?.first, g?.last]).toEqual(['2026-11-25', '2026-11-27']);
    expect(g?.area.endsWith('Z')).toBe(true);
    expect(g?.zeroY).toBeNull();
  });

  it('draws a flat line across the middle for one point or equal balances', () => {
    expect(chartGeometry([{ date: '2026-11-27', balance: '5' }])?.line).toBe(`M8,${CHART_HEIGHT / 2}H592`);
    expect(chartGeometry([
      { date: '2026-11-26', balance: '5' },
      { date: '2026-11-27', balance: '5' },
    ])?.line).toBe('M8,80L592,80');
  });

  it('marks zero when an overdraft crosses it, and handles amounts past 2^53', () => {
    const g = chartGeometry([
      { date: '2026-11-26', balance: '-100' },
      { date: '2026-11-27', balance: '300' },
    ]);
    expect(g?.zeroY).toBe(116);
    const big = chartGeometry([
      { date: '2026-11-26', balance: '9007199254740993' },
      { date: '2026-11-27', balance: '9007199254740995' },
    ]);
    expect(big?.max).toBe(9007199254740995n);
  });
});
