import { beforeAll, describe, expect, it } from 'vitest';
import { textBoxes } from '../support/pdf-text.js';
import { createNoticeI18n } from '../../src/notices/all-locales-i18n.js';
import { renderNotice, type NoticeFacts } from '../../src/notices/render.js';
import { buildLettersPdf, type LetterToPrint } from '../../src/letters/pdf.js';
import { envelopeWindow, type Envelope } from '../../src/letters/layout.js';
import type { I18n } from '../../src/platform/i18n.js';

const facts: NoticeFacts = {
  organisation: 'Acme Bikes',
  name: 'Ada Lovelace',
  referenceCode: 'K7QM-4XW2-9HRT-B3ZD',
  lookupUrl: 'https://notice.acme.example/incidents/acme-2026',
  dataTypes: ['names', 'postal_addresses'],
  helpline: '+44 800 555 0123',
};

describe('printed letters', () => {
  let i18n: I18n;
  beforeAll(async () => {
    i18n = await createNoticeI18n();
  });

  function letter(overrides: Partial<LetterToPrint> = {}, locale = 'en'): LetterToPrint {
    return {
      messageId: 1,
      organisation: 'Acme Bikes',
      name: 'Ada Lovelace',
      postalAddress: '12 Harbour Street\nBristol\nBS1 4QA',
      largePrint: false,
      content: renderNotice(i18n.t, locale, 'initial_notice', 'letter', facts),
      ...overrides,
    };
  }

  for (const envelope of ['DL', 'C5'] as Envelope[]) {
    it(`puts every line of the address inside the ${envelope} envelope window`, async () => {
      const pdf = await buildLettersPdf([letter()], { envelope, date: new Date('2026-03-02') });
      const text = await textBoxes(pdf);
      const window = envelopeWindow(envelope);
      for (const line of ['Ada Lovelace', '12 Harbour Street', 'Bristol', 'BS1 4QA']) {
        const found = text.find((t) => t.page === 1 && t.text === line);
        expect(found, line).toBeDefined();
        const box = found!;
        expect(box.x, line).toBeGreaterThanOrEqual(window.x);
        expect(box.x + box.width, line).toBeLessThanOrEqual(window.x + window.width);
        expect(box.top, line).toBeGreaterThanOrEqual(window.y);
        expect(box.top + box.height, line).toBeLessThanOrEqual(window.y + window.height);
      }
      // Nothing else may show through the window.
      const intruders = text.filter(
        (t) =>
          t.page === 1 &&
          !['Ada Lovelace', '12 Harbour Street', 'Bristol', 'BS1 4QA'].includes(t.text) &&
          t.top + t.height > window.y &&
          t.top < window.y + window.height &&
          t.x < window.x + window.width,
      );
      expect(intruders.map((t) => t.text)).toEqual([]);
    });
  }

  it('prints the reference code, the lookup address and the notice on the first page', async () => {
    const pdf = await buildLettersPdf([letter()], { envelope: 'DL', date: new Date('2026-03-02') });
    const firstPage = (await textBoxes(pdf))
      .filter((t) => t.page === 1)
      .map((t) => t.text)
      .join(' ');
    expect(firstPage).toContain('K7QM-4XW2-9HRT-B3ZD');
    expect(firstPage).toContain('https://notice.acme.example/incidents/acme-2026');
    expect(firstPage).toContain('Your reference code');
    expect(firstPage).toContain('What happened');
  });

  it('starts each person’s letter on a new page, so a batch can be split', async () => {
    const pdf = await buildLettersPdf([letter(), letter({ name: 'Léa Dubois', messageId: 2 }, 'fr')], {
      envelope: 'DL',
      date: new Date('2026-03-02'),
    });
    const text = await textBoxes(pdf);
    const ada = text.find((t) => t.text === 'Ada Lovelace')!;
    const lea = text.find((t) => t.text === 'Léa Dubois')!;
    expect(lea.page).toBeGreaterThan(ada.page);
    expect(text.some((t) => t.page === lea.page && t.text.includes('Votre code de référence'))).toBe(true);
  });

  it('sets a large-print letter in type of at least 16 points', async () => {
    const pdf = await buildLettersPdf([letter({ largePrint: true })], {
      envelope: 'DL',
      date: new Date('2026-03-02'),
    });
    const text = await textBoxes(pdf);
    const intro = text.find((t) => t.text.startsWith('We are writing'))!;
    expect(intro.height).toBeGreaterThanOrEqual(16);
    const regular = await textBoxes(
      await buildLettersPdf([letter()], { envelope: 'DL', date: new Date('2026-03-02') }),
    );
    expect(regular.find((t) => t.text.startsWith('We are writing'))!.height).toBeLessThan(12);
  });

  it('prints letters in Chinese, Arabic and Hindi with fonts that cover them', async () => {
    for (const [locale, script] of [
      ['zh-Hans', /\p{Script=Han}/u],
      ['ar', /\p{Script=Arabic}/u],
      ['hi', /\p{Script=Devanagari}/u],
    ] as const) {
      const pdf = await buildLettersPdf([letter({}, locale)], {
        envelope: 'DL',
        date: new Date('2026-03-02'),
      });
      const text = (await textBoxes(pdf)).map((t) => t.text).join(' ');
      expect(text, locale).toMatch(script);
      expect(text, locale).toContain('K7QM-4XW2-9HRT-B3ZD');
    }
  });
});
