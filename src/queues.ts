import crypto from 'node:crypto';
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { CHANNELS, type Channel } from './channels/kinds.js';

/**
 * Every queue and job Candor uses, with its payload. Payloads carry ids only: Redis keeps job data in
 * clear, and PostgreSQL holds the facts. `v` versions the payload shape.
 *
 * One send queue per channel, so each channel has its own BullMQ limiter and can be paused on its own
 * (a provider's 429); the provider's rate itself is kept by the pacer (src/platform/pacer.ts).
 */
export const QUEUE_NAMES = {
  fanout: 'campaign-fanout',
  maintenance: 'maintenance',
  send: { email: 'send-email', sms: 'send-sms', voice: 'send-voice', letter: 'send-letter' } satisfies Record<
    Channel,
    string
  >,
  /** Email in batches, one job per fan-out page: src/campaigns/send-batch.ts. */
  sendBatch: 'send-email-batch',
  /** One-time codes and subscription confirmations: src/portal-messages/queue.ts. */
  portal: 'portal-messages',
  /** Verified delivery receipts that arrived while PostgreSQL was unreachable: src/deliveries/receipts.ts. */
  receipts: 'receipts',
} as const;

type Names<T> = { readonly [K in keyof T]: T[K] extends string ? string : Names<T[K]> };
export type QueueNames = Names<typeof QUEUE_NAMES>;

/** Where BullMQ keeps the queues (config.queues): its key prefix, and whether each queue has a hash tag. */
export interface QueuePlacement {
  prefix: string;
  tagEachQueue: boolean;
}

/**
 * The one place that names the queues in Redis. On a Redis Cluster each name is its own hash tag
 * (`{send-email}`): BullMQ's scripts touch several keys of one queue at once, which must share a
 * slot, and different tags put different queues on different nodes. On one server the names stay
 * as every earlier release wrote them, so an upgrade finds the jobs already queued.
 */
export function queueNames(placement: QueuePlacement): QueueNames {
  const tag = (names: object): object =>
    Object.fromEntries(
      Object.entries(names).map(([key, name]) => [
        key,
        typeof name === 'string' ? (placement.tagEachQueue ? `{${name}}` : name) : tag(name as object),
      ]),
    );
  return tag(QUEUE_NAMES) as QueueNames;
}

export interface FanoutJob {
  v: 1;
  campaignId: number;
}

export interface SendJob {
  v: 1;
  messageId: number;
  /**
   * Set only when the provider accepted the message but PostgreSQL could not record it (restarting):
   * the retry records this instead of sending again. Ids only, like the rest of the payload.
   */
  accepted?: { provider: string; providerMessageId: string };
  /**
   * Set only when the provider call's outcome was unknown (a time-out) and PostgreSQL could not record
   * that: the retry records it instead of sending again, which could reach the person twice.
   */
  unknown?: { provider: string };
}

/** The ids of a fan-out page's emails, sent in as few provider requests as render the same. */
export interface SendBatchJob {
  v: 1;
  campaignId: number;
  messageIds: number[];
  /**
   * Requests the provider accepted that PostgreSQL could not record (restarting): the retry records
   * these instead of sending them again. Ids only.
   */
  accepted?: { provider: string; providerMessageId: string; messageIds: number[] }[];
  /** Requests that went without an answer, not yet recorded `unknown`: the retry records them. */
  unknown?: { provider: string; messageIds: number[] }[];
}

/** The reconciler: re-enqueues what Redis lost, restarts fan-outs, plans fallbacks, completes campaigns. */
export interface MaintenanceJob {
  v: 1;
}

/**
 * Receipts held until PostgreSQL returns. The one exception to "ids only": a receipt exists nowhere
 * else (Twilio never sends it again), so the verified events themselves travel, sealed with the
 * vault because they carry email addresses and phone numbers. Only the provider and the count are
 * readable in Redis.
 */
export interface ReceiptJob {
  v: 1;
  provider: string;
  events: number;
  /** The events of one webhook request, in the order they arrived: vault-sealed JSON (see receipts.ts). */
  sealed: string;
}

