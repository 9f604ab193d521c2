// Tells the shell once the page has been drawn: a frame's callback runs before the frame is
// drawn, and a task queued from there runs after it, as Moa's dashboard reports its own paint.
requestAnimationFrame(() =>
  setTimeout(() => window.__TAURI_INTERNALS__.invoke('painted'), 0),
);
