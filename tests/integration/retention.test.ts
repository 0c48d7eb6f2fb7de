import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeApprovedCampaign, makeIncident, makePeople, makePerson } from '../support/factories.js';
import { startCampaign } from '../../src/campaigns/service.js';
import { setIncidentState } from '../../src/incidents/store.js';
import { insertSupportRequest } from '../../src/support/store.js';
import { insertSubscription } from '../../src/subscriptions/store.js';
import { findPersonByContact } from '../../src/lookup/store.js';
import { purgeDue } from '../../src/retention/purge.js';
import { rotateKeys } from '../../src/retention/rotate.js';
import { SEALED_COLUMNS } from '../../src/retention/sealed-columns.js';
import { createVault, keyId } from '../../src/platform/vault.js';
import { fixedClock } from '../../src/platform/clock.js';
import { inviteStaff, withdrawStaffInvitation } from '../../src/staff/invitations.js';
import type { Incident } from '../../src/incidents/store.js';
import { makeStaffAccount, signedInAgent } from '../support/console.js';

const DAY = 86_400_000;

describe('retention: purging personal data on schedule, and rotating the encryption key', () => {
  let ctx: TestContext;
  let old: Incident;
  let recent: Incident;
  let open: Incident;
  const emails = new Map<number, string>();

  /** An incident with people, a delivered notice, a support request and a subscription. */
  async function incidentWithHistory(): Promise<Incident> {
    const incident = await makeIncident(ctx.deps);
    const inputs = [
      makePerson({ postalCode: 'SW1A 1AA', birthYear: 1980, segment: 'health' }),
      makePerson({ phone: '+447400123456' }),
    ];
    const people = await makePeople(ctx.deps, incident.id, inputs);
    people.forEach((person, i) => emails.set(person.id, inputs[i]!.email!));
    const campaign = await makeApprovedCampaign(ctx.deps, incident.id);
    await startCampaign(ctx.deps, { campaignId: campaign.id });
    await eventually('the notice to be delivered to both', async () => {
      const { rows } = await ctx.deps.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM messages WHERE campaign_id = $1 AND status = 'delivered'`,
        [campaign.id],
      );
      return rows[0]!.n === 2;
    });
    await insertSupportRequest(ctx.deps.db, ctx.deps.vault, {
      kind: 'callback',
      phone: '+447400999999',
      preferredTime: 'evening',
      incidentId: incident.id,
      personId: people[0]!.id,
      locale: 'en',
      at: new Date(),
    });
    await insertSubscription(ctx.deps.db, {
      incidentId: incident.id,
      contactHash: ctx.deps.vault.hash('email', 'reader@example.org'),
      contactEnc: ctx.deps.vault.seal('reader@example.org'),
      locale: 'en',
      at: new Date(),
    });
    return incident;
  }

  beforeAll(async () => {
    ctx = await startTestContext({ workers: true });
    old = await incidentWithHistory();
    recent = await incidentWithHistory();
    open = await incidentWithHistory();
    const retention = ctx.deps.config.retentionDays;
    await setIncidentState(ctx.deps.db, old.id, 'resolved', new Date(Date.now() - (retention + 1) * DAY));
    await setIncidentState(ctx.deps.db, recent.id, 'resolved', new Date(Date.now() - (retention - 1) * DAY));
  }, 60_000);
  afterAll(async () => ctx?.close());

  /** What of an incident still names or reaches a person. */
  async function personalDataOf(incidentId: number) {
    const { rows } = await ctx.deps.db.query<Record<string, number>>(
      `SELECT
         (SELECT count(*)::int FROM people WHERE incident_id = $1 AND (name_enc IS NOT NULL OR email_enc IS NOT NULL
            OR phone_enc IS NOT NULL OR email_hash IS NOT NULL OR phone_hash IS NOT NULL OR postal_code_hash IS NOT NULL
            OR birth_year_hash IS NOT NULL OR segment IS NOT NULL)) AS people,
         (SELECT count(*)::int FROM sandbox_outbox o JOIN messages m ON m.id = o.message_id
            JOIN campaigns c ON c.id = m.campaign_id WHERE c.incident_id = $1) AS outbox,
         (SELECT count(*)::int FROM delivery_events e JOIN messages m ON m.id = e.message_id
            JOIN campaigns c ON c.id = m.campaign_id WHERE c.incident_id = $1 AND e.payload_enc IS NOT NULL) AS payloads,
         (SELECT count(*)::int FROM support_requests WHERE incident_id = $1) AS support,
         (SELECT count(*)::int FROM subscriptions WHERE incident_id = $1) AS subscriptions`,
      [incidentId],
    );
    return rows[0];
  }

  it('lists every sealed column of the schema, so key rotation cannot miss one', async () => {
    const { rows } = await ctx.deps.db.query<{ name: string }>(
      `SELECT table_name || '.' || column_name AS name FROM information_schema.columns
       WHERE table_schema = current_schema() AND column_name LIKE '%\\_enc' ORDER BY 1`,
    );
    const listed = Object.entries(SEALED_COLUMNS)
      .flatMap(([table, columns]) => columns.map((column) => `${table}.${column}`))
      .sort();
    expect(listed).toEqual(rows.map((row) => row.name));
  });

  it('moves every sealed value to a new key, after which the old key is not needed', async () => {
    const newKey = crypto.randomBytes(32);
    const rotating = createVault(
      { current: newKey, previous: [ctx.deps.config.encryptionKeys.current] },
      ctx.deps.config.lookupHmacKey,
    );
    const reports = await rotateKeys({ db: ctx.deps.db, vault: rotating, logger: ctx.deps.logger });
    expect(reports.find((r) => r.table === 'people')?.rows).toBe(6);
    expect(reports.find((r) => r.table === 'delivery_events')?.rows).toBeGreaterThan(0);

    const newOnly = createVault({ current: newKey, previous: [] }, ctx.deps.config.lookupHmacKey);
    for (const [table, columns] of Object.entries(SEALED_COLUMNS)) {
      for (const column of columns) {
        const { rows } = await ctx.deps.db.query<{ value: string }>(
          `SELECT ${column} AS value FROM ${table} WHERE ${column} IS NOT NULL`,
        );
        for (const { value } of rows) {
          expect(value.startsWith(`v1.${keyId(newKey)}.`), `${table}.${column}`).toBe(true);
          expect(() => newOnly.open(value)).not.toThrow();
        }
      }
    }
    const { rows: people } = await ctx.deps.db.query<{ id: number; email_enc: string }>(
      'SELECT id, email_enc FROM people WHERE incident_id = $1',
      [old.id],
    );
    for (const person of people) expect(newOnly.open(person.email_enc)).toBe(emails.get(person.id));
    // Nothing left to move: a second run is a no-op.
    const again = await rotateKeys({ db: ctx.deps.db, vault: rotating, logger: ctx.deps.logger });
    expect(again.every((r) => r.rows === 0)).toBe(true);

    // Back to the test's own key for the rest of the file.
    const back = createVault(
      { current: ctx.deps.config.encryptionKeys.current, previous: [newKey] },
      ctx.deps.config.lookupHmacKey,
    );
    await rotateKeys({ db: ctx.deps.db, vault: back, logger: ctx.deps.logger });
  });

  it('says what is due without touching it on a dry run', async () => {
    const due = await purgeDue(ctx.deps, { dryRun: true });
    expect(due).toEqual([{ incidentId: old.id, slug: old.slug, people: 2 }]);
    expect((await personalDataOf(old.id))!.people).toBe(2);
  });

  it('purges the personal data of an incident resolved longer ago than the retention, and keeps the proof of notice', async () => {
    const { rows: before } = await ctx.deps.db.query<{ id: number; reference_enc: string }>(
      'SELECT id, reference_enc FROM people WHERE incident_id = $1 ORDER BY id',
      [old.id],
    );
    const reports = await purgeDue(ctx.deps);
    expect(reports).toEqual([{ incidentId: old.id, slug: old.slug, people: 2 }]);

    expect(await personalDataOf(old.id)).toEqual({
      people: 0,
      outbox: 0,
      payloads: 0,
      support: 0,
      subscriptions: 0,
    });
    // The proof of notice: who (by reference), what, over which channel, when, and the outcome.
    const { rows: proof } = await ctx.deps.db.query<{
      reference_enc: string;
      status: string;
      country: string;
    }>(
      `SELECT p.reference_enc, m.status, p.country FROM messages m JOIN people p ON p.id = m.person_id
       WHERE p.incident_id = $1 ORDER BY p.id`,
      [old.id],
    );
    expect(proof.map((row) => [ctx.deps.vault.open(row.reference_enc), row.status, row.country])).toEqual(
      before.map((row) => [ctx.deps.vault.open(row.reference_enc), 'delivered', 'GB']),
    );
    // Nobody can be found by their contact details any more.
    const email = emails.get(before[0]!.id)!;
    expect(
      await findPersonByContact(ctx.deps.db, old.id, 'email', ctx.deps.vault.hash('email', email)),
    ).toBeNull();
    const { rows: incident } = await ctx.deps.db.query<{ purged: boolean }>(
      'SELECT personal_data_purged_at IS NOT NULL AS purged FROM incidents WHERE id = $1',
      [old.id],
    );
    expect(incident[0]!.purged).toBe(true);
  });

  it('leaves incidents still within the retention, or not resolved, as they are; and a second run purges nothing', async () => {
    for (const incident of [recent, open]) {
      expect(await personalDataOf(incident.id)).toMatchObject({ people: 2, support: 1, subscriptions: 1 });
    }
    expect(await purgeDue(ctx.deps)).toEqual([]);
  });

  it('purges staff invitations closed longer ago than the retention, and keeps open and recent ones', async () => {
    const retention = ctx.deps.config.retentionDays;
    const at = (daysAgo: number) => ({
      ...ctx.deps,
      clock: fixedClock(new Date(Date.now() - daysAgo * DAY)),
    });
    const invite = (deps: ReturnType<typeof at>, email: string) =>
      inviteStaff(deps, { email, displayName: 'Colleague', role: 'viewer', invitedBy: null });
    const expiredLongAgo = await invite(at(retention + 5), 'expired@staff.example');
    const withdrawnLongAgo = await invite(at(retention + 2), 'withdrawn@staff.example');
    await withdrawStaffInvitation(at(retention + 1), { id: withdrawnLongAgo.id });
    const withdrawnRecently = await invite(at(retention + 2), 'recent@staff.example');
    await withdrawStaffInvitation(at(1), { id: withdrawnRecently.id });
    const open = await invite(at(0), 'open@staff.example');

    await purgeDue(ctx.deps);
    const { rows } = await ctx.deps.db.query<{ id: number }>('SELECT id FROM staff_invitations ORDER BY id');
    const kept = rows.map((row) => row.id);
    expect(kept).toEqual(expect.arrayContaining([withdrawnRecently.id, open.id]));
    expect(kept).not.toContain(expiredLongAgo.id);
    expect(kept).not.toContain(withdrawnLongAgo.id);
  });

  it('purges people imported into an incident after its purge, on the next run', async () => {
    await makePeople(ctx.deps, old.id, [makePerson()]);
    expect(await purgeDue(ctx.deps)).toEqual([{ incidentId: old.id, slug: old.slug, people: 1 }]);
    expect((await personalDataOf(old.id))!.people).toBe(0);
  });

  it('tells staff on the incident page when its personal data goes, or went', async () => {
    const viewer = await signedInAgent(ctx.baseUrl, await makeStaffAccount(ctx.deps, 'viewer'));
    const purged = await viewer.get(`/console/incidents/${old.id}`).expect(200);
    expect(purged.text).toMatch(/was deleted on \d{4}-\d{2}-\d{2}, as the retention schedule says/);
    const scheduled = await viewer.get(`/console/incidents/${recent.id}`).expect(200);
    const purgeOn = new Date(Date.now() + DAY).toISOString().slice(0, 10);
    expect(scheduled.text).toContain(`will be deleted on ${purgeOn}`);
    const unresolved = await viewer.get(`/console/incidents/${open.id}`).expect(200);
    expect(unresolved.text).not.toContain('data-testid="retention"');
  });
});
