// Build and test configuration of the web UI that the Tauri shell loads.
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vitest/config';

// The Content Security Policy of the built UI. It lives here, not in index.html, because the dev
// server needs inline styles and a websocket for hot reload that the shipped app must not allow.
// Styles are 'self' only: components style through classes and `style:` directives (which set
// properties through the CSSOM), never through a literal `style="..."` attribute.
// `ipc:` and `http://ipc.localhost` are how Tauri 2 carries commands from the webview.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self' ipc: http://ipc.localhost",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join('; ');

/** Where index.html wants the policy: right after the charset, before anything it governs. */
export const CSP_MARKER = '<!-- content-security-policy -->';

/** Puts the policy into a page at the marker; a page without the marker is a build error. */
export function withContentSecurityPolicy(html: string): string {
  if (!html.includes(CSP_MARKER)) throw new Error(`index.html lacks ${CSP_MARKER}`);
  const meta = `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}" />`;
  return html.replace(CSP_MARKER, meta);
}

function contentSecurityPolicy(): Plugin {
  return {
    name: 'moa-content-security-policy',
    apply: 'build',
    transformIndexHtml: { order: 'pre', handler: withContentSecurityPolicy },
  };
}

export default defineConfig({
  plugins: [svelte(), contentSecurityPolicy()],
  // Tauri serves the files from its own origin; relative paths keep them loadable from anywhere.
  base: './',
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: {
    outDir: 'dist',
    // WebView2 on Windows is evergreen Chromium; WKWebView on macOS follows Safari, and money
    // needs BigInt, which Safari has had since 14.
    target: ['es2022', 'chrome105', 'safari15'],
    sourcemap: false,
  },
  test: {
    include: ['src/**/*.test.ts', '*.test.ts'],
    environment: 'node',
    // Let tests read stylesheets (`?raw`) as written; vitest blanks CSS by default.
    css: { include: [/\.css(\?|$)/] },
  },
});
