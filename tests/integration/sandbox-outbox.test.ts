import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeIncident, makePeople, makePerson, makeApprovedCampaign } from '../support/factories.js';
import { startCampaign } from '../../src/campaigns/service.js';
import { makeStaffAccount, staffCookie } from '../support/console.js';

describe('the sandbox outbox shows each message as the person receives it', () => {
  let ctx: TestContext;
  let page = '';
  let cookie = '';

  beforeAll(async () => {
    ctx = await startTestContext({ workers: true });
    const incident = await makeIncident(ctx.deps);
    await makePeople(ctx.deps, incident.id, [
      makePerson({ name: 'Ada Lovelace', email: 'ada@example.com' }),
      makePerson({ name: 'Sam Texter', email: null, phone: '+447400123001', preferredChannel: 'sms' }),
      makePerson({
        name: 'Vic Listener',
        email: null,
        phone: '+447400123002',
        accessibilityNeeds: ['visually_impaired'],
      }),
      makePerson({ name: 'Pat Postal', email: null, postalAddress: '7 Mill Lane\nYork\nYO1 7HH' }),
    ]);
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id);
    await startCampaign(ctx.deps, { campaignId: campaign.id });
    await eventually('all four in the outbox', async () => {
      const { rows } = await ctx.deps.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM sandbox_outbox',
      );
      return rows[0]!.n === 4;
    });
    cookie = await staffCookie(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'viewer'));
    page = await (await fetch(`${ctx.baseUrl}/sandbox/outbox`, { headers: { cookie } })).text();
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('shows the SMS text with its encoding and segment count', () => {
    expect(page).toContain('Acme Bikes: a data security incident involved your personal information.');
    expect(page).toMatch(/\d+ characters, GSM-7: <strong>2 segments<\/strong>/);
  });

  it('shows the call as it will be spoken, with the menu and the answering-machine message', () => {
    expect(page).toContain('Spoken when a person answers');
    expect(page).toContain('To hear this message again, press 1.');
    expect(page).toContain('Left on an answering machine');
  });

  it('opens the email as it displays, under a policy that allows nothing but its styles', async () => {
    const id = /href="\/sandbox\/outbox\/(\d+)\/email"/.exec(page)?.[1];
    expect(id).toBeDefined();
    const response = await fetch(`${ctx.baseUrl}/sandbox/outbox/${id}/email`, { headers: { cookie } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    );
    const html = await response.text();
    expect(html).toContain('<html lang="en" dir="ltr">');
    expect(html).toContain('Check your details');
  });

  it('opens the printed letter as a PDF', async () => {
    const id = /href="\/sandbox\/outbox\/(\d+)\/letter.pdf"/.exec(page)?.[1];
    const response = await fetch(`${ctx.baseUrl}/sandbox/outbox/${id}/letter.pdf`, { headers: { cookie } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(
      Buffer.from(await response.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
  });

  it('keeps letters encrypted at rest', async () => {
    const { rows } = await ctx.deps.db.query<{ dump: string | null }>(
      "SELECT string_agg(row_to_json(t)::text, ' ') AS dump FROM letters t",
    );
    expect(rows[0]!.dump).not.toContain('Mill Lane');
    expect(rows[0]!.dump).not.toContain('Postal');
  });
});
