// The person's display preferences kept between runs: language and theme, nothing else.
//
// They live in the webview's localStorage, which is plain text on disk and readable by any script
// in the page. So only choices that are harmless to leak go here; tokens, account numbers and
// anything from the bank never do (secrets stay in Rust, in the OS keyring).

/** The part of `Storage` preferences need, so tests and private modes can pass their own. */
export interface PreferenceStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** Every key Moa writes to localStorage. Adding one means adding it here. */
export const PREFERENCE_KEYS = {
  lang: 'moa.lang',
  theme: 'moa.theme',
} as const;

export type PreferenceKey = (typeof PREFERENCE_KEYS)[keyof typeof PREFERENCE_KEYS];

/** Reads a preference; a store that throws (storage disabled) reads as unset. */
export function readPreference(store: PreferenceStore | null, key: PreferenceKey): string | null {
  if (store === null) return null;
  try {
    return store.getItem(key);
  } catch {
    return null;
  }
}

/** Writes a preference; a store that throws (full, disabled) keeps the choice for this run only. */
export function writePreference(store: PreferenceStore | null, key: PreferenceKey, value: string): void {
  if (store === null) return;
  try {
    store.setItem(key, value);
  } catch {
    // Nothing to do: the choice still applies until the app closes.
  }
}

/** The webview's localStorage, or null where there is none (tests, locked-down webviews). */
export function browserPreferenceStore(): PreferenceStore | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}
