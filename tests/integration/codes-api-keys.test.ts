import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { makeIncident } from '../support/factories.js';
import { makeApiKey } from '../support/api.js';

describe('the codes API behind real API keys', () => {
  let ctx: TestContext;
  let incidentId: number;
  const pool = { kind: 'discount', name: '20% off', vendorName: 'Acme Bikes', eligibility: 'everyone' };

  beforeAll(async () => {
    ctx = await startTestContext();
    incidentId = (await makeIncident(ctx.deps)).id;
  });
  afterAll(async () => ctx?.close());

  it('refuses a call without a key, and a key whose role may not manage codes', async () => {
    await request(ctx.server).post(`/api/v1/incidents/${incidentId}/code-pools`).send(pool).expect(401);
    const viewer = await makeApiKey(ctx.deps, 'viewer');
    const refused = await request(ctx.server)
      .post(`/api/v1/incidents/${incidentId}/code-pools`)
      .set('Authorization', `Bearer ${viewer.token}`)
      .send(pool)
      .expect(403);
    expect(refused.headers['content-type']).toContain('application/problem+json');
  });

  it('lets an editor’s key create a pool, and an agent’s key only mark codes redeemed', async () => {
    const editor = await makeApiKey(ctx.deps, 'editor');
    const created = await request(ctx.server)
      .post(`/api/v1/incidents/${incidentId}/code-pools`)
      .set('Authorization', `Bearer ${editor.token}`)
      .send(pool)
      .expect(201);
    const poolId = (created.body as { pool: { id: number } }).pool.id;
    const agent = await makeApiKey(ctx.deps, 'agent');
    await request(ctx.server)
      .post(`/api/v1/incidents/${incidentId}/code-pools`)
      .set('Authorization', `Bearer ${agent.token}`)
      .send(pool)
      .expect(403);
    const redeem = await request(ctx.server)
      .post(`/api/v1/code-pools/${poolId}/redemptions`)
      .set('Authorization', `Bearer ${agent.token}`)
      .send({ code: 'NOT-ISSUED' });
    expect(redeem.status).not.toBe(403);
    expect(redeem.status).not.toBe(401);
  });
});
