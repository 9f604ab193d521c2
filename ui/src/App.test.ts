import { render } from 'svelte/server';
import { describe, expect, it } from 'vitest';
import App from './App.svelte';

describe('the app frame', () => {
  const { body } = render(App);

  it('names the app in Korean by default', () => {
    expect(body).toMatch(/<h1[^>]*>모아<\/h1>/);
  });

  it('offers the four screens in its navigation, the dashboard current', () => {
    for (const [id, label] of [
      ['nav-dashboard', '홈'],
      ['nav-transfer', '이체'],
      ['nav-transfers', '이체 내역'],
      ['nav-settings', '설정'],
    ]) {
      expect(body).toMatch(new RegExp(`data-testid="${id}"[^>]*>${label}</button>`));
    }
    expect(body).toMatch(/data-testid="nav-dashboard" aria-current="page"/);
  });

  it('opens on the dashboard, which paints once the store answers', () => {
    expect(body).toMatch(/<main[^>]*><!--\[0--><section class="dashboard/);
    expect(body).toContain('불러오는 중…');
  });

  it('offers both languages and the three theme choices, labelled for screen readers', () => {
    expect(body).toContain('한국어');
    expect(body).toContain('English');
    for (const label of ['시스템 설정', '밝게', '어둡게', '언어', '화면 테마']) {
      expect(body).toContain(label);
    }
  });

  it('starts in Korean, following the system theme, when nothing is saved', () => {
    expect(body).toMatch(/<option value="ko"[^>]*selected/);
    expect(body).toMatch(/<option value="system"[^>]*selected/);
  });

  it('renders no inline style attribute, which the Content Security Policy would block', () => {
    expect(body).not.toMatch(/\sstyle=/);
  });
});