export const JOB_NAMES = {
  fanout: 'fanout',
  send: 'send',
  sendBatch: 'send-batch',
  reconcile: 'reconcile',
  purge: 'purge',
  receipt: 'receipt',
} as const;
export const RECONCILE_SCHEDULER_ID = 'reconcile';
export const PURGE_SCHEDULER_ID = 'purge';
/** The retention purge looks for what is due this often. */
export const PURGE_EVERY_MS = 6 * 60 * 60 * 1000;

/** Deterministic ids (no ':' — BullMQ reserves it): adding the same work twice is a no-op while the first is known. */
export const jobIds = {
  fanout: (campaignId: number) => `fanout-${campaignId}`,
  send: (messageId: number) => `send-${messageId}`,
  /** One per fan-out page, named by where the page starts: a repeated page adds nothing. */
  sendBatch: (campaignId: number, pageAfter: number) => `sendbatch-${campaignId}-${pageAfter}`,
  /**
   * From the provider's own event ids, so a provider retrying the same request (SendGrid does, for
   * 24 h) adds nothing while the first copy waits. Hashed: event ids are the provider's strings and
   * may hold any character, ':' included.
   */
  receipt: (provider: string, providerEventIds: readonly string[]) =>
    `receipt-${provider}-${crypto.createHash('sha256').update(JSON.stringify(providerEventIds)).digest('base64url')}`,
};

/**
 * Finished send and fan-out jobs are removed at once: their outcome lives in PostgreSQL, and a job
 * id that lingered would make re-adding the same work (resume, reconcile) a silent no-op. Failed
 * jobs stay, bounded, so exhausted retries are visible on the queue dashboard.
 */

export const SEND_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  // 2s, 4s, 8s ... with jitter so a provider outage does not end in a thundering herd.
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
  removeOnComplete: true,
  removeOnFail: { count: 10_000 },
};

/** As SEND_JOB_OPTIONS; a batch that keeps failing hands its messages to per-message jobs. */
export const SEND_BATCH_JOB_OPTIONS: JobsOptions = { ...SEND_JOB_OPTIONS, attempts: 5 };

export const FANOUT_JOB_OPTIONS: JobsOptions = {
  attempts: 20,
  backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
  removeOnComplete: true,
  removeOnFail: { count: 1_000 },
};

/**
 * Held receipts: these attempts are for errors other than "PostgreSQL is away" (a bug, a key that
 * no longer opens the payload), which the processor does not count (it waits for PostgreSQL instead,
 * however long that takes). Done jobs go at once, their events now in delivery_events; failed ones
 * stay, bounded, for the dashboard.
 */
export const RECEIPT_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
  removeOnComplete: true,
  removeOnFail: { count: 10_000 },
};

export interface Queues {
  /** The queues' names in Redis (queueNames): workers take jobs from these. */
  names: QueueNames;
  fanout: Queue<FanoutJob>;
  maintenance: Queue<MaintenanceJob>;
  send: Record<Channel, Queue<SendJob>>;
  sendBatch: Queue<SendBatchJob>;
  receipts: Queue<ReceiptJob>;
  all(): Queue[];
  close(): Promise<void>;
}

export function createQueues(connection: ConnectionOptions, placement: QueuePlacement): Queues {
  const names = queueNames(placement);
  const { prefix } = placement;
  const fanout = new Queue<FanoutJob>(names.fanout, { connection, prefix });
  const maintenance = new Queue<MaintenanceJob>(names.maintenance, { connection, prefix });
  const send = Object.fromEntries(
    CHANNELS.map((channel) => [channel, new Queue<SendJob>(names.send[channel], { connection, prefix })]),
  ) as Record<Channel, Queue<SendJob>>;
  const sendBatch = new Queue<SendBatchJob>(names.sendBatch, { connection, prefix });
  const receipts = new Queue<ReceiptJob>(names.receipts, { connection, prefix });
  const all = () => [fanout, maintenance, ...Object.values(send), sendBatch, receipts] as Queue[];
  return {
    names,
    fanout,
    maintenance,
    send,
    sendBatch,
    receipts,
    all,
    async close() {
      await Promise.all(all().map((queue) => queue.close()));
    },
  };
}
