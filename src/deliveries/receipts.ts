import type { Job } from 'bullmq';
import { isDatabaseUnavailable, isTransactionConflict, withTransaction } from '../platform/db.js';
import { redisIsReady, type RedisConnection } from '../platform/redis.js';
import { UnavailableError } from '../platform/errors.js';
import type { Vault } from '../platform/vault.js';
import type { ProviderEvent } from '../channels/channel.js';
import { followUpFailure, type NextAttemptDeps } from '../campaigns/next-attempt.js';
import { JOB_NAMES, RECEIPT_JOB_OPTIONS, jobIds, type ReceiptJob } from '../queues.js';
import { recordProviderEvents, type StatusChange } from './store.js';
import { isFailure, isMessageStatus } from './status.js';
import { createBatcher } from '../platform/batch.js';

export interface ReceiptDeps extends NextAttemptDeps {
  vault: Vault;
  /**
   * The connection the queues use, to see whether Redis has been ready since start: BullMQ would
   * wait for that however long it takes, and a provider's request must not hang.
   */
  redis: Pick<RedisConnection, 'status'>;
}

/**
 * What became of a request's receipts: applied in PostgreSQL, held in the receipts queue because
 * PostgreSQL is unreachable (applied when it returns), or neither because Redis is unreachable too.
 * Only the last must make the provider try again.
 */
export type ReceiptOutcome = 'applied' | 'held' | 'unavailable';

/** How often a batch that lost a deadlock or serialization conflict is run again before giving up. */
const CONFLICT_ATTEMPTS = 5;

/**
 * Verified receipts, applied: stored once and statuses moved forward only, all in one transaction
 * (an event stored but not applied would make the provider's retry look like a replay, and the
 * status would never move). Throws whatever PostgreSQL throws, but for a conflict it broke by
 * aborting us, which is run again.
 */
async function recordReceipts(
  deps: ReceiptDeps,
  events: readonly ProviderEvent[],
  receivedAt: Date,
): Promise<StatusChange[]> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await withTransaction(deps.db, (tx) => recordProviderEvents(tx, deps.vault, events, receivedAt));
    } catch (error) {
      if (!isTransactionConflict(error) || attempt >= CONFLICT_ATTEMPTS) throw error;
    }
  }
}

/** Follow-ups of one request's failures run this many at a time (each is its own short transaction). */
const FOLLOW_UP_CONCURRENCY = 4;

/**
 * A permanent failure (a bounce, an undelivered SMS, a call nobody answered) is followed up on the
 * person's next channel. By now the receipt is recorded, so a follow-up that fails (PostgreSQL or
 * Redis going away between the two) must not turn into an error for the provider: the reconciler
 * follows up every failure that has not been (fallback IS NULL). A batch's failures are followed up
 * a few at a time, not one after another (a batch of 1,000 SendGrid events holds dozens of bounces);
 * two of them losing a deadlock over their campaign's row are simply run again (followUpFailure is
 * safe to repeat).
 */
