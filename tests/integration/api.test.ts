import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { documentedApiClient, makeApiKey } from '../support/api.js';
import { makeStaffAccount } from '../support/console.js';
import { createApp } from '../../src/app.js';
import { mountedRoutes } from '../support/routes.js';
import { openApiPath } from '../../src/api/openapi.js';
import { revokeApiKey } from '../../src/api/keys.js';

type Json = Record<string, unknown>;

describe('the JSON API, every answer checked against its OpenAPI document', () => {
  let ctx: TestContext;
  let call: ReturnType<typeof documentedApiClient>;
  let document: Json;
  beforeAll(async () => {
    ctx = await startTestContext({ workers: true });
    document = (await (await fetch(`${ctx.baseUrl}/api/v1/openapi.json`)).json()) as Json;
    call = documentedApiClient(ctx.baseUrl, document);
  });
  afterAll(async () => ctx?.close());

  /** A new incident with nobody imported yet, and a draft first notice for it, made with this key. */
  async function draftCampaign(token: string, slug: string): Promise<number> {
    const incident = await call(token, 'POST', '/api/v1/incidents', {
      slug,
      organisationName: 'Shop',
      texts: { en: { title: slug } },
    });
    const incidentId = (incident.body as Json).id as number;
    const campaign = await call(token, 'POST', `/api/v1/incidents/${incidentId}/campaigns`, {
      kind: 'initial_notice',
      audience: 'affected',
    });
    return (campaign.body as Json).id as number;
  }

  it('publishes an OpenAPI 3.1 document naming exactly the /api/v1 endpoints the app answers', () => {
    expect(document.openapi).toBe('3.1.0');
    const paths = document.paths as Record<string, Record<string, { operationId: string }>>;
    const documented = Object.entries(paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`))
      .sort();
    // What is really mounted, by any router: an endpoint outside the route table would show here.
    const mounted = mountedRoutes(createApp(ctx.deps))
      .filter((route) => route.path.startsWith('/api/v1/') && route.path !== '/api/v1/openapi.json')
      .map((route) => `${route.method} ${openApiPath(route.path.slice('/api/v1'.length))}`)
      .sort();
    expect(mounted).toEqual(documented);
    expect(mounted).toContain('post /api/v1/code-pools/{poolId}/redemptions');
  });

  it('runs a whole campaign through the API alone, from incident to every person reached on the sandbox', async () => {
    const editor = await makeApiKey(ctx.deps, 'editor');
    const approver = await makeApiKey(ctx.deps, 'approver');
    const agent = await makeApiKey(ctx.deps, 'agent');

    const created = await call(editor.token, 'POST', '/api/v1/incidents', {
      slug: 'api-incident',
      organisationName: 'Northwind Books',
      dataTypes: ['names', 'email_addresses'],
      texts: {
        en: {
          title: 'A copy of our customer list was taken',
          whatHappened: 'Someone copied our customer list.',
          whatData: 'Names and email addresses.',
          whatWeDid: 'We closed the gap.',
          whatYouShouldDo: 'Watch for emails pretending to be us.',
          howToGetHelp: 'Call us.',
        },
      },
      discoveredAt: '2026-11-20T09:00:00Z',
    });
    expect(created.status).toBe(201);
    const incidentId = (created.body as Json).id as number;
    expect((await call(editor.token, 'POST', `/api/v1/incidents/${incidentId}/publish`)).status).toBe(200);
    const update = await call(editor.token, 'POST', `/api/v1/incidents/${incidentId}/updates`, {
      texts: { en: { title: 'We have told the police', body: 'They are investigating.' } },
    });
    expect(update.status).toBe(201);

    const bad = await call(editor.token, 'POST', `/api/v1/incidents/${incidentId}/people`, {
      people: [
        { name: 'Ada Martin', email: 'ada@example.org', country: 'GB', language: 'en' },
        { name: 'Bruno Okafor', email: 'not-an-email', country: 'FR', language: 'fr' },
      ],
    });
    expect(bad.status).toBe(201);
    expect(bad.body).toMatchObject({
      status: 'needs_review',
      rowsInvalid: 1,
      errors: [{ line: 2, column: 'email', reason: 'email_invalid' }],
    });
    const csv = [
      'name,email,phone,country,language,exposed_data_types',
      'Ada Martin,ada@example.org,,GB,en,names;email_addresses',
      'Bruno Okafor,bruno@example.org,,FR,fr,names;email_addresses',
      'Chen Wei,,+44 7400 123456,GB,en,names',
    ].join('\n');
    const good = await call(editor.token, 'POST', `/api/v1/incidents/${incidentId}/people`, csv, {
      contentType: 'text/csv',
    });
    expect(good.body).toMatchObject({ status: 'completed', peopleCreated: 3 });

    const campaign = await call(editor.token, 'POST', `/api/v1/incidents/${incidentId}/campaigns`, {
      kind: 'initial_notice',
      audience: 'affected',
      channels: ['email', 'sms', 'letter'],
    });
    expect(campaign.status).toBe(201);
    const campaignId = (campaign.body as Json).id as number;
    expect((await call(editor.token, 'POST', `/api/v1/campaigns/${campaignId}/submit`)).body).toMatchObject({
      status: 'awaiting_approval',
    });
    expect((await call(editor.token, 'POST', `/api/v1/campaigns/${campaignId}/approve`, {})).status).toBe(
      403,
    );
    const approved = await call(approver.token, 'POST', `/api/v1/campaigns/${campaignId}/approve`, {
      note: 'Wording checked.',
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ approvedBy: approver.staff.id });

    const progress = await eventually('the campaign to reach everyone', async () => {
      const answer = await call(approver.token, 'GET', `/api/v1/campaigns/${campaignId}/progress`);
      const body = answer.body as Json;
      return body.percent === 100 && body.fanoutDone === true ? body : undefined;
    });
    expect(progress).toMatchObject({ total: 3, settled: 3 });

    const { rows } = await ctx.deps.db.query<{ reference_enc: string }>(
      'SELECT reference_enc FROM people WHERE incident_id = $1 LIMIT 1',
      [incidentId],
    );
    const reference = ctx.deps.vault.open(rows[0]!.reference_enc);
    const deliveries = await call(
      agent.token,
      'GET',
      `/api/v1/deliveries?reference=${encodeURIComponent(reference.toLowerCase())}`,
    );
    expect(deliveries.status).toBe(200);
    expect((deliveries.body as { deliveries: Json[] }).deliveries[0]).toMatchObject({
      campaignId,
      kind: 'initial_notice',
    });
    expect(JSON.stringify(deliveries.body)).not.toContain('example.org');
    const missing = await call(agent.token, 'GET', '/api/v1/deliveries?reference=0000-0000-0000-0000');
    expect(missing.status).toBe(404);
    expect(missing.contentType).toContain('application/problem+json');
  });

  it('refuses to let anyone approve a campaign they created, even with an admin key', async () => {
    const admin = await makeApiKey(ctx.deps, 'admin');
    const campaignId = await draftCampaign(admin.token, 'four-eyes');
    await call(admin.token, 'POST', `/api/v1/campaigns/${campaignId}/submit`);
    const refused = await call(admin.token, 'POST', `/api/v1/campaigns/${campaignId}/approve`, {});
    expect(refused.status).toBe(403);
    expect((refused.body as Json).detail).toMatch(/someone other than/);
    const current = await call(admin.token, 'GET', `/api/v1/campaigns/${campaignId}`);
    expect(current.body).toMatchObject({ status: 'awaiting_approval', approvedBy: null });
    await eventually('the refusal to be audited', async () => {
      const { rowCount } = await ctx.deps.db.query(
        `SELECT 1 FROM audit_log WHERE action = 'campaign.approve' AND outcome = 'refused' AND api_key_id = $1`,
        [admin.keyId],
      );
      return (rowCount ?? 0) > 0;
    });
  });

  it('pauses, resumes and cancels a campaign: an editor may stop it, only an approver may send again', async () => {
    const editor = await makeApiKey(ctx.deps, 'editor');
    const approver = await makeApiKey(ctx.deps, 'approver');
    const campaignId = await draftCampaign(editor.token, 'pause-resume');
    // Scheduled for tomorrow, as a code reminder is: it stays sending, and nothing goes out meanwhile.
    const tomorrow = new Date(Date.now() + 86_400_000);
    await ctx.deps.db.query('UPDATE campaigns SET scheduled_for = $2 WHERE id = $1', [campaignId, tomorrow]);
    await call(editor.token, 'POST', `/api/v1/campaigns/${campaignId}/submit`);
    const approved = await call(approver.token, 'POST', `/api/v1/campaigns/${campaignId}/approve`, {});
    expect(approved.body).toMatchObject({ status: 'sending', scheduledFor: tomorrow.toISOString() });

    const paused = await call(editor.token, 'POST', `/api/v1/campaigns/${campaignId}/pause`);
    expect(paused).toMatchObject({ status: 200, body: { status: 'paused' } });
    expect((await call(editor.token, 'POST', `/api/v1/campaigns/${campaignId}/resume`)).status).toBe(403);
    const resumed = await call(approver.token, 'POST', `/api/v1/campaigns/${campaignId}/resume`);
    expect(resumed).toMatchObject({ status: 200, body: { status: 'sending' } });
    const cancelled = await call(editor.token, 'POST', `/api/v1/campaigns/${campaignId}/cancel`);
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    const again = await call(editor.token, 'POST', `/api/v1/campaigns/${campaignId}/pause`);
    expect(again.status).toBe(409);
    expect((again.body as Json).detail).toMatch(/cancelled cannot be paused/);
  });

  it('answers a malformed body with the fields at fault, as a problem document', async () => {
    const editor = await makeApiKey(ctx.deps, 'editor');
    const answer = await call(editor.token, 'POST', '/api/v1/incidents', { slug: 'Not A Slug!', texts: {} });
    expect(answer.status).toBe(400);
    expect(answer.contentType).toContain('application/problem+json');
    const paths = ((answer.body as Json).errors as { path: string }[]).map((error) => error.path);
    expect(paths).toEqual(expect.arrayContaining(['/slug', '/texts']));
  });

  it('refuses requests without a live key, and refuses a key once revoked', async () => {
    expect((await call(null, 'GET', '/api/v1/incidents')).status).toBe(401);
    expect((await call('candor_abcdefgh_nope', 'GET', '/api/v1/incidents')).status).toBe(401);
    const viewer = await makeApiKey(ctx.deps, 'viewer');
    expect((await call(viewer.token, 'GET', '/api/v1/incidents')).status).toBe(200);
    await revokeApiKey(ctx.deps, { id: viewer.keyId });
    expect((await call(viewer.token, 'GET', '/api/v1/incidents')).status).toBe(401);
  });

  it('keeps only a keyed hash of each key, never the key itself', async () => {
    const { token } = await makeApiKey(ctx.deps, 'viewer');
    const { rows } = await ctx.deps.db.query<{ dump: string }>(
      `SELECT string_agg(row_to_json(k)::text, ' ') AS dump FROM api_keys k`,
    );
    // The secret part may itself hold underscores: everything after `candor_<prefix>_`.
    const secret = token.split('_').slice(2).join('_');
    expect(secret.length).toBeGreaterThan(40);
    expect(rows[0]!.dump).not.toContain(secret);
  });

  it('refuses a key a role higher than its owner holds', async () => {
    const owner = await makeStaffAccount(ctx.deps, 'editor');
    await expect(makeApiKey(ctx.deps, 'editor', { owner, keyRole: 'admin' })).rejects.toThrow(
      /cannot do more/,
    );
  });
});

describe('the JSON API rate limit', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext({ env: { API_REQUESTS_PER_MINUTE: '3' } });
  });
  afterAll(async () => ctx?.close());

  it('answers 429 with Retry-After once a key has used its requests for the minute', async () => {
    const document = (await (await fetch(`${ctx.baseUrl}/api/v1/openapi.json`)).json()) as Json;
    const call = documentedApiClient(ctx.baseUrl, document);
    const { token } = await makeApiKey(ctx.deps, 'viewer');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await call(token, 'GET', '/api/v1/incidents')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const last = await call(token, 'GET', '/api/v1/incidents');
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
