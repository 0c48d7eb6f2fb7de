import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeIncident, makePeople, makePerson } from '../support/factories.js';
import { codeList, makePool, stockPool } from '../support/codes.js';
import type TestAgent from 'supertest/lib/agent.js';
import { csrfFrom, makeStaffAccount, signedInAgent } from '../support/console.js';
import { documentedApiClient, makeApiKey } from '../support/api.js';
import { uploadCodesFromFile } from '../../src/codes/cli.js';
import { seedDemoCodes } from '../../src/codes/demo.js';
import { revealCode } from '../../src/codes/service.js';
import { approveCampaign, startCampaign, submitCampaign } from '../../src/campaigns/service.js';
import { listPools, poolStock, type Pool } from '../../src/codes/store.js';
import type { Incident } from '../../src/incidents/store.js';

describe('codes in the staff console', () => {
  let ctx: TestContext;
  let incident: Incident;
  let editor: TestAgent;
  let editorId: number;

  beforeAll(async () => {
    ctx = await startTestContext();
    incident = await makeIncident(ctx.deps, { dataTypes: ['names', 'national_ids'] });
    const account = await makeStaffAccount(ctx.deps, 'editor');
    editorId = account.id;
    editor = await signedInAgent(ctx.baseUrl, account);
  });
  afterAll(async () => ctx?.close());

  async function poolPage(poolId: number, agent = editor) {
    const page = await agent.get(`/console/codes/${poolId}`).expect(200);
    return { html: page.text, csrf: csrfFrom(page.text) };
  }

  /** A vendor's file, uploaded through the page's file field like a browser. */
  function upload(poolId: number, csrf: string, contents: string, agent = editor) {
    return agent
      .post(`/console/codes/${poolId}/upload`)
      .field('_csrf', csrf)
      .attach('codes', Buffer.from(contents), { filename: 'codes.csv', contentType: 'text/csv' });
  }

  it('sends a signed-out visitor to sign in, shows stock to a viewer, and refuses the viewer’s upload', async () => {
    const pool = await makePool(ctx.deps, incident.id);
    const visitor = await request(ctx.baseUrl).get('/console/codes').expect(303);
    expect(visitor.headers.location).toBe('/console/sign-in?next=%2Fconsole%2Fcodes');
    const viewer = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'viewer'));
    const list = await viewer.get('/console/codes').expect(200);
    expect(list.text).toContain(pool.name);
    const { html, csrf } = await poolPage(pool.id, viewer);
    expect(html).not.toContain('type="file"');
    await upload(pool.id, csrf, 'code\nV-1', viewer).expect(403);
    expect((await poolStock(ctx.deps.db, pool.id)).total).toBe(0);
  });

  it('creates a pool from the form, and shows each problem beside its field when the form is wrong', async () => {
    const form = await editor.get(`/console/codes/new?incident=${incident.id}`).expect(200);
    const csrf = csrfFrom(form.text);
    const refused = await editor
      .post('/console/codes')
      .type('form')
      .send({
        _csrf: csrf,
        incidentId: String(incident.id),
        kind: 'credit_monitoring',
        name: '',
        vendorName: 'Watchful',
        eligibility: 'data_types',
        enrollmentUrlTemplate: 'javascript:alert(1)',
      })
      .expect(400);
    expect(refused.text).toContain('There is a problem');
    expect(refused.text).toContain('<a href="#name">Enter the name people will see</a>');
    expect(refused.text).toContain(
      '<a href="#enrollmentUrlTemplate">Enter a web address that starts with https://</a>',
    );
    expect(refused.text).toContain(
      '<a href="#eligibleDataTypes">Choose at least one kind of exposed data</a>',
    );

    const created = await editor
      .post('/console/codes')
      .type('form')
      .send({
        _csrf: csrf,
        incidentId: String(incident.id),
        kind: 'identity_protection',
        name: 'Identity protection, 12 months',
        vendorName: 'Shield',
        enrollmentUrlTemplate: 'https://shield.example/start?c={code}',
        enrollBy: '2031-01-31',
        eligibility: 'data_types',
        dataType_national_ids: 'on',
        offerMode: 'code_in_message',
        lowStockThreshold: '3',
        instructions_en: 'Use the code within a year.',
      })
      .expect(303);
    const poolId = Number(/\/console\/codes\/(\d+)$/.exec(created.headers.location!)?.[1]);
    const { rows } = await ctx.deps.db.query<{
      eligible_data_types: string[];
      created_by: number;
      offer_mode: string;
    }>('SELECT eligible_data_types, created_by, offer_mode FROM code_pools WHERE id = $1', [poolId]);
    expect(rows[0]).toEqual({
      eligible_data_types: ['national_ids'],
      created_by: editorId,
      offer_mode: 'code_in_message',
    });
  });

  it('refuses a code file with bad rows, naming each line, and adds nothing from it', async () => {
    const pool = await makePool(ctx.deps, incident.id);
    const { csrf } = await poolPage(pool.id);
    const refused = await upload(pool.id, csrf, 'serial,code\n1,GOOD-1\n2,good 1\n3,\n4,GOOD-2\n').expect(
      400,
    );
    expect(refused.text).toContain('Nothing was added');
    expect(refused.text).toContain('Line 3: the same code as line 2');
    expect(refused.text).toContain('Line 4: the code is empty');
    expect(refused.text).not.toContain('GOOD-2');
    expect((await poolStock(ctx.deps.db, pool.id)).total).toBe(0);

    const noColumn = await upload(pool.id, csrf, 'voucher\nA1\n').expect(400);
    expect(noColumn.text).toContain('The first line must name a column called code.');
  });

  it('adds a good file, then refuses one that repeats codes already in the pool, by line', async () => {
    const pool = await makePool(ctx.deps, incident.id);
    const { csrf } = await poolPage(pool.id);
    const added = await upload(pool.id, csrf, 'code\nK-1\nK-2\nK-3\n').expect(303);
    const page = await editor.get(added.headers.location!).expect(200);
    expect(page.text).toContain('3 codes added.');
    expect(page.text).toContain('<dd data-stock="available">3</dd>');

    const refused = await upload(pool.id, csrf, 'code\nK-4\nk 2\n').expect(400);
    expect(refused.text).toContain('Line 3: this code is already in the pool');
    expect((await poolStock(ctx.deps.db, pool.id)).total).toBe(3);
  });

  it('lets staff confirm that a given-out code was used, once', async () => {
    const pool = await makePool(ctx.deps, incident.id);
    await stockPool(ctx.deps, pool.id, codeList('RED', 2));
    const [person] = await makePeople(ctx.deps, incident.id, [makePerson()]);
    const revealed = await revealCode(ctx.deps, { personId: person!.id, poolId: pool.id });
    if (revealed.outcome !== 'revealed') throw new Error('expected a code');

    const { csrf } = await poolPage(pool.id);
    const unknown = await editor
      .post(`/console/codes/${pool.id}/redemptions`)
      .type('form')
      .send({ _csrf: csrf, code: 'NOT-A-CODE' })
      .expect(400);
    expect(unknown.text).toContain('That code is not in this pool');

    const confirmed = await editor
      .post(`/console/codes/${pool.id}/redemptions`)
      .type('form')
      .send({ _csrf: csrf, code: revealed.code.toLowerCase() })
      .expect(303);
    expect(confirmed.headers.location).toBe(`/console/codes/${pool.id}?notice=redeemed`);
    const { rows } = await ctx.deps.db.query<{ redeemed_via: string; redeemed_by: number }>(
      'SELECT redeemed_via, redeemed_by FROM codes WHERE pool_id = $1 AND person_id = $2',
      [pool.id, person!.id],
    );
    expect(rows[0]).toEqual({ redeemed_via: 'staff', redeemed_by: editorId });
    const again = await editor
      .post(`/console/codes/${pool.id}/redemptions`)
      .type('form')
      .send({ _csrf: csrf, code: revealed.code })
      .expect(303);
    expect(again.headers.location).toBe(`/console/codes/${pool.id}?notice=already_redeemed`);
  });

  it('creates an offer campaign for approval, and explains beside the form why a reminder cannot be made', async () => {
    const pool = await makePool(ctx.deps, incident.id, { enrollBy: null });
    const { csrf } = await poolPage(pool.id);
    const offer = await editor
      .post(`/console/codes/${pool.id}/campaigns`)
      .type('form')
      .send({ _csrf: csrf, purpose: 'offer' })
      .expect(303);
    const campaignId = Number(/campaign-(\d+)$/.exec(offer.headers.location!)?.[1]);
    const { rows } = await ctx.deps.db.query<{ kind: string; status: string; created_by: number }>(
      'SELECT kind, status, created_by FROM campaigns WHERE id = $1',
      [campaignId],
    );
    expect(rows[0]).toEqual({ kind: 'code_offer', status: 'draft', created_by: editorId });
    const reminder = await editor
      .post(`/console/codes/${pool.id}/campaigns`)
      .type('form')
      .send({ _csrf: csrf, purpose: 'reminder', daysBefore: '7' })
      .expect(400);
    expect(reminder.text).toContain('A reminder needs a last day to use the code that has not passed yet');
  });

  it('schedules a reminder N days before the enroll-by date, and says on the campaign page when it will start', async () => {
    const pool = await makePool(ctx.deps, incident.id, { enrollBy: '2099-06-30' });
    const { csrf } = await poolPage(pool.id);
    const created = await editor
      .post(`/console/codes/${pool.id}/campaigns`)
      .type('form')
      .send({ _csrf: csrf, purpose: 'reminder', daysBefore: '7' })
      .expect(303);
    const campaignId = Number(/campaign-(\d+)$/.exec(created.headers.location!)?.[1]);
    const approver = await makeStaffAccount(ctx.deps, 'approver');
    await submitCampaign(ctx.deps, { campaignId });
    await approveCampaign(ctx.deps, { campaignId, approverId: approver.id });
    await startCampaign(ctx.deps, { campaignId });
    const page = await editor.get(`/console/campaigns/${campaignId}`).expect(200);
    expect(page.text).toContain('Scheduled: sending starts at Jun 23, 2099, 9:00 AM UTC.');
  });
});

