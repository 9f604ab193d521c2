import { describe, expect, it } from 'vitest';
import tokens from './tokens.css?raw';

// The declarations of the first rule whose selector is exactly `selector`, as a name → value map.
function rule(css: string, selector: string): Map<string, string> {
  const start = css.indexOf(`${selector} {`);
  if (start < 0) throw new Error(`no rule for ${selector}`);
  const open = css.indexOf('{', start);
  const body = css.slice(open + 1, css.indexOf('}', open));
  const declarations = new Map<string, string>();
  for (const m of body.matchAll(/(--[\w-]+|color-scheme)\s*:\s*([^;]+);/g)) {
    declarations.set(m[1] ?? '', (m[2] ?? '').trim());
  }
  return declarations;
}

const light = rule(tokens, ":root,\n:root[data-theme='light']");
const dark = rule(tokens, ":root[data-theme='dark']");
const systemDark = rule(
  tokens.slice(tokens.indexOf('@media (prefers-color-scheme: dark)')),
  "  :root:not([data-theme='light'])",
);

// WCAG 2 relative luminance and contrast ratio of #rrggbb colours.
function luminance(hex: string): number {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (m === null) throw new Error(`not a #rrggbb colour: ${hex}`);
  const [r, g, b] = [m[1], m[2], m[3]].map((part) => {
    const c = parseInt(part ?? '0', 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
}

function contrast(theme: Map<string, string>, fg: string, bg: string): number {
  const [a, b] = [luminance(theme.get(fg) ?? ''), luminance(theme.get(bg) ?? '')];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

describe('design tokens', () => {
  it('define the same colours in the light and the dark theme', () => {
    expect([...dark.keys()].sort()).toEqual([...light.keys()].sort());
    expect(light.get('color-scheme')).toBe('light');
    expect(dark.get('color-scheme')).toBe('dark');
  });

  it('give the system dark theme exactly the forced dark theme’s values', () => {
    expect(Object.fromEntries(systemDark)).toEqual(Object.fromEntries(dark));
  });

  const textPairs: Array<[string, string]> = [
    ['--color-text', '--color-bg'],
    ['--color-text', '--color-surface'],
    ['--color-text', '--color-surface-sunken'],
    ['--color-text-muted', '--color-bg'],
    ['--color-text-muted', '--color-surface'],
    ['--color-on-accent', '--color-accent'],
    ['--color-link', '--color-surface'],
    ['--color-amount-in', '--color-surface'],
    ['--color-amount-out', '--color-surface'],
    ['--color-danger', '--color-surface'],
    ['--color-warning', '--color-surface'],
    ['--color-success', '--color-surface'],
  ];

  for (const [name, theme] of [
    ['light', light],
    ['dark', dark],
  ] as const) {
    it(`keep text readable in the ${name} theme (WCAG AA, 4.5:1)`, () => {
      for (const [fg, bg] of textPairs) {
        expect({ fg, bg, enough: contrast(theme, fg, bg) >= 4.5 }).toEqual({ fg, bg, enough: true });
      }
    });

    it(`make the focus ring stand out in the ${name} theme (3:1)`, () => {
      expect(contrast(theme, '--color-focus', '--color-bg')).toBeGreaterThanOrEqual(3);
      expect(contrast(theme, '--color-focus', '--color-surface')).toBeGreaterThanOrEqual(3);
    });
  }
});

describe('the type', () => {
  // Hangul in a family that lacks it is drawn glyph by glyph from a fallback font the engine
  // must search for, which on Linux doubled the first paint's layout. Each desktop's own Korean
  // family, under the name it is installed as, comes before any generic family.
  const stack = (rule(tokens, ':root').get('--font-sans') ?? '').split(',').map((f) => f.trim().replace(/'/g, ''));
  const firstGeneric = stack.findIndex((f) => ['system-ui', '-apple-system', 'sans-serif'].includes(f));

  it.each([
    ['Windows', 'Malgun Gothic'],
    ['macOS', 'Apple SD Gothic Neo'],
    ['Linux (fonts-noto-cjk)', 'Noto Sans CJK KR'],
  ])('names the Korean family of %s before the generic ones', (_desktop, family) => {
    expect(firstGeneric).toBeGreaterThan(0);
    const at = stack.indexOf(family);
    expect(at, stack.join(', ')).toBeGreaterThanOrEqual(0);
    expect(at).toBeLessThan(firstGeneric);
  });

  // Each family fontconfig lacks is a search for every font the first paint draws.
  it('on Linux, names the family fonts-noto-cjk installs and then only generic ones', () => {
    const linux = rule(tokens, ":root[data-desktop='linux']");
    const families = (name: string) => (linux.get(name) ?? '').split(',').map((f) => f.trim().replace(/'/g, ''));
    expect(families('--font-sans')).toEqual(['Noto Sans CJK KR', 'sans-serif']);
    expect(families('--font-mono')).toEqual(['monospace']);
  });
});
