import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Job } from 'bullmq';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import {
  makeApprovedCampaign,
  makeIncident,
  makePeople,
  makePerson,
  makeStaff,
} from '../support/factories.js';
import { startProviders } from '../support/providers.js';
import type { FakeOutcome, FakeProviders } from '../fakes/provider-server.js';
import { fixedClock } from '../../src/platform/clock.js';
import {
  approveCampaign,
  cancelCampaign,
  createCampaign,
  planCampaign,
  startCampaign,
  submitCampaign,
} from '../../src/campaigns/service.js';
import type { Channel } from '../../src/channels/kinds.js';
import type { Audience } from '../../src/campaigns/lifecycle.js';
import type { MessageKind } from '../../src/notices/render.js';
import { documentedApiClient, makeApiKey } from '../support/api.js';
import { codeList, makePool, stockPool } from '../support/codes.js';
import { createCodeCampaign } from '../../src/codes/service.js';
import { makeStaffAccount, signedInAgent } from '../support/console.js';
import { makeFanoutProcessor } from '../../src/campaigns/fanout.js';
import { findCampaign } from '../../src/campaigns/store.js';
import type { Incident } from '../../src/incidents/store.js';
import type { FanoutJob } from '../../src/queues.js';

// 03:00 in London: SMS and calls wait for 08:00 there; it is 14:00 in Sydney, where they go at once.
const NIGHT = new Date('2026-01-15T03:00:00Z');
const LONDON_MORNING = new Date('2026-01-15T08:00:00Z');

