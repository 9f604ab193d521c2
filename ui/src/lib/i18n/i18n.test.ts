import { describe, expect, it } from 'vitest';
import { en } from './en';
import { dictionaries, placeholdersIn, translate, translateAround, translateCount } from './index';
import { ko } from './ko';
import { Locale } from './locale.svelte';
import type { PreferenceStore } from '../preferences';

type Tree = { readonly [key: string]: string | Tree };

// Every leaf of a dictionary as [dotted key, message].
function leaves(tree: Tree, prefix = ''): Array<[string, string]> {
  return Object.entries(tree).flatMap(([key, value]): Array<[string, string]> =>
    typeof value === 'string' ? [[prefix + key, value]] : leaves(value, `${prefix}${key}.`),
  );
}

const koLeaves = new Map(leaves(ko));
const enLeaves = new Map(leaves(en));

describe('the dictionaries', () => {
  it('have exactly the same keys, at every depth', () => {
    expect([...enLeaves.keys()].sort()).toEqual([...koLeaves.keys()].sort());
  });

  it('use the same placeholders for every key', () => {
    for (const [key, message] of koLeaves) {
      const english = enLeaves.get(key) ?? '';
      expect({ key, placeholders: placeholdersIn(english).sort() }).toEqual({
        key,
        placeholders: placeholdersIn(message).sort(),
      });
    }
  });

  it('have no empty messages and no unclosed braces', () => {
    for (const [key, message] of [...koLeaves, ...enLeaves]) {
      expect(message.trim(), key).not.toBe('');
      expect(message.replace(/\{[A-Za-z_][A-Za-z0-9_]*\}/g, ''), key).not.toMatch(/[{}]/);
    }
  });

  it('put no Korean particle straight after a placeholder', () => {
    for (const [key, message] of koLeaves) {
      expect(message, key).not.toMatch(/\}(은|는|이|가|을|를|과|와|으로|로)(?![가-힣])/);
    }
  });

  it('give every count message both forms and {n} in the general one', () => {
    const counts = [...koLeaves.keys()].filter((k) => k.endsWith('.other'));
    expect(counts.length).toBeGreaterThan(0);
    for (const key of counts) {
      const base = key.slice(0, -'.other'.length);
      expect(koLeaves.has(`${base}.one`), base).toBe(true);
      expect(placeholdersIn(koLeaves.get(key) ?? ''), key).toContain('n');
    }
  });

  it('name the app 모아 in Korean and Moa in English', () => {
    expect(dictionaries.ko.app.name).toBe('모아');
    expect(dictionaries.en.app.name).toBe('Moa');
  });
});

describe('translate', () => {
  it('looks a key up in the given language', () => {
    expect(translate('ko', 'nav.transfer')).toBe('이체');
    expect(translate('en', 'nav.transfer')).toBe('Transfer');
    expect(translate('ko', 'bank_status.down')).toBe('장애');
    expect(translate('en', 'bank_status.not_open')).toBe('Not yet open');
  });

  it('fills placeholders with the values given', () => {
    expect(translate('ko', 'time.as_of', { when: '3분 전' })).toBe('3분 전 기준');
    expect(translate('en', 'time.as_of', { when: '3 minutes ago' })).toBe('as of 3 minutes ago');
    expect(translate('ko', 'amount.error.over_balance', { max: '10,000원' })).toBe(
      '출금 가능 금액(10,000원)보다 많아요.',
    );
  });

  it('shows bigint and number values as their digits', () => {
    expect(translate('en', 'amount.error.over_daily_limit', { max: 5000n })).toContain('(5000)');
  });

  it('does not treat replacement patterns in values specially', () => {
    expect(translate('en', 'dashboard.incident_to', { name: "$& $' $1" })).toBe("To: $& $' $1");
  });

  it('leaves a placeholder visible when its value is missing', () => {
    // The types forbid this call; the cast stands in for a mistake that slipped past them.
    const params = {} as { max: string };
    expect(translate('ko', 'amount.error.over_balance', params)).toBe(
      '출금 가능 금액({max})보다 많아요.',
    );
  });
});

describe('translateAround', () => {
  it('gives the words before and after a placeholder, so the value can be marked as data', () => {
    expect(translateAround('en', 'dashboard.incident_to', 'name')).toEqual(['To: ', '']);
    expect(translateAround('ko', 'dashboard.incident_to', 'name')).toEqual(['받는 분: ', '']);
    expect(translateAround('en', 'settings.cancel_confirm', 'account')).toEqual(['Disconnect ', '?']);
  });

  it('joined around the value, reads as the whole message does', () => {
    for (const lang of ['ko', 'en'] as const) {
      const [before, after] = translateAround(lang, 'dashboard.incident_to', 'name');
      expect(before + '홍길동' + after).toBe(translate(lang, 'dashboard.incident_to', { name: '홍길동' }));
    }
  });
});

describe('translateCount', () => {
  it('uses the singular form for exactly one in English', () => {
    expect(translateCount('en', 'time.minutes_ago', 1)).toBe('1 minute ago');
    expect(translateCount('en', 'time.minutes_ago', 3)).toBe('3 minutes ago');
    expect(translateCount('en', 'time.hours_ago', 0)).toBe('0 hours ago');
  });

  it('reads naturally in Korean for any count', () => {
    expect(translateCount('ko', 'time.minutes_ago', 1)).toBe('1분 전');
    expect(translateCount('ko', 'time.days_ago', 12)).toBe('12일 전');
  });
});

class MemoryStore implements PreferenceStore {
  readonly values = new Map<string, string>();
  getItem(key: string): string | null {
    return this.values.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.values.set(key, value);
  }
}

describe('Locale', () => {
  it('speaks Korean until told otherwise', () => {
    const locale = new Locale(new MemoryStore());
    expect(locale.lang).toBe('ko');
    expect(locale.t('app.name')).toBe('모아');
  });

  it('switches language and remembers the choice', () => {
    const store = new MemoryStore();
    const locale = new Locale(store);
    locale.lang = 'en';
    expect(locale.t('nav.settings')).toBe('Settings');
    expect(locale.tCount('time.days_ago', 2)).toBe('2 days ago');
    expect(store.values.get('moa.lang')).toBe('en');
    expect(new Locale(store).lang).toBe('en');
  });

  it('ignores a stored value that is not a language', () => {
    const store = new MemoryStore();
    store.setItem('moa.lang', 'fr');
    expect(new Locale(store).lang).toBe('ko');
  });

  it('works without any storage', () => {
    const locale = new Locale(null);
    locale.lang = 'en';
    expect(locale.t('app.name')).toBe('Moa');
  });
});

describe('the types of translate', () => {
  it('refuse unknown keys and wrong placeholders at compile time', () => {
    // Each line below must fail `npm run check`; if the types loosen, the directive itself fails.
    // @ts-expect-error: there is no such key
    expect(translate('ko', 'nav.nowhere')).toBe('nav.nowhere');
    // @ts-expect-error: `when` is required
    expect(translate('en', 'time.as_of')).toBe('as of {when}');
    // @ts-expect-error: `nav.transfer` takes no values
    expect(translate('en', 'nav.transfer', { when: 'now' })).toBe('Transfer');
    // @ts-expect-error: the placeholder is `when`, not `then`
    expect(translate('en', 'time.as_of', { then: 'now' })).toBe('as of {when}');
  });
});
