import type TestAgent from 'supertest/lib/agent.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeIncident, makePeople, makePerson } from '../support/factories.js';
import { csrfFrom, makeStaffAccount, signedInAgent, postForm } from '../support/console.js';

describe('campaigns in the console, with four eyes', () => {
  let ctx: TestContext;
  let editor: TestAgent;
  let approver: TestAgent;
  beforeAll(async () => {
    ctx = await startTestContext({ workers: true });
    editor = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'editor'));
    approver = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'approver'));
  });
  afterAll(async () => ctx?.close());

  async function draft(incidentId: number) {
    const created = await postForm(
      editor,
      `/console/incidents/${incidentId}/campaigns/new`,
      `/console/incidents/${incidentId}/campaigns`,
      {
        kind: 'initial_notice',
        audience: 'affected',
        order1: 'email',
        order2: 'sms',
        order3: '',
        order4: '',
      },
    );
    expect(created.status).toBe(303);
    return String(created.headers.location);
  }

  it('shows who each channel will reach before anything is sent', async () => {
    const incident = await makeIncident(ctx.deps);
    await makePeople(ctx.deps, incident.id, [
      makePerson(),
      makePerson({ email: null, phone: '+447400123456' }),
      makePerson({ email: null, phone: null, postalAddress: '1 High St' }),
    ]);
    const page = await editor.get(await draft(incident.id)).expect(200);
    expect(page.text).toMatch(
      /data-channel="email" data-locale="en"><td>Email<\/td><td>English<\/td><td data-field="people">1</,
    );
    expect(page.text).toMatch(
      /data-channel="sms" data-locale="en"><td>Text message \(SMS\)<\/td><td>English<\/td><td data-field="people">1</,
    );
    expect(page.text).toMatch(/data-channel="none" data-locale="en"><td>No usable contact details<\/td>/);
  });

  it('will not let an editor approve their own send, and lets an approver start it to 100%', async () => {
    const incident = await makeIncident(ctx.deps);
    await makePeople(
      ctx.deps,
      incident.id,
      Array.from({ length: 5 }, () => makePerson()),
    );
    const campaignPath = await draft(incident.id);
    const submitted = await postForm(editor, campaignPath, `${campaignPath}/submit`, {});
    expect(submitted.headers.location).toBe(campaignPath);

    const own = await editor.get(campaignPath).expect(200);
    expect(own.text).toContain('Waiting for approval');
    await editor
      .post(`${campaignPath}/approve`)
      .type('form')
      .send({ _csrf: csrfFrom(own.text) })
      .expect(403);

    const review = await approver.get(campaignPath).expect(200);
    expect(review.text).toContain('Approve and start sending');
    await approver
      .post(`${campaignPath}/approve`)
      .type('form')
      .send({ _csrf: csrfFrom(review.text), note: 'Checked the French text.' })
      .expect(303);

    const done = await eventually('the progress page to reach 100%', async () => {
      const page = await approver.get(campaignPath).expect(200);
      return /data-field="percent">100</.test(page.text) && page.text;
    });
    expect(done).toContain('5 of 5 people done');
    const events = await approver.get(`${campaignPath}/events`).expect(200);
    expect(events.headers['content-type']).toContain('text/event-stream');
    expect(events.text).toMatch(
      /event: progress\ndata: \{.*"status":"(sending|completed)".*"settled":5,.*"percent":100/,
    );
  });

  it('sends a campaign back to its editor with the approver’s note', async () => {
    const incident = await makeIncident(ctx.deps);
    const campaignPath = await draft(incident.id);
    expect((await postForm(editor, campaignPath, `${campaignPath}/submit`, {})).status).toBe(303);
    const review = await approver.get(campaignPath).expect(200);
    const noNote = await approver
      .post(`${campaignPath}/reject`)
      .type('form')
      .send({ _csrf: csrfFrom(review.text), note: '' })
      .expect(303);
    expect(noNote.headers.location).toContain('error=noteMissing');
    await approver
      .post(`${campaignPath}/reject`)
      .type('form')
      .send({ _csrf: csrfFrom(review.text), note: 'Add the helpline number.' })
      .expect(303);
    const back = await editor.get(campaignPath).expect(200);
    expect(back.text).toContain('Sent back');
    expect(back.text).toContain('Add the helpline number.');
    expect(back.text).toContain('Ask for approval');
  });

  it('lets an editor pause or cancel a send, and only an approver resume it', async () => {
    const incident = await makeIncident(ctx.deps);
    await makePeople(ctx.deps, incident.id, [makePerson(), makePerson(), makePerson()]);
    const statusOf = async (path: string) => {
      const { rows } = await ctx.deps.db.query<{ status: string }>(
        'SELECT status FROM campaigns WHERE id = $1',
        [Number(path.split('/').pop())],
      );
      return rows[0]?.status;
    };
    // A send caught between approval and its fan-out: marked sending, nothing queued yet.
    const startedButIdle = async () => {
      const path = await draft(incident.id);
      await postForm(editor, path, `${path}/submit`, {});
      await ctx.deps.db.query("UPDATE campaigns SET status = 'sending' WHERE id = $1", [
        Number(path.split('/').pop()),
      ]);
      return path;
    };

    const paused = await startedButIdle();
    expect((await editor.get(paused).expect(200)).text).toContain('Pause sending');
    expect((await postForm(editor, paused, `${paused}/pause`, {})).status).toBe(303);
    expect(await statusOf(paused)).toBe('paused');
    const page = await editor.get(paused).expect(200);
    expect(page.text).toContain('Sending is paused');
    await editor
      .post(`${paused}/resume`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text) })
      .expect(403);
    expect((await postForm(approver, paused, `${paused}/resume`, {})).status).toBe(303);
    await eventually('the resumed send to finish', async () => (await statusOf(paused)) === 'completed');

    const cancelled = await startedButIdle();
    expect((await postForm(editor, cancelled, `${cancelled}/cancel`, {})).status).toBe(303);
    expect(await statusOf(cancelled)).toBe('cancelled');
  });
});
