// The page's theme choice, as Svelte 5 state: set it and the page changes and the choice is kept.
// App.svelte makes the one Appearance and provides it; a settings screen takes it with
// `useAppearance()`. The rules themselves are in theme.ts.

import { getContext, setContext } from 'svelte';
import type { PreferenceStore } from './preferences';
import { applyTheme, loadThemeChoice, saveThemeChoice, type ThemeChoice, type ThemeTarget } from './theme';

export class Appearance {
  #theme: ThemeChoice = $state('system');
  readonly #store: PreferenceStore | null;
  readonly #root: ThemeTarget | null;

  /** `root` is the page's <html> element, or null where there is no page (server rendering). */
  constructor(store: PreferenceStore | null, root: ThemeTarget | null) {
    this.#store = store;
    this.#root = root;
    this.#theme = loadThemeChoice(store);
    if (root !== null) applyTheme(root, this.#theme);
  }

  get theme(): ThemeChoice {
    return this.#theme;
  }

  set theme(choice: ThemeChoice) {
    this.#theme = choice;
    saveThemeChoice(this.#store, choice);
    if (this.#root !== null) applyTheme(this.#root, choice);
  }
}

const CONTEXT_KEY = Symbol('moa.appearance');

/** Makes `appearance` the page's for every component below the caller (App.svelte calls this). */
export function provideAppearance(appearance: Appearance): Appearance {
  return setContext(CONTEXT_KEY, appearance);
}

/** The page's Appearance, from a component under App.svelte. */
export function useAppearance(): Appearance {
  const appearance = getContext<Appearance | undefined>(CONTEXT_KEY);
  if (appearance === undefined) throw new Error('useAppearance() called outside App.svelte');
  return appearance;
}
