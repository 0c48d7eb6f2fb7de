import path from 'node:path';
import { fileURLToPath } from 'node:url';
import i18next, { type FormatterModule, type i18n, type TFunction } from 'i18next';
import FsBackend from 'i18next-fs-backend';
import { isolateFor } from './languages.js';

export type { TFunction };
export type I18n = i18n;

export const LOCALES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../locales');

/** Every locale the product ships complete; tests/locales.test.ts fails when a key is missing from one. */
export const SUPPORTED_LOCALES = ['en', 'fr', 'es', 'de', 'pt', 'zh-Hans', 'ar', 'hi'] as const;
export type SupportedLocale = (typeof SUPPORTED_LOCALES)[number];
export const LANGUAGE_COOKIE = 'candor_lang';
export { RTL_LOCALES, textDirection } from './languages.js';

/** One namespace per area of the product. */
export const NAMESPACES = [
  'common',
  'status',
  'notices',
  'lookup',
  'personal',
  'guidance',
  'support',
  'subscribe',
  'console',
  'codes',
  'inbound',
  'deliveries',
  'drafting',
  'meta',
  'staff',
  'languages',
  'letters',
  'imports',
  'time',
] as const;

/**
 * Names and numbers put into right-to-left sentences keep their own order ("12 months of …"), in
 * pages and plain-text channels alike (src/platform/languages.ts). Our locale files use no i18next
 * format names, so this formatter stands in for the built-in one.
 */
const rtlIsolation: FormatterModule = {
  type: 'formatter',
  init: () => undefined,
  add: () => undefined,
  addCached: () => undefined,
  format: (value: unknown, _format: string | undefined, lng: string | undefined) =>
    isolateFor(lng, value) as string,
};

export async function createI18n(): Promise<I18n> {
  const instance = i18next.createInstance();
  await instance
    .use(FsBackend)
    .use(rtlIsolation)
    .init({
      backend: { loadPath: path.join(LOCALES_DIR, '{{lng}}/{{ns}}.json') },
      supportedLngs: [...SUPPORTED_LOCALES],
      preload: [...SUPPORTED_LOCALES],
      load: 'currentOnly',
      ns: [...NAMESPACES],
      defaultNS: 'common',
      fallbackLng: 'en',
      // EJS escapes on output and plain-text channels must not see HTML entities.
      interpolation: { escapeValue: false, alwaysFormat: true },
      returnNull: false,
      initAsync: false,
    });
  return instance;
}

/** The supported locale closest to a BCP 47 tag: exact, then the same language, then English. */
export function resolveLocale(tag: string | null | undefined): SupportedLocale {
  if (!tag) return 'en';
  const supported = SUPPORTED_LOCALES as readonly string[];
  if (supported.includes(tag)) return tag as SupportedLocale;
  const language = tag.split('-')[0]?.toLowerCase();
  const match = SUPPORTED_LOCALES.find((locale) => locale.split('-')[0] === language);
  return match ?? 'en';
}
