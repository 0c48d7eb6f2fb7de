import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { makeIncident } from '../support/factories.js';
import { accessibilityViolations, launchChromium } from '../support/browser.js';
import { createHtmlValidator } from '../support/html-validator.js';
import { postIncidentUpdate } from '../../src/incidents/service.js';
import { prepareFonts } from '../../src/web/fonts.js';

/** Cutting a font the first time it is asked for takes seconds on a busy machine. */
const FONT_LOAD_TIMEOUT_MS = 60_000;

/**
 * Every language done right on the public pages, in Chromium: text that falls back to another
 * language says so and is marked as such, Hindi is drawn with the font we serve, a failed form cannot
 * be missed, and on a phone the first screen is the incident, not the language list.
 */
describe('languages, fonts, errors and phones in a browser', () => {
  let ctx: TestContext;
  let browser: Browser;
  let slug: string;
  const html = createHtmlValidator();

  beforeAll(async () => {
    ctx = await startTestContext();
    // English and French text only, as the demo: every other language falls back to English.
    const incident = await makeIncident(ctx.deps, { organisationName: 'Acme Bikes 24' });
    slug = incident.slug;
    await postIncidentUpdate(ctx.deps, {
      incidentId: incident.id,
      texts: { en: { title: 'Backup removed', body: 'We deleted 12 old copies.' } },
    });
    // As the web process does at start (src/server.ts): a browser holds a page's load for its fonts.
    await prepareFonts();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
  });

  async function open(options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext(options);
    html.watch(context);
    return { context, page: await context.newPage() };
  }

  it('marks the English text on the Arabic status page as English and says so in Arabic', async () => {
    const { context, page } = await open();
    try {
      await page.goto(`${ctx.baseUrl}/incidents/${slug}?lang=ar`);
      expect(await page.locator('html').getAttribute('lang')).toBe('ar');
      expect(await page.locator('html').getAttribute('dir')).toBe('rtl');

      const english = [
        'Customer emails exposed',
        'An old backup was left readable.',
        'Names and email addresses.',
        'We removed it.',
        'Be wary of emails about your order.',
        'Call us.',
        'Backup removed',
        'We deleted 12 old copies.',
      ];
      for (const text of english) {
        const part = page.getByText(text, { exact: true });
        await expect(part.count(), text).resolves.toBe(1);
        // The element itself, or the nearest ancestor with a lang, says English, left to right.
        const marked = {
          lang: await part.locator('xpath=ancestor-or-self::*[@lang][1]').getAttribute('lang'),
          dir: await part.locator('xpath=ancestor-or-self::*[@dir][1]').getAttribute('dir'),
        };
        expect(marked, text).toEqual({ lang: 'en', dir: 'ltr' });
      }
      await expect(page.locator('.fallback-note').textContent()).resolves.toContain(
        'متاحة باللغة \u2068الإنجليزية\u2069 فقط',
      );
      // The organisation's name (with its number) is isolated from the Arabic around it.
      await expect(page.locator('.organisation bdi').textContent()).resolves.toBe('Acme Bikes 24');
      expect(await accessibilityViolations(page)).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('shows no fallback note where the incident is written in the reader’s language', async () => {
    const { context, page } = await open();
    try {
      await page.goto(`${ctx.baseUrl}/incidents/${slug}?lang=fr`);
      await expect(page.locator('h1').getAttribute('lang')).resolves.toBeNull();
      // The French page still carries the English-only update, marked and announced.
      await expect(page.getByText('Backup removed', { exact: true }).getAttribute('lang')).resolves.toBe(
        'en',
      );
      await expect(page.locator('.fallback-note').textContent()).resolves.toContain('qu’en anglais');
    } finally {
      await context.close();
    }
  }, 120_000);

  it('draws Hindi with the Noto Sans Devanagari the site serves, not a fallback font', async () => {
    const { context, page } = await open();
    try {
      const fonts: string[] = [];
      page.on('response', (response) => {
        if (response.url().includes('/assets/fonts/')) fonts.push(new URL(response.url()).pathname);
      });
      await page.goto(`${ctx.baseUrl}/incidents/${slug}?lang=hi`);
      await page.waitForFunction("document.fonts.status === 'loaded'", undefined, {
        timeout: FONT_LOAD_TIMEOUT_MS,
      });
      const heading = page.locator('#check');
      expect(await heading.textContent()).toMatch(/[\u0900-\u097f]/);

      const cdp = await context.newCDPSession(page);
      await cdp.send('DOM.enable');
      await cdp.send('CSS.enable');
      const { root } = await cdp.send('DOM.getDocument', { depth: 0 });
      const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: '#check' });
      const { fonts: used } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
      // Every Devanagari glyph of the heading comes from the served web font (Chromium here has no
      // Devanagari of its own, so any other font would draw empty boxes); spaces may come from another.
      const text = (await heading.textContent()) ?? '';
      const others = text.replace(/[\u0900-\u097f]/g, '').length;
      expect(used.find((font) => font.familyName === 'Noto Sans Devanagari')?.isCustomFont).toBe(true);
      const fromOthers = used
        .filter((font) => font.familyName !== 'Noto Sans Devanagari')
        .reduce((sum, font) => sum + font.glyphCount, 0);
      expect(fromOthers).toBeLessThanOrEqual(others);
      expect(fonts.some((font) => font.endsWith('/noto-sans-devanagari-700.woff2'))).toBe(true);

      const response = await page.request.get(
        `${ctx.baseUrl}/assets/fonts/v1/noto-sans-devanagari-400.woff2`,
      );
      expect(response.status()).toBe(200);
      expect(response.headers()['content-type']).toBe('font/woff2');
      expect(response.headers()['cache-control']).toContain('max-age=31536000');
      expect((await response.body()).subarray(0, 4).toString('latin1')).toBe('wOF2');
      expect(response.headers()['content-security-policy']).toContain("font-src 'self'");
    } finally {
      await context.close();
    }
  }, 120_000);

  for (const javaScript of [true, false]) {
    it(`puts "Error:" first in the title after a failed lookup${javaScript ? ', and focus on the summary' : ' without JavaScript too'}`, async () => {
      const { context, page } = await open({ javaScriptEnabled: javaScript });
      try {
        await page.goto(`${ctx.baseUrl}/incidents/${slug}/check`);
        await expect(page.title()).resolves.not.toMatch(/^Error:/);
        await page.locator('form[action$="/check/reference"] button[type="submit"]').click();
        await expect(page.title()).resolves.toMatch(/^Error: /);
        await expect(page.locator('.error-summary').count()).resolves.toBe(1);
        if (javaScript) {
          await expect(page.evaluate('document.activeElement?.className')).resolves.toBe('error-summary');
          // The first Tab from the summary reaches its first link: the error is one step away.
          await page.keyboard.press('Tab');
          await expect(
            page.evaluate("document.activeElement?.closest('.error-summary') !== null"),
          ).resolves.toBe(true);
          expect(await accessibilityViolations(page)).toEqual([]);
        }
      } finally {
        await context.close();
      }
    }, 120_000);
  }

  it('says "Error:" in the reader’s language', async () => {
    const { context, page } = await open();
    try {
      await page.goto(`${ctx.baseUrl}/incidents/${slug}/check?lang=fr`);
      await page.locator('form[action$="/check/reference"] button[type="submit"]').click();
      await expect(page.title()).resolves.toMatch(/^Erreur ?: /);
    } finally {
      await context.close();
    }
  }, 120_000);

  for (const lang of ['en', 'ar', 'hi']) {
    it(`shows the status and the lookup button on the first screen of a 375 px phone (${lang})`, async () => {
      const { context, page } = await open({ viewport: { width: 375, height: 812 } });
      try {
        await page.goto(`${ctx.baseUrl}/incidents/${slug}?lang=${lang}`);
        const button = page.locator(`a.button[href="/incidents/${slug}/check"]`);
        const buttonBox = await button.boundingBox();
        const stateBox = await page.locator('.state').boundingBox();
        expect(buttonBox, 'the lookup button is laid out').not.toBeNull();
        expect(buttonBox!.y + buttonBox!.height).toBeLessThanOrEqual(812);
        expect(stateBox!.y + stateBox!.height).toBeLessThanOrEqual(812);

        // The languages are one tap away, in a disclosure that opens to the whole list.
        await expect(page.locator('.language-list').isVisible()).resolves.toBe(false);
        await page.locator('.language-menu summary').click();
        await page.locator('.language-menu-list a[hreflang="fr"]').click();
        expect(await page.locator('html').getAttribute('lang')).toBe('fr');
        expect(await accessibilityViolations(page)).toEqual([]);
      } finally {
        await context.close();
      }
    }, 120_000);
  }

  it('keeps the whole language list in view on a wide screen', async () => {
    const { context, page } = await open({ viewport: { width: 1280, height: 800 } });
    try {
      await page.goto(`${ctx.baseUrl}/incidents/${slug}`);
      await expect(page.locator('.language-list').isVisible()).resolves.toBe(true);
      await expect(page.locator('.language-menu').isVisible()).resolves.toBe(false);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('sent valid HTML on every page visited here (Nu HTML Checker)', async () => {
    expect(html.size).toBeGreaterThan(0);
    expect(await html.errors()).toEqual([]);
  }, 180_000);
});