/** A JSON response's body, for reading fields without an \`any\`. */
const bodyOf = (response: { body: unknown }) => response.body as Record<string, unknown>;

describe('codes in the JSON API, every answer checked against the OpenAPI document', () => {
  let ctx: TestContext;
  let call: ReturnType<typeof documentedApiClient>;
  let incident: Incident;
  let pool: Pool;
  let editorKey: string;
  let editorId: number;

  beforeAll(async () => {
    ctx = await startTestContext();
    call = documentedApiClient(ctx.baseUrl, await (await fetch(`${ctx.baseUrl}/api/v1/openapi.json`)).json());
    incident = await makeIncident(ctx.deps);
    pool = await makePool(ctx.deps, incident.id, {
      kind: 'discount',
      name: '20% off',
      enrollmentUrlTemplate: null,
    });
    const editor = await makeApiKey(ctx.deps, 'editor');
    editorKey = editor.token;
    editorId = editor.staff.id;
  });
  afterAll(async () => ctx?.close());

  it('refuses every call without an API key', async () => {
    expect((await call(null, 'GET', `/api/v1/code-pools/${pool.id}`)).status).toBe(401);
    expect(
      (await call(null, 'POST', `/api/v1/code-pools/${pool.id}/redemptions`, { code: 'X' })).status,
    ).toBe(401);
  });

  it('creates a pool from JSON, names every bad field, and records who did it in the audit log', async () => {
    const misshapen = await call(editorKey, 'POST', `/api/v1/incidents/${incident.id}/code-pools`, {
      kind: 'voucher',
      name: 'x',
      vendorName: 'y',
      eligibility: 'affected',
    });
    expect(misshapen.status).toBe(400);
    expect(bodyOf(misshapen).errors).toEqual([{ path: '/kind', message: expect.any(String) as string }]);
    // Well formed, but against the pool rules the console applies too: told in words, not locale keys.
    const unruly = await call(editorKey, 'POST', `/api/v1/incidents/${incident.id}/code-pools`, {
      kind: 'discount',
      name: 'x',
      vendorName: 'y',
      eligibility: 'data_types',
    });
    expect(unruly.status).toBe(400);
    const errors = bodyOf(unruly).errors as { path: string; message: string }[];
    expect(errors.map((error) => error.path)).toEqual(['/eligibleDataTypes']);
    expect(errors[0]!.message).not.toMatch(/^codes:/);

    const created = await call(editorKey, 'POST', `/api/v1/incidents/${incident.id}/code-pools`, {
      kind: 'gift_certificate',
      name: '£10 gift card',
      vendorName: 'Acme Bikes',
      eligibility: 'everyone',
    });
    expect(created.status).toBe(201);
    const createdPool = bodyOf(created).pool as { id: number };
    expect(createdPool).toMatchObject({
      kind: 'gift_certificate',
      eligibility: 'everyone',
      offerMode: 'reveal_link',
    });
    // The audit record is written once the answer has gone.
    const rows = await eventually('the audit record', async () => {
      const { rows } = await ctx.deps.db.query<{
        action: string;
        staff_id: number | null;
        api_key_id: number | null;
      }>(`SELECT action, staff_id, api_key_id FROM audit_log WHERE action = 'code_pool.create'`);
      return rows.length > 0 ? rows : undefined;
    });
    expect(rows).toEqual([
      { action: 'code_pool.create', staff_id: editorId, api_key_id: expect.any(Number) as number },
    ]);
  });

  it('takes codes as a CSV body, all or nothing, with problems by line', async () => {
    const path = `/api/v1/code-pools/${pool.id}/codes`;
    const refused = await call(editorKey, 'POST', path, 'code\nSAVE-1\nSAVE-1\n', {
      contentType: 'text/csv',
    });
    expect(refused.status).toBe(400);
    expect(bodyOf(refused).problems).toEqual([{ line: 3, problem: 'duplicate_in_file', firstLine: 2 }]);
    const added = await call(editorKey, 'POST', path, ['code', ...codeList('SAVE', 50)].join('\r\n'), {
      contentType: 'text/csv',
    });
    expect(added).toMatchObject({ status: 201, body: { added: 50, available: 50 } });
    expect((await call(editorKey, 'POST', path, { code: 'X' })).status).toBe(415);
    const read = await call(editorKey, 'GET', `/api/v1/code-pools/${pool.id}`);
    expect(bodyOf(read).stock).toEqual({
      total: 50,
      available: 50,
      assigned: 0,
      enrollmentStarted: 0,
      redeemed: 0,
    });
  });

  it('lets a shop mark a given-out discount code redeemed, however it was typed, once', async () => {
    const agent = await makeApiKey(ctx.deps, 'agent');
    const redeem = (code: string) =>
      call(agent.token, 'POST', `/api/v1/code-pools/${pool.id}/redemptions`, { code });
    const [person] = await makePeople(ctx.deps, incident.id, [makePerson()]);
    expect((await redeem('SAVE-00002')).status).toBe(409);
    const revealed = await revealCode(ctx.deps, { personId: person!.id, poolId: pool.id });
    if (revealed.outcome !== 'revealed') throw new Error('expected a code');
    const typed = ` ${revealed.code.toLowerCase().replace('-', ' ')} `;
    expect(bodyOf(await redeem(typed)).outcome).toBe('redeemed');
    expect(bodyOf(await redeem(revealed.code)).outcome).toBe('already_redeemed');
    expect((await redeem('NOPE')).status).toBe(404);
    const { rows } = await ctx.deps.db.query<{ redeemed_via: string }>(
      'SELECT redeemed_via FROM codes WHERE pool_id = $1 AND person_id = $2',
      [pool.id, person!.id],
    );
    expect(rows[0]!.redeemed_via).toBe('api');
    // An agent's key marks codes redeemed, and nothing more.
    const create = await call(agent.token, 'POST', `/api/v1/incidents/${incident.id}/code-pools`, {
      kind: 'discount',
      name: 'x',
      vendorName: 'y',
      eligibility: 'everyone',
    });
    expect(create.status).toBe(403);
  });
});

