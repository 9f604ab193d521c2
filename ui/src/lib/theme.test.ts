import { describe, expect, it } from 'vitest';
import { Appearance } from './appearance.svelte';
import type { PreferenceStore } from './preferences';
import {
  applyTheme,
  loadThemeChoice,
  resolveTheme,
  saveThemeChoice,
  type ThemeTarget,
} from './theme';

class MemoryStore implements PreferenceStore {
  readonly values = new Map<string, string>();
  getItem(key: string): string | null {
    return this.values.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.values.set(key, value);
  }
}

class BrokenStore implements PreferenceStore {
  getItem(): string | null {
    throw new Error('SecurityError: storage is disabled');
  }
  setItem(): void {
    throw new Error('QuotaExceededError');
  }
}

class FakeRoot implements ThemeTarget {
  readonly attributes = new Map<string, string>();
  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
  }
  removeAttribute(name: string): void {
    this.attributes.delete(name);
  }
}

describe('theme choice', () => {
  it('follows the system until the person chooses', () => {
    expect(loadThemeChoice(new MemoryStore())).toBe('system');
    expect(loadThemeChoice(null)).toBe('system');
  });

  it('is remembered under moa.theme', () => {
    const store = new MemoryStore();
    saveThemeChoice(store, 'dark');
    expect(store.values.get('moa.theme')).toBe('dark');
    expect(loadThemeChoice(store)).toBe('dark');
  });

  it('falls back to the system for values it does not know', () => {
    const store = new MemoryStore();
    store.setItem('moa.theme', 'sepia');
    expect(loadThemeChoice(store)).toBe('system');
  });

  it('survives storage that refuses to be read or written', () => {
    expect(loadThemeChoice(new BrokenStore())).toBe('system');
    expect(() => saveThemeChoice(new BrokenStore(), 'light')).not.toThrow();
  });
});

describe('resolveTheme', () => {
  it('takes the system appearance only for the system choice', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
    expect(resolveTheme('dark', false)).toBe('dark');
  });
});

describe('applyTheme', () => {
  it('marks the root for an explicit choice and clears it for the system', () => {
    const root = new FakeRoot();
    applyTheme(root, 'dark');
    expect(root.attributes.get('data-theme')).toBe('dark');
    applyTheme(root, 'light');
    expect(root.attributes.get('data-theme')).toBe('light');
    applyTheme(root, 'system');
    expect(root.attributes.has('data-theme')).toBe(false);
  });
});

describe('Appearance', () => {
  it('puts the saved choice on the page as soon as it is made', () => {
    const store = new MemoryStore();
    store.setItem('moa.theme', 'dark');
    const root = new FakeRoot();
    const appearance = new Appearance(store, root);
    expect(appearance.theme).toBe('dark');
    expect(root.attributes.get('data-theme')).toBe('dark');
  });

  it('applies and remembers a new choice', () => {
    const store = new MemoryStore();
    const root = new FakeRoot();
    const appearance = new Appearance(store, root);
    expect(root.attributes.has('data-theme')).toBe(false);
    appearance.theme = 'light';
    expect(root.attributes.get('data-theme')).toBe('light');
    expect(store.values.get('moa.theme')).toBe('light');
    appearance.theme = 'system';
    expect(root.attributes.has('data-theme')).toBe(false);
    expect(new Appearance(store, null).theme).toBe('system');
  });
});
