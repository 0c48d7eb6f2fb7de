import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile } from '../../src/campaigns/reconcile.js';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeStaffAccount, type TestStaff } from '../support/console.js';
import { makeIncident } from '../support/factories.js';
import { accessibilityViolations, launchChromium, signInToConsole } from '../support/browser.js';
import { createHtmlValidator } from '../support/html-validator.js';
import { prepareFonts } from '../../src/web/fonts.js';
import type { Incident } from '../../src/incidents/store.js';

const HEADER = 'name,email,phone,country,language,exposed_data_types';
const ROWS = [
  'Ada Martin,ada@example.org,,GB,en,names;email_addresses',
  'Bruno Okafor,bruno@example.org,,FR,fr,names;email_addresses',
  'Chen Wei,,+44 7400 123456,GB,en,names',
];

describe('the staff console in a real browser', () => {
  let ctx: TestContext;
  let browser: Browser;
  let incident: Incident;
  let editor: TestStaff;
  let approver: TestStaff;
  const html = createHtmlValidator();
  beforeAll(async () => {
    ctx = await startTestContext({ workers: true });
    // As the web process does at start (src/server.ts): a browser holds a page's load for its fonts.
    await prepareFonts();
    browser = await launchChromium();
    incident = await makeIncident(ctx.deps, { discoveredAt: new Date() });
    editor = await makeStaffAccount(ctx.deps, 'editor');
    approver = await makeStaffAccount(ctx.deps, 'approver');
  });
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
  });

  async function signIn(staff: TestStaff): Promise<Page> {
    const context = await browser.newContext({ baseURL: ctx.baseUrl, locale: 'en-GB' });
    // The queue dashboard is Bull Board's page, not ours to fix.
    html.watch(context, (url) => url.pathname.startsWith('/console/queues'));
    const page = await context.newPage();
    await signInToConsole(page, staff);
    return page;
  }

  async function upload(page: Page, lines: string[]): Promise<void> {
    await page.goto(`/console/incidents/${incident.id}/imports`);
    await page.setInputFiles('#file', {
      name: 'people.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(lines.join('\n')),
    });
    await page.click('form[enctype="multipart/form-data"] button[type="submit"]');
    await page.waitForURL((url) => /^\/console\/imports\/\d+$/.test(url.pathname));
  }

  it('takes an editor from sign-in with a code to a campaign an approver sends to everyone', async () => {
    const page = await signIn(editor);

    await upload(page, [HEADER, ROWS[0]!, 'Bruno Okafor,bruno@example,,FR,fr,names', ROWS[2]!]);
    const problems = page.locator('[data-testid="import-errors"] tbody tr');
    await expect.poll(() => problems.count()).toBe(1);
    expect(await problems.first().locator('td').first().textContent()).toBe('3');
    expect(await problems.first().textContent()).toContain('email');

    await upload(page, [HEADER, ...ROWS]);
    await eventually('the fixed file to be imported', async () => {
      const status = await page.locator('[data-testid="import-status"]').textContent();
      if (status?.includes('Imported') || status?.toLowerCase().includes('complete')) return true;
      await page.reload();
      return false;
    });
    expect(await page.locator('.counts').textContent()).toContain('3');

    await page.goto(`/console/incidents/${incident.id}/campaigns/new`);
    await page.click(`form[action="/console/incidents/${incident.id}/campaigns"] button[type="submit"]`);
    await page.waitForURL((url) => /^\/console\/campaigns\/\d+$/.test(url.pathname));
    const campaignUrl = new URL(page.url()).pathname;
    // Wait for the form's own POST: waitForLoadState can resolve on the page being left, and a later
    // navigation would then cancel the submission.
    await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/submit') && r.request().method() === 'POST'),
      page.click('form[action$="/submit"] button[type="submit"]'),
    ]);
    await page.waitForLoadState();
    expect(await page.locator('form[action$="/approve"]').count()).toBe(0);

    const second = await signIn(approver);
    await second.goto(campaignUrl);
    const [approval] = await Promise.all([
      second.waitForResponse((r) => r.url().endsWith('/approve') && r.request().method() === 'POST'),
      second.click('form[action$="/approve"] button:not([formaction])'),
    ]);
    // The approval answers with a redirect to the campaign; anything else is the failure to report.
    expect(approval.status(), `approve answered ${approval.status()} at ${second.url()}`).toBe(303);
    await second.waitForLoadState();
    await eventually(
      'progress to reach 100%',
      async () => {
        await second.goto(campaignUrl);
        // A short wait per look: one slow or odd page must not use up the whole budget.
        const percent = await second
          .locator('[data-field="percent"]')
          .textContent({ timeout: 2_000 })
          .catch(() => null);
        if (percent === '100') return true;
        const status = await second
          .locator('[data-testid="campaign-status"]')
          .textContent({ timeout: 2_000 })
          .catch(() => 'no status on the page');
        const heading = await second
          .locator('h1')
          .first()
          .textContent({ timeout: 2_000 })
          .catch(() => null);
        throw new Error(
          `campaign ${status?.trim()}, ${percent ?? 'no'} percent, at ${second.url()} showing "${heading?.trim()}"`,
        );
      },
      30_000,
    );
    const { rows } = await ctx.deps.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE status IN ('delivered', 'answered')`,
    );
    expect(rows[0]!.n).toBe(3);

    // What the workers' reconciler does next: mark it completed. A finished campaign's page then
    // stays put (it once reloaded itself for ever, finding the campaign at 100% on every load).
    await reconcile(ctx.deps);
    await second.goto(campaignUrl);
    expect(await second.locator('[data-testid="campaign-status"]').textContent()).toBe('Finished');
    let navigations = 0;
    second.on('framenavigated', () => (navigations += 1));
    await second.waitForTimeout(1_500);
    expect(navigations).toBe(0);
  }, 60_000);

  it('shows an admin the queue dashboard with every queue', async () => {
    const admin = await signIn(await makeStaffAccount(ctx.deps, 'admin'));
    const problems: string[] = [];
    admin.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await admin.goto('/console/queues');
    await admin.getByText('fanout').first().waitFor();
    // Only the board's Google web font stays blocked, on purpose (no third party from the console).
    const blocked = problems.filter((text) => /Content Security Policy/i.test(text));
    expect(blocked.filter((text) => !text.includes('fonts.googleapis.com'))).toEqual([]);
  });

  it('keeps the new console pages free of accessibility violations', async () => {
    const admin = await signIn(await makeStaffAccount(ctx.deps, 'admin'));
    const pages = [
      '/console/api-keys',
      '/console/deliveries?reference=0000-0000-0000-0000',
      '/console/audit',
      '/console/support',
      `/console/incidents/${incident.id}/checklist`,
      `/console/incidents/${incident.id}/exports`,
      `/console/incidents/${incident.id}/templates?channel=sms&locale=ar`,
    ];
    for (const path of pages) {
      await admin.goto(path);
      expect(await accessibilityViolations(admin), path).toEqual([]);
    }
    // Seven pages with axe each: about 2 s a page here, far more on a loaded 2-core machine.
  }, 120_000);

  it('says "Error:" first in the title of a failed sign-in and puts focus on the summary', async () => {
    const context = await browser.newContext({ baseURL: ctx.baseUrl, locale: 'en-GB' });
    html.watch(context);
    try {
      const page = await context.newPage();
      await page.goto('/console/sign-in');
      await page.fill('#email', editor.email);
      await page.fill('#password', 'not the password');
      await page.click('form[action^="/console/sign-in"] button[type="submit"]');
      await page.locator('.error-summary').waitFor();
      await expect(page.title()).resolves.toMatch(/^Error: /);
      await expect(page.evaluate('document.activeElement?.className')).resolves.toBe('error-summary');
      expect(await accessibilityViolations(page)).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('sent valid HTML on every console page visited here (Nu HTML Checker)', async () => {
    expect(html.size).toBeGreaterThan(0);
    expect(await html.errors()).toEqual([]);
  }, 180_000);
});
