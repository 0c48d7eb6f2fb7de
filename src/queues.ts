import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { CHANNELS, type Channel } from './campaigns/channel-policy.js';

/**
 * Every queue and job Candor uses, with its payload. Payloads carry ids only: Redis keeps job data in
 * clear, and PostgreSQL holds the facts. `v` versions the payload shape.
 *
 * One send queue per channel, so each channel's provider rate limit is a BullMQ limiter on its queue,
 * held in Redis across every worker process.
 */
export const QUEUE_NAMES = {
  fanout: 'campaign-fanout',
  send: { email: 'send-email', sms: 'send-sms', voice: 'send-voice', letter: 'send-letter' } satisfies Record<
    Channel,
    string
  >,
  /** One-time codes and subscription confirmations: src/portal-messages/queue.ts. */
  portal: 'portal-messages',
} as const;

export interface FanoutJob {
  v: 1;
  campaignId: number;
}

export interface SendJob {
  v: 1;
  messageId: number;
}

/** Deterministic ids (no ':' — BullMQ reserves it): adding the same work twice is a no-op while the first is known. */
export const jobIds = {
  fanout: (campaignId: number) => `fanout-${campaignId}`,
  send: (messageId: number) => `send-${messageId}`,
};

export const SEND_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  // 2s, 4s, 8s ... with jitter so a provider outage does not end in a thundering herd.
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 10_000 },
};

export const FANOUT_JOB_OPTIONS: JobsOptions = {
  attempts: 20,
  backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 1_000 },
};

export interface Queues {
  fanout: Queue<FanoutJob>;
  send: Record<Channel, Queue<SendJob>>;
  all(): Queue[];
  close(): Promise<void>;
}

export function createQueues(connection: ConnectionOptions, prefix: string): Queues {
  const fanout = new Queue<FanoutJob>(QUEUE_NAMES.fanout, { connection, prefix });
  const send = Object.fromEntries(
    CHANNELS.map((channel) => [
      channel,
      new Queue<SendJob>(QUEUE_NAMES.send[channel], { connection, prefix }),
    ]),
  ) as Record<Channel, Queue<SendJob>>;
  const all = () => [fanout, ...Object.values(send)] as Queue[];
  return {
    fanout,
    send,
    all,
    async close() {
      await Promise.all(all().map((queue) => queue.close()));
    },
  };
}
