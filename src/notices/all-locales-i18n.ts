import fs from 'node:fs';
import path from 'node:path';
import i18next, { type Resource, type ResourceLanguage } from 'i18next';
import { LOCALES_DIR, type I18n } from '../platform/i18n.js';
import { NOTICE_LOCALES } from './locales.js';

/**
 * An i18next instance holding the notice texts of every language we ship, whether or not the rest of
 * the product speaks it yet: for previews, sample renders and tests. Missing namespaces fall back to
 * English.
 */
export async function createNoticeI18n(): Promise<I18n> {
  const resources: Resource = {};
  for (const locale of NOTICE_LOCALES) {
    const language: ResourceLanguage = {};
    for (const namespace of ['common', 'notices']) {
      const file = path.join(LOCALES_DIR, locale, `${namespace}.json`);
      if (fs.existsSync(file))
        language[namespace] = JSON.parse(fs.readFileSync(file, 'utf8')) as ResourceLanguage;
    }
    resources[locale] = language;
  }
  const instance = i18next.createInstance();
  await instance.init({
    resources,
    ns: ['common', 'notices'],
    defaultNS: 'common',
    fallbackLng: 'en',
    interpolation: { escapeValue: false },
    returnNull: false,
    initAsync: false,
  });
  return instance;
}
