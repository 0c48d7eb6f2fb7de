import type { Job, Queue } from 'bullmq';
import type { Db } from '../platform/db.js';
import type { Logger } from '../platform/logger.js';
import type { Clock } from '../platform/clock.js';
import type { SendingConfig } from '../config.js';
import { FAILED_STATUSES, IN_FLIGHT_STATUSES } from '../deliveries/status.js';
import {
  FANOUT_JOB_OPTIONS,
  jobIds,
  JOB_NAMES,
  SEND_BATCH_JOB_OPTIONS,
  type MaintenanceJob,
  type Queues,
} from '../queues.js';
import { CHANNELS, type Channel } from '../channels/kinds.js';
import { enqueueSends, FANOUT_PAGE_SIZE } from './fanout.js';
import { followUpFailure } from './next-attempt.js';
import { checkWithProviders, type ProviderCheckDeps, type ProviderCheckReport } from './provider-check.js';

export interface ReconcileDeps {
  db: Db;
  queues: Queues;
  clock: Clock;
  logger: Logger;
  config: { sending: SendingConfig };
}

export interface ReconcileReport {
  fanoutsRestarted: number;
  requeued: number;
  followedUp: number;
  completed: number;
}

const PAGE = 1_000;
/** Job states in which a job will still run by itself. */
const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/**
 * PostgreSQL says what should be in flight; Redis may have lost it (flushed, restarted without
 * persistence, a job failed for good while PostgreSQL was away). This puts back what is missing,
 * finishes follow-ups of failures whose process died, and marks campaigns with nothing left
 * completed. Every step is idempotent, so two reconcilers at once do no harm.
 */
export async function reconcile(deps: ReconcileDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = { fanoutsRestarted: 0, requeued: 0, followedUp: 0, completed: 0 };
  // A campaign scheduled for later is left alone until its time: this is what starts it then.
  const { rows: campaigns } = await deps.db.query<{ id: number; fanout_completed_at: Date | null }>(
    `SELECT id, fanout_completed_at FROM campaigns
     WHERE status = 'sending' AND (scheduled_for IS NULL OR scheduled_for <= $1) ORDER BY id`,
    [deps.clock.now()],
  );

  for (const campaign of campaigns.filter((c) => !c.fanout_completed_at)) {
    if (
      await ensureJob(deps.queues.fanout, jobIds.fanout(campaign.id), () =>
        deps.queues.fanout.add(
          JOB_NAMES.fanout,
          { v: 1, campaignId: campaign.id },
          {
            ...FANOUT_JOB_OPTIONS,
            jobId: jobIds.fanout(campaign.id),
          },
        ),
      )
    )
      report.fanoutsRestarted += 1;
  }

  report.followedUp = await followUpOrphanedFailures(deps);
  for (const channel of CHANNELS) report.requeued += await requeueLostSends(deps, channel);

  // An `unknown` message is still in flight: the campaign waits until the provider has been asked.
  const { rowCount } = await deps.db.query(
    `UPDATE campaigns c SET status = 'completed', completed_at = $1
     WHERE c.status = 'sending' AND c.fanout_completed_at IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.campaign_id = c.id
         AND (m.status = ANY($3::text[]) OR (m.fallback IS NULL AND m.status = ANY($2::text[]))))`,
    [deps.clock.now(), FAILED_STATUSES, IN_FLIGHT_STATUSES],
  );
  report.completed = rowCount ?? 0;
  if (report.fanoutsRestarted + report.requeued + report.followedUp + report.completed > 0)
    deps.logger.info(report, 'reconciled');
  return report;
}

/** Adds the job unless one with its id will still run; a failed or finished leftover is replaced. */
async function ensureJob(queue: Queue, jobId: string, add: () => Promise<unknown>): Promise<boolean> {
  const state = await queue.getJobState(jobId);
  if (LIVE_STATES.has(state)) return false;
  if (state !== 'unknown') await queue.remove(jobId);
  await add();
  return true;
}

/**
 * Failures recorded but never followed up (the process died in between). Only in campaigns still
 * running: a completed campaign is reopened by a live receipt, never by a sweep over old history.
 */
async function followUpOrphanedFailures(deps: ReconcileDeps): Promise<number> {
  // A moment's grace: the process that recorded the failure is normally following it up right now.
  const before = new Date(deps.clock.now().getTime() - 5_000);
  const { rows } = await deps.db.query<{ id: number }>(
    `SELECT m.id FROM messages m JOIN campaigns c ON c.id = m.campaign_id
     WHERE m.fallback IS NULL AND m.status = ANY($1::text[]) AND m.channel IS NOT NULL
       AND c.status IN ('sending', 'paused') AND m.updated_at < $2
     ORDER BY m.id LIMIT $3`,
    [FAILED_STATUSES, before, PAGE],
  );
  let followed = 0;
  for (const row of rows) if ((await followUpFailure(deps, row.id)).kind !== 'none') followed += 1;
  return followed;
}

