// When the page has loaded and when its next frame is out. Used to order the first paint: the
// app mounts once the page has loaded, and work (and the commands that open the shell's core)
// waits until that first frame is drawn.

/**
 * Runs `run` once the page has loaded: at once if it has, else when its `load` event fires.
 *
 * WebKit lays out the page as it finishes its `load` event. An app mounted before that has its
 * first render laid out there and then, as its screen takes its final shape, laid out again,
 * while the order of the two (and of the frame between them) changes from launch to launch.
 * Mounted from the event, its first render is laid out once, and its first frame follows.
 */
export function whenLoaded(
  run: () => void,
  page: Pick<Document, 'readyState'> = document,
  events: Pick<Window, 'addEventListener'> = window,
): void {
  if (page.readyState === 'complete') run();
  else events.addEventListener('load', () => run(), { once: true });
}

/**
 * Resolves once the next frame has been drawn: a frame's callback runs just before the frame is
 * drawn, and a task queued from there runs after it.
 */
export function frameDrawn(): Promise<void> {
  return new Promise((drawn) => requestAnimationFrame(() => setTimeout(drawn, 0)));
}

/** What `fitRows` works with: the page's rows of items, as laid out now. */
export interface RowLayout {
  /** How many items there are in all. */
  readonly total: number;
  /** How many items a row holds. */
  readonly perRow: number;
  /** Shows the first `count` items (and lays them out when next measured). */
  show(count: number): void;
  /** Whether the shown items' bottom edge is still inside the window. */
  endsInWindow(): boolean;
}

/**
 * Shows whole rows of items, one at a time, until the window is full or all are shown; answers
 * how many are shown. A first frame drawn after this lays out what it paints and no more: every
 * row the window shows, even partly, and nothing below it.
 */
export function fitRows(layout: RowLayout): number {
  let shown = 0;
  layout.show(shown);
  const step = Math.max(1, layout.perRow);
  while (shown < layout.total && layout.endsInWindow()) {
    shown = Math.min(layout.total, shown + step);
    layout.show(shown);
  }
  return shown;
}
