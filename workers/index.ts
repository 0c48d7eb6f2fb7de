import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Deps } from '../src/deps.js';
import { QUEUE_NAMES } from '../src/queues.js';
import { CHANNELS } from '../src/campaigns/channel-policy.js';
import { makeFanoutProcessor } from '../src/campaigns/fanout.js';
import { makeSendProcessor } from '../src/campaigns/send.js';
import { PORTAL_QUEUE_NAME } from '../src/portal-messages/queue.js';
import { makePortalMessageProcessor } from '../src/portal-messages/processor.js';

export interface Workers {
  workers: Worker[];
  /** Stops taking jobs, lets in-flight ones finish (BullMQ hands back any that cannot), then closes. */
  close(): Promise<void>;
}

/** Builds every worker from the shared deps. Processors are plain functions made by factories. */
export function createWorkers(deps: Deps): Workers {
  // Workers block on Redis and must retry forever rather than fail a command (BullMQ's requirement).
  const connection = new Redis(deps.config.redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', (error: Error) =>
    deps.logger.warn({ err: error.message }, 'worker redis connection error'),
  );
  const prefix = deps.config.queuePrefix;
  const sendDeps = { ...deps, publicBaseUrl: deps.config.publicBaseUrl };

  const workers: Worker[] = [
    new Worker(QUEUE_NAMES.fanout, makeFanoutProcessor(deps), { connection, prefix, concurrency: 2 }),
    ...CHANNELS.map(
      (channel) =>
        new Worker(QUEUE_NAMES.send[channel], makeSendProcessor(sendDeps), {
          connection,
          prefix,
          concurrency: deps.config.sendConcurrency,
        }),
    ),
    new Worker(PORTAL_QUEUE_NAME, makePortalMessageProcessor(deps), { connection, prefix, concurrency: 10 }),
  ];
  for (const worker of workers) {
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
  return {
    workers,
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
      connection.disconnect();
    },
  };
}
