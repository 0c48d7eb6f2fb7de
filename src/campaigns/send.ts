import { UnrecoverableError, type Job } from 'bullmq';
import type { Db } from '../platform/db.js';
import type { Logger } from '../platform/logger.js';
import type { Clock } from '../platform/clock.js';
import { ProviderError, ValidationError } from '../platform/errors.js';
import type { ChannelAdapters } from '../channels/channel.js';
import { advanceMessageStatus } from '../deliveries/store.js';
import type { SendJob } from '../queues.js';
import type { MessageKind } from '../notices/render.js';
import type { Channel } from './channel-policy.js';
import { composeMessage, loadMessageRecipient, type ComposeDeps } from './compose.js';

export interface SendDeps extends ComposeDeps {
  db: Db;
  logger: Logger;
  clock: Clock;
  channels: ChannelAdapters;
}

interface ClaimedMessage {
  id: number;
  campaign_id: number;
  person_id: number;
  channel: Channel;
  kind: MessageKind;
  update_id: number | null;
}

/**
 * The status gate. Only a message still queued (or left sending by a crash or a retry) in a campaign
 * that is sending may go out; a replayed or duplicate job finds it sent and does nothing.
 */
async function claimMessage(db: Db, messageId: number, at: Date): Promise<ClaimedMessage | null> {
  const { rows } = await db.query<ClaimedMessage>(
    `UPDATE messages m SET status = 'sending', sending_at = $2, tries = tries + 1, updated_at = $2
     FROM campaigns c
     WHERE m.id = $1 AND c.id = m.campaign_id AND m.status IN ('queued', 'sending') AND c.status = 'sending'
       AND m.channel IS NOT NULL
     RETURNING m.id, m.campaign_id, m.person_id, m.channel, c.kind, c.update_id`,
    [messageId, at],
  );
  return rows[0] ?? null;
}

async function recordAccepted(
  db: Db,
  messageId: number,
  provider: string,
  providerMessageId: string,
  at: Date,
) {
  // A receipt may have overtaken us ('delivered' before we got here): never move it back to 'sent'.
  await db.query(
    `UPDATE messages SET provider = $2, provider_message_id = $3, sent_at = COALESCE(sent_at, $4), updated_at = $4,
       status = CASE WHEN status = 'sending' THEN 'sent' ELSE status END
     WHERE id = $1`,
    [messageId, provider, providerMessageId, at],
  );
}

export type SendOutcome = 'sent' | 'skipped' | 'failed';

/** Sends one message. No transaction is open across the provider call: a slow provider must not hold a connection. */
export function makeSendProcessor(deps: SendDeps) {
  return async function processSend(job: Job<SendJob>): Promise<SendOutcome> {
    const { messageId } = job.data;
    const claimed = await claimMessage(deps.db, messageId, deps.clock.now());
    if (!claimed) return 'skipped';

    const recipient = await loadMessageRecipient(deps, claimed.person_id);
    const outgoing = await composeMessage(deps, {
      messageId,
      campaignId: claimed.campaign_id,
      kind: claimed.kind,
      channel: claimed.channel,
      recipient,
      updateId: claimed.update_id,
    });
    const adapter = deps.channels[claimed.channel];
    const started = performance.now();
    try {
      const result = await adapter.send(outgoing);
      deps.logger.info(
        {
          messageId,
          channel: claimed.channel,
          provider: result.provider,
          ms: Math.round(performance.now() - started),
        },
        'provider accepted message',
      );
      await recordAccepted(deps.db, messageId, result.provider, result.providerMessageId, deps.clock.now());
      return 'sent';
    } catch (error) {
      const ms = Math.round(performance.now() - started);
      const reason = error instanceof Error ? error.message : String(error);
      const retryable = error instanceof ProviderError && error.retryable;
      const attemptsLeft = (job.opts.attempts ?? 1) - job.attemptsMade - 1;
      deps.logger.warn(
        {
          messageId,
          channel: claimed.channel,
          provider: adapter.provider,
          ms,
          retryable,
          attemptsLeft,
          reason,
        },
        'send failed',
      );
      if (retryable && attemptsLeft > 0) throw error;
      await advanceMessageStatus(
        deps.db,
        messageId,
        'failed',
        retryable ? `retries exhausted: ${reason}` : reason,
        deps.clock.now(),
      );
      if (error instanceof ProviderError || error instanceof ValidationError)
        throw new UnrecoverableError(reason);
      throw error;
    }
  };
}
