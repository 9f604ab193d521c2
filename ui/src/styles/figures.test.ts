import { describe, expect, it } from 'vitest';

// Every stylesheet of the UI, by path: the global ones and each component's <style>.
const sources = import.meta.glob<string>(['/src/**/*.css', '/src/**/*.svelte'], {
  query: '?raw',
  import: 'default',
  eager: true,
});
const stylesheets = Object.entries(sources).map(([path, text]): [string, string] => [
  path.slice(1),
  path.endsWith('.css') ? text : (/<style>([\s\S]*?)<\/style>/.exec(text)?.[1] ?? ''),
]);

// The selectors of every rule that sets one of `properties`.
function selectorsSetting(css: string, properties: RegExp): string[] {
  const found: string[] = [];
  for (const m of css.matchAll(/([^{}]+)\{([^{}]*)\}/g)) {
    if (properties.test(m[2] ?? '')) found.push((m[1] ?? '').replace(/\/\*[\s\S]*?\*\//g, '').trim());
  }
  return found;
}

describe('figures', () => {
  it('ask for a font feature only where amounts stand in a column', () => {
    // WebKitGTK shapes text that asks for any font feature through its slower path: every
    // amount on the dashboard's first frame would pay for it.
    const features = /font-variant-numeric|font-feature-settings/;
    expect(stylesheets.length).toBeGreaterThan(10);
    const asking = stylesheets.flatMap(([path, css]) =>
      selectorsSetting(css, features).map((selector) => `${path}: ${selector}`),
    );
    expect(asking).toEqual(['src/styles/components.css: table.data .num,\ndl.facts dd']);
  });
});

describe('text only screen readers hear', () => {
  it('is set in the font of its parent, so a hidden heading makes no font of its own', () => {
    const base = stylesheets.find(([path]) => path === 'src/styles/base.css')?.[1] ?? '';
    const rule = /\.visually-hidden\s*\{([^}]*)\}/.exec(base)?.[1] ?? '';
    expect(rule).toContain('clip: rect(0 0 0 0)');
    expect(rule).toMatch(/(^|;)\s*font:\s*inherit;/);
  });
});
