import { Worker, type Queue } from 'bullmq';
import type { Deps } from '../src/deps.js';
import {
  JOB_NAMES,
  PURGE_EVERY_MS,
  PURGE_SCHEDULER_ID,
  RECONCILE_SCHEDULER_ID,
  type MaintenanceJob,
} from '../src/queues.js';
import type { Job } from 'bullmq';
import { CHANNELS } from '../src/channels/kinds.js';
import { makeFanoutProcessor } from '../src/campaigns/fanout.js';
import { makeSendProcessor } from '../src/campaigns/send.js';
import { makeSendBatchProcessor } from '../src/campaigns/send-batch.js';
import { composeDepsWithCodes } from '../src/codes/compose.js';
import { makePortalMessageProcessor } from '../src/portal-messages/processor.js';
import { makeReconcileProcessor } from '../src/campaigns/reconcile.js';
import { purgeDue } from '../src/retention/purge.js';
import { limiterFor } from '../src/campaigns/rate-limit.js';
import { isDatabaseUnavailable } from '../src/platform/db.js';
import { makeReceiptProcessor } from '../src/deliveries/receipts.js';
import { createRedisConnection } from '../src/platform/redis.js';

export interface Workers {
  workers: Worker[];
  /** Stops taking jobs, lets in-flight ones finish (BullMQ hands back any that cannot), then closes. */
  close(): Promise<void>;
}

/**
 * Batch jobs each process at most one request at a time and hold up to a page of messages: a few at
 * once keep claiming, rendering and the provider call overlapping without holding many claims.
 */
export const SEND_BATCH_CONCURRENCY = 4;

/** While PostgreSQL is away, a queue rests this long between tries, without spending any job's attempts. */
export const DATABASE_WAIT_MS = 2_000;

type Processor<T> = (job: Job<T>, token?: string) => Promise<unknown>;

/**
 * Waits out a PostgreSQL outage: a job that failed only because PostgreSQL could not be reached goes
 * back to its queue, and the worker that met the outage rests before trying again, so an outage of
 * any length delays work but never exhausts a job's retries or marks a message failed. BullMQ makes
 * every worker of a queue with a limiter (the send queues) rest; a worker without one rests alone
 * (moveToActive reads the limiter key only when a limiter is set), and each meets the outage itself.
 */
function waitingForDatabase<T>(deps: Deps, queue: Queue, processor: Processor<T>): Processor<T> {
  return async (job, token) => {
    try {
      return await processor(job, token);
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      deps.logger.warn({ queue: queue.name, jobId: job.id }, 'PostgreSQL is away; the queue waits for it');
      await queue.rateLimit(DATABASE_WAIT_MS);
      throw Worker.RateLimitError();
    }
  };
}

