import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { csrfFrom, makeStaffAccount, postForm, signedInAgent } from '../support/console.js';
import { makeIncident, makePeople, makePerson } from '../support/factories.js';
import { insertSupportRequest } from '../../src/support/store.js';

describe('the support queue in the console', () => {
  let ctx: TestContext;
  let callbackId: number;
  beforeAll(async () => {
    ctx = await startTestContext();
    const incident = await makeIncident(ctx.deps);
    const at = ctx.deps.clock.now();
    callbackId = await insertSupportRequest(ctx.deps.db, ctx.deps.vault, {
      kind: 'callback',
      phone: '+447400123456',
      preferredTime: 'morning',
      incidentId: incident.id,
      personId: null,
      locale: 'fr',
      at,
    });
    await insertSupportRequest(ctx.deps.db, ctx.deps.vault, {
      kind: 'message',
      message: 'I never shopped with you, why did I get this?',
      name: 'Zoë Quill',
      replyEmail: 'zoe@example.net',
      incidentId: incident.id,
      personId: null,
      locale: 'en',
      at: new Date(at.getTime() + 1000),
    });
  });
  afterAll(async () => ctx?.close());

  it('gives a callback slot its hours in the person’s own zone', async () => {
    const incident = await makeIncident(ctx.deps);
    const [person] = await makePeople(ctx.deps, incident.id, [makePerson({ timeZone: 'Asia/Kolkata' })]);
    const id = await insertSupportRequest(ctx.deps.db, ctx.deps.vault, {
      kind: 'callback',
      phone: '+919812345678',
      preferredTime: 'evening',
      incidentId: incident.id,
      personId: person!.id,
      locale: 'hi',
      at: ctx.deps.clock.now(),
    });
    const agent = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'agent'));
    const detail = await agent.get(`/console/support/${id}`).expect(200);
    // India keeps one offset all year, so the zone's name does not depend on the day the test runs.
    expect(detail.text).toContain('Evening, 5:00 PM–8:00 PM GMT+5:30');
    const queue = await agent.get('/console/support').expect(200);
    expect(queue.text).toContain('Evening, 5:00 PM–8:00 PM GMT+5:30');
  });

  it('lets an agent take a callback, note the call and close it', async () => {
    const agentStaff = await makeStaffAccount(ctx.deps, 'agent');
    const agent = await signedInAgent(ctx.baseUrl, agentStaff);
    const queue = await agent.get('/console/support').expect(200);
    expect(queue.text.indexOf('Call back')).toBeLessThan(queue.text.indexOf('Message'));

    const page = `/console/support/${callbackId}`;
    const detail = await agent.get(page).expect(200);
    expect(detail.text).toContain('+447400123456');
    // No person behind it: the organisation's zone (UTC in tests), named.
    expect(detail.text).toContain('Morning, 9:00 AM–12:00 PM UTC');
    await agent
      .post(`${page}/assign`)
      .type('form')
      .send({ _csrf: csrfFrom(detail.text), staffId: '' })
      .expect(303);
    expect((await agent.get(page)).text).toContain('Being handled');

    const empty = await postForm(agent, page, `${page}/notes`, { note: '  ' });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('id="note-error"');
    await postForm(agent, page, `${page}/notes`, { note: 'Called at 9:10, explained the letter.' }).then(
      (answer) => expect(answer.status).toBe(303),
    );
    expect((await agent.get(page)).text).toContain('Called at 9:10, explained the letter.');
    const { rows } = await ctx.deps.db.query<{ dump: string }>(
      `SELECT string_agg(row_to_json(n)::text, ' ') AS dump FROM support_notes n`,
    );
    expect(rows[0]!.dump).not.toContain('explained the letter');

    await postForm(agent, page, `${page}/close`, {}).then((answer) => expect(answer.status).toBe(303));
    const waiting = await agent.get('/console/support').expect(200);
    expect(waiting.text).not.toContain(`/console/support/${callbackId}"`);
    const closed = await agent.get('/console/support?show=closed').expect(200);
    expect(closed.text).toContain(`/console/support/${callbackId}"`);

    const actions = await eventually('the close to be audited', async () => {
      const { rows: audit } = await ctx.deps.db.query<{ action: string }>(
        `SELECT action FROM audit_log WHERE staff_id = $1 AND outcome = 'ok' AND action LIKE 'support.%' ORDER BY id`,
        [agentStaff.id],
      );
      return audit.length === 3 ? audit.map((row) => row.action) : undefined;
    });
    expect(actions).toEqual(['support.assign', 'support.note', 'support.close']);
  });
});
