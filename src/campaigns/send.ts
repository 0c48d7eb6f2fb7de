import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Db } from '../platform/db.js';
import { createBatcher } from '../platform/batch.js';
import type { Logger } from '../platform/logger.js';
import type { Clock } from '../platform/clock.js';
import type { SendingConfig } from '../config.js';
import { ProviderError, ValidationError } from '../platform/errors.js';
import type { ChannelAdapters } from '../channels/channel.js';
import { advanceMessageStatus, markMessageUnknown } from '../deliveries/store.js';
import type { MessageStatus } from '../deliveries/status.js';
import type { Queues, SendJob } from '../queues.js';
import type { MessageKind } from '../notices/render.js';
import type { Channel } from '../channels/kinds.js';
import type { CampaignStatus } from './lifecycle.js';
import { earliestSendTime, zoneOrDefault } from './calling-hours.js';
import { composeMessage, type ComposeDeps } from './compose.js';
import { createNoticeContentCache, noticeContentVersionSql } from './notice-content.js';
import { RECIPIENT_COLUMNS, smsOptedOutSql, toRecipient, type RecipientRow } from '../people/store.js';
import { followUpFailure } from './next-attempt.js';
import type { Admission, Pacer } from '../platform/pacer.js';

export interface SendDeps extends ComposeDeps {
  db: Db;
  logger: Logger;
  clock: Clock;
  channels: ChannelAdapters;
  queues: Queues;
  /** Admits each request to its channel's provider at the configured rate, across every process. */
  pacer: Pacer;
  config: { sending: SendingConfig; lookupHmacKey: Buffer };
}

/**
 * How long a channel rests after its provider answers 429 without saying (no Retry-After). Short:
 * Twilio's own SDK retries a 429 within 200 ms at first. A provider still refusing after it gets one
 * request per rest, so a long default would only leave the channel idle once it recovers.
 */
export const PROVIDER_THROTTLE_MS = 250;

/**
 * How long a claimed, rendered message may wait for its slot with the provider before it is handed
 * back (claim released, job delayed) instead: long waits come from a provider's pause, and the
 * claim must stay far from going stale (`staleSendingMs`).
 */
export function maxSlotWaitMs(deps: SendDeps, channel: Channel): number {
  const wanted = Math.max(2_000, 2 * deps.pacer.intervalMs(channel));
  return Math.min(wanted, deps.config.sending.staleSendingMs / 4);
}

interface GateRow {
  status: MessageStatus;
  sending_at: Date | null;
  campaign_status: CampaignStatus;
}

/** The claimed message with what sending it needs: its person (still encrypted) and its content's version. */
export interface ClaimedMessage extends Omit<RecipientRow, 'id'> {
  message_id: number;
  campaign_id: number;
  person_id: number;
  channel: Channel;
  kind: MessageKind;
  update_id: number | null;
  send_after: Date | null;
  content_version: string;
  /** The number texted STOP after this message was written. */
  sms_opted_out: boolean;
}

const CLAIM_PERSON_COLUMNS = RECIPIENT_COLUMNS.filter((column) => column !== 'id')
  .map((column) => `p.${column}`)
  .join(', ');

async function readGate(db: Db, messageId: number): Promise<GateRow | null> {
  const { rows } = await db.query<GateRow>(
    `SELECT m.status, m.sending_at, c.status AS campaign_status
     FROM messages m JOIN campaigns c ON c.id = m.campaign_id WHERE m.id = $1`,
    [messageId],
  );
  return rows[0] ?? null;
}

export interface ClaimRequest {
  messageId: number;
  at: Date;
  staleBefore: Date;
}

/**
 * The status gate. Only a queued message in a campaign that is sending may go out — or one left
 * `sending` for longer than any provider call takes, whose worker died mid-send. A replayed or
 * duplicate job finds the message claimed or sent and does nothing. The same statement reads the
 * person and the version of the incident's content, saving a round trip each per message.
 *
 * Claims made by this process's jobs at the same moment go in one statement (one commit, one run
 * of the progress counters' trigger): the gate is per row, so each is claimed or not exactly as it
 * would be alone. Rows are locked in id order, as every batch here does.
 *
 * A stale claim made for a batch request (`byBatch`, src/campaigns/send-batch.ts) is never taken
 * again here: that request may have reached the provider, so the message is looked up first (the
 * reconciler makes it `unknown`, src/campaigns/provider-check.ts).
 */
