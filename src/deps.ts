import type { Config } from './config.js';
import { createDb } from './platform/db.js';
import { createWebRedis } from './platform/redis.js';
import { createLogger, type Logger } from './platform/logger.js';
import { createVault } from './platform/vault.js';
import { createI18n } from './platform/i18n.js';
import { systemClock, type Clock } from './platform/clock.js';
import { createQueues } from './queues.js';
import { createPortalQueue } from './portal-messages/queue.js';
import { createSandbox } from './channels/sandbox.js';
import { createChannelAdapters } from './channels/index.js';
import { applyProviderEvent } from './deliveries/receipts.js';
import { recordOutboxEntry } from './sandbox-outbox/store.js';
import { createImportStager } from './imports/stage-pool.js';
import { createMetrics } from './platform/metrics.js';
import { createPacer } from './platform/pacer.js';
import { codeCampaignAudience } from './codes/audience.js';

/**
 * The composition root: every long-lived thing, built once, for web and workers alike. Tests build
 * the same deps with real PostgreSQL and Redis and configuration pointing at fake providers.
 */
export async function createDeps(config: Config, options: { clock?: Clock; logger?: Logger } = {}) {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  const db = createDb(config.databaseUrl, logger);
  const vault = createVault(config.encryptionKeys, config.lookupHmacKey);
  const i18n = await createI18n();
  const redis = await createWebRedis(config, logger);
  const queues = createQueues(redis, config.queues);
  const portalQueue = createPortalQueue(redis, config.queues);
  // A queue re-emits its connection's errors; unheard, an 'error' event would end the process.
  for (const queue of [...queues.all(), portalQueue])
    queue.on('error', (error: Error) =>
      logger.debug({ err: error.message, queue: queue.name }, 'queue error'),
    );

  const sandbox = createSandbox({
    recordOutbox: (message) => recordOutboxEntry(db, vault, message),
    applyEvent: async (event) => {
      await applyProviderEvent({ db, vault, queues, clock, logger, config, redis }, event);
    },
    onReceiptError: (error, messageId) => logger.error({ err: error, messageId }, 'sandbox receipt failed'),
    lateReceiptMs: config.sandbox.lateReceiptMs,
  });
  const channels = createChannelAdapters(config, sandbox, { db, vault });
  // Each channel's provider rate, held in Redis so it holds across every worker process.
  const pacer = createPacer(redis, {
    keyPrefix: config.queuePrefix,
    ratePerSecond: config.sending.ratePerSecond,
  });
  const importStager = createImportStager(config, vault);
  const metrics = createMetrics({ db, queues: () => [...queues.all(), portalQueue] });

  return {
    config,
    logger,
    clock,
    db,
    vault,
    i18n,
    redis,
    queues,
    portalQueue,
    sandbox,
    channels,
    pacer,
    importStager,
    metrics,
    /** Each feature's condition on whom a campaign reaches: the fan-out and the plan apply them all. */
    audienceNarrowings: [codeCampaignAudience],
    /** Closes in dependency order: in-flight receipts, queues and Redis, then PostgreSQL. */
    async close() {
      await sandbox.drain();
      await queues.close();
      await portalQueue.close();
      await importStager.close();
      redis.disconnect();
      await db.end();
    },
  };
}

export type Deps = Awaited<ReturnType<typeof createDeps>>;
