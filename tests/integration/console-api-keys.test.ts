import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { csrfFrom, makeStaffAccount, postForm, signedInAgent } from '../support/console.js';

describe('API keys in the console', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext();
  });
  afterAll(async () => ctx?.close());

  it('lets an admin make a key for a colleague, shown once, that works until revoked', async () => {
    const admin = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'admin'));
    const editor = await makeStaffAccount(ctx.deps, 'editor');
    const made = await postForm(admin, '/console/api-keys', '/console/api-keys', {
      name: 'Helpdesk',
      staffId: String(editor.id),
      role: 'editor',
    });
    expect(made.status).toBe(200);
    const token = /<code class="api-key">([^<]+)<\/code>/.exec(made.text)?.[1];
    expect(token).toMatch(/^candor_/);
    const list = await admin.get('/console/api-keys').expect(200);
    expect(list.text).not.toContain(token);

    const use = () =>
      fetch(`${ctx.baseUrl}/api/v1/incidents`, { headers: { authorization: `Bearer ${token}` } });
    expect((await use()).status).toBe(200);
    const { rows } = await ctx.deps.db.query<{ id: number }>('SELECT id FROM api_keys WHERE name = $1', [
      'Helpdesk',
    ]);
    await admin
      .post(`/console/api-keys/${rows[0]!.id}/revoke`)
      .type('form')
      .send({ _csrf: csrfFrom(list.text) })
      .expect(303);
    expect((await use()).status).toBe(401);
    const { rowCount } = await ctx.deps.db.query(
      `SELECT 1 FROM audit_log WHERE action IN ('api_key.create', 'api_key.revoke') AND outcome = 'ok'`,
    );
    expect(rowCount).toBe(2);
  });

  it('refuses a key with a higher role than its owner, beside the field', async () => {
    const admin = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'admin'));
    const agent = await makeStaffAccount(ctx.deps, 'agent');
    const answer = await postForm(admin, '/console/api-keys', '/console/api-keys', {
      name: 'Too much',
      staffId: String(agent.id),
      role: 'admin',
    });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('id="role-error"');
  });
});