describe('each person hears once (real PostgreSQL, Redis, workers, SDKs against fake providers)', () => {
  let ctx: TestContext;
  let fake: FakeProviders;
  let incident: Incident;
  const clock = fixedClock(NIGHT);

  beforeAll(async () => {
    const providers = await startProviders();
    fake = providers.fake;
    ctx = await startTestContext({
      workers: true,
      env: { ...providers.env, CALLING_HOURS: '08:00-21:00' },
      clock,
    });
    fake.setSendgridWebhookUrl(`${ctx.baseUrl}/webhooks/sendgrid`);
  });
  afterAll(async () => {
    await ctx?.close();
    await fake?.close();
  });
  beforeEach(async () => {
    clock.set(NIGHT);
    fake.setBehaviour(() => ({ reply: 'accept', receipt: { status: 'delivered' } }));
    incident = await makeIncident(ctx.deps);
  });

  /** Live first notices per person (a message that is neither cancelled nor a failure followed up). */
  async function liveFirstNotices(): Promise<Map<number, number[]>> {
    const { rows } = await ctx.deps.db.query<{ person_id: number; campaign_id: number }>(
      `SELECT DISTINCT m.person_id, m.campaign_id FROM messages m JOIN campaigns c ON c.id = m.campaign_id
       WHERE c.incident_id = $1 AND c.kind = 'initial_notice'
         AND NOT message_is_dead(m.status, m.fallback, c.status) ORDER BY 1, 2`,
      [incident.id],
    );
    const byPerson = new Map<number, number[]>();
    for (const row of rows)
      byPerson.set(row.person_id, [...(byPerson.get(row.person_id) ?? []), row.campaign_id]);
    return byPerson;
  }

  async function fannedOut(campaignId: number) {
    return eventually(`campaign ${campaignId} to fan out`, async () => {
      const campaign = await findCampaign(ctx.deps.db, campaignId);
      return campaign?.fanoutCompletedAt ? campaign : undefined;
    });
  }

  it('gives a person held for calling hours by one campaign no second first notice from "not reached yet"', async () => {
    const people = await makePeople(ctx.deps, incident.id, [
      makePerson({ email: 'reached@example.com' }),
      makePerson({ email: null, phone: '+447400600001' }),
      makePerson({ email: null, phone: '+447400600002' }),
      makePerson({ email: 'bounces@example.com' }),
    ]);
    const [reached, heldOne, heldTwo, bounced] = people.map((person) => person.id);
    // Per recipient: the bounced email may share a request with others (SENDGRID_BATCH_SIZE).
    fake.setBehaviour((): FakeOutcome => ({
      reply: 'accept',
      receiptFor: (to) => ({ status: to === 'bounces@example.com' ? 'bounce' : 'delivered' }),
    }));
    const first = await makeApprovedCampaign(ctx.deps, incident.id);
    await startCampaign(ctx.deps, { campaignId: first.id });
    await fannedOut(first.id);
    await eventually('the bounce to exhaust the only channel', async () => {
      const { rows } = await ctx.deps.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM messages WHERE campaign_id = $1 AND fallback = 'exhausted'",
        [first.id],
      );
      return rows[0]!.n === 1;
    });
    const { rows: held } = await ctx.deps.db.query<{ person_id: number; send_after: Date }>(
      "SELECT person_id, send_after FROM messages WHERE campaign_id = $1 AND channel = 'sms' AND status = 'queued'",
      [first.id],
    );
    expect(held.map((row) => row.person_id).sort()).toEqual([heldOne, heldTwo].sort());
    expect(held.every((row) => row.send_after.getTime() === LONDON_MORNING.getTime())).toBe(true);

    // The address works again (a full mailbox emptied): the second campaign's email arrives.
    fake.setBehaviour(() => ({ reply: 'accept', receipt: { status: 'delivered' } }));
    const [later] = await makePeople(ctx.deps, incident.id, [
      makePerson({ email: 'imported-later@example.com' }),
    ]);
    const second = await makeApprovedCampaign(ctx.deps, incident.id, { audience: 'not_reached' });
    const plan = await planCampaign(ctx.deps, { campaignId: second.id });
    expect(plan.skipped).toEqual([{ campaignId: first.id, people: 2 }]);
    await startCampaign(ctx.deps, { campaignId: second.id });
    const done = await fannedOut(second.id);

    expect(done.skippedCount).toBe(2);
    expect(done.audienceSize).toBe(2);
    const live = await liveFirstNotices();
    expect(Object.fromEntries(live)).toEqual({
      [reached!]: [first.id],
      [heldOne!]: [first.id],
      [heldTwo!]: [first.id],
      // Every attempt failed in the first campaign: "send again to people we failed to reach" works.
      [bounced!]: [second.id],
      [later!.id]: [second.id],
    });
  });

  it('frees the people a cancelled campaign never reached for the next first notice', async () => {
    const [held] = await makePeople(ctx.deps, incident.id, [
      makePerson({ email: null, phone: '+447400600030' }),
    ]);
    const first = await makeApprovedCampaign(ctx.deps, incident.id);
    await startCampaign(ctx.deps, { campaignId: first.id });
    await fannedOut(first.id);
    await cancelCampaign(ctx.deps, { campaignId: first.id });
    const second = await makeApprovedCampaign(ctx.deps, incident.id);
    await startCampaign(ctx.deps, { campaignId: second.id });
    const done = await fannedOut(second.id);
    expect([done.audienceSize, done.skippedCount]).toEqual([1, 0]);
    expect(Object.fromEntries(await liveFirstNotices())).toEqual({ [held!.id]: [second.id] });
  });

  it('refuses, in PostgreSQL, a second live first notice written by hand; a reminder is its own kind', async () => {
    const [person] = await makePeople(ctx.deps, incident.id, [
      makePerson({ email: null, phone: '+447400600003' }),
    ]);
    const first = await makeApprovedCampaign(ctx.deps, incident.id);
    await startCampaign(ctx.deps, { campaignId: first.id });
    await fannedOut(first.id);
    const second = await makeApprovedCampaign(ctx.deps, incident.id, { audience: 'everyone' });
    const insert = (campaignId: number) =>
      ctx.deps.db.query(
        `INSERT INTO messages (campaign_id, person_id, attempt, channel, locale, status) VALUES ($1, $2, 1, 'sms', 'en', 'queued')`,
        [campaignId, person!.id],
      );
    await expect(insert(second.id)).rejects.toMatchObject({
      code: '23505',
      constraint: 'notice_claims_one_live',
    });

    const reminder = await makeApprovedCampaign(ctx.deps, incident.id, {
      kind: 'reminder',
      audience: 'everyone',
    });
    await expect(insert(reminder.id)).resolves.toMatchObject({ rowCount: 1 });
  });

  it('lets only one of two campaigns fanning out at once give each person a first notice', async () => {
    await makePeople(
      ctx.deps,
      incident.id,
      Array.from({ length: 300 }, (_, i) => makePerson({ email: `race${i}@example.com` })),
    );
    const campaigns = [
      await makeApprovedCampaign(ctx.deps, incident.id),
      await makeApprovedCampaign(ctx.deps, incident.id, { audience: 'everyone' }),
    ];
    // Marked sending by hand so that the two fan-outs run here, side by side, not one after the other in the worker.
    await ctx.deps.db.query("UPDATE campaigns SET status = 'sending' WHERE id = ANY($1::bigint[])", [
      campaigns.map((c) => c.id),
    ]);
    const process = makeFanoutProcessor(ctx.deps);
    const job = (campaignId: number) =>
      ({ data: { v: 1, campaignId }, updateProgress: () => Promise.resolve() }) as unknown as Job<FanoutJob>;
    const results = await Promise.all(campaigns.map((c) => process(job(c.id))));

    expect(results.reduce((sum, r) => sum + r.people, 0)).toBe(300);
    expect(results.reduce((sum, r) => sum + r.skipped, 0)).toBe(300);
    const live = await liveFirstNotices();
    expect(live.size).toBe(300);
    expect([...live.values()].every((ids) => ids.length === 1)).toBe(true);
  });

  it('shows the approver, on the page and in the API, exactly the first messages the fan-out then writes', async () => {
    const people = await makePeople(ctx.deps, incident.id, [
      ...Array.from({ length: 3 }, () => makePerson()),
      makePerson({ email: null, phone: '+447400600010' }),
      makePerson({ email: null, phone: '+447400600011' }),
      makePerson({ email: null, phone: '+61400600012', timeZone: 'Australia/Sydney' }),
      makePerson({ email: null, phone: '+447400600013', accessibilityNeeds: ['visually_impaired'] }),
      makePerson({ email: null, postalAddress: '1 Rue Haute, Lyon', locale: 'fr' }),
      makePerson({ email: null }),
      makePerson({ locale: 'it' }),
      makePerson({ locale: 'it' }),
      makePerson({ locale: 'fr-CA' }),
      makePerson({ phone: '+447400600014', preferredChannel: 'sms', locale: 'ar' }),
      makePerson({ affected: false }),
      makePerson({ affected: false, phone: '+447400600015' }),
    ]);
    await ctx.deps.db.query('UPDATE people SET subscribed_at = now() WHERE id = $1', [
      people[people.length - 1]!.id,
    ]);
    const staff = await makeStaffAccount(ctx.deps, 'approver');
    // The second factor is checked against the app's clock: sign in at the real time, then back to the night.
    clock.set(new Date());
    const browser = await signedInAgent(ctx.baseUrl, staff);
    clock.set(NIGHT);
    const { token } = await makeApiKey(ctx.deps, 'approver', { owner: staff });
    const call = documentedApiClient(
      ctx.baseUrl,
      await (await fetch(`${ctx.baseUrl}/api/v1/openapi.json`)).json(),
    );

    const variants: { kind: MessageKind; audience: Audience; order: Channel[] }[] = [
      { kind: 'initial_notice', audience: 'affected', order: ['email', 'sms', 'voice', 'letter'] },
      { kind: 'reminder', audience: 'everyone', order: ['sms', 'email'] },
      { kind: 'reminder', audience: 'subscribers_and_affected', order: ['letter', 'voice'] },
      // Everyone affected already holds the first campaign's notice: only the others get this one.
      { kind: 'initial_notice', audience: 'everyone', order: ['sms', 'email'] },
    ];
    const campaignIds: number[] = [];
    for (const variant of variants) {
      const campaign = await createCampaign(ctx.deps, {
        incidentId: incident.id,
        kind: variant.kind,
        audience: variant.audience,
        channelPolicy: { order: variant.order },
        createdBy: (await makeStaff(ctx.deps, 'editor')).id,
      });
      campaignIds.push(campaign.id);
      await submitCampaign(ctx.deps, { campaignId: campaign.id });
      await approveCampaign(ctx.deps, { campaignId: campaign.id, approverId: staff.id });

      const plan = await planCampaign(ctx.deps, { campaignId: campaign.id });
      const api = await call(token, 'GET', `/api/v1/campaigns/${campaign.id}/plan`);
      const page = await browser.get(`/console/campaigns/${campaign.id}`).expect(200);
      await startCampaign(ctx.deps, { campaignId: campaign.id });
      const done = await fannedOut(campaign.id);

      const { rows } = await ctx.deps.db.query<{
        channel: string | null;
        locale: string;
        send_after: Date | null;
        n: number;
      }>(
        `SELECT channel, locale, send_after, count(*)::int AS n FROM messages WHERE campaign_id = $1 AND attempt = 1
         GROUP BY 1, 2, 3`,
        [campaign.id],
      );
      const written = new Map<string, { people: number; held: number }>();
      const heldWritten = new Map<string, number>();
      for (const row of rows) {
        const key = `${row.channel ?? 'none'} ${row.locale}`;
        const cell = written.get(key) ?? { people: 0, held: 0 };
        cell.people += row.n;
        if (row.send_after) {
          cell.held += row.n;
          const heldKey = `${row.channel} ${row.send_after.toISOString()}`;
          heldWritten.set(heldKey, (heldWritten.get(heldKey) ?? 0) + row.n);
        }
        written.set(key, cell);
      }
      const expected = Object.fromEntries(written);
      const label = `${variant.kind} to ${variant.audience} by ${variant.order.join(', ')}`;
      const fromPlan = (cells: { channel: string; locale: string; people: number; held: number }[]) =>
        Object.fromEntries(
          cells.map((c) => [`${c.channel} ${c.locale}`, { people: c.people, held: c.held }]),
        );

      expect(fromPlan(plan.byChannelAndLocale), label).toEqual(expected);
      expect(plan.people, label).toBe(done.audienceSize);
      expect(
        plan.skipped.reduce((sum, s) => sum + s.people, 0),
        label,
      ).toBe(done.skippedCount);
      expect(
        Object.fromEntries(plan.held.map((h) => [`${h.channel} ${h.sendAfter.toISOString()}`, h.people])),
        label,
      ).toEqual(Object.fromEntries(heldWritten));

      const apiPlan = api.body as Omit<typeof plan, 'held'> & {
        held: { channel: string; sendAfter: string; people: number }[];
      };
      expect(fromPlan(apiPlan.byChannelAndLocale), label).toEqual(expected);
      expect(
        Object.fromEntries(apiPlan.held.map((h) => [`${h.channel} ${h.sendAfter}`, h.people])),
        label,
      ).toEqual(Object.fromEntries(heldWritten));
      expect(apiPlan.skipped, label).toEqual(plan.skipped);

      const pageCells = [
        ...page.text.matchAll(
          /<tr data-channel="(\w+)" data-locale="([\w-]+)">.*?data-field="people">(\d+)<.*?data-field="held">(\d+)</g,
        ),
      ].map(([, channel, locale, n, held]) => ({
        channel: channel!,
        locale: locale!,
        people: Number(n),
        held: Number(held),
      }));
      expect(fromPlan(pageCells), label).toEqual(expected);
      expect(page.text, label).toContain(`${plan.people} people will get this message.`);
    }

    const first = await planCampaign(ctx.deps, { campaignId: campaignIds[0]! });
    expect(first.people).toBe(0);
    const { rows: italian } = await ctx.deps.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM messages WHERE campaign_id = $1 AND locale = 'en' AND person_id = ANY($2::bigint[])",
      [campaignIds[0], [people[9]!.id, people[10]!.id]],
    );
    expect(italian[0]!.n).toBe(2);
  });

  it('offers each person one code per pool: a second offer of the same pool skips them, another pool does not', async () => {
    await makePeople(ctx.deps, incident.id, [makePerson(), makePerson(), makePerson({ affected: false })]);
    const monitoring = await makePool(ctx.deps, incident.id);
    const discount = await makePool(ctx.deps, incident.id, { kind: 'discount', name: '20% off' });
    await stockPool(ctx.deps, monitoring.id, codeList('CM', 5));
    await stockPool(ctx.deps, discount.id, codeList('DS', 5));
    const approver = await makeStaff(ctx.deps, 'approver');
    const offer = async (poolId: number) => {
      const campaign = await createCodeCampaign(ctx.deps, {
        poolId,
        purpose: 'offer',
        createdBy: (await makeStaff(ctx.deps, 'editor')).id,
      });
      await submitCampaign(ctx.deps, { campaignId: campaign.id });
      await approveCampaign(ctx.deps, { campaignId: campaign.id, approverId: approver.id });
      await startCampaign(ctx.deps, { campaignId: campaign.id });
      return fannedOut(campaign.id);
    };
    const first = await offer(monitoring.id);
    const again = await offer(monitoring.id);
    const other = await offer(discount.id);
    expect([first.audienceSize, first.skippedCount]).toEqual([2, 0]);
    expect([again.audienceSize, again.skippedCount]).toEqual([0, 2]);
    expect([other.audienceSize, other.skippedCount]).toEqual([2, 0]);
  });

  it('shows the same people reached on the incident page, the campaign page and the API, each attempt where it happened', async () => {
    await makePeople(ctx.deps, incident.id, [
      makePerson({
        email: 'bounces-then-texted@example.com',
        phone: '+61400600020',
        timeZone: 'Australia/Sydney',
      }),
      makePerson({ email: 'arrives@example.com' }),
      makePerson({ email: null, phone: '+447400600021' }),
    ]);
    // Per recipient: the bounced email may share a request with others (SENDGRID_BATCH_SIZE).
    fake.setBehaviour((): FakeOutcome => ({
      reply: 'accept',
      receiptFor: (to) => ({ status: to === 'bounces-then-texted@example.com' ? 'bounce' : 'delivered' }),
    }));
    const staff = await makeStaffAccount(ctx.deps, 'approver');
    clock.set(new Date());
    const browser = await signedInAgent(ctx.baseUrl, staff);
    clock.set(NIGHT);
    const { token } = await makeApiKey(ctx.deps, 'approver', { owner: staff });
    const call = documentedApiClient(
      ctx.baseUrl,
      await (await fetch(`${ctx.baseUrl}/api/v1/openapi.json`)).json(),
    );
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id);
    await startCampaign(ctx.deps, { campaignId: campaign.id });
    type Progress = {
      reached: number;
      total: number;
      skipped: number;
      byChannel: Record<string, Record<string, number>>;
      held: { channel: string; sendAfter: string; n: number }[];
      finishesAt: string | null;
    };
    const progress = await eventually('the email and the Sydney SMS to arrive', async () => {
      const answer = await call(token, 'GET', `/api/v1/campaigns/${campaign.id}/progress`);
      const body = answer.body as Progress;
      return body.reached === 2 ? body : undefined;
    });
    // The bounce stays a failed email although the text message then reached the person.
    expect(progress.byChannel.email).toMatchObject({ bounced: 1, delivered: 1 });
    expect(progress.byChannel.sms).toMatchObject({ delivered: 1, queued: 1 });
    expect(progress.total).toBe(3);
    // The London text waits for 08:00 there, and the estimate knows it.
    expect(progress.held).toEqual([{ channel: 'sms', sendAfter: LONDON_MORNING.toISOString(), n: 1 }]);
    expect(new Date(progress.finishesAt!).getTime()).toBeGreaterThanOrEqual(LONDON_MORNING.getTime());

    const campaignPage = await browser.get(`/console/campaigns/${campaign.id}`).expect(200);
    const incidentPage = await browser.get(`/console/incidents/${incident.id}`).expect(200);
    const reachedOn = (html: string, testId: string) =>
      new RegExp(`data-testid="${testId}">([^<]*)<`).exec(html)?.[1]?.trim();
    expect(reachedOn(campaignPage.text, 'campaign-reached')).toBe('2 of 3 people reached');
    expect(reachedOn(incidentPage.text, `campaign-reached-${campaign.id}`)).toBe('2 of 3 people reached');
    expect(campaignPage.text).toMatch(
      /data-channel="email">.*?data-status="delivered">1<.*?data-status="other-failures">1</s,
    );
    expect(campaignPage.text).toContain('1 by Text message (SMS) will go at Jan 15, 2026, 8:00 AM UTC');
    expect(campaignPage.text).toContain('Expected to finish by Jan 15, 2026, 8:00 AM UTC');
    // The chart's time axis is labelled (rows are stamped by PostgreSQL's clock, not the test's).
    expect(campaignPage.text).toMatch(
      /data-testid="chart-start">[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d [AP]M UTC</,
    );
    expect(campaignPage.text).toMatch(/data-testid="chart-end">\d{1,2}:\d\d [AP]M UTC</);
  });
});
