// The current language, as Svelte 5 state: components that call `locale.t(...)` re-render when
// it changes. The choice is kept as a preference; Korean until the person picks otherwise.
// App.svelte makes the one Locale and provides it; every component below takes it with
// `useLocale()`.

import { getContext, setContext } from 'svelte';
import { DEFAULT_LANG, isLang, type Lang } from '../lang';
import { readPreference, writePreference, PREFERENCE_KEYS, type PreferenceStore } from '../preferences';
import {
  translate,
  translateAround,
  translateCount,
  type CountKey,
  type MessageKey,
  type ParamsArg,
  type ParamsOf,
} from './index';

export class Locale {
  #lang: Lang = $state(DEFAULT_LANG);
  readonly #store: PreferenceStore | null;

  constructor(store: PreferenceStore | null) {
    this.#store = store;
    const saved = readPreference(store, PREFERENCE_KEYS.lang);
    if (isLang(saved)) this.#lang = saved;
  }

  get lang(): Lang {
    return this.#lang;
  }

  set lang(lang: Lang) {
    this.#lang = lang;
    writePreference(this.#store, PREFERENCE_KEYS.lang, lang);
  }

  /** The message for `key` in the current language. */
  t = <K extends MessageKey>(key: K, ...params: ParamsArg<K>): string =>
    translate(this.#lang, key, ...params);

  /** A message in the current language cut at its placeholder `name`: [before, after]. */
  tAround = <K extends MessageKey>(key: K, name: keyof ParamsOf<K> & string): [before: string, after: string] =>
    translateAround(this.#lang, key, name);

  /** A count message in the current language. */
  tCount = (key: CountKey, n: number): string => translateCount(this.#lang, key, n);
}

const CONTEXT_KEY = Symbol('moa.locale');

/** Makes `locale` the language of every component below the caller (App.svelte calls this). */
export function provideLocale(locale: Locale): Locale {
  return setContext(CONTEXT_KEY, locale);
}

/** The page's Locale, from a component under App.svelte. */
export function useLocale(): Locale {
  const locale = getContext<Locale | undefined>(CONTEXT_KEY);
  if (locale === undefined) throw new Error('useLocale() called outside App.svelte');
  return locale;
}
