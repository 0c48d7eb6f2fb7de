import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { makeStaffAccount, type TestStaff } from '../support/console.js';
import { makeIncident, makePeople, makePerson, makeStaff } from '../support/factories.js';
import { accessibilityViolations, launchChromium, signInToConsole } from '../support/browser.js';
import { createHtmlValidator } from '../support/html-validator.js';
import { createCampaign, submitCampaign } from '../../src/campaigns/service.js';
import { DEFAULT_CHANNEL_POLICY } from '../../src/campaigns/channel-policy.js';
import { listIncidentUpdates, type Incident } from '../../src/incidents/store.js';

/** A phone: the width of a common handset, with touch. */
const PHONE = { width: 390, height: 844 };

describe('the console on a phone, and the pages that warn of missing languages', () => {
  let ctx: TestContext;
  let browser: Browser;
  let incident: Incident;
  let campaignId: number;
  const staff: Record<string, TestStaff> = {};
  const html = createHtmlValidator();
  beforeAll(async () => {
    ctx = await startTestContext();
    browser = await launchChromium();
    // English and French only, like the demo incident.
    incident = await makeIncident(ctx.deps);
    const people = await makePeople(ctx.deps, incident.id, [
      makePerson({ locale: 'en' }),
      makePerson({ locale: 'de' }),
      makePerson({ locale: 'es' }),
    ]);
    const campaign = await createCampaign(ctx.deps, {
      incidentId: incident.id,
      kind: 'initial_notice',
      audience: 'affected',
      channelPolicy: DEFAULT_CHANNEL_POLICY,
      createdBy: (await makeStaff(ctx.deps, 'editor')).id,
    });
    campaignId = campaign.id;
    await submitCampaign(ctx.deps, { campaignId });
    // One account per sign-in: a second-factor code is good only once.
    for (const role of ['editor', 'approver', 'agent'] as const)
      staff[role] = await makeStaffAccount(ctx.deps, role);
    staff.reviewer = await makeStaffAccount(ctx.deps, 'editor');
    staff.support = await makeStaffAccount(ctx.deps, 'agent');
    // Two messages of an earlier campaign, for the delivery search to find.
    const earlier = await createCampaign(ctx.deps, {
      incidentId: incident.id,
      kind: 'reminder',
      audience: 'affected',
      channelPolicy: DEFAULT_CHANNEL_POLICY,
      createdBy: null,
    });
    await ctx.deps.db.query(
      `INSERT INTO messages (campaign_id, person_id, attempt, channel, locale, status, created_at)
       VALUES ($1, $2, 1, 'email', 'en', 'delivered', '2026-03-01T10:00:00Z'),
              ($1, $3, 1, 'sms', 'de', 'sent', '2026-03-02T10:00:00Z')`,
      [earlier.id, people[0]!.id, people[1]!.id],
    );
  });
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
  });

  async function signIn(staff: TestStaff, viewport = PHONE): Promise<Page> {
    const context = await browser.newContext({
      baseURL: ctx.baseUrl,
      locale: 'en-GB',
      viewport,
      hasTouch: true,
    });
    html.watch(context);
    const page = await context.newPage();
    await signInToConsole(page, staff);
    return page;
  }

  /** How far the page is wider than the screen: a phone user would have to scroll sideways. */
  const overflow = async (page: Page) =>
    Number(
      await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'),
    );

  it('lets an editor write, translate from English and post an update on a 390 px screen', async () => {
    const page = await signIn(staff.editor!);
    await page.goto(`/console/incidents/${incident.id}/updates/new`);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    expect(await accessibilityViolations(page)).toEqual([]);

    await page.locator('[id="title.en"]').fill('Passwords have been reset');
    await page.locator('[id="body.en"]').fill('We reset every password as a precaution.');
    // Other languages wait behind their own step until opened.
    expect(await page.locator('[id="title.fr"]').isVisible()).toBe(false);
    await page.click('#step-fr summary');
    await page.getByRole('button', { name: 'Copy the English text into Français' }).click();
    await page.waitForURL((url) => url.pathname.endsWith('/updates/new'));
    expect(await page.locator('[id="body.fr"]').inputValue()).toBe(
      'We reset every password as a precaution.',
    );
    expect(await page.locator('[id="title.en"]').inputValue()).toBe('Passwords have been reset');
    await page.locator('[id="title.fr"]').fill('Les mots de passe ont été réinitialisés');
    await page.locator('[id="body.fr"]').fill('Nous avons réinitialisé chaque mot de passe par précaution.');
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    expect(await accessibilityViolations(page)).toEqual([]);

    // A plain click: Playwright refuses it if anything covers the button.
    await page.getByRole('button', { name: 'Post the update' }).click();
    await page.waitForURL((url) => url.pathname === `/console/incidents/${incident.id}`);
    const updates = await listIncidentUpdates(ctx.deps.db, incident.id);
    expect(updates.map((update) => update.texts.fr?.title)).toContain(
      'Les mots de passe ont été réinitialisés',
    );
  }, 60_000);

  it('shows the editor which languages each text is missing', async () => {
    const page = await signIn(staff.reviewer!, { width: 1280, height: 900 });
    await page.goto(`/console/incidents/${incident.id}/edit`);
    const warning = page.getByTestId('editor-missing');
    expect(await warning.isVisible()).toBe(true);
    expect(await warning.textContent()).toContain('Deutsch');
    expect(await warning.textContent()).not.toContain('Français');
    expect(await accessibilityViolations(page)).toEqual([]);
  }, 60_000);

  it('tells the approver how many people will miss the incident text, per language', async () => {
    const page = await signIn(staff.approver!);
    await page.goto(`/console/campaigns/${campaignId}`);
    const table = page.getByTestId('plan-missing-translations');
    expect(await table.locator('tr[data-locale="de"] [data-field="people"]').textContent()).toBe('1');
    expect(await table.locator('tr[data-locale="es"] [data-field="people"]').textContent()).toBe('1');
    expect(await accessibilityViolations(page)).toEqual([]);
  }, 60_000);

  it('keeps the delivery search usable and accessible on a phone', async () => {
    const page = await signIn(staff.agent!);
    await page.goto('/console/deliveries');
    await page.selectOption('#incident', String(incident.id));
    await page.selectOption('#status', 'sent');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL((url) => url.searchParams.get('status') === 'sent');
    expect(await page.locator('[data-message]').count()).toBe(1);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    expect(await accessibilityViolations(page)).toEqual([]);
  }, 60_000);

  it('keeps the delivery page accessible when a reference or a filter is refused', async () => {
    const page = await signIn(staff.support!);
    await page.goto('/console/deliveries?reference=0000-0000-0000-0000');
    expect(await page.locator('.error-summary').textContent()).toContain('No one has that reference code');
    expect(await accessibilityViolations(page)).toEqual([]);

    await page.goto('/console/deliveries?from=2026-02-30');
    expect(await page.locator('.error-summary').textContent()).toContain('Enter a real date');
    expect(await accessibilityViolations(page)).toEqual([]);
  }, 60_000);

  it('sent valid HTML on every console page visited here (Nu HTML Checker)', async () => {
    expect(html.size).toBeGreaterThan(0);
    expect(await html.errors()).toEqual([]);
  }, 180_000);
});
