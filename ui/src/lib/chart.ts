// The balance chart's geometry: end-of-day balances to an SVG path in a fixed view box. Pure, so
// the drawing is tested without a page. Balances are bigint; they become numbers only here, as
// positions on screen, where a rounding error is a fraction of a pixel and never money.

import { toWon, type Won } from './money';

export interface ChartGeometry {
  /** The line, as an SVG path in the view box. */
  line: string;
  /** The same line closed down to the baseline, for a soft fill under it. */
  area: string;
  min: Won;
  max: Won;
  first: string;
  last: string;
  /** Where the zero line sits, when the balances cross it. */
  zeroY: number | null;
}

export const CHART_WIDTH = 600;
export const CHART_HEIGHT = 160;
const PAD = 8;

export function chartGeometry(points: ReadonlyArray<{ date: string; balance: string }>): ChartGeometry | null {
  if (points.length === 0) return null;
  const values = points.map((p) => toWon(p.balance));
  let min = values[0] ?? 0n;
  let max = min;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min;
  const innerW = CHART_WIDTH - 2 * PAD;
  const innerH = CHART_HEIGHT - 2 * PAD;
  const x = (i: number) => (points.length === 1 ? CHART_WIDTH / 2 : PAD + (innerW * i) / (points.length - 1));
  // A flat history draws across the middle rather than dividing by zero.
  const y = (v: Won) => (span === 0n ? CHART_HEIGHT / 2 : PAD + innerH * (1 - Number(v - min) / Number(span)));
  const coords = values.map((v, i) => `${round(x(i))},${round(y(v))}`);
  const line = points.length === 1
    ? `M${round(PAD)},${round(y(values[0] ?? 0n))}H${round(CHART_WIDTH - PAD)}`
    : `M${coords.join('L')}`;
  const baseline = CHART_HEIGHT - PAD;
  const area = points.length === 1
    ? `${line}V${baseline}H${round(PAD)}Z`
    : `${line}L${round(x(points.length - 1))},${baseline}L${round(x(0))},${baseline}Z`;
  const zeroY = min < 0n && max > 0n ? round(y(0n)) : null;
  return {
    line,
    area,
    min,
    max,
    first: points[0]?.date ?? '',
    last: points[points.length - 1]?.date ?? '',
    zeroY,
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
