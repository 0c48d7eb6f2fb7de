import type TestAgent from 'supertest/lib/agent.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { csrfFrom, makeStaffAccount, signedInAgent } from '../support/console.js';
import { seedDemo, type DemoSeed } from '../../src/demo/seed.js';
import { composeMessage } from '../../src/campaigns/compose.js';
import { loadRecipient } from '../../src/people/store.js';

describe('templates with preview in the console', () => {
  let ctx: TestContext;
  let seed: DemoSeed;
  let editor: TestAgent;
  let base: string;
  beforeAll(async () => {
    ctx = await startTestContext();
    seed = await seedDemo(ctx.deps, 6);
    editor = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'editor'));
    base = `/console/incidents/${seed.incident.id}/templates`;
  });
  afterAll(async () => ctx?.close());

  async function referenceOf(locale: string): Promise<string> {
    const { rows } = await ctx.deps.db.query<{ reference_enc: string }>(
      'SELECT reference_enc FROM people WHERE incident_id = $1 AND locale = $2 ORDER BY id LIMIT 1',
      [seed.incident.id, locale],
    );
    return ctx.deps.vault.open(rows[0]!.reference_enc);
  }

  it('previews an SMS for a chosen person with its encoding and billed segments', async () => {
    const reference = await referenceOf('fr');
    const page = await editor
      .get(`${base}?kind=initial_notice&channel=sms&locale=fr&reference=${encodeURIComponent(reference)}`)
      .expect(200);
    expect(page.text).toContain(reference);
    expect(page.text).toMatch(/(GSM-7|UCS-2), \d+ characters, \d+ billed segment/);
  });

  it('shows a call as it will be spoken, with the code spelt out, in the chosen language', async () => {
    const page = await editor.get(`${base}?kind=initial_notice&channel=voice&locale=ar`).expect(200);
    expect(page.text).toContain('What the call says');
    expect(page.text).toContain('dir="rtl" lang="ar"');
    const reference = await referenceOf('en');
    const english = await editor
      .get(`${base}?kind=initial_notice&channel=voice&locale=en&reference=${reference}`)
      .expect(200);
    expect(english.text).toContain(reference.split('-')[0]!.split('').join(' '));
  });

  it('refuses a replacement that drops the link, beside the field, and keeps the draft', async () => {
    const page = await editor.get(`${base}?kind=reminder&channel=sms&locale=en`).expect(200);
    const answer = await editor
      .post(base)
      .type('form')
      .send({
        _csrf: csrfFrom(page.text),
        kind: 'reminder',
        channel: 'sms',
        locale: 'en',
        'text.reminder.sms': 'Hello, this is a reminder with no link and {{bogus}}',
      });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('id="text.reminder.sms-error"');
    expect(answer.text).toContain('+{{bogus}}');
    expect(answer.text).toContain('-{{lookupUrl}}');
    expect(answer.text).toContain('no link and {{bogus}}');
  });

  it('saves a replacement for one incident and language, and the preview uses it', async () => {
    const page = await editor.get(`${base}?kind=reminder&channel=sms&locale=en`).expect(200);
    await editor
      .post(base)
      .type('form')
      .send({
        _csrf: csrfFrom(page.text),
        kind: 'reminder',
        channel: 'sms',
        locale: 'en',
        'text.reminder.sms':
          'Reminder from {{organisation}}: check {{lookupUrl}} with code {{referenceCode}}',
      })
      .expect(303);
    const after = await editor.get(`${base}?kind=reminder&channel=sms&locale=en`).expect(200);
    expect(after.text).toContain('Reminder from Northwind Outdoor Supplies: check');
    const { rowCount } = await ctx.deps.db.query(
      `SELECT 1 FROM audit_log WHERE action = 'template.save' AND outcome = 'ok'`,
    );
    expect(rowCount).toBe(1);
  });

  it('gives a segment its own wording in preview and in the message sent, and leaves everyone else theirs', async () => {
    const { rows: people } = await ctx.deps.db.query<{ id: number }>(
      `SELECT id FROM people WHERE incident_id = $1 AND locale = 'en' ORDER BY id LIMIT 2`,
      [seed.incident.id],
    );
    const [gentle, plain] = people.map((row) => row.id);
    await ctx.deps.db.query(`UPDATE people SET segment = 'health' WHERE id = $1`, [gentle]);
    const choose = `${base}?kind=initial_notice&channel=email&locale=en&segment=health`;
    const page = await editor.get(choose).expect(200);
    expect(page.text).toContain('<option value="health" selected>health</option>');
    const variant =
      'We know this news about your health information is hard to read, and we are here to help.';
    await editor
      .post(base)
      .type('form')
      .send({
        _csrf: csrfFrom(page.text),
        kind: 'initial_notice',
        channel: 'email',
        locale: 'en',
        segment: 'health',
        'text.initial_notice.intro': variant,
      })
      .expect(303)
      .expect('Location', new RegExp('segment=health'));
    expect((await editor.get(choose).expect(200)).text).toContain(variant);
    expect(
      (await editor.get(`${base}?kind=initial_notice&channel=email&locale=en`).expect(200)).text,
    ).not.toContain(variant);

    const composeDeps = { ...ctx.deps, publicBaseUrl: ctx.baseUrl };
    const sent = async (personId: number) =>
      (
        await composeMessage(composeDeps, {
          messageId: 0,
          campaignId: 0,
          kind: 'initial_notice',
          channel: 'email',
          recipient: (await loadRecipient(ctx.deps.db, ctx.deps.vault, personId))!,
          updateId: null,
        })
      ).content.text;
    expect(await sent(gentle!)).toContain(variant);
    expect(await sent(plain!)).not.toContain(variant);
  });

  it('lets a viewer preview but not change texts', async () => {
    const viewer = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'viewer'));
    const page = await viewer.get(`${base}?kind=initial_notice&channel=email&locale=de`).expect(200);
    expect(page.text).toContain('What the person gets');
    expect(page.text).not.toContain('name="text.');
  });

  it('opens a letter preview as the print-ready PDF', async () => {
    const page = await editor.get(`${base}?kind=initial_notice&channel=letter&locale=fr`).expect(200);
    const link = /href="([^"]*letter\.pdf[^"]*)"/.exec(page.text)?.[1];
    expect(link).toBeDefined();
    const pdf = await editor.get(link!.replace(/&amp;/g, '&')).buffer(true).expect(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect((pdf.body as Buffer).subarray(0, 5).toString()).toBe('%PDF-');
  });
});
