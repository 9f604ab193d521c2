// Light, dark or follow the system: the person's choice, where it is kept, and how it reaches
// the page. The colours themselves are in styles/tokens.css.
//
// "system" sets nothing on the page and lets the `prefers-color-scheme` media query decide, so
// the app follows the OS the moment it changes, with no listener to keep in step.

import { readPreference, writePreference, PREFERENCE_KEYS, type PreferenceStore } from './preferences';

export const THEME_CHOICES = ['system', 'light', 'dark'] as const;
export type ThemeChoice = (typeof THEME_CHOICES)[number];
export type Theme = 'light' | 'dark';

/** The media query for a dark system appearance. */
export const DARK_SCHEME_QUERY = '(prefers-color-scheme: dark)';

/** The attribute on <html> that tokens.css reads: absent for system, else "light" or "dark". */
export const THEME_ATTRIBUTE = 'data-theme';

export function isThemeChoice(value: unknown): value is ThemeChoice {
  return typeof value === 'string' && (THEME_CHOICES as readonly string[]).includes(value);
}

/** The saved choice, or "system" when none (or something unrecognised) is saved. */
export function loadThemeChoice(store: PreferenceStore | null): ThemeChoice {
  const saved = readPreference(store, PREFERENCE_KEYS.theme);
  return isThemeChoice(saved) ? saved : 'system';
}

export function saveThemeChoice(store: PreferenceStore | null, choice: ThemeChoice): void {
  writePreference(store, PREFERENCE_KEYS.theme, choice);
}

/** The theme a choice comes to, given whether the system currently prefers dark. */
export function resolveTheme(choice: ThemeChoice, systemPrefersDark: boolean): Theme {
  if (choice === 'system') return systemPrefersDark ? 'dark' : 'light';
  return choice;
}

/** The part of an element that applying a theme touches. */
export interface ThemeTarget {
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
}

/** Puts a choice on the page's root element, where tokens.css picks it up. */
export function applyTheme(root: ThemeTarget, choice: ThemeChoice): void {
  if (choice === 'system') root.removeAttribute(THEME_ATTRIBUTE);
  else root.setAttribute(THEME_ATTRIBUTE, choice);
}
