import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrlForSchema, eventually, TEST_DATABASE_URL, uniqueName } from '../support/context.js';
import {
  makeApprovedCampaign,
  makeIncident,
  makePeople,
  makePerson,
  makeStaff,
} from '../support/factories.js';
import { signedInStaff } from '../support/sessions.js';
import { createRateLimit } from '../../src/platform/rate-limit.js';
import { startProviders } from '../support/providers.js';
import {
  hasRedisServer,
  startPrivateRedisCluster,
  startWorkerProcess,
  type PrivateRedisCluster,
  type WorkerProcess,
} from '../support/processes.js';
import type { FakeProviders, RecordedRequest } from '../fakes/provider-server.js';
import { parseConfig } from '../../src/config.js';
import { createDeps, type Deps } from '../../src/deps.js';
import { createApp } from '../../src/app.js';
import { migrate } from '../../src/platform/db.js';
import { createLogger } from '../../src/platform/logger.js';
import { campaignProgress, startCampaign } from '../../src/campaigns/service.js';

const EMAIL_PEOPLE = 150;
const SMS_PEOPLE = 150;
const PEOPLE = EMAIL_PEOPLE + SMS_PEOPLE;

const REDIS_SERVER = hasRedisServer();
const TITLE = REDIS_SERVER
  ? 'a campaign on a 3-node Redis Cluster'
  : 'a campaign on a 3-node Redis Cluster (skipped: redis-server is not installed on this machine)';

/**
 * Scale-out shown: three cluster-enabled redis-server processes made by the test itself, two worker
 * processes, a campaign over email and SMS, and everyone reached exactly once — counted in
 * PostgreSQL and by the fake providers. Each queue carries its own hash tag, so the queues' keys sit
 * on more than one node; every key of one queue in one slot, as BullMQ's scripts need.
 */
