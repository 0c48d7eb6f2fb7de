import { beforeAll, describe, expect, it } from 'vitest';
import { textBoxes, type TextBox } from '../support/pdf-text.js';
import { createNoticeI18n } from '../../src/notices/all-locales-i18n.js';
import { renderNotice, type NoticeFacts } from '../../src/notices/render.js';
import { buildLettersPdf, type LetterToPrint } from '../../src/letters/pdf.js';
import { SUPPORTED_LOCALES, type I18n } from '../../src/platform/i18n.js';

/** Less than this much shared ink is two runs touching, not overlapping (rounding in the PDF). */
const TOLERANCE = 0.5;

function overlapping(a: TextBox, b: TextBox): boolean {
  return (
    a.page === b.page &&
    Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x) > TOLERANCE &&
    Math.min(a.top + a.height, b.top + b.height) - Math.max(a.top, b.top) > TOLERANCE
  );
}

/**
 * The runs of one line of text joined into one box. Right-to-left lines are set word by word, and
 * pdfjs measures a shaped Arabic word a few points wider than fontkit lays it out (it adds a space
 * for each glyph it cannot map back to a character), so neighbouring words of one line would seem to
 * touch. Runs on the same baseline, in the same size, less than an em apart, are one line; what this
 * test looks for is one line, block or caption set over another.
 */
function lines(boxes: TextBox[]): TextBox[] {
  const sorted = [...boxes].sort((a, b) => a.page - b.page || a.top - b.top || a.x - b.x);
  const joined: TextBox[] = [];
  for (const box of sorted) {
    const line = joined.find(
      (l) =>
        l.page === box.page &&
        Math.abs(l.top - box.top) < TOLERANCE &&
        Math.abs(l.height - box.height) < TOLERANCE &&
        box.x <= l.x + l.width + box.height &&
        box.x + box.width >= l.x - box.height,
    );
    if (!line) {
      joined.push({ ...box });
      continue;
    }
    const right = Math.max(line.x + line.width, box.x + box.width);
    line.x = Math.min(line.x, box.x);
    line.width = right - line.x;
    line.text = `${line.text} ${box.text}`;
  }
  return joined;
}

function overlaps(boxes: TextBox[]): string[] {
  const found: string[] = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i]!;
      const b = boxes[j]!;
      if (overlapping(a, b)) found.push(`page ${a.page}: “${a.text}” overlaps “${b.text}”`);
    }
  return found;
}

const facts: NoticeFacts = {
  organisation: 'Acme Bikes',
  name: 'Ada Lovelace',
  referenceCode: 'K7QM-4XW2-9HRT-B3ZD',
  lookupUrl: 'https://notice.acme.example/incidents/acme-2026',
  dataTypes: ['names', 'postal_addresses', 'payment_cards'],
  helpline: '+44 800 555 0123',
};

describe('letter layout', () => {
  let i18n: I18n;
  beforeAll(async () => {
    i18n = await createNoticeI18n();
  });

  function letter(locale: string, largePrint: boolean): LetterToPrint {
    return {
      messageId: 1,
      organisation: 'Acme Bikes',
      name: 'Ada Lovelace',
      postalAddress: '12 Harbour Street\nBristol\nBS1 4QA',
      largePrint,
      content: renderNotice(i18n.t, locale, 'initial_notice', 'letter', facts),
    };
  }

  for (const largePrint of [true, false])
    for (const locale of SUPPORTED_LOCALES)
      it(`sets no text over other text in a ${largePrint ? 'large-print' : 'standard'} letter in ${locale}`, async () => {
        const pdf = await buildLettersPdf([letter(locale, largePrint)], {
          envelope: 'DL',
          date: new Date('2026-03-02T10:00:00Z'),
          returnAddress: 'Acme Bikes Ltd, 1 Dock Road, Bristol BS1 1AA',
        });
        const boxes = await textBoxes(pdf);
        expect(boxes.length).toBeGreaterThan(10);
        expect(overlaps(lines(boxes))).toEqual([]);
      });

  it('finds the overlaps it is looking for, and none between the words of one line', () => {
    const a = { page: 1, text: 'a', x: 0, top: 0, width: 10, height: 10 };
    expect(overlaps(lines([a, { ...a, text: 'b', x: 5, top: 5 }]))).toHaveLength(1);
    expect(overlaps(lines([a, { ...a, text: 'c', top: 10 }]))).toEqual([]);
    expect(overlaps(lines([a, { ...a, text: 'd', x: 5, top: 5, page: 2 }]))).toEqual([]);
    const line = lines([a, { ...a, text: 'e', x: 8 }, { ...a, text: 'f', x: 20 }]);
    expect(line).toHaveLength(1);
    expect(overlaps([...line, { ...a, text: 'g', x: 25, top: 8 }])).toHaveLength(1);
  });
});
