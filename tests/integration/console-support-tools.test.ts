import type TestAgent from 'supertest/lib/agent.js';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeStaffAccount, postForm, signedInAgent } from '../support/console.js';
import { seedDemo, type DemoSeed } from '../../src/demo/seed.js';
import {
  approveCampaign,
  createCampaign,
  startCampaign,
  submitCampaign,
} from '../../src/campaigns/service.js';
import { DEFAULT_CHANNEL_POLICY } from '../../src/campaigns/channel-policy.js';

describe('delivery search, exports, the checklist, the audit log and the queue dashboard', () => {
  let ctx: TestContext;
  let seed: DemoSeed;
  let campaignId: number;
  const agents: Record<string, TestAgent> = {};
  beforeAll(async () => {
    ctx = await startTestContext({ workers: true, env: { REGULATOR_DEADLINE_HOURS: 'US=720' } });
    seed = await seedDemo(ctx.deps, 12, { simulatedRecipients: false });
    const campaign = await createCampaign(ctx.deps, {
      incidentId: seed.incident.id,
      kind: 'initial_notice',
      audience: 'affected',
      channelPolicy: DEFAULT_CHANNEL_POLICY,
      createdBy: seed.editor.id,
    });
    campaignId = campaign.id;
    await submitCampaign(ctx.deps, { campaignId });
    await approveCampaign(ctx.deps, { campaignId, approverId: seed.approver.id });
    await startCampaign(ctx.deps, { campaignId });
    await eventually('every demo message to settle', async () => {
      const { rows } = await ctx.deps.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM messages WHERE campaign_id = $1 AND status IN ('delivered', 'answered')
            OR (campaign_id = $1 AND channel = 'letter' AND status = 'sent')`,
        [campaignId],
      );
      return rows[0]!.n === 12;
    });
    for (const role of ['admin', 'editor', 'agent', 'viewer'] as const)
      agents[role] = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, role));
  });
  afterAll(async () => ctx?.close());

  async function someReference(): Promise<string> {
    const { rows } = await ctx.deps.db.query<{ reference_enc: string }>(
      `SELECT p.reference_enc FROM people p JOIN messages m ON m.person_id = p.id
       WHERE m.channel = 'email' AND m.campaign_id = $1 LIMIT 1`,
      [campaignId],
    );
    return ctx.deps.vault.open(rows[0]!.reference_enc);
  }

  it('shows a support agent everything sent to the person with a reference code, however it is typed', async () => {
    const reference = await someReference();
    const typed = reference.toLowerCase().replace(/-/g, ' ');
    const page = await agents.agent!.get(`/console/deliveries?reference=${encodeURIComponent(typed)}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(reference);
    expect(page.text).toContain('First notice');
    expect(page.text).toContain('Delivered');
    expect(page.text).not.toContain('example.com');
  });

  it('says plainly when no one has the reference code', async () => {
    const page = await agents.agent!.get('/console/deliveries?reference=0000-0000-0000-0000');
    expect(page.status).toBe(404);
    expect(page.text).toContain('No one has that reference code');
  });

  it('exports proof of notice without contact details, except for an admin', async () => {
    const path = `/console/incidents/${seed.incident.id}/exports/proof-of-notice.csv`;
    const plain = await agents.editor!.get(path).expect(200);
    const lines = plain.text.trim().split('\n');
    expect(lines[0]).toBe(
      'reference,campaign,message_kind,channel,attempt,status,status_reason,queued_at,sent_at,delivered_at,failed_at',
    );
    expect(lines).toHaveLength(13);
    expect(plain.text).not.toContain('example.com');
    const full = await agents.admin!.get(path).expect(200);
    expect(full.text.split('\n')[0]).toContain(',name,email,phone,postal_address');
    expect(full.text).toContain('demo.person1@example.com');
    const { rows } = await ctx.deps.db.query<{ details: { withContacts: boolean } }>(
      `SELECT details FROM audit_log WHERE action = 'export.proof_of_notice' ORDER BY id`,
    );
    expect(rows.map((row) => row.details.withContacts)).toEqual([false, true]);
  });

  it('summarises for regulators by country, channel and status', async () => {
    const csv = await agents.editor!.get(
      `/console/incidents/${seed.incident.id}/exports/regulator-summary.csv`,
    );
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe('country,channel,status,people');
    const total = lines.slice(1).reduce((sum, line) => sum + Number(line.split(',')[3]), 0);
    expect(total).toBe(12);
    expect(lines).toContain('FR,email,delivered,2');
  });

  it('counts down to the GDPR and UK 72-hour deadlines from discovery', async () => {
    const page = await agents.viewer!.get(`/console/incidents/${seed.incident.id}/checklist`).expect(200);
    expect(page.text).toContain('GDPR (EU and EEA)');
    // Discovered two days before the seed: about 24 hours left.
    expect(page.text).toMatch(/(0 d 23 h|1 d 0 h) \d+ min left/);
    expect(page.text).not.toContain('name="step"');
  });

  it('lets an editor give a checklist step an owner and a status, and records it in the audit log', async () => {
    const path = `/console/incidents/${seed.incident.id}/checklist`;
    const saved = await postForm(agents.editor!, path, path, {
      step: 'contain',
      status: 'done',
      owner: String(seed.editor.id),
      dueAt: '',
      note: 'Access closed',
    });
    expect(saved.status).toBe(303);
    const page = await agents.editor!.get(path).expect(200);
    expect(page.text).toContain('Access closed');
    const audit = await agents.admin!.get('/console/audit?action=checklist.update').expect(200);
    expect(audit.text).toContain('checklist.update');
    expect(audit.text).toContain('&#34;step&#34;:&#34;contain&#34;');
  });

  it('opens the queue dashboard to admins only', async () => {
    const admin = await agents.admin!.get('/console/queues');
    expect(admin.status).toBe(200);
    expect(admin.text).toContain('Candor queues');
    const queues = await agents.admin!.get('/console/queues/api/queues');
    expect(queues.status).toBe(200);
    expect(JSON.stringify(queues.body)).toContain('fanout');
    expect((await agents.editor!.get('/console/queues')).status).toBe(403);
    const visitor = await request(ctx.baseUrl).get('/console/queues');
    expect(visitor.status).toBe(303);
  });
});
