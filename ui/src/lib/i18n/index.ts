// Messages in Korean and English: the typed keys, the lookup and the interpolation.
// Which language is current lives in locale.svelte.ts; this module is pure.

import type { Lang } from '../lang';
import { en } from './en';
import { ko } from './ko';

/** A dictionary: Korean's shape with every message widened to string. */
export type Dictionary = Widen<typeof ko>;
type Widen<T> = { readonly [K in keyof T]: T[K] extends string ? string : Widen<T[K]> };

/** Every message key, as a dotted path: 'nav.dashboard', 'time.minutes_ago.other'. */
export type MessageKey = Leaves<typeof ko>;
type Leaves<T, Prefix extends string = ''> = {
  [K in keyof T & string]: T[K] extends string ? `${Prefix}${K}` : Leaves<T[K], `${Prefix}${K}.`>;
}[keyof T & string];

/** Keys of count messages (nodes with `one` and `other`), without the last part. */
export type CountKey = {
  [K in MessageKey]: K extends `${infer Base}.other` ? (`${Base}.one` extends MessageKey ? Base : never) : never;
}[MessageKey];

/** A value filled into a placeholder. Money and times come formatted; numbers are shown bare. */
export type ParamValue = string | number | bigint;

// The placeholders of a key, read from the Korean message's literal type, so that `t` refuses a
// call that leaves one out or names one that does not exist.
type MessageAt<T, K extends string> = K extends `${infer Head}.${infer Rest}`
  ? Head extends keyof T
    ? MessageAt<T[Head], Rest>
    : never
  : K extends keyof T
    ? T[K]
    : never;
type Placeholders<S> = S extends `${string}{${infer Name}}${infer Rest}`
  ? Name | Placeholders<Rest>
  : never;
export type ParamsOf<K extends MessageKey> = Record<
  Placeholders<MessageAt<typeof ko, K>>,
  ParamValue
>;
/** The arguments after the key: none for a message without placeholders, else its params. */
export type ParamsArg<K extends MessageKey> = [Placeholders<MessageAt<typeof ko, K>>] extends [never]
  ? []
  : [params: ParamsOf<K>];

export const dictionaries: Readonly<Record<Lang, Dictionary>> = { ko, en };

/** The message for `key` in `lang`, with its placeholders filled in. */
export function translate<K extends MessageKey>(lang: Lang, key: K, ...args: ParamsArg<K>): string {
  const params: Readonly<Record<string, ParamValue>> = args[0] ?? {};
  return interpolate(lookup(dictionaries[lang], key), params);
}

/**
 * The message for `key` in `lang` cut at its placeholder `name`: the words before it and after
 * it. A screen puts the value between them in an element of its own, marked as data
 * (`translate="no"`), when it is a bank's or a person's words rather than the interface's.
 */
export function translateAround<K extends MessageKey>(
  lang: Lang,
  key: K,
  name: keyof ParamsOf<K> & string,
): [before: string, after: string] {
  const message = lookup(dictionaries[lang], key);
  const placeholder = `{${name}}`;
  const at = message.indexOf(placeholder);
  return at < 0 ? [message, ''] : [message.slice(0, at), message.slice(at + placeholder.length)];
}

/** A count message: `one` for exactly one, `other` otherwise, with `{n}` set to the count. */
export function translateCount(lang: Lang, key: CountKey, n: number): string {
  const form: 'one' | 'other' = n === 1 ? 'one' : 'other';
  return interpolate(lookup(dictionaries[lang], `${key}.${form}`), { n });
}

/** The placeholder names in a message, in order of appearance. */
export function placeholdersIn(message: string): string[] {
  return Array.from(message.matchAll(PLACEHOLDER), (m) => m[1] ?? '');
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

// A placeholder without a value stays visible as `{name}`: a visibly odd message is better than
// a crashed screen, and the types already make it a compile error.
function interpolate(message: string, params: Readonly<Record<string, ParamValue>>): string {
  return message.replace(PLACEHOLDER, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : String(value);
  });
}

// The types guarantee the key exists; if a dictionary is ever built around them, the key itself
// is shown so the gap is obvious rather than blank.
function lookup(dictionary: Dictionary, key: string): string {
  let node: unknown = dictionary;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.prototype.hasOwnProperty.call(node, part)) return key;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'string' ? node : key;
}