export async function claimMessages(
  db: Db,
  requests: ClaimRequest[],
  byBatch = false,
): Promise<(ClaimedMessage | null)[]> {
  const unique = [...new Map(requests.map((r) => [r.messageId, r])).values()].sort(
    (a, b) => a.messageId - b.messageId,
  );
  const { rows } = await db.query<ClaimedMessage>(
    `UPDATE messages m SET status = 'sending', sending_at = v.at, tries = m.tries + 1, updated_at = v.at,
       claimed_by_batch = $4
     FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[]) AS v(id, at, stale_before),
       campaigns c, people p, incidents i
     WHERE m.id = v.id AND c.id = m.campaign_id AND p.id = m.person_id AND i.id = p.incident_id
       AND c.status = 'sending' AND m.channel IS NOT NULL
       AND (m.status = 'queued'
         OR (m.status = 'sending' AND m.sending_at < v.stale_before AND NOT m.claimed_by_batch))
     RETURNING m.id AS message_id, m.campaign_id, m.person_id, m.channel, c.kind, c.update_id, m.send_after,
       ${CLAIM_PERSON_COLUMNS}, ${noticeContentVersionSql('i')} AS content_version,
       ${smsOptedOutSql('p')} AS sms_opted_out`,
    [unique.map((r) => r.messageId), unique.map((r) => r.at), unique.map((r) => r.staleBefore), byBatch],
  );
  const byId = new Map(rows.map((row) => [row.message_id, row]));
  // Two jobs for one message in one batch: only the first may send it.
  return requests.map((request, i) => {
    const first = requests.findIndex((r) => r.messageId === request.messageId) === i;
    return first ? (byId.get(request.messageId) ?? null) : null;
  });
}

/** Hands a claimed message back (a transient failure): the job's retry claims it again. */
async function releaseClaim(db: Db, messageId: number, at: Date): Promise<void> {
  await db.query(
    `UPDATE messages SET status = 'queued', updated_at = $2 WHERE id = $1 AND status = 'sending'`,
    [messageId, at],
  );
}

export interface AcceptedRecord {
  messageId: number;
  provider: string;
  providerMessageId: string;
  at: Date;
}

/** Records what providers accepted, many messages in one statement (see claimMessages). */
export async function recordAccepted(db: Db, records: AcceptedRecord[]): Promise<void[]> {
  const unique = [...new Map(records.map((r) => [r.messageId, r])).values()].sort(
    (a, b) => a.messageId - b.messageId,
  );
  // A receipt may have overtaken us ('delivered' before we got here): never move it back to 'sent'.
  await db.query(
    `UPDATE messages m SET provider = v.provider, provider_message_id = v.provider_message_id,
       sent_at = COALESCE(m.sent_at, v.at), updated_at = v.at,
       status = CASE WHEN m.status IN ('queued', 'sending') THEN 'sent' ELSE m.status END
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[]) AS v(id, provider, provider_message_id, at)
     WHERE m.id = v.id`,
    [
      unique.map((r) => r.messageId),
      unique.map((r) => r.provider),
      unique.map((r) => r.providerMessageId),
      unique.map((r) => r.at),
    ],
  );
  return records.map(() => undefined);
}

/** Puts the job back to sleep until `until` (by the injected clock) without spending an attempt. */
export async function deferJob(job: Job, token: string | undefined, until: Date, now: Date): Promise<never> {
  await job.moveToDelayed(Date.now() + Math.max(0, until.getTime() - now.getTime()), token);
  throw new DelayedError();
}

/** Failures about this message that trying again will not fix; anything else (PostgreSQL away, a 5xx) may pass. */
export function isPermanent(error: unknown): boolean {
  return (error instanceof ProviderError && !error.retryable) || error instanceof ValidationError;
}

export type SendOutcome = 'sent' | 'skipped' | 'failed' | 'unknown';