describe('codes from the command line', () => {
  let ctx: TestContext;
  let dir: string;
  beforeAll(async () => {
    ctx = await startTestContext();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'candor-codes-'));
  });
  afterAll(async () => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await ctx?.close();
  });

  it('streams a vendor file into a pool, and lists bad lines without adding anything', async () => {
    const incident = await makeIncident(ctx.deps);
    const pool = await makePool(ctx.deps, incident.id);
    const good = path.join(dir, 'good.csv');
    fs.writeFileSync(good, ['id,code', ...codeList('CLI', 1000).map((code, i) => `${i},${code}`)].join('\n'));
    expect(await uploadCodesFromFile(ctx.deps, String(pool.id), good)).toEqual({
      ok: true,
      message: `Added 1000 codes to pool ${pool.id}; 1000 are free.`,
    });
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, 'code\nNEW-1\nCLI-00007\n');
    const refused = await uploadCodesFromFile(ctx.deps, String(pool.id), bad);
    expect(refused.ok).toBe(false);
    expect(refused.message).toContain('line 3: this code is already in the pool');
    expect((await poolStock(ctx.deps.db, pool.id)).total).toBe(1000);
    expect((await uploadCodesFromFile(ctx.deps, '999999', good)).message).toBe(
      'There is no code pool 999999.',
    );
  });

  it('seeds the demo offers once', async () => {
    const incident = await makeIncident(ctx.deps);
    expect(await seedDemoCodes(ctx.deps, incident.id)).toEqual({ created: true });
    expect(await seedDemoCodes(ctx.deps, incident.id)).toEqual({ created: false });
    const pools = await listPools(ctx.deps.db, { incidentId: incident.id });
    expect(pools.map((pool) => pool.kind)).toEqual(['credit_monitoring', 'discount']);
    expect((await poolStock(ctx.deps.db, pools[0]!.id)).available).toBe(40);
  });
});
