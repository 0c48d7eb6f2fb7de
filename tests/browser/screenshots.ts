/**
 * Takes the README's screenshots of the status page in English and Arabic, in Debian's Chromium.
 * Run: `npx tsx tests/browser/screenshots.ts` (PostgreSQL and Redis as for the tests).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestContext } from '../support/context.js';
import { makeIncident } from '../support/factories.js';
import { launchChromium } from '../support/browser.js';
import { postIncidentUpdate } from '../../src/incidents/service.js';

const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots');

const ctx = await startTestContext();
const browser = await launchChromium();
try {
  const incident = await makeIncident(ctx.deps, {
    slug: 'northwind-2026',
    organisationName: 'Northwind Outfitters',
    state: 'notifying',
    dataTypes: ['names', 'email_addresses', 'postal_addresses', 'payment_cards'],
    helplines: { en: '+44 800 111 2222', ar: '+44 800 111 3333', fr: '+33 1 23 45 67 89' },
    texts: {
      en: {
        title: 'Some customer details were exposed',
        whatHappened: 'On 18 November we found that someone had copied part of our customer list.',
        whatData: 'Names, email and postal addresses, and the last four digits of payment cards.',
        whatWeDid: 'We closed the gap the same day and asked security specialists to check every system.',
        whatYouShouldDo: 'Watch your card statements, and be wary of emails or calls about your orders.',
        howToGetHelp: 'Call our helpline, every day from 8 am to 8 pm.',
      },
      ar: {
        title: 'تعرّضت بعض بيانات العملاء للكشف',
        whatHappened: 'في 18 نوفمبر اكتشفنا أن شخصًا ما نسخ جزءًا من قائمة عملائنا.',
        whatData: 'الأسماء وعناوين البريد الإلكتروني والعناوين البريدية وآخر أربعة أرقام من بطاقات الدفع.',
        whatWeDid: 'أغلقنا الثغرة في اليوم نفسه وطلبنا من خبراء أمن فحص جميع أنظمتنا.',
        whatYouShouldDo: 'راقب كشوف حساب بطاقتك، واحذر من الرسائل أو المكالمات التي تتحدث عن طلباتك.',
        howToGetHelp: 'اتصل بخط المساعدة كل يوم من الثامنة صباحًا حتى الثامنة مساءً.',
      },
    },
  });
  await postIncidentUpdate(ctx.deps, {
    incidentId: incident.id,
    publishedAt: new Date('2026-11-20T10:00:00Z'),
    texts: {
      en: {
        title: 'Letters are on their way',
        body: 'Everyone affected will hear from us by email, text, phone or post this week.',
      },
      ar: {
        title: 'الرسائل في الطريق',
        body: 'سيتلقى كل شخص متأثر رسالة منا هذا الأسبوع بالبريد الإلكتروني أو رسالة نصية أو مكالمة أو بالبريد.',
      },
    },
  });
  const context = await browser.newContext({ viewport: { width: 900, height: 1200 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  for (const lang of ['en', 'ar']) {
    await page.goto(`${ctx.baseUrl}/incidents/${incident.slug}?lang=${lang}`);
    await page.screenshot({ path: path.join(OUT, `status-page-${lang}.png`), fullPage: false });
  }
  await context.close();
  process.stdout.write(`screenshots written to ${OUT}\n`);
} finally {
  await browser.close();
  await ctx.close();
}
