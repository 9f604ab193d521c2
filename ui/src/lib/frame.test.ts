import { describe, expect, it } from 'vitest';
import { fitRows, whenLoaded } from './frame';

// Rows of `heights` pixels, `perRow` items each, under `top` pixels of other content.
function page(heights: number[], perRow: number, top: number, window: number) {
  let shown = 0;
  const shows: number[] = [];
  const layout = {
    total: heights.length * perRow,
    perRow,
    show(count: number) {
      shown = count;
      shows.push(count);
    },
    endsInWindow() {
      const rows = Math.ceil(shown / perRow);
      return top + heights.slice(0, rows).reduce((a, b) => a + b, 0) < window;
    },
  };
  return { layout, shows };
}

describe('fitRows', () => {
  it('shows every row the window shows, even partly, and none below', () => {
    // Rows end at 550, 850 and 1150: the second is partly in an 800-pixel window.
    const { layout, shows } = page([300, 300, 300], 3, 250, 800);
    expect(fitRows(layout)).toBe(6);
    expect(shows).toEqual([0, 3, 6]);
  });

  it('shows everything when it all fits, and stops at the last item', () => {
    const { layout } = page([100, 100], 3, 0, 800);
    expect(fitRows({ ...layout, total: 5 })).toBe(5);
  });

  it('shows nothing more when the content above already fills the window', () => {
    const { layout } = page([100], 3, 900, 800);
    expect(fitRows(layout)).toBe(0);
  });

  it('takes one item a row when it cannot tell the width of a row', () => {
    const { layout } = page([100, 100, 100, 100], 1, 0, 250);
    expect(fitRows({ ...layout, perRow: 0 })).toBe(3);
  });
});

describe('whenLoaded', () => {
  it('runs at once on a page that has loaded', () => {
    let runs = 0;
    whenLoaded(() => runs++, { readyState: 'complete' }, new EventTarget());
    expect(runs).toBe(1);
  });

  it('waits for the load event of a page still loading, and runs once', () => {
    let runs = 0;
    const events = new EventTarget();
    whenLoaded(() => runs++, { readyState: 'interactive' }, events);
    expect(runs).toBe(0);
    events.dispatchEvent(new Event('DOMContentLoaded'));
    expect(runs).toBe(0);
    events.dispatchEvent(new Event('load'));
    events.dispatchEvent(new Event('load'));
    expect(runs).toBe(1);
  });
});
