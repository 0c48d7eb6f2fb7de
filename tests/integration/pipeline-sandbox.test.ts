import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, eventually, type TestContext } from '../support/context.js';
import { seedDemo } from '../../src/demo/seed.js';
import { sendDemoNotice } from '../../src/demo/send.js';
import { listOutbox } from '../../src/sandbox-outbox/store.js';
import { QUEUE_NAMES } from '../../src/queues.js';
import { makeStaffAccount, signedInAgent } from '../support/console.js';

describe('the walking skeleton on the sandbox provider', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext({ workers: true });
  });
  afterAll(async () => ctx?.close());

  it('has a worker for every queue it names', () => {
    const named = [
      QUEUE_NAMES.fanout,
      QUEUE_NAMES.maintenance,
      ...Object.values(QUEUE_NAMES.send),
      QUEUE_NAMES.sendBatch,
      QUEUE_NAMES.receipts,
    ].sort();
    expect(
      ctx.deps.queues
        .all()
        .map((queue) => queue.name)
        .sort(),
    ).toEqual(named);
    expect(ctx.workers!.workers.map((worker) => worker.name).sort()).toEqual(
      [...named, QUEUE_NAMES.portal].sort(),
    );
  });

  it('sends the demo notice to every seeded person, each in their language over a channel they can use', async () => {
    const seed = await seedDemo(ctx.deps, 36, { simulatedRecipients: false });
    const campaign = { id: (await sendDemoNotice(ctx.deps, seed)).campaignId };

    const statuses = await eventually('every message to reach a final status', async () => {
      const { rows } = await ctx.deps.db.query<{ status: string; channel: string; n: number }>(
        'SELECT status, channel, count(*)::int AS n FROM messages WHERE campaign_id = $1 GROUP BY 1, 2',
        [campaign.id],
      );
      const total = rows.reduce((sum, row) => sum + row.n, 0);
      const settled = rows.every(
        (row) =>
          ['delivered', 'answered', 'sent'].includes(row.status) &&
          (row.status !== 'sent' || row.channel === 'letter'),
      );
      return total === 36 && settled ? rows : undefined;
    });
    const byChannel = Object.fromEntries(statuses.map((row) => [row.channel, row.n]));
    expect(byChannel).toEqual({ email: 18, sms: 6, voice: 6, letter: 6 });

    await ctx.deps.sandbox.drain();
    const { entries, total } = await listOutbox(ctx.deps.db, ctx.deps.vault, 100);
    expect(total).toBe(36);
    const french = entries.find((entry) => entry.content.locale === 'fr' && entry.channel === 'email');
    expect(french?.content.subject).toContain('incident de sécurité');
    const call = entries.find((entry) => entry.channel === 'voice');
    expect(call?.content.speech).toMatch(/code/);
  });

  it('shows every message in the sandbox outbox page, to signed-in staff only', async () => {
    const signedOut = await fetch(`${ctx.baseUrl}/sandbox/outbox`, { redirect: 'manual' });
    expect(signedOut.status).toBe(303);
    const viewer = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'viewer'));
    const response = await viewer.get('/sandbox/outbox');
    expect(response.status).toBe(200);
    const html = response.text;
    expect(html).toContain('<strong>36</strong> messages');
  });

  it('keeps names, emails and phone numbers out of the database in clear', async () => {
    for (const table of ['people', 'messages', 'sandbox_outbox', 'delivery_events', 'staff']) {
      const { rows } = await ctx.deps.db.query<{ dump: string | null }>(
        `SELECT string_agg(row_to_json(t)::text, ' ') AS dump FROM ${table} t`,
      );
      const dump = rows[0]!.dump ?? '';
      expect(dump, table).not.toContain('example.com');
      expect(dump, table).not.toContain('+447400');
      expect(dump, table).not.toContain('Okafor');
    }
  });

  it('does not send twice when the fan-out and a send job run again', async () => {
    const { rows: before } = await ctx.deps.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM sandbox_outbox',
    );
    const { rows: campaigns } = await ctx.deps.db.query<{ id: number }>('SELECT id FROM campaigns');
    const campaignId = campaigns[0]!.id;
    await ctx.deps.db.query(
      'UPDATE campaigns SET fanout_cursor = 0, fanout_completed_at = NULL WHERE id = $1',
      [campaignId],
    );
    await ctx.deps.queues.fanout.add('fanout', { v: 1, campaignId }, { jobId: 'fanout-replay' });
    const { rows: messages } = await ctx.deps.db.query<{ id: number; channel: 'email' }>(
      "SELECT id, channel FROM messages WHERE channel = 'email' LIMIT 1",
    );
    await ctx.deps.queues.send.email.add(
      'send',
      { v: 1, messageId: messages[0]!.id },
      { jobId: 'send-replay' },
    );
    await eventually('the replayed jobs to finish', async () => {
      const replay = await ctx.deps.queues.send.email.getJob('send-replay');
      const fanout = await ctx.deps.queues.fanout.getJob('fanout-replay');
      return (await replay?.isCompleted()) && (await fanout?.isCompleted());
    });
    const { rows: after } = await ctx.deps.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM sandbox_outbox',
    );
    expect(after[0]!.n).toBe(before[0]!.n);
  });
});
