import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { currentTotp } from '../../src/staff/totp.js';
import { TEST_PASSWORD, type TestStaff } from './console.js';

/** Debian's Chromium: a test tool's own browser download is not available everywhere we run. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`Chromium is not at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** axe-core's findings on the page as it stands, in a form that names each failing element. */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
    .analyze();
  return results.violations.flatMap((violation) =>
    violation.nodes.map((node) => `${violation.id}: ${node.target.join(' ')} (${violation.help})`),
  );
}

/** Signs a staff member in through the console's own forms: password, then the authenticator's code. */
export async function signInToConsole(page: Page, staff: TestStaff): Promise<void> {
  await page.goto('/console/sign-in');
  await page.fill('#email', staff.email);
  await page.fill('#password', TEST_PASSWORD);
  await page.click('form[action^="/console/sign-in"] button[type="submit"]');
  await page.waitForURL((url) => url.pathname === '/console/sign-in/code');
  await page.fill('#code', await currentTotp(staff.totpSecret!, new Date()));
  await page.click('form[action="/console/sign-in/code"] button[type="submit"]');
  await page.waitForURL((url) => !url.pathname.startsWith('/console/sign-in'));
}
