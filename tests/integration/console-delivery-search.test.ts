import type TestAgent from 'supertest/lib/agent.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { makeStaffAccount, signedInAgent } from '../support/console.js';
import { documentedApiClient, makeApiKey } from '../support/api.js';
import { makeIncident, makePeople, makePerson, makeStaff } from '../support/factories.js';
import { createCampaign } from '../../src/campaigns/service.js';
import { DEFAULT_CHANNEL_POLICY } from '../../src/campaigns/channel-policy.js';
import type { MessageKind } from '../../src/notices/render.js';

/** The message ids a delivery list page shows, in order. */
function shownIds(html: string): number[] {
  return [...html.matchAll(/data-message="(\d+)"/g)].map((match) => Number(match[1]));
}

describe('delivery search and its CSV export', () => {
  let ctx: TestContext;
  let call: ReturnType<typeof documentedApiClient>;
  const agents: Record<string, TestAgent> = {};
  let incidentId: number;
  let otherIncidentId: number;
  let campaignA: number;
  let campaignB: number;
  /** Message ids by name, as written below. */
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    ctx = await startTestContext();
    const incident = await makeIncident(ctx.deps);
    const other = await makeIncident(ctx.deps);
    incidentId = incident.id;
    otherIncidentId = other.id;
    const people = await makePeople(ctx.deps, incident.id, [
      makePerson({ locale: 'en', email: 'ann@example.com', name: '=HYPERLINK("http://evil.example")' }),
      makePerson({ locale: 'fr', phone: '+33612345678', email: null }),
      makePerson({ locale: 'de', email: 'dora@example.com' }),
      makePerson({ locale: 'es', email: null, postalAddress: '1 Calle Mayor\nMadrid' }),
      makePerson({ locale: 'en', email: null }),
    ]);
    const [otherPerson] = await makePeople(ctx.deps, other.id, [makePerson({ locale: 'en' })]);
    const editor = await makeStaff(ctx.deps, 'editor');
    const campaign = async (incident: number, kind: MessageKind) =>
      (
        await createCampaign(ctx.deps, {
          incidentId: incident,
          kind,
          audience: 'affected',
          channelPolicy: DEFAULT_CHANNEL_POLICY,
          createdBy: editor.id,
        })
      ).id;
    campaignA = await campaign(incident.id, 'initial_notice');
    campaignB = await campaign(incident.id, 'reminder');
    const campaignC = await campaign(other.id, 'initial_notice');
    const write = async (
      name: string,
      campaignId: number,
      personId: number,
      row: { channel: string | null; locale: string; status: string; at: string; reason?: string },
    ) => {
      const { rows } = await ctx.deps.db.query<{ id: number }>(
        `INSERT INTO messages (campaign_id, person_id, attempt, channel, locale, status, status_reason, created_at, fallback)
         VALUES ($1, $2, 1, $3, $4, $5, $6, $7, CASE WHEN $5 IN ('failed', 'bounced') THEN 'exhausted' END) RETURNING id`,
        [campaignId, personId, row.channel, row.locale, row.status, row.reason ?? null, row.at],
      );
      ids[name] = Number(rows[0]!.id);
    };
    await write('ann', campaignA, people[0]!.id, {
      channel: 'email',
      locale: 'en',
      status: 'delivered',
      at: '2026-03-01T10:00:00Z',
    });
    await write('francois', campaignA, people[1]!.id, {
      channel: 'sms',
      locale: 'fr',
      status: 'failed',
      reason: 'unreachable handset',
      at: '2026-03-02T00:00:00Z',
    });
    await write('dora', campaignA, people[2]!.id, {
      channel: 'email',
      locale: 'de',
      status: 'bounced',
      at: '2026-03-03T12:00:00Z',
    });
    await write('elena', campaignB, people[3]!.id, {
      channel: 'letter',
      locale: 'es',
      status: 'sent',
      at: '2026-03-03T23:59:59Z',
    });
    await write('nobody', campaignB, people[4]!.id, {
      channel: null,
      locale: 'en',
      status: 'failed',
      reason: 'no usable contact details on file',
      at: '2026-03-04T00:00:00Z',
    });
    await write('elsewhere', campaignC, otherPerson!.id, {
      channel: 'email',
      locale: 'en',
      status: 'delivered',
      at: '2026-03-02T09:00:00Z',
    });
    for (const role of ['admin', 'editor', 'agent', 'viewer'] as const)
      agents[role] = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, role));
    call = documentedApiClient(ctx.baseUrl, await (await fetch(`${ctx.baseUrl}/api/v1/openapi.json`)).json());
  });
  afterAll(async () => ctx?.close());

  const search = async (query: string, role = 'agent') => {
    const page = await agents[role]!.get(`/console/deliveries?${query}`);
    expect(page.status, page.text.slice(0, 300)).toBe(200);
    return page;
  };

  it("lists an incident's deliveries newest first, with the day range stated in UTC", async () => {
    const page = await search(`incident=${incidentId}`);
    expect(shownIds(page.text)).toEqual([ids.nobody, ids.elena, ids.dora, ids.francois, ids.ann]);
    expect(page.text).toContain('Dates are whole days in UTC');
    expect(page.text).toContain('Mar 3, 2026, 11:59 PM UTC');
    // The list shows reference codes, never contact details.
    expect(page.text).not.toContain('example.com');
  });

  it('finds deliveries by status', async () => {
    expect(shownIds((await search(`incident=${incidentId}&status=delivered`)).text)).toEqual([ids.ann]);
    expect(shownIds((await search('status=delivered')).text)).toEqual([ids.elsewhere, ids.ann]);
  });

  it('finds deliveries by channel, including people we had no contact for', async () => {
    expect(shownIds((await search(`incident=${incidentId}&channel=sms`)).text)).toEqual([ids.francois]);
    expect(shownIds((await search(`incident=${incidentId}&channel=none`)).text)).toEqual([ids.nobody]);
  });

  it('finds deliveries by campaign and by language', async () => {
    expect(shownIds((await search(`campaign=${campaignB}`)).text)).toEqual([ids.nobody, ids.elena]);
    expect(shownIds((await search(`incident=${incidentId}&language=de`)).text)).toEqual([ids.dora]);
  });

  it('finds deliveries queued within a range of whole UTC days, both ends included', async () => {
    const page = await search(`incident=${incidentId}&from=2026-03-02&to=2026-03-03`);
    expect(shownIds(page.text)).toEqual([ids.elena, ids.dora, ids.francois]);
    expect(shownIds((await search(`incident=${otherIncidentId}&to=2026-03-01`)).text)).toEqual([]);
  });

  it('pages through a search in a stable order, each delivery once', async () => {
    const seen: number[] = [];
    let query = `incident=${incidentId}&limit=2`;
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await search(query);
      const shown = shownIds(page.text);
      seen.push(...shown);
      const next = /href="\/console\/deliveries\?([^"]*before=\d+[^"]*)" rel="next"/.exec(page.text);
      if (!next) break;
      expect(shown).toHaveLength(2);
      query = `${next[1]!.replace(/&amp;/g, '&')}&limit=2`;
    }
    expect(seen).toEqual([ids.nobody, ids.elena, ids.dora, ids.francois, ids.ann]);
  });

  it('exports the filtered list as CSV without contact details for an editor, and audits it', async () => {
    const csv = await agents.editor!.get(
      `/console/deliveries.csv?incident=${incidentId}&campaign=${campaignA}`,
    );
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe(
      'message,reference,incident,campaign,message_kind,channel,attempt,language,status,status_reason,queued_at,sent_at,delivered_at,failed_at',
    );
    expect(lines.slice(1).map((line) => Number(line.split(',')[0]))).toEqual([
      ids.dora,
      ids.francois,
      ids.ann,
    ]);
    expect(csv.text).not.toContain('example.com');
    expect(csv.text).not.toContain('HYPERLINK');
    const { rows } = await ctx.deps.db.query<{ details: Record<string, unknown>; subject_id: number }>(
      `SELECT details, subject_id FROM audit_log WHERE action = 'export.deliveries' ORDER BY id DESC LIMIT 1`,
    );
    expect(rows[0]!.subject_id).toBe(incidentId);
    expect(rows[0]!.details).toMatchObject({ campaignId: campaignA, withContacts: false });
  });

  it('adds contact details to the CSV for an admin, with formulas disarmed', async () => {
    const csv = await agents.admin!.get(`/console/deliveries.csv?incident=${incidentId}&language=en`);
    expect(csv.status).toBe(200);
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toContain(',name,email,phone,postal_address');
    expect(csv.text).toContain('ann@example.com');
    // A name that a spreadsheet would run is written as text.
    expect(csv.text).toContain(`"'=HYPERLINK(""http://evil.example"")"`);
    const { rows } = await ctx.deps.db.query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_log WHERE action = 'export.deliveries' ORDER BY id DESC LIMIT 1`,
    );
    expect(rows[0]!.details).toMatchObject({ locale: 'en', withContacts: true });
  });

  it('refuses bad filters with a clear message beside the field, never a 500', async () => {
    const cases: [string, string][] = [
      ['status=lost', 'Choose a status from the list.'],
      ['channel=pigeon', 'Choose a channel from the list.'],
      ['language=xx', 'Choose a language from the list.'],
      ['campaign=abc', 'Enter a campaign number'],
      ['incident=-1', 'Choose an incident from the list.'],
      ['from=2026-02-30', 'Enter a real date as YYYY-MM-DD'],
      ['from=2026-03-05&to=2026-03-01', 'The end date is before the start date.'],
      ['status=sent&status=delivered', 'Choose a status from the list.'],
      ['before=0', 'That page does not exist.'],
    ];
    for (const [query, message] of cases) {
      const page = await agents.agent!.get(`/console/deliveries?${query}`);
      expect(page.status, query).toBe(400);
      expect(page.text, query).toContain('error-summary');
      expect(page.text, query).toContain(message);
      expect(shownIds(page.text), query).toEqual([]);
    }
    const exports = async () =>
      (
        await ctx.deps.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM audit_log WHERE action = 'export.deliveries'`,
        )
      ).rows[0]!.n;
    const before = await exports();
    const csv = await agents.admin!.get('/console/deliveries.csv?to=yesterday');
    expect(csv.status).toBe(400);
    expect(csv.text).toContain('Enter a real date as YYYY-MM-DD');
    expect(await exports()).toBe(before);
  });

  it('lets support agents search, and keeps viewers out', async () => {
    expect((await agents.agent!.get('/console/deliveries.csv')).status).toBe(200);
    expect((await agents.viewer!.get('/console/deliveries?status=sent')).status).toBe(403);
    expect((await agents.viewer!.get('/console/deliveries.csv')).status).toBe(403);
  });

  it('gives the same search through the API, paged, without contact details', async () => {
    const { token } = await makeApiKey(ctx.deps, 'agent');
    const first = await call(token, 'GET', `/api/v1/incidents/${incidentId}/deliveries?limit=3`);
    expect(first.status).toBe(200);
    const body = first.body as { deliveries: { messageId: number }[]; next: number | null };
    expect(body.deliveries.map((d) => d.messageId)).toEqual([ids.nobody, ids.elena, ids.dora]);
    expect(JSON.stringify(body)).not.toContain('example.com');
    const second = await call(
      token,
      'GET',
      `/api/v1/incidents/${incidentId}/deliveries?limit=3&before=${body.next}`,
    );
    const rest = second.body as { deliveries: { messageId: number }[]; next: number | null };
    expect(rest.deliveries.map((d) => d.messageId)).toEqual([ids.francois, ids.ann]);
    expect(rest.next).toBeNull();
    const filtered = await call(
      token,
      'GET',
      `/api/v1/incidents/${incidentId}/deliveries?channel=email&status=bounced&language=de&from=2026-03-03&to=2026-03-03`,
    );
    expect(
      (filtered.body as { deliveries: { messageId: number }[] }).deliveries.map((d) => d.messageId),
    ).toEqual([ids.dora]);
    // The path names the incident: a query naming another one changes nothing.
    const scoped = await call(
      token,
      'GET',
      `/api/v1/incidents/${incidentId}/deliveries?incident=${otherIncidentId}`,
    );
    expect((scoped.body as { deliveries: unknown[] }).deliveries).toHaveLength(5);
  });

  it('refuses bad API filters with a 400 naming each one', async () => {
    const { token } = await makeApiKey(ctx.deps, 'editor');
    const answer = await call(
      token,
      'GET',
      `/api/v1/incidents/${incidentId}/deliveries?status=lost&from=2026-13-01&limit=5000`,
    );
    expect(answer.status).toBe(400);
    const errors = (answer.body as { errors: { path: string; message: string }[] }).errors;
    expect(errors.map((error) => error.path)).toEqual(['/query/status', '/query/from', '/query/limit']);
    expect(errors[0]!.message).toBe('Choose a status from the list.');
    expect((await call(token, 'GET', '/api/v1/incidents/999999/deliveries')).status).toBe(404);
    expect((await call(token, 'GET', '/api/v1/incidents/abc/deliveries')).status).toBe(404);
  });
});