/** Builds every worker from the shared deps. Processors are plain functions made by factories. */
export function createWorkers(deps: Deps): Workers {
  // Workers block on Redis and must retry forever rather than fail a command (BullMQ's requirement).
  const connection = createRedisConnection(deps.config, 'worker');
  connection.on('error', (error: Error) =>
    deps.logger.warn({ err: error.message }, 'worker redis connection error'),
  );
  // The queues' names in Redis, hash-tagged on a Redis Cluster: the same names the queues were made with.
  const QUEUE_NAMES = deps.queues.names;
  const { prefix } = deps.config.queues;
  const { sending } = deps.config;
  const sendDeps = composeDepsWithCodes(deps);
  const reconcile = makeReconcileProcessor(deps);
  const maintenance = (job: Job<MaintenanceJob>) =>
    job.name === JOB_NAMES.purge ? purgeDue(deps) : reconcile(job);
  // A killed worker's jobs go back to the queue once its lock lapses; checked as often as it lapses.
  const locks = {
    lockDuration: sending.workerLockMs,
    stalledInterval: sending.workerLockMs,
    maxStalledCount: 5,
  };

  /** Aborted on close: long jobs (email batches) stop between provider requests. */
  const stopping = new AbortController();
  const workers: Worker[] = [
    new Worker(QUEUE_NAMES.fanout, waitingForDatabase(deps, deps.queues.fanout, makeFanoutProcessor(deps)), {
      connection,
      prefix,
      concurrency: 2,
      ...locks,
    }),
    new Worker(QUEUE_NAMES.maintenance, waitingForDatabase(deps, deps.queues.maintenance, maintenance), {
      connection,
      prefix,
      concurrency: 1,
      ...locks,
    }),
    ...CHANNELS.map(
      (channel) =>
        new Worker(
          QUEUE_NAMES.send[channel],
          waitingForDatabase(
            deps,
            deps.queues.send[channel],
            makeSendProcessor({ ...sendDeps, pacer: deps.pacer }),
          ),
          {
            connection,
            prefix,
            concurrency: deps.config.sendConcurrency,
            // Held in Redis across every worker process. The pacer admits each request to the provider;
            // this limiter only keeps workers from taking jobs much faster than that. At the configured
            // rate, a little above the pacer's (which keeps a margin), a job is ready for every slot.
            limiter: limiterFor(sending.ratePerSecond[channel]),
            ...locks,
          },
        ),
    ),
    // Email in batches (only where the email adapter sends batches: SendGrid).
    new Worker(
      QUEUE_NAMES.sendBatch,
      waitingForDatabase(
        deps,
        deps.queues.sendBatch,
        makeSendBatchProcessor({ ...sendDeps, pacer: deps.pacer }, stopping.signal),
      ),
      { connection, prefix, concurrency: SEND_BATCH_CONCURRENCY, ...locks },
    ),
    new Worker(
      QUEUE_NAMES.portal,
      waitingForDatabase(deps, deps.portalQueue, makePortalMessageProcessor(deps)),
      {
        connection,
        prefix,
        concurrency: 10,
      },
    ),
    // Receipts held through a PostgreSQL outage. One at a time per process, so they are applied in the
    // order they arrived; several processes interleave, which is safe because a status only moves forward.
    new Worker(
      QUEUE_NAMES.receipts,
      waitingForDatabase(deps, deps.queues.receipts, makeReceiptProcessor(deps)),
      { connection, prefix, concurrency: 1 },
    ),
  ];
  for (const worker of workers) {
    worker.on('completed', (_job, result: unknown) =>
      deps.metrics.jobs.inc({
        queue: worker.name,
        outcome: typeof result === 'string' ? result : 'completed',
      }),
    );
    worker.on('failed', () => deps.metrics.jobs.inc({ queue: worker.name, outcome: 'error' }));
    worker.on('error', (error) =>
      deps.logger.error({ err: error.message, queue: worker.name }, 'worker error'),
    );
    worker.on('failed', (job, error) =>
      deps.logger.warn(
        { queue: worker.name, jobId: job?.id, attempts: job?.attemptsMade, reason: error.message },
        'job failed',
      ),
    );
  }

  // The reconciler and the retention purge run as BullMQ job schedulers, one run per interval across
  // all processes. A flushed Redis loses the schedulers too, so every worker process checks they are there.
  const schedulers = [
    { id: RECONCILE_SCHEDULER_ID, every: sending.reconcileEveryMs, name: JOB_NAMES.reconcile },
    { id: PURGE_SCHEDULER_ID, every: PURGE_EVERY_MS, name: JOB_NAMES.purge },
  ];
  const ensureSchedulers = async () => {
    for (const scheduler of schedulers) {
      try {
        if (await deps.queues.maintenance.getJobScheduler(scheduler.id)) continue;
        await deps.queues.maintenance.upsertJobScheduler(
          scheduler.id,
          { every: scheduler.every },
          {
            name: scheduler.name,
            data: { v: 1 },
            opts: { removeOnComplete: true, removeOnFail: { count: 100 } },
          },
        );
      } catch (error) {
        deps.logger.warn({ err: error, scheduler: scheduler.id }, 'could not schedule maintenance yet');
      }
    }
  };
  void ensureSchedulers();
  const watchdog = setInterval(() => void ensureSchedulers(), Math.max(1_000, sending.reconcileEveryMs));
  watchdog.unref();

  return {
    workers,
    async close() {
      clearInterval(watchdog);
      // Batch jobs hand back what they have not yet sent instead of pacing through it (send-batch.ts).
      stopping.abort();
      await Promise.all(workers.map((worker) => worker.close()));
      connection.disconnect();
    },
  };
}
