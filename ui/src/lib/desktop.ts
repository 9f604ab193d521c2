// Which desktop the app runs on, as its webview tells: WebKitGTK on Linux, WKWebView on macOS,
// WebView2 on Windows. The page's root carries it (`data-desktop`) for the few styles a desktop
// needs its own values for, such as its fonts (tokens.css).

export type Desktop = 'linux' | 'macos' | 'windows' | 'other';

/** The desktop a user agent string names. */
export function desktopOf(userAgent: string): Desktop {
  if (userAgent.includes('Windows NT')) return 'windows';
  if (userAgent.includes('Macintosh')) return 'macos';
  if (userAgent.includes('Linux') || userAgent.includes('X11')) return 'linux';
  return 'other';
}