/**
 * Sends one message, in the order a person would check it: claim it if it is still to be sent, make
 * sure it is calling hours where they live, render it, hand it to the provider, record its id.
 * No transaction is open across the provider call: a slow provider must not hold a connection.
 */
export function makeSendProcessor(deps: SendDeps) {
  const contentCache = createNoticeContentCache(deps.db);
  const claim = createBatcher({ run: (requests: ClaimRequest[]) => claimMessages(deps.db, requests) });
  const record = createBatcher({ run: (records: AcceptedRecord[]) => recordAccepted(deps.db, records) });
  return async function processSend(job: Job<SendJob>, token?: string): Promise<SendOutcome> {
    const { messageId } = job.data;
    if (job.data.accepted) {
      // The provider has it already; only PostgreSQL missed it. Sending again would duplicate it.
      const { provider, providerMessageId } = job.data.accepted;
      await record({ messageId, provider, providerMessageId, at: deps.clock.now() });
      return 'sent';
    }
    if (job.data.unknown) {
      // The provider may have it; only PostgreSQL missed that we could not tell. Ask, do not resend.
      const reason = 'no answer from the provider (recorded once PostgreSQL was back)';
      await markMessageUnknown(deps.db, messageId, job.data.unknown.provider, reason, deps.clock.now());
      return 'unknown';
    }

    const now = deps.clock.now();
    const staleBefore = new Date(now.getTime() - deps.config.sending.staleSendingMs);
    const claimed = await claim({ messageId, at: now, staleBefore });
    if (!claimed) {
      // Rarely here: the message is gone, done, or its campaign not sending (skip), or another
      // worker holds it, or held it when it died (look again once that hold has gone stale).
      const gate = await readGate(deps.db, messageId);
      if (gate?.status === 'sending' && gate.sending_at && gate.campaign_status === 'sending') {
        return deferJob(
          job,
          token,
          new Date(gate.sending_at.getTime() + deps.config.sending.staleSendingMs + 1),
          now,
        );
      }
      return 'skipped';
    }

    if (claimed.channel === 'sms' && claimed.sms_opted_out) {
      // The number texted STOP since this message was written: it fails here, unsent, and the
      // person moves on to their next channel like after any permanent failure.
      await advanceMessageStatus(deps.db, messageId, 'failed', 'the number texted STOP', now);
      await followUpFailure(deps, messageId);
      return 'failed';
    }
    const zone = zoneOrDefault(claimed.time_zone, deps.config.sending.defaultTimeZone);
    const notBefore = claimed.send_after && claimed.send_after > now ? claimed.send_after : now;
    const earliest = earliestSendTime(notBefore, claimed.channel, zone, deps.config.sending.callingHours);
    if (earliest > now) {
      // Not calling hours where they live (or a retry not yet due): hand it back until then.
      await deps.db.query(
        `UPDATE messages SET status = 'queued', send_after = $2, tries = tries - 1 WHERE id = $1 AND status = 'sending'`,
        [messageId, earliest],
      );
      return deferJob(job, token, earliest, now);
    }

    const adapter = deps.channels[claimed.channel];
    const started = performance.now();
    let result;
    let admission: Admission | undefined;
    try {
      const recipient = toRecipient(deps.vault, { ...claimed, id: claimed.person_id });
      let content = await contentCache.get(recipient.incidentId, claimed.content_version);
      if (claimed.update_id !== null && !content?.updates.some((u) => u.id === claimed.update_id)) {
        // Published after the copy we hold was read (the incident is bumped just after the insert).
        content = await contentCache.reload(recipient.incidentId, claimed.content_version);
      }
      const outgoing = await composeMessage(
        deps,
        {
          messageId,
          campaignId: claimed.campaign_id,
          kind: claimed.kind,
          channel: claimed.channel,
          recipient,
          updateId: claimed.update_id,
        },
        content,
      );
      // Taken here, after the claim and the rendering, so their varying time cannot bunch requests.
      admission = await deps.pacer.admit(claimed.channel, maxSlotWaitMs(deps, claimed.channel));
      if (admission.waitMs === 0) result = await adapter.send(outgoing);
    } catch (error) {
      if (error instanceof ProviderError && error.outcomeUnknown) {
        return leaveOutcomeUnknown(
          deps,
          job,
          claimed,
          adapter.provider,
          error,
          Math.round(performance.now() - started),
        );
      }
      return handleSendFailure(
        deps,
        job,
        claimed,
        adapter.provider,
        error,
        Math.round(performance.now() - started),
        admission?.epoch ?? null,
      );
    }
    if (!result) {
      // No slot soon (the provider asked us to pause): hand it back, not as a try, until one may be.
      await deps.db.query(
        `UPDATE messages SET status = 'queued', tries = tries - 1 WHERE id = $1 AND status = 'sending'`,
        [messageId],
      );
      return deferJob(job, token, new Date(now.getTime() + (admission?.waitMs ?? 0)), now);
    }
    deps.logger.info(
      {
        messageId,
        channel: claimed.channel,
        provider: result.provider,
        ms: Math.round(performance.now() - started),
      },
      'provider accepted message',
    );
    try {
      await record({
        messageId,
        provider: result.provider,
        providerMessageId: result.providerMessageId,
        at: deps.clock.now(),
      });
    } catch (error) {
      await job.updateData({ ...job.data, accepted: result });
      throw error;
    }
    return 'sent';
  };
}