describe.skipIf(!REDIS_SERVER)(TITLE, () => {
  let cluster: PrivateRedisCluster | undefined;
  let fake: FakeProviders | undefined;
  let deps: Deps | undefined;
  let web: http.Server | undefined;
  const schema = uniqueName('t');
  const prefix = uniqueName('cluster');
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    cluster = await startPrivateRedisCluster(3);
    const providers = await startProviders();
    fake = providers.fake;
    // No receipts: the provider accepting a message is what this test counts.
    fake.setBehaviour(() => ({ reply: 'accept', receipt: null }));
    const logger = createLogger({ level: 'silent' });
    const databaseUrl = databaseUrlForSchema(schema);
    await migrate(databaseUrl, logger, schema);
    web = http.createServer();
    await new Promise<void>((resolve) => web?.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    const env = {
      ...providers.env,
      DATABASE_URL: databaseUrl,
      // Never used for a connection on a cluster: it lends only credentials and TLS, and has none.
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_CLUSTER_NODES: cluster.nodes.map((node) => `${node.host}:${node.port}`).join(','),
      QUEUE_PREFIX: prefix,
      PUBLIC_BASE_URL: baseUrl,
      SEND_CONCURRENCY: '10',
      EMAIL_RATE_PER_SECOND: '1000',
      SMS_RATE_PER_SECOND: '1000',
      RECONCILE_EVERY_SECONDS: '1',
      // Any hour is calling hours: the test passes at night too.
      CALLING_HOURS: '00:00-24:00',
    };
    deps = await createDeps(parseConfig({ NODE_ENV: 'test', ...env }), { logger });
    web.on('request', createApp(deps));
    const email = deps.queues.send.email;
    workers.push(startWorkerProcess(env));
    const perProcess = await eventually(
      'the first worker process to listen on the cluster',
      async () => (await email.getWorkers()).length || undefined,
      60_000,
    );
    workers.push(startWorkerProcess(env));
    await eventually(
      'both worker processes to listen on the cluster',
      async () => (await email.getWorkers()).length >= perProcess * 2,
      60_000,
    );
  }, 180_000);

  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    if (web) {
      await new Promise((resolve) => web?.close(resolve));
      web.closeAllConnections();
    }
    await deps?.close();
    await fake?.close();
    // The servers go even when the test failed: nothing is left running or on disk.
    await cluster?.stop();
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }, 60_000);

  it('reaches everyone exactly once, with the queues spread over the nodes', async () => {
    if (!deps || !fake || !cluster) throw new Error('set-up did not finish');
    const d = deps;
    const incident = await makeIncident(d);
    const emails = Array.from({ length: EMAIL_PEOPLE }, (_, i) => `cluster${i}@example.com`);
    // Ofcom's numbers for drama: valid, and never anyone's.
    const phones = Array.from({ length: SMS_PEOPLE }, (_, i) => `+447700900${String(i).padStart(3, '0')}`);
    await makePeople(d, incident.id, [
      ...emails.map((email) => makePerson({ email })),
      ...phones.map((phone) => makePerson({ email: null, phone })),
    ]);
    const campaign = await makeApprovedCampaign(d, incident.id);
    await startCampaign(d, { campaignId: campaign.id });

    const progress = await eventually(
      'the campaign to complete with everyone sent',
      async () => {
        const now = await campaignProgress(d, { campaignId: campaign.id });
        return now.status === 'completed' ? now : undefined;
      },
      120_000,
    );
    expect(progress.totals.sent).toBe(PEOPLE);

    // PostgreSQL: one message per person, each sent, on the channel they can be reached by.
    const { rows } = await d.db.query<{ channel: string; people: number; messages: number }>(
      `SELECT channel, count(DISTINCT person_id) AS people, count(*) AS messages
         FROM messages WHERE campaign_id = $1 AND status IN ('sent', 'delivered') GROUP BY channel ORDER BY channel`,
      [campaign.id],
    );
    expect(rows).toEqual([
      { channel: 'email', people: EMAIL_PEOPLE, messages: EMAIL_PEOPLE },
      { channel: 'sms', people: SMS_PEOPLE, messages: SMS_PEOPLE },
    ]);

    // The providers' own record: every address and number accepted once, none twice.
    const accepted = fake.requests.filter((r: RecordedRequest) => r.providerMessageId);
    const emailed = accepted
      .filter((r) => r.kind === 'sendgrid')
      .flatMap((r) =>
        (r.body as { personalizations: { to: { email: string }[] }[] }).personalizations.flatMap((p) =>
          p.to.map((to) => to.email),
        ),
      );
    const texted = accepted
      .filter((r) => r.kind === 'twilio-sms')
      .map((r) => (r.body as Record<string, string>).To);
    expect(emailed.sort()).toEqual([...emails].sort());
    expect(texted.sort()).toEqual([...phones].sort());

    // Where the queues live: each queue's keys in one slot, and the queues on more than one node.
    const nodesByQueue = new Map<string, Set<number>>();
    for (const [index, admin] of cluster.admins.entries()) {
      const keys = await admin.keys(`${prefix}:*`);
      for (const key of keys) {
        const queue = /^[^:]+:(\{[^}]+\}):/.exec(key)?.[1];
        expect(queue, `a queue key without a hash tag: ${key}`).toBeDefined();
        const slot = await admin.cluster('KEYSLOT', key);
        expect(slot).toBe(await admin.cluster('KEYSLOT', queue ?? ''));
        nodesByQueue.set(queue ?? '', (nodesByQueue.get(queue ?? '') ?? new Set()).add(index));
      }
    }
    expect([...nodesByQueue.keys()]).toEqual(expect.arrayContaining(['{send-email}', '{send-sms}']));
    for (const [queue, nodes] of nodesByQueue) expect(nodes.size, `${queue} on one node`).toBe(1);
    // Candor's own keys (pacer, sessions, status page copies) share one tag, so the scripts and
    // pipelines that touch several of them together cannot meet a cross-slot error.
    const ownKeys = (await Promise.all(cluster.admins.map((admin) => admin.keys(`{${prefix}}:*`)))).flat();
    expect(ownKeys).toContain(`{${prefix}}:pace:email`);
    const ownSlots = new Set<number>();
    for (const key of ownKeys) ownSlots.add(await cluster.admins[0]!.cluster('KEYSLOT', key));
    expect(ownSlots.size).toBe(1);
    const nodesUsed = new Set([...nodesByQueue.values()].flatMap((nodes) => [...nodes]));
    expect(nodesUsed.size).toBeGreaterThan(1);
  }, 180_000);

  it('keeps sessions, rate limits and the status page copies on the cluster, under one tag', async () => {
    if (!deps || !cluster) throw new Error('set-up did not finish');
    const d = deps;
    // A session written through Candor's store is read back by the console.
    const staff = await makeStaff(d, 'editor');
    const cookie = await signedInStaff(d, { id: staff.id, role: 'editor' });
    const address = web?.address() as AddressInfo;
    const page = await fetch(`http://127.0.0.1:${address.port}/console`, {
      headers: { cookie },
      redirect: 'manual',
    });
    expect(page.status).toBe(200);
    // A limit counts across calls, in the cluster.
    const limit = createRateLimit(d, { name: 'cluster-test', points: 2, durationSeconds: 60 });
    const answers = [await limit.consume('k'), await limit.consume('k'), await limit.consume('k')];
    expect(answers.map((answer) => answer.allowed)).toEqual([true, true, false]);

    const ownKeys = (await Promise.all(cluster.admins.map((admin) => admin.keys(`{${prefix}}:*`)))).flat();
    const kinds = new Set(ownKeys.map((key) => key.split(':')[1]));
    expect([...kinds]).toEqual(expect.arrayContaining(['session', 'ratelimit', 'status']));
    const slots = new Set<number>();
    for (const key of ownKeys) slots.add(await cluster.admins[0]!.cluster('KEYSLOT', key));
    expect(slots.size).toBe(1);
  }, 60_000);
});
