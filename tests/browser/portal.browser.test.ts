import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { makeIncident, makePeople, makePerson } from '../support/factories.js';
import { accessibilityViolations, launchChromium } from '../support/browser.js';
import { createHtmlValidator } from '../support/html-validator.js';
import { prepareFonts } from '../../src/web/fonts.js';
import { SUPPORTED_LOCALES, textDirection } from '../../src/platform/i18n.js';

/**
 * The public pages in real headless Chromium: the journey a worried customer takes, with and without
 * JavaScript, and axe-core over every public page in every language.
 */
describe('the public portal in a browser', () => {
  let ctx: TestContext;
  let browser: Browser;
  let slug: string;
  let incidentId: number;
  let reference: string;
  let personId: number;
  const html = createHtmlValidator();

  beforeAll(async () => {
    ctx = await startTestContext({ workers: true });
    const incident = await makeIncident(ctx.deps, {
      dataTypes: ['names', 'email_addresses', 'payment_cards', 'dates_of_birth'],
      helplines: { en: '+44 800 111 2222', ar: '+44 800 111 3333', fr: '+33 1 23 45 67 89' },
    });
    slug = incident.slug;
    incidentId = incident.id;
    const [person] = await makePeople(ctx.deps, incident.id, [
      makePerson({
        postalCode: 'SW1A1AA',
        birthYear: 1970,
        phone: '+447400123456',
        exposedDataTypes: ['names', 'payment_cards', 'dates_of_birth'],
      }),
    ]);
    reference = person!.referenceCode!;
    personId = person!.id;
    // As the web process does at start (src/server.ts): a browser holds a page's load for its fonts.
    await prepareFonts();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
  });

  const t = (locale: string, key: string) => ctx.deps.i18n.getFixedT(locale)(key);

  async function expectLanguage(page: Page, lang: string) {
    expect(await page.locator('html').getAttribute('lang')).toBe(lang);
    expect(await page.locator('html').getAttribute('dir')).toBe(textDirection(lang));
  }

  async function expectAccessible(page: Page, what: string) {
    // The one script a public page may carry moves focus to an error summary; the page works without it.
    expect(await page.locator('script:not([data-focus-errors])').count(), `${what} needs no script`).toBe(0);
    expect(await accessibilityViolations(page), what).toEqual([]);
  }

  for (const javaScript of [true, false]) {
    it(`takes a person from the status page to a callback request in Arabic, ${javaScript ? 'with axe checking each page' : 'with JavaScript switched off'}`, async () => {
      const context = await browser.newContext({
        javaScriptEnabled: javaScript,
        extraHTTPHeaders: { 'X-Forwarded-For': javaScript ? '192.0.2.10' : '192.0.2.11' },
      });
      html.watch(context);
      const page = await context.newPage();
      const check = async (what: string) => {
        if (javaScript) await expectAccessible(page, what);
      };
      try {
        await page.goto(`${ctx.baseUrl}/incidents/${slug}`);
        await expect(page.locator('h1').textContent()).resolves.toBe('Customer emails exposed');
        await check('status page');

        await page.getByRole('link', { name: 'Check if you were affected' }).click();
        await expect(page.locator('h1').textContent()).resolves.toBe('Check if you were affected');
        await check('lookup');

        await page.locator('#reference').fill(reference.toLowerCase());
        await page.locator('#verifier').fill('sw1a 1aa');
        await page.getByRole('button', { name: 'Check', exact: true }).click();
        expect(new URL(page.url()).pathname).toBe(`/incidents/${slug}/me`);
        await expect(page.locator('.panel-title').textContent()).resolves.toBe('Your details were affected');
        await expect(
          page.getByRole('heading', { name: 'Call your bank about your card' }).count(),
        ).resolves.toBe(1);
        await expectLanguage(page, 'en');
        await check('personal page');

        await page.getByRole('link', { name: 'العربية' }).click();
        await expectLanguage(page, 'ar');
        await expect(page.locator('.panel-title').textContent()).resolves.toBe('تأثرت بياناتك');
        await check('personal page in Arabic');

        await page.locator('main a[href$="/support"]').first().click();
        await expectLanguage(page, 'ar');
        await check('support page in Arabic');
        await page.locator('#phone').fill('+44 7400 123456');
        await page.locator('#time-evening').check();
        await page.locator('#callback-locale').selectOption('ar');
        await page.locator('form[action$="/support/callback"] button[type="submit"]').click();
        await expectLanguage(page, 'ar');
        await expect(page.locator('h1').textContent()).resolves.toBe('سنتصل بك');
        await check('callback confirmation in Arabic');

        const { rows } = await ctx.deps.db.query<{
          person_id: number;
          preferred_time: string;
          locale: string;
        }>(
          `SELECT person_id, preferred_time, locale FROM support_requests WHERE kind = 'callback' ORDER BY id DESC LIMIT 1`,
        );
        expect(rows[0]).toEqual({ person_id: personId, preferred_time: 'evening', locale: 'ar' });
      } finally {
        await context.close();
      }
    }, 120_000);
  }

  it('would notice an unlabelled field or a low-contrast text, so a clean report means something', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.setContent(
        '<!doctype html><html lang="en"><head><title>t</title></head><body><main><h1>Form</h1>' +
          '<input id="x"><p style="color:#bbb">faint</p></main></body></html>',
      );
      const found = await accessibilityViolations(page);
      expect(found.some((violation) => violation.startsWith('label:'))).toBe(true);
      expect(found.some((violation) => violation.startsWith('color-contrast:'))).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('has no accessibility violations on any public page, in any language', async () => {
    const failures: string[] = [];
    let client = 0;
    for (const locale of SUPPORTED_LOCALES) {
      client += 1;
      const context: BrowserContext = await browser.newContext({
        extraHTTPHeaders: { 'X-Forwarded-For': `198.51.100.${client}` },
      });
      html.watch(context);
      const page = await context.newPage();
      const visit = async (what: string, action: () => Promise<unknown>) => {
        await action();
        const lang = await page.locator('html').getAttribute('lang');
        if (lang !== locale) failures.push(`${locale} ${what}: page is in ${lang}`);
        for (const violation of await accessibilityViolations(page))
          failures.push(`${locale} ${what}: ${violation}`);
        if ((await page.locator('script:not([data-focus-errors])').count()) > 0)
          failures.push(`${locale} ${what}: has a script`);
        const title = await page.title();
        const errors = await page.locator('.error-summary').count();
        if (errors > 0 && !title.startsWith(t(locale, 'forms.errorPrefix')))
          failures.push(`${locale} ${what}: the title "${title}" does not start with the error prefix`);
      };
      const base = `${ctx.baseUrl}/incidents/${slug}`;
      const submit = (form: string) => page.locator(`form[action$="${form}"] button[type="submit"]`).click();
      try {
        await visit('status page', () => page.goto(`${base}?lang=${locale}`));
        await visit('lookup', () => page.goto(`${base}/check?lang=${locale}`));
        await visit('lookup with errors', () => submit('/check/reference'));
        await visit('code sent', async () => {
          await page.goto(`${base}/check`);
          await page.locator('#contact').fill(`probe-${locale}@example.com`);
          await submit('/check/contact');
        });
        await visit('code with errors', () => submit('/check/code'));
        await visit('code from a link', () =>
          page.goto(`${base}/check/code?request=00000000-0000-4000-8000-000000000000&code=123456`),
        );
        await visit('personal page', async () => {
          // A person of their own: a reference code takes only five tries an hour, wherever they come from.
          const [person] = await makePeople(ctx.deps, incidentId, [
            makePerson({
              birthYear: 1970,
              country: locale === 'en' ? 'US' : 'DE',
              exposedDataTypes: ['national_ids', 'passwords'],
            }),
          ]);
          await page.goto(`${base}/check`);
          await page.locator('#reference').fill(person!.referenceCode!);
          await page.locator('#verifier').fill('1970');
          await submit('/check/reference');
        });
        await visit('personal page with a saved notice', async () => {
          await page.locator('#need-large_print').check();
          await submit('/me/preferences');
        });
        await visit('support', () => page.goto(`${base}/support`));
        await visit('support with errors', async () => {
          await page.locator('#phone').fill('');
          await submit('/support/callback');
        });
        await visit('message sent', async () => {
          await page.locator('#message').fill('Please call me about my card.');
          await submit('/support/message');
        });
        await visit('subscribe', () => page.goto(`${base}/subscribe`));
        await visit('subscribe with errors', () => submit('/subscribe'));
        await visit('subscribe: check your email', async () => {
          await page.locator('#email').fill(`reader-${locale}@example.com`);
          await submit('/subscribe');
        });
        await visit('subscribe: confirm', () => page.goto(`${base}/subscribe/confirm?token=nonsense`));
        await visit('subscribe: link expired', () => submit('/subscribe/confirm'));
        await visit('not found', () => page.goto(`${ctx.baseUrl}/incidents/no-such-incident`));
        await visit('too many tries', async () => {
          for (let i = 0; i < 6; i++) {
            await page.goto(`${base}/check`);
            await page.locator('#contact').fill(`probe-${locale}@example.com`);
            await submit('/check/contact');
          }
        });
        await visit('signed out', () => page.goto(`${base}`));
      } finally {
        await context.close();
      }
    }
    expect(failures).toEqual([]);
  }, 600_000);

  it('sent valid HTML on every public page visited here (Nu HTML Checker)', async () => {
    expect(html.size).toBeGreaterThan(0);
    expect(await html.errors()).toEqual([]);
  }, 180_000);
});