/**
 * Only `queued` and `sending` should have a job: an `unknown` message must not be re-sent blindly,
 * the provider is asked first (provider-check.ts). Cheap check first: a channel's queue holding at least as many live jobs as PostgreSQL has messages
 * in flight for it has lost nothing worth a sweep. Otherwise page through the in-flight messages and
 * add a job for each that has none.
 */
async function requeueLostSends(deps: ReconcileDeps, channel: Channel): Promise<number> {
  const queue = deps.queues.send[channel];
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
  let live = Object.values(counts).reduce((sum, n) => sum + n, 0);
  if (channel === 'email') {
    // A live batch job holds up to a page of messages. Counted full, a loss behind live batches may
    // hide until they finish: found a run later, delayed, never lost.
    const batches = await deps.queues.sendBatch.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    live += Object.values(batches).reduce((sum, n) => sum + n, 0) * FANOUT_PAGE_SIZE;
  }
  const { rows } = await deps.db.query<{ n: number }>(
    `SELECT COALESCE(sum(k.n), 0)::int AS n FROM campaign_message_counts k JOIN campaigns c ON c.id = k.campaign_id
     WHERE c.status = 'sending' AND k.channel = $1 AND k.status IN ('queued', 'sending')`,
    [channel],
  );
  if (live >= (rows[0]?.n ?? 0)) return 0;

  let requeued = 0;
  let cursor = 0;
  for (;;) {
    const { rows: page } = await deps.db.query<{
      id: number;
      campaign_id: number;
      channel: Channel;
      send_after: Date | null;
      batch_job: string | null;
    }>(
      `SELECT m.id, m.campaign_id, m.channel, m.send_after, m.batch_job FROM messages m JOIN campaigns c ON c.id = m.campaign_id
       WHERE m.status IN ('queued', 'sending') AND m.channel = $1 AND c.status = 'sending' AND m.id > $2
       ORDER BY m.id LIMIT $3`,
      [channel, cursor, PAGE],
    );
    if (page.length === 0) break;
    cursor = page[page.length - 1]!.id;
    const states = await Promise.all(page.map((m) => queue.getJobState(jobIds.send(m.id))));
    // Held by a live batch job (email): not lost. One look per batch, not per message.
    const batchIds = [...new Set(page.flatMap((m) => (m.batch_job ? [m.batch_job] : [])))];
    const batchStates = new Map(
      await Promise.all(
        batchIds.map(async (id) => [id, await deps.queues.sendBatch.getJobState(id)] as const),
      ),
    );
    const held = (m: (typeof page)[number]) =>
      m.batch_job !== null && LIVE_STATES.has(batchStates.get(m.batch_job) ?? 'unknown');
    const missing = page.filter((m, i) => !LIVE_STATES.has(states[i] ?? 'unknown') && !held(m));
    // A failed leftover keeps its id and would make the add a no-op: it goes first.
    const leftovers = missing.filter((m) => states[page.indexOf(m)] !== 'unknown');
    await Promise.all(leftovers.map((m) => queue.remove(jobIds.send(m.id))));
    // A lost batch goes back as a batch, under its own id (a finished or failed leftover removed first).
    const lostBatches = new Map<string, typeof missing>();
    for (const m of missing) {
      if (m.batch_job === null || m.send_after) continue;
      lostBatches.set(m.batch_job, [...(lostBatches.get(m.batch_job) ?? []), m]);
    }
    for (const [batchJob, messages] of lostBatches) {
      if (batchStates.get(batchJob) !== 'unknown') await deps.queues.sendBatch.remove(batchJob);
      await enqueueBatchAgain(
        deps,
        batchJob,
        messages[0]!.campaign_id,
        messages.map((m) => m.id),
      );
    }
    await enqueueSends(
      deps.queues,
      missing.filter((m) => m.batch_job === null || m.send_after),
      deps.clock.now(),
    );
    requeued += missing.length;
  }
  return requeued;
}

async function enqueueBatchAgain(
  deps: ReconcileDeps,
  batchJob: string,
  campaignId: number,
  messageIds: number[],
): Promise<void> {
  await deps.queues.sendBatch.add(
    JOB_NAMES.sendBatch,
    { v: 1, campaignId, messageIds: [...messageIds].sort((a, b) => a - b) },
    { ...SEND_BATCH_JOB_OPTIONS, jobId: batchJob },
  );
}

/** Each run first asks the providers what we could not learn at the time, then reconciles. */
export function makeReconcileProcessor(deps: ReconcileDeps & ProviderCheckDeps) {
  return async function processReconcile(
    _job: Job<MaintenanceJob>,
  ): Promise<ReconcileReport & ProviderCheckReport> {
    const checked = await checkWithProviders(deps);
    return { ...checked, ...(await reconcile(deps)) };
  };
}
