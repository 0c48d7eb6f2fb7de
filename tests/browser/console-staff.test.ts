import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { makeStaffAccount, type TestStaff } from '../support/console.js';
import { accessibilityViolations, launchChromium, signInToConsole } from '../support/browser.js';
import { createHtmlValidator } from '../support/html-validator.js';
import { currentTotp } from '../../src/staff/totp.js';

describe('staff management in a real browser', () => {
  let ctx: TestContext;
  let browser: Browser;
  let admin: TestStaff;
  const html = createHtmlValidator();
  beforeAll(async () => {
    ctx = await startTestContext();
    browser = await launchChromium();
    admin = await makeStaffAccount(ctx.deps, 'admin');
  });
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ baseURL: ctx.baseUrl, locale: 'en-GB' });
    html.watch(context);
    return context.newPage();
  }

  async function signIn(staff: TestStaff): Promise<Page> {
    const page = await newPage();
    await signInToConsole(page, staff);
    return page;
  }

  it('takes an invitation from the admin’s form to a colleague signed in with an authenticator, on pages without accessibility violations', async () => {
    const page = await signIn(admin);
    await page.click('nav a[href="/console/staff"]');
    await page.waitForURL((url) => url.pathname === '/console/staff');
    expect(await accessibilityViolations(page), 'staff list').toEqual([]);

    // A form with a mistake comes back with the error summary, still accessible.
    await page.fill('#displayName', 'Priya Agent');
    await page.click('form[action="/console/staff/invitations"] button[type="submit"]');
    await page.locator('.error-summary').waitFor();
    expect(await accessibilityViolations(page), 'staff list with errors').toEqual([]);

    await page.fill('#email', 'priya.agent@staff.example');
    await page.selectOption('#role', 'agent');
    await page.click('form[action="/console/staff/invitations"] button[type="submit"]');
    const link = await page.getByTestId('invitation-link').textContent();
    expect(link).toMatch(/\/console\/invitations\/[\w-]{43}$/);

    const colleague = await newPage();
    await colleague.goto(link!);
    expect(await accessibilityViolations(colleague), 'invitation').toEqual([]);
    await colleague.fill('#password', 'priya chose a long password');
    await colleague.fill('#confirm', 'priya chose a long password');
    await colleague.click('form[action^="/console/invitations/"] button[type="submit"]');
    await colleague.waitForURL((url) => url.pathname === '/console/second-factor/setup');
    const secret = (await colleague.getByTestId('totp-secret').textContent())!.trim();
    await colleague.fill('#code', await currentTotp(secret, new Date()));
    await colleague.click('form[action="/console/second-factor/setup"] button[type="submit"]');
    await colleague.waitForURL((url) => url.pathname === '/console');
    await colleague.goto('/console/support');
    expect(await colleague.locator('h1').textContent()).not.toBe('');

    await page.goto('/console/staff');
    await page.getByRole('link', { name: 'Priya Agent' }).click();
    await page.waitForURL((url) => /^\/console\/staff\/\d+$/.test(url.pathname));
    expect(await accessibilityViolations(page), 'staff member').toEqual([]);
    await page.click('form[action$="/switch-off"] button[type="submit"]');
    await page.waitForURL((url) => url.searchParams.get('done') === 'off');

    await colleague.goto('/console/support');
    expect(new URL(colleague.url()).pathname).toBe('/console/sign-in');
  }, 120_000);

  it('sent valid HTML on every staff page visited here (Nu HTML Checker)', async () => {
    expect(html.size).toBeGreaterThan(0);
    expect(await html.errors()).toEqual([]);
  }, 180_000);
});