/**
 * The request went out and no answer came back: the provider may have the message. Sending again
 * now could reach the person twice, so the job ends here and the message waits, `unknown`, for the
 * reconciler to ask the provider (src/campaigns/provider-check.ts).
 */
async function leaveOutcomeUnknown(
  deps: SendDeps,
  job: Job<SendJob>,
  claimed: ClaimedMessage,
  provider: string,
  error: ProviderError,
  ms: number,
): Promise<SendOutcome> {
  const messageId = claimed.message_id;
  deps.logger.warn(
    { messageId, channel: claimed.channel, provider, ms, reason: error.message },
    'send outcome unknown; the provider will be asked before any resend',
  );
  try {
    await markMessageUnknown(deps.db, messageId, provider, error.message, deps.clock.now());
  } catch (recording) {
    // Left as it is, the row would stay 'sending' and go again, unasked, once it looked abandoned.
    await job.updateData({ ...job.data, unknown: { provider } });
    throw recording;
  }
  return 'unknown';
}

async function handleSendFailure(
  deps: SendDeps,
  job: Job<SendJob>,
  claimed: ClaimedMessage,
  provider: string,
  error: unknown,
  ms: number,
  admittedEpoch: number | null,
): Promise<never> {
  const messageId = claimed.message_id;
  const reason = error instanceof Error ? error.message : String(error);
  const throttled = error instanceof ProviderError && error.details.status === 429;
  const permanent = isPermanent(error);
  const attemptsLeft = (job.opts.attempts ?? 1) - job.attemptsMade - 1;
  deps.logger.warn(
    { messageId, channel: claimed.channel, provider, ms, throttled, permanent, attemptsLeft, reason },
    'send failed',
  );
  if (throttled) {
    // The provider says slow down: pause the channel, across every worker, as long as it asked (or
    // briefly), and put this message back without spending one of its attempts. The pacer takes
    // one pause per episode, not one per refused request: those already on their way when the first
    // 429 came back are answered 429 too and say nothing new. The pause comes first: every moment
    // before it is recorded, other workers may still send.
    const pausedMs = await deps.pacer
      .pause(claimed.channel, {
        ms: error.details.retryAfterMs ?? null,
        defaultMs: PROVIDER_THROTTLE_MS,
        epoch: admittedEpoch ?? -1,
      })
      .finally(() => releaseClaim(deps.db, messageId, deps.clock.now()));
    // Workers stop taking this channel's jobs meanwhile; the pacer alone would hold each one taken.
    if (pausedMs > 0) await deps.queues.send[claimed.channel].rateLimit(pausedMs);
    throw Worker.RateLimitError();
  }
  if (!permanent && attemptsLeft > 0) {
    await releaseClaim(deps.db, messageId, deps.clock.now()).catch(() => undefined);
    throw error;
  }
  await advanceMessageStatus(
    deps.db,
    messageId,
    'failed',
    permanent ? reason : `retries exhausted: ${reason}`,
    deps.clock.now(),
  );
  await followUpFailure(deps, messageId);
  throw new UnrecoverableError(reason);
}
