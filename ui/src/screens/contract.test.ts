// What the end-to-end tests and the Content Security Policy rely on in the screens' markup.
import { describe, expect, it } from 'vitest';

const sources = import.meta.glob(['../**/*.svelte'], { query: '?raw', import: 'default', eager: true }) as Record<
  string,
  string
>;
const all = Object.values(sources).join('\n');

describe('the screens’ markup', () => {
  it('reads every screen’s view, each in its own folder', () => {
    const files = Object.keys(sources);
    for (const view of ['dashboard/Dashboard', 'account/Account', 'transfer/Transfer', 'transfers/Transfers', 'settings/Settings']) {
      expect(files.some((file) => file.endsWith(`${view}.svelte`)), view).toBe(true);
    }
  });

  it('carries every test id the WebDriver tests drive', () => {
    const ids = [
      'register-button', 'refresh-button', 'sync-progress', 'total-balance', 'account-card',
      'account-balance', 'account-history', 'history-row', 'load-more', 'nav-dashboard',
      'nav-transfer', 'nav-transfers', 'nav-settings', 'transfer-from', 'transfer-to-own',
      'transfer-amount', 'transfer-memo', 'transfer-review', 'transfer-confirm', 'transfer-state',
      'transfer-receipt', 'transfer-message', 'incident-card', 'account-sync',
      'preferences-language', 'preferences-theme', 'settings-language', 'settings-theme',
    ];
    const navIds = ['nav-dashboard', 'nav-transfer', 'nav-transfers', 'nav-settings'];
    for (const id of ids) {
      const present = navIds.includes(id) ? all.includes('data-testid="nav-{screen}"') : all.includes(`"${id}"`);
      expect(present, id).toBe(true);
    }
    expect(all).toMatch(/data-testid="account-card" data-account-id=\{account\.id\} data-bank-code=\{account\.bank_code\}/);
    expect(all).toMatch(/data-testid="transfer-state" data-state=\{state\}/);
  });

  it('has no literal style attribute, which the Content Security Policy would block', () => {
    for (const [file, text] of Object.entries(sources)) {
      expect(text, file).not.toMatch(/\sstyle="/);
    }
  });

  it('writes no raw colour outside the tokens', () => {
    for (const [file, text] of Object.entries(sources)) {
      const styles = text.match(/<style>[\s\S]*?<\/style>/g)?.join('\n') ?? '';
      expect(styles, file).not.toMatch(/#[0-9a-fA-F]{3,8}\b|rgba?\(|hsla?\(/);
    }
  });
});
