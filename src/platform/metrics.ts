import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Queryable } from './db.js';

/**
 * Prometheus metrics, one registry per process (not prom-client's global one, so tests can build
 * several deps side by side). Counters count what this process did; the gauges read the shared
 * state (queue depths in Redis, the messages of live campaigns in PostgreSQL) when scraped, so every
 * process reports the same figures for them.
 */
export function createMetrics(sources: { db: Queryable; queues: () => Queue[] }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'candor_' });
  const registers = [registry];

  const httpRequests = new Histogram({
    name: 'candor_http_request_duration_seconds',
    help: 'Web requests by method, route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const jobs = new Counter({
    name: 'candor_jobs_total',
    help: 'Jobs this process finished, by queue and outcome (sent, skipped, failed, completed, error)',
    labelNames: ['queue', 'outcome'] as const,
    registers,
  });

  new Gauge({
    name: 'candor_queue_jobs',
    help: 'Jobs in each queue by state, read from Redis at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers,
    async collect() {
      this.reset();
      for (const queue of sources.queues()) {
        const counts = await queue
          .getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed')
          .catch(() => null);
        for (const [state, n] of Object.entries(counts ?? {})) this.set({ queue: queue.name, state }, n);
      }
    },
  });
  new Gauge({
    name: 'candor_live_campaign_messages',
    help: 'Messages of campaigns now sending or paused, by channel and status, read from PostgreSQL at scrape time',
    labelNames: ['channel', 'status'] as const,
    registers,
    async collect() {
      this.reset();
      const result = await sources.db
        .query<{ channel: string; status: string; n: string }>(
          `SELECT k.channel, k.status, sum(k.n)::text AS n FROM campaign_message_counts k
           JOIN campaigns c ON c.id = k.campaign_id WHERE c.status IN ('sending', 'paused') GROUP BY 1, 2`,
        )
        .catch(() => null);
      for (const row of result?.rows ?? [])
        this.set({ channel: row.channel, status: row.status }, Number(row.n));
    },
  });

  const webhookRefusals = new Counter({
    name: 'candor_webhook_refusals_total',
    help: 'Provider webhooks refused, by provider and reason (signature, stale)',
    labelNames: ['provider', 'reason'] as const,
    registers,
  });

  return { registry, httpRequests, jobs, webhookRefusals };
}

export type Metrics = ReturnType<typeof createMetrics>;
