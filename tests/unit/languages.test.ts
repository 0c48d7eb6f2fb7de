import { beforeAll, describe, expect, it } from 'vitest';
import { createI18n, type I18n } from '../../src/platform/i18n.js';
import { fallbackMark, isolate, languageNames } from '../../src/platform/languages.js';
import { localizedEntry } from '../../src/incidents/store.js';
import { renderNotice } from '../../src/notices/render.js';
import { renderEmailHtml } from '../../src/notices/email.js';

const FSI = '\u2068';
const PDI = '\u2069';

describe('text in another language than the reader’s', () => {
  let i18n: I18n;
  beforeAll(async () => {
    i18n = await createI18n();
  });

  it('says which language a text fell back to: the asked one, the default, then any', () => {
    const texts = { en: 'hello', fr: 'bonjour' };
    expect(localizedEntry(texts, 'fr', 'en')).toEqual({ value: 'bonjour', locale: 'fr' });
    expect(localizedEntry(texts, 'ar', 'en')).toEqual({ value: 'hello', locale: 'en' });
    expect(localizedEntry({ de: 'hallo' }, 'ar', 'en')).toEqual({ value: 'hallo', locale: 'de' });
    expect(localizedEntry({}, 'ar', 'en')).toBeNull();
  });

  it('marks a fallback with its own lang and dir and names its language in the reader’s', () => {
    expect(fallbackMark('ar', 'ar')).toBeNull();
    expect(fallbackMark('ar', null)).toBeNull();
    expect(fallbackMark('ar', 'en')).toEqual({ lang: 'en', dir: 'ltr', name: 'الإنجليزية' });
    expect(fallbackMark('en', 'ar')).toEqual({ lang: 'ar', dir: 'rtl', name: 'Arabic' });
    expect(languageNames(['en', 'fr', 'en'], 'de')).toBe('Englisch oder Französisch');
  });

  it('isolates names and numbers put into Arabic sentences, and leaves other languages alone', () => {
    const ar = i18n.getFixedT('ar');
    const fr = i18n.getFixedT('fr');
    expect(ar('status:pageTitle', { organisation: 'Acme 12' })).toContain(`${FSI}Acme 12${PDI}`);
    expect(fr('status:pageTitle', { organisation: 'Acme 12' })).not.toContain(FSI);
    expect(isolate(isolate('x'))).toBe(`${FSI}x${PDI}`);
  });

  it('keeps an Arabic SMS’s reference code and link in their own order', () => {
    const notice = renderNotice(i18n.t, 'ar', 'initial_notice', 'sms', {
      organisation: 'Acme Bikes',
      name: null,
      referenceCode: 'AB12-CD34-EF56-GH78',
      lookupUrl: 'https://notice.acme.example/incidents/x',
      dataTypes: ['names'],
      helpline: null,
    });
    expect(notice.text).toContain(`${FSI}AB12-CD34-EF56-GH78${PDI}`);
    expect(notice.text).toContain(`${FSI}https://notice.acme.example/incidents/x${PDI}`);
  });

  it('marks an update with no Arabic text as English in the email, after a note in Arabic', () => {
    const notice = renderNotice(i18n.t, 'ar', 'update', 'email', {
      organisation: 'Acme Bikes',
      name: null,
      referenceCode: 'AB12-CD34-EF56-GH78',
      lookupUrl: 'https://notice.acme.example/incidents/x',
      dataTypes: ['names'],
      helpline: null,
      updateTitle: 'Backup removed',
      updateBody: 'We deleted 12 old copies.',
      updateLocale: 'en',
    });
    const update = notice.sections.findIndex((section) => section.heading === 'Backup removed');
    expect(notice.sections[update]?.mark).toEqual({ lang: 'en', dir: 'ltr', name: 'الإنجليزية' });
    expect(notice.sections[update - 1]?.paragraphs).toEqual([
      `هذا الجزء متاح باللغة ${FSI}الإنجليزية${PDI} فقط.`,
    ]);
    const html = renderEmailHtml(notice);
    expect(html).toMatch(/<h2 lang="en" dir="ltr"[^>]*>Backup removed<\/h2>/);
    expect(html).toMatch(/<p lang="en" dir="ltr"[^>]*>We deleted 12 old copies.<\/p>/);

    const own = renderNotice(i18n.t, 'ar', 'update', 'email', {
      organisation: 'Acme Bikes',
      name: null,
      referenceCode: 'AB12-CD34-EF56-GH78',
      lookupUrl: 'https://notice.acme.example/incidents/x',
      dataTypes: ['names'],
      helpline: null,
      updateTitle: 'تم حذف النسخة',
      updateBody: 'حذفنا النسخ القديمة.',
      updateLocale: 'ar',
    });
    expect(own.sections.some((section) => section.mark)).toBe(false);
    expect(renderEmailHtml(own)).not.toContain('lang="en"');
  });
});
