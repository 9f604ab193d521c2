// When the page's next frame is out. Used to keep work (and the commands that open the shell's
// core) behind the first paint.

/**
 * Resolves once the next frame has been drawn: a frame's callback runs just before the frame is
 * drawn, and a task queued from there runs after it.
 */
export function frameDrawn(): Promise<void> {
  return new Promise((drawn) => requestAnimationFrame(() => setTimeout(drawn, 0)));
}
