import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, CSP_MARKER, withContentSecurityPolicy } from './vite.config';
import indexHtml from './index.html?raw';

const directives = new Map(
  CONTENT_SECURITY_POLICY.split(';').map((d): [string, string] => {
    const [name = '', ...values] = d.trim().split(/\s+/);
    return [name, values.join(' ')];
  }),
);

describe('the content security policy', () => {
  it('denies by default and allows scripts and styles only from the app itself', () => {
    expect(directives.get('default-src')).toBe("'none'");
    expect(directives.get('script-src')).toBe("'self'");
    expect(directives.get('style-src')).toBe("'self'");
    expect(directives.get('object-src')).toBe("'none'");
    expect(directives.get('base-uri')).toBe("'none'");
  });

  it('allows no inline code, no eval and no remote origin', () => {
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|https?:\/\/(?!ipc\.localhost)|\*/);
  });

  it('lets the webview reach Tauri’s IPC and nothing else', () => {
    expect(directives.get('connect-src')).toBe("'self' ipc: http://ipc.localhost");
  });

  it('goes into index.html after the charset and before any script', () => {
    const html = withContentSecurityPolicy(indexHtml);
    const csp = html.indexOf('http-equiv="Content-Security-Policy"');
    expect(csp).toBeGreaterThan(html.indexOf('<meta charset'));
    expect(csp).toBeLessThan(html.indexOf('<script'));
    expect(html).not.toContain(CSP_MARKER);
  });

  it('fails the build for a page that lost the marker', () => {
    expect(() => withContentSecurityPolicy('<html></html>')).toThrow(/content-security-policy/);
  });
});
