/**
 * Renders sample notices to files, for the README pictures and for eyeballing a change:
 *   npx tsx scripts/sample-notices.ts out/   → out/email.html, out/letter.pdf, out/letter-<locale>.pdf
 * Then (optional, needs chromium and poppler-utils):
 *   chromium --headless --no-sandbox --screenshot=docs/email.png --window-size=720,1400 out/email.html
 *   pdftoppm -png -r 80 -f 1 -l 1 -singlefile out/letter.pdf docs/letter
 */
import fs from 'node:fs';
import path from 'node:path';
import { NOTICE_LOCALES } from '../src/notices/locales.js';
import { createNoticeI18n } from '../src/notices/all-locales-i18n.js';
import { renderNotice, type NoticeFacts } from '../src/notices/render.js';
import { renderEmailHtml } from '../src/notices/email.js';
import { buildLettersPdf } from '../src/letters/pdf.js';

const out = process.argv[2] ?? 'out';
fs.mkdirSync(out, { recursive: true });

const i18n = await createNoticeI18n();

const facts: NoticeFacts = {
  organisation: 'Northwind Bikes',
  name: 'Ada Lovelace',
  referenceCode: 'K7QM-4XW2-9HRT-B3ZD',
  lookupUrl: 'https://notice.northwind.example/incidents/northwind-2026',
  dataTypes: ['names', 'email_addresses', 'postal_addresses', 'payment_cards'],
  helpline: '+44 800 555 0123',
};

fs.writeFileSync(
  path.join(out, 'email.html'),
  renderEmailHtml(renderNotice(i18n.t, 'en', 'initial_notice', 'email', facts)),
);

const letter = (locale: string, largePrint = false) => ({
  messageId: 1,
  organisation: facts.organisation,
  name: facts.name,
  postalAddress: '12 Harbour Street\nFlat 3\nBristol\nBS1 4QA\nUnited Kingdom',
  largePrint,
  content: renderNotice(i18n.t, locale, 'initial_notice', 'letter', facts),
});
const date = new Date('2026-03-02T10:00:00Z');
fs.writeFileSync(
  path.join(out, 'letter.pdf'),
  await buildLettersPdf([letter('en')], { envelope: 'DL', date }),
);
fs.writeFileSync(
  path.join(out, 'letter-large-print.pdf'),
  await buildLettersPdf([letter('en', true)], { envelope: 'DL', date }),
);
for (const locale of NOTICE_LOCALES)
  fs.writeFileSync(
    path.join(out, `letter-${locale}.pdf`),
    await buildLettersPdf([letter(locale)], { envelope: 'DL', date }),
  );
process.stdout.write(`written to ${out}/\n`);
