/**
 * Text shown in a language other than the reader's, and names and numbers inside right-to-left text.
 * Pure helpers for views and plain-text channels alike; i18n.ts builds on them, never the reverse.
 */

export const RTL_LOCALES: ReadonlySet<string> = new Set(['ar']);

export function textDirection(locale: string): 'rtl' | 'ltr' {
  return RTL_LOCALES.has(locale.split('-')[0] ?? '') ? 'rtl' : 'ltr';
}

/** U+2068 FIRST STRONG ISOLATE … U+2069 POP DIRECTIONAL ISOLATE: plain text's `<bdi>`. */
const FSI = '\u2068';
const PDI = '\u2069';

/**
 * Wraps a value so the bidi algorithm lays it out on its own: "12 months of credit monitoring" stays
 * in that order inside an Arabic sentence instead of becoming "months of credit monitoring 12".
 */
export function isolate(value: string): string {
  return value === '' || value.startsWith(FSI) ? value : `${FSI}${value}${PDI}`;
}

/** Interpolated values in a right-to-left language are isolated; in other languages left as they are. */
export function isolateFor(locale: string | undefined, value: unknown): unknown {
  if (!locale || textDirection(locale) !== 'rtl') return value;
  if (typeof value === 'string') return isolate(value);
  if (typeof value === 'number') return isolate(String(value));
  return value;
}

/** A language's name in another language: English in Arabic is "الإنجليزية". */
export function languageName(ofLocale: string, inLocale: string): string {
  try {
    return new Intl.DisplayNames([inLocale], { type: 'language' }).of(ofLocale) ?? ofLocale;
  } catch {
    return ofLocale;
  }
}

/** How a part written in another language than the page is marked: its own lang and dir. */
export interface LanguageMark {
  lang: string;
  dir: 'ltr' | 'rtl';
  /** The part's language named in the page's language, for "only available in …". */
  name: string;
}

/** The mark for text in `textLocale` on a page in `pageLocale`, or null when they are the same. */
export function fallbackMark(pageLocale: string, textLocale: string | null | undefined): LanguageMark | null {
  if (!textLocale || textLocale === pageLocale) return null;
  return { lang: textLocale, dir: textDirection(textLocale), name: languageName(textLocale, pageLocale) };
}

/** Several languages' names as one phrase in the reader's language: "English or French". */
export function languageNames(ofLocales: readonly string[], inLocale: string): string {
  const names = [...new Set(ofLocales)].map((locale) => languageName(locale, inLocale));
  try {
    return new Intl.ListFormat([inLocale], { type: 'disjunction' }).format(names);
  } catch {
    return names.join(', ');
  }
}
