import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeIncident, makePeople, makePerson, makeStaff } from '../support/factories.js';
import { codeList, daysFromToday, makePool, stockPool } from '../support/codes.js';
import {
  approveCampaign,
  createCampaign,
  startCampaign,
  submitCampaign,
} from '../../src/campaigns/service.js';
import { DEFAULT_CHANNEL_POLICY } from '../../src/campaigns/channel-policy.js';
import {
  codeFactsForMessage,
  codeNoticeFacts,
  confirmRedemption,
  createCodeCampaign,
  revealCode,
} from '../../src/codes/service.js';
import { ConflictError } from '../../src/platform/errors.js';
import type { Incident } from '../../src/incidents/store.js';
import type { Pool } from '../../src/codes/store.js';
import { formatDay } from '../../src/codes/rules.js';
import { reconcile } from '../../src/campaigns/reconcile.js';
import { jobIds } from '../../src/queues.js';
import { listOutbox } from '../../src/sandbox-outbox/store.js';

describe('code offers and reminders through the campaign pipeline', () => {
  let ctx: TestContext;
  let incident: Incident;
  let pool: Pool;
  let editor: { id: number };
  let approver: { id: number };
  const people: Record<'redeemed' | 'revealed' | 'enrolling' | 'neverRevealed' | 'notAffected', number> = {
    redeemed: 0,
    revealed: 0,
    enrolling: 0,
    neverRevealed: 0,
    notAffected: 0,
  };

  /** Real time, moved forward when a test needs a scheduled day to come. */
  const clock = { aheadMs: 0, now: () => new Date(Date.now() + clock.aheadMs) };

  beforeAll(async () => {
    ctx = await startTestContext({ workers: true, clock });
    incident = await makeIncident(ctx.deps);
    editor = await makeStaff(ctx.deps, 'editor');
    approver = await makeStaff(ctx.deps, 'approver');
    pool = await makePool(ctx.deps, incident.id, { enrollBy: daysFromToday(10) });
    await stockPool(ctx.deps, pool.id, codeList('CM', 20));
    const created = await makePeople(ctx.deps, incident.id, [
      makePerson(),
      makePerson(),
      makePerson(),
      makePerson(),
      makePerson({ affected: false }),
    ]);
    const keys = Object.keys(people) as (keyof typeof people)[];
    keys.forEach((key, i) => (people[key] = created[i]!.id));
    for (const key of ['redeemed', 'revealed', 'enrolling'] as const) {
      await revealCode(ctx.deps, { personId: people[key], poolId: pool.id });
    }
    const { rows } = await ctx.deps.db.query<{ code_enc: string }>(
      'SELECT code_enc FROM codes WHERE pool_id = $1 AND person_id = $2',
      [pool.id, people.redeemed],
    );
    await confirmRedemption(ctx.deps, {
      poolId: pool.id,
      code: ctx.deps.vault.open(rows[0]!.code_enc),
      via: 'api',
      staffId: null,
    });
    await ctx.deps.db.query(
      'UPDATE codes SET enrollment_started_at = now() WHERE pool_id = $1 AND person_id = $2',
      [pool.id, people.enrolling],
    );
  });
  afterAll(async () => ctx?.close());

  async function approveAndStart(campaignId: number) {
    await submitCampaign(ctx.deps, { campaignId });
    await approveCampaign(ctx.deps, { campaignId, approverId: approver.id });
    await startCampaign(ctx.deps, { campaignId });
  }

  /** Who a started campaign reached, once it has fanned out and every message settled. */
  async function reachedBy(campaignId: number): Promise<Set<number>> {
    const rows = await eventually('the campaign to fan out and every message to settle', async () => {
      const { rows: campaign } = await ctx.deps.db.query<{ done: boolean }>(
        'SELECT fanout_completed_at IS NOT NULL AS done FROM campaigns WHERE id = $1',
        [campaignId],
      );
      if (!campaign[0]?.done) return undefined;
      const { rows: messages } = await ctx.deps.db.query<{ person_id: number; status: string }>(
        'SELECT person_id, status FROM messages WHERE campaign_id = $1',
        [campaignId],
      );
      return messages.every((m) => m.status === 'delivered') ? messages : undefined;
    });
    return new Set(rows.map((row) => row.person_id));
  }

  async function send(campaignId: number): Promise<Set<number>> {
    await approveAndStart(campaignId);
    return reachedBy(campaignId);
  }

  /** Starts a scheduled campaign, checks nothing goes before its time, then lets its time come. */
  async function sendOnSchedule(campaign: { id: number; scheduledFor: Date | null }): Promise<Set<number>> {
    await approveAndStart(campaign.id);
    await reconcile(ctx.deps);
    const { rows } = await ctx.deps.db.query<{ status: string; fanned_out: boolean; messages: number }>(
      `SELECT status, fanout_completed_at IS NOT NULL AS fanned_out,
         (SELECT count(*)::int FROM messages WHERE campaign_id = c.id) AS messages
       FROM campaigns c WHERE id = $1`,
      [campaign.id],
    );
    expect(rows[0]).toEqual({ status: 'sending', fanned_out: false, messages: 0 });
    // Nothing waits in Redis either: the schedule is kept in PostgreSQL alone.
    expect(await ctx.deps.queues.fanout.getJobState(jobIds.fanout(campaign.id))).toBe('unknown');
    clock.aheadMs = campaign.scheduledFor!.getTime() - Date.now() + 60_000;
    try {
      // What the workers' reconciler job does every few seconds; called here so the test need not wait.
      await reconcile(ctx.deps);
      return await reachedBy(campaign.id);
    } finally {
      clock.aheadMs = 0;
    }
  }

  it('offers the code to everyone eligible who has not already used one', async () => {
    const offer = await createCodeCampaign(ctx.deps, {
      poolId: pool.id,
      purpose: 'offer',
      createdBy: editor.id,
    });
    expect(offer.kind).toBe('code_offer');
    expect(await send(offer.id)).toEqual(new Set([people.revealed, people.enrolling, people.neverRevealed]));
  });

  it('reminds only people offered a code who have not redeemed it, scheduled N days before the enroll-by date', async () => {
    // Imported after the offer went out: never offered, so not reminded either.
    const [latecomer] = await makePeople(ctx.deps, incident.id, [makePerson()]);
    const reminder = await createCodeCampaign(ctx.deps, {
      poolId: pool.id,
      purpose: 'reminder',
      daysBefore: 3,
      createdBy: editor.id,
    });
    expect(reminder.kind).toBe('code_reminder');
    expect(reminder.scheduledFor?.toISOString()).toBe(`${daysFromToday(7)}T09:00:00.000Z`);
    const reached = await sendOnSchedule(reminder);
    expect(reached).toEqual(new Set([people.revealed, people.enrolling, people.neverRevealed]));
    expect(reached.has(latecomer!.id)).toBe(false);
  });

  it('reminds nobody once the enroll-by date has passed, and will not schedule a reminder after it', async () => {
    const reminder = await createCodeCampaign(ctx.deps, {
      poolId: pool.id,
      purpose: 'reminder',
      daysBefore: 1,
      createdBy: editor.id,
    });
    await ctx.deps.db.query('UPDATE code_pools SET enroll_by = $2 WHERE id = $1', [
      pool.id,
      daysFromToday(-1),
    ]);
    expect(await sendOnSchedule(reminder)).toEqual(new Set());
    await expect(
      createCodeCampaign(ctx.deps, {
        poolId: pool.id,
        purpose: 'reminder',
        daysBefore: 1,
        createdBy: editor.id,
      }),
    ).rejects.toBeInstanceOf(ConflictError);
  });

  it('leaves every other campaign’s audience as it was', async () => {
    const notice = await createCampaign(ctx.deps, {
      incidentId: incident.id,
      kind: 'initial_notice',
      audience: 'affected',
      channelPolicy: DEFAULT_CHANNEL_POLICY,
      createdBy: editor.id,
    });
    const reached = await send(notice.id);
    expect(reached.has(people.redeemed)).toBe(true);
    expect(reached.has(people.notAffected)).toBe(false);
    expect(reached.size).toBe(5);
  });

  it('offers a data-type pool only to affected people whose exposed data includes one of its types', async () => {
    const [withId, withoutId, unaffectedWithId] = await makePeople(ctx.deps, incident.id, [
      makePerson({ exposedDataTypes: ['names', 'national_ids'] }),
      makePerson({ exposedDataTypes: ['names'] }),
      makePerson({ affected: false, exposedDataTypes: ['national_ids'] }),
    ]);
    const idPool = await makePool(ctx.deps, incident.id, {
      name: 'Identity protection',
      eligibility: 'data_types',
      eligibleDataTypes: ['national_ids', 'passwords'],
    });
    const offer = await createCodeCampaign(ctx.deps, {
      poolId: idPool.id,
      purpose: 'offer',
      createdBy: editor.id,
    });
    const reached = await send(offer.id);
    expect(reached).toEqual(new Set([withId!.id]));
    expect(reached.has(withoutId!.id) || reached.has(unaffectedWithId!.id)).toBe(false);
  });

  it('gives the send worker the code itself for pools that put it in the message, the same on a resend', async () => {
    const inMessage = await makePool(ctx.deps, incident.id, {
      name: 'In the message',
      offerMode: 'code_in_message',
    });
    await stockPool(ctx.deps, inMessage.id, codeList('MSG', 3));
    const campaign = await createCodeCampaign(ctx.deps, {
      poolId: inMessage.id,
      purpose: 'offer',
      createdBy: editor.id,
    });
    const first = await codeFactsForMessage(ctx.deps, {
      campaignId: campaign.id,
      personId: people.neverRevealed,
    });
    const again = await codeFactsForMessage(ctx.deps, {
      campaignId: campaign.id,
      personId: people.neverRevealed,
    });
    expect(first).toMatchObject({
      vendorName: 'Watchful Credit',
      revealUrl: `${ctx.baseUrl}/incidents/${incident.slug}/codes`,
    });
    expect(first?.code).toMatch(/^MSG-/);
    expect(again?.code).toBe(first?.code);

    const linkOnly = await createCodeCampaign(ctx.deps, {
      poolId: pool.id,
      purpose: 'offer',
      createdBy: editor.id,
    });
    expect(
      (await codeFactsForMessage(ctx.deps, { campaignId: linkOnly.id, personId: people.neverRevealed }))
        ?.code,
    ).toBeNull();
    expect(
      await codeNoticeFacts(ctx.deps, {
        campaignId: campaign.id,
        personId: people.neverRevealed,
        locale: 'fr',
      }),
    ).toEqual({
      service: 'In the message',
      goodwill: false,
      vendor: 'Watchful Credit',
      instructions: 'Saisissez le code sur la première page.',
      deadline: formatDay('fr', inMessage.enrollBy!),
      code: first?.code,
    });
    const { rows } = await ctx.deps.db.query<{ id: number }>(
      "SELECT id FROM campaigns WHERE kind = 'initial_notice'",
    );
    expect(
      await codeFactsForMessage(ctx.deps, { campaignId: rows[0]!.id, personId: people.revealed }),
    ).toBeNull();
  });

  it('puts the code and its enroll-by date in the offer people receive, or only the link, as the pool says', async () => {
    const [person] = await makePeople(ctx.deps, incident.id, [makePerson({ locale: 'en' })]);
    const inMessage = await makePool(ctx.deps, incident.id, {
      name: 'Code in the message',
      offerMode: 'code_in_message',
      enrollBy: daysFromToday(20),
      eligibility: 'data_types',
      eligibleDataTypes: ['health_data'],
    });
    await ctx.deps.db.query(`UPDATE people SET exposed_data_types = '{health_data}' WHERE id = $1`, [
      person!.id,
    ]);
    await stockPool(ctx.deps, inMessage.id, codeList('INMSG', 2));
    const offer = await createCodeCampaign(ctx.deps, {
      poolId: inMessage.id,
      purpose: 'offer',
      createdBy: editor.id,
    });
    expect(await send(offer.id)).toEqual(new Set([person!.id]));

    const { rows: messages } = await ctx.deps.db.query<{ id: number }>(
      'SELECT id FROM messages WHERE campaign_id = $1',
      [offer.id],
    );
    const { entries } = await listOutbox(ctx.deps.db, ctx.deps.vault, 500);
    const received = entries.find((entry) => entry.messageId === messages[0]!.id)!.content;
    const { rows: assigned } = await ctx.deps.db.query<{ code_enc: string }>(
      'SELECT code_enc FROM codes WHERE pool_id = $1 AND person_id = $2',
      [inMessage.id, person!.id],
    );
    const code = ctx.deps.vault.open(assigned[0]!.code_enc);
    expect(code).toMatch(/^INMSG-/);
    expect(received.text).toContain(`Your personal code: ${code}`);
    expect(received.text).toContain(`Please use it before ${formatDay('en', inMessage.enrollBy!)}.`);

    const { rows: linkMessages } = await ctx.deps.db.query<{ id: number }>(
      `SELECT m.id FROM messages m JOIN code_campaigns cc ON cc.campaign_id = m.campaign_id
       WHERE cc.pool_id = $1 AND cc.purpose = 'offer'`,
      [pool.id],
    );
    const linkOffer = entries.find((entry) => entry.messageId === linkMessages[0]!.id)!.content;
    expect(linkOffer.text).toContain('To get your personal code, go to');
    expect(linkOffer.text).toContain(`Please claim it before ${formatDay('en', pool.enrollBy!)}.`);
    expect(linkOffer.text).not.toContain('Your personal code:');
  });
});