async function followUp(deps: ReceiptDeps, changes: readonly StatusChange[]): Promise<void> {
  const failed = changes.filter((change) => isFailure(change.to)).map((change) => change.messageId);
  let next = 0;
  const lane = async () => {
    while (next < failed.length) {
      const messageId = failed[next++]!;
      for (let attempt = 1; ; attempt += 1) {
        try {
          await followUpFailure(deps, messageId);
          break;
        } catch (error) {
          if (isTransactionConflict(error) && attempt < CONFLICT_ATTEMPTS) continue;
          deps.logger.warn(
            { err: error, messageId },
            'receipt recorded; its fallback is left to the reconciler',
          );
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(FOLLOW_UP_CONCURRENCY, failed.length) }, lane));
}

/**
 * Receipts as the provider posted them in one request, applied together in one transaction, in that
 * order. If PostgreSQL is unreachable, they are held in the receipts queue, sealed, under a job id
 * made from their event ids. If the batch fails for another reason, each receipt is tried on its
 * own, so one that cannot be applied keeps none of the others from being applied; its error goes up
 * and the provider retries (the others are replays then, and change nothing). Order across requests
 * does not matter: a status only moves forward (status.ts), so the same receipts applied in any
 * order end in the same place.
 */
export async function receiveProviderEvents(
  deps: ReceiptDeps,
  events: readonly ProviderEvent[],
): Promise<ReceiptOutcome> {
  const receivedAt = deps.clock.now();
  let changes: StatusChange[];
  try {
    changes = await recordReceipts(deps, events, receivedAt);
  } catch (error) {
    if (isDatabaseUnavailable(error)) return holdReceipts(deps, events, receivedAt, error);
    if (events.length === 1) throw error;
    return receiveOneByOne(deps, events, receivedAt);
  }
  await followUp(deps, changes);
  return 'applied';
}

/** At most this many single-receipt requests share one transaction. */
const GROUP_MAX_SIZE = 200;

type GroupResult = { outcome: ReceiptOutcome } | { error: unknown };

/**
 * Receipts that come one per request (Twilio status callbacks), applied together: the receipts of
 * the requests that arrive within one turn of the event loop are stored and applied in one
 * transaction (the same set-based recordProviderEvents as a SendGrid batch), so a burst of callbacks
 * costs one commit and one counter update instead of one each. Each request is answered only once
 * its own receipt is committed (or held, or refused), never before. Ordering across requests does not
 * matter (a status only moves forward), and replays change nothing, as for one request. If the group
 * fails for any reason, each receipt is received on its own, exactly as it would have been alone:
 * one bad receipt, a conflict, or PostgreSQL going away mid-group answers each request as if it had
 * come by itself (applied, held in the receipts queue, or refused so the provider retries).
 */
export function createReceiptGrouper(
  deps: ReceiptDeps,
  options: { maxSize?: number } = {},
): (event: ProviderEvent) => Promise<ReceiptOutcome> {
  const group = createBatcher<ProviderEvent, GroupResult>({
    maxSize: options.maxSize ?? GROUP_MAX_SIZE,
    run: (events) => receiveGroup(deps, events),
  });
  return async (event) => {
    const result = await group(event);
    if ('error' in result) throw result.error;
    return result.outcome;
  };
}

async function receiveGroup(deps: ReceiptDeps, events: ProviderEvent[]): Promise<GroupResult[]> {
  if (events.length > 1) {
    const receivedAt = deps.clock.now();
    let changes: StatusChange[] | null = null;
    try {
      changes = await recordReceipts(deps, events, receivedAt);
    } catch (error) {
      // PostgreSQL unreachable: each receipt held on its own, under the job id it would have had alone.
      if (isDatabaseUnavailable(error))
        return Promise.all(
          events.map(async (event) => ({ outcome: await holdReceipts(deps, [event], receivedAt, error) })),
        );
      // Otherwise each on its own, below: the error that matters is each receipt's own.
    }
    if (changes) {
      // As for one request carrying them all: recorded first, then the failures followed up.
      await followUp(deps, changes);
      return events.map(() => ({ outcome: 'applied' as const }));
    }
  }
  return Promise.all(
    events.map((event) =>
      receiveProviderEvents(deps, [event]).then(
        (outcome) => ({ outcome }),
        (error: unknown) => ({ error }),
      ),
    ),
  );
}

async function receiveOneByOne(
  deps: ReceiptDeps,
  events: readonly ProviderEvent[],
  receivedAt: Date,
): Promise<ReceiptOutcome> {
  for (const [index, event] of events.entries()) {
    let changes: StatusChange[];
    try {
      changes = await recordReceipts(deps, [event], receivedAt);
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      return holdReceipts(deps, events.slice(index), receivedAt, error);
    }
    await followUp(deps, changes);
  }
  return 'applied';
}

/** One receipt from inside Candor (the sandbox's simulated ones): applied or held, or an error if neither. */
export async function applyProviderEvent(deps: ReceiptDeps, event: ProviderEvent): Promise<ReceiptOutcome> {
  const outcome = await receiveProviderEvents(deps, [event]);
  if (outcome === 'unavailable') throw new UnavailableError('PostgreSQL and Redis are both unreachable');
  return outcome;
}

async function holdReceipts(
  deps: ReceiptDeps,
  events: readonly ProviderEvent[],
  receivedAt: Date,
  databaseError: unknown,
): Promise<ReceiptOutcome> {
  const provider = events[0]?.provider ?? 'unknown';
  const jobId = jobIds.receipt(
    provider,
    events.map((event) => event.providerEventId),
  );
  try {
    if (!redisIsReady(deps.redis)) throw new Error('Redis is not connected');
    // The provider's retry of a batch whose held job failed for good gets the same job id, which
    // BullMQ would silently ignore while the failed job is kept: clear it, so the retry is held.
    const earlier = await deps.queues.receipts.getJob(jobId);
    if (earlier && (await earlier.isFailed())) await earlier.remove();
    await deps.queues.receipts.add(
      JOB_NAMES.receipt,
      { v: 1, provider, events: events.length, sealed: sealReceipts(deps.vault, { receivedAt, events }) },
      { ...RECEIPT_JOB_OPTIONS, jobId },
    );
  } catch (redisError) {
    deps.logger.error(
      { err: redisError, databaseError, provider, events: events.length },
      'receipts refused: neither PostgreSQL nor Redis can take them; the provider must retry',
    );
    return 'unavailable';
  }
  deps.logger.warn(
    { err: databaseError, provider, events: events.length, jobId },
    'PostgreSQL unreachable: receipts held in the receipts queue',
  );
  return 'held';
}

interface HeldReceipts {
  receivedAt: Date;
  events: readonly ProviderEvent[];
}

/**
 * The whole event is sealed, not only `raw`: a SendGrid bounce reason quotes the address, and Redis
 * keeps job data in clear. The key id travels with the sealed value, so a key rotation during an
 * outage still opens it while the previous key is configured.
 */
export function sealReceipts(vault: Vault, held: HeldReceipts): string {
  return vault.seal(JSON.stringify(held));
}

/** Our own sealed JSON (the seal authenticates it), so this only restores the dates and checks the shape. */
export function openReceipts(vault: Vault, sealed: string): HeldReceipts {
  const parsed = JSON.parse(vault.open(sealed)) as {
    receivedAt: string;
    events: (Omit<ProviderEvent, 'occurredAt'> & { occurredAt: string | null })[];
  };
  return {
    receivedAt: new Date(parsed.receivedAt),
    events: parsed.events.map((event) => {
      if (event.status !== null && !isMessageStatus(event.status))
        throw new Error(`held receipt has an unknown status`);
      return { ...event, occurredAt: event.occurredAt === null ? null : new Date(event.occurredAt) };
    }),
  };
}

/**
 * Applies held receipts once PostgreSQL is back, in the order they arrived. While it is still
 * unreachable the error goes up as it is: the worker (waitingForDatabase in workers/index.ts) puts
 * the job back at the head of the queue and rests the queue without spending an attempt, so an
 * outage of any length is waited out. Applying twice is harmless (event ids are unique).
 */
export function makeReceiptProcessor(deps: ReceiptDeps) {
  return async (job: Job<ReceiptJob>): Promise<string> => {
    const { receivedAt, events } = openReceipts(deps.vault, job.data.sealed);
    try {
      await followUp(deps, await recordReceipts(deps, events, receivedAt));
      return 'applied';
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw error;
    }
    // Each event on its own: one that cannot be applied must not keep the others from being applied.
    let failed = 0;
    for (const event of events) {
      try {
        await followUp(deps, await recordReceipts(deps, [event], receivedAt));
      } catch (error) {
        if (isDatabaseUnavailable(error)) throw error;
        failed += 1;
        deps.logger.error(
          { err: error, provider: event.provider, providerEventId: event.providerEventId },
          'a held receipt could not be applied',
        );
      }
    }
    // Retried (the others are replays then, and change nothing), then kept as a failed job to see.
    if (failed > 0) throw new Error(`${failed} of ${events.length} held receipts could not be applied`);
    return 'applied';
  };
}
