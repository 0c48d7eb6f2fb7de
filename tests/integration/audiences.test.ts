import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../support/factories.js';
import { planCampaign } from '../../src/campaigns/service.js';

describe('"people we failed to reach"', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext();
  });
  afterAll(async () => ctx?.close());

  it('leaves out whoever a later attempt reached, may have reached, or is still trying', async () => {
    const incident = await makeIncident(ctx.deps);
    const people = await makePeople(
      ctx.deps,
      incident.id,
      [
        'bounced-then-texted',
        'bounced-then-queued',
        'bounced-then-unknown',
        'bounced-everywhere',
        'delivered',
      ].map((label) => makePerson({ email: `${label}@example.com`, phone: '+447700900321' })),
    );
    const first = await makeApprovedCampaign(ctx.deps, incident.id);
    // Each person's attempts in the first notice, as the pipeline leaves them.
    const attempts: [number, number, string, string][] = [
      [people[0]!.id, 1, 'email', 'bounced'],
      [people[0]!.id, 2, 'sms', 'sent'],
      [people[1]!.id, 1, 'email', 'bounced'],
      [people[1]!.id, 2, 'sms', 'queued'],
      [people[2]!.id, 1, 'email', 'bounced'],
      [people[2]!.id, 2, 'sms', 'unknown'],
      [people[3]!.id, 1, 'email', 'bounced'],
      [people[3]!.id, 2, 'sms', 'undelivered'],
      [people[4]!.id, 1, 'email', 'delivered'],
    ];
    for (const [personId, attempt, channel, status] of attempts)
      await ctx.deps.db.query(
        `INSERT INTO messages (campaign_id, person_id, attempt, channel, locale, status) VALUES ($1, $2, $3, $4, 'en', $5)`,
        [first.id, personId, attempt, channel, status],
      );

    const retry = await makeApprovedCampaign(ctx.deps, incident.id, { kind: 'reminder', audience: 'failed' });
    const plan = await planCampaign(ctx.deps, { campaignId: retry.id });
    // Only the person every channel failed for: the others would hear twice.
    expect(plan.people).toBe(1);
  });
});
