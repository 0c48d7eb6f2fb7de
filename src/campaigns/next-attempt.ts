import { isUniqueViolation, withTransaction, type Db } from '../platform/db.js';
import type { Logger } from '../platform/logger.js';
import type { Clock } from '../platform/clock.js';
import type { SendingConfig } from '../config.js';
import { smsOptedOutSql, toAudienceMember, type AudienceRow } from '../people/store.js';
import { isFailure, type MessageStatus } from '../deliveries/status.js';
import type { Queues } from '../queues.js';
import { channelOrder, type ChannelPolicy } from './channel-policy.js';
import type { Channel } from '../channels/kinds.js';
import { planAfterFailure } from './fallback.js';
import { earliestSendTime, zoneOrDefault } from './calling-hours.js';
import type { CampaignStatus } from './lifecycle.js';
import { enqueueSends } from './fanout.js';

export interface NextAttemptDeps {
  db: Db;
  queues: Queues;
  clock: Clock;
  logger: Logger;
  config: { sending: SendingConfig };
}

export type NextAttemptOutcome =
  { kind: 'next'; messageId: number; channel: Channel } | { kind: 'exhausted' } | { kind: 'none' };

interface FailedMessageRow extends Omit<AudienceRow, 'locale'> {
  person_locale: string;
  message_id: number;
  campaign_id: number;
  attempt: number;
  channel: Channel | null;
  locale: string;
  status: MessageStatus;
  fallback: string | null;
  campaign_status: CampaignStatus;
  channel_policy: ChannelPolicy;
}

/** Campaigns in which a failure still leads somewhere: a cancelled one stops where it is. */
const FALLBACK_CAMPAIGN_STATUSES: readonly CampaignStatus[] = ['sending', 'paused', 'completed'];

/**
 * After a permanent failure (a bounce, an invalid number, an unanswered call), the person is tried
 * on the next channel of their order: the next attempt's message row is written, the failed one is
 * marked as followed up, in one transaction, and then its send job is queued. When no channel is
 * left, that is recorded on the message and counted on the campaign. Safe to call twice: the second
 * call finds the failure already followed up. A completed campaign reopens for the new attempt.
 */
export async function followUpFailure(deps: NextAttemptDeps, messageId: number): Promise<NextAttemptOutcome> {
  const now = deps.clock.now();
  const outcome = await withTransaction(
    deps.db,
    async (
      tx,
    ): Promise<NextAttemptOutcome & { sendAfter?: Date | null; campaignStatus?: CampaignStatus }> => {
      const { rows } = await tx.query<FailedMessageRow>(
        `SELECT m.id AS message_id, m.campaign_id, m.attempt, m.channel, m.locale, m.status, m.fallback,
              c.status AS campaign_status, c.channel_policy,
              p.id, p.locale AS person_locale, p.preferred_channel, p.accessibility_needs, p.time_zone,
              p.email_enc IS NOT NULL AS has_email, p.phone_enc IS NOT NULL AS has_phone,
              p.postal_address_enc IS NOT NULL AS has_postal_address, ${smsOptedOutSql('p')} AS sms_opted_out
       FROM messages m JOIN campaigns c ON c.id = m.campaign_id JOIN people p ON p.id = m.person_id
       WHERE m.id = $1 FOR UPDATE OF m FOR SHARE OF c`,
        [messageId],
      );
      const failed = rows[0];
      if (!failed || !isFailure(failed.status) || failed.fallback !== null || !failed.channel)
        return { kind: 'none' };
      if (!FALLBACK_CAMPAIGN_STATUSES.includes(failed.campaign_status)) return { kind: 'none' };

      const person = toAudienceMember({ ...failed, locale: failed.person_locale });
      const { rows: tries } = await tx.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM messages WHERE campaign_id = $1 AND person_id = $2 AND channel = $3`,
        [failed.campaign_id, person.id, failed.channel],
      );
      const plan = planAfterFailure({
        order: channelOrder(person, failed.channel_policy),
        orderBefore: channelOrder(
          { ...person, reachable: { ...person.reachable, smsOptedOut: false } },
          failed.channel_policy,
        ),
        failedChannel: failed.channel,
        failedStatus: failed.status,
        triesOnChannel: tries[0]?.n ?? 1,
        noAnswerTries: deps.config.sending.noAnswerTries,
      });

      if (plan.kind === 'exhausted') {
        await tx.query(`UPDATE messages SET fallback = 'exhausted' WHERE id = $1`, [messageId]);
        await tx.query('UPDATE campaigns SET exhausted_count = exhausted_count + 1 WHERE id = $1', [
          failed.campaign_id,
        ]);
        return { kind: 'exhausted' };
      }

      const notBefore = plan.kind === 'retry_channel' ? new Date(now.getTime() + plan.afterMs) : now;
      const zone = zoneOrDefault(person.timeZone, deps.config.sending.defaultTimeZone);
      const earliest = earliestSendTime(notBefore, plan.channel, zone, deps.config.sending.callingHours);
      const sendAfter = earliest > now ? earliest : null;
      // A savepoint, so a refused insert leaves the transaction usable for what follows.
      await tx.query('SAVEPOINT next_attempt');
      let created: { id: number }[];
      try {
        ({ rows: created } = await tx.query<{ id: number }>(
          `INSERT INTO messages (campaign_id, person_id, attempt, channel, locale, status, send_after)
         VALUES ($1, $2, $3, $4, $5, 'queued', $6)
         ON CONFLICT (campaign_id, person_id, attempt) DO UPDATE SET updated_at = messages.updated_at
         RETURNING id`,
          [failed.campaign_id, person.id, failed.attempt + 1, plan.channel, failed.locale, sendAfter],
        ));
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        // Another campaign holds this person's live notice (two campaigns that were both under way
        // before each person could hold only one): it goes on there, so it stops here. Left
        // unmarked, the reconciler would try this follow-up again on every run.
        await tx.query('ROLLBACK TO SAVEPOINT next_attempt');
        await tx.query(`UPDATE messages SET fallback = 'exhausted' WHERE id = $1`, [messageId]);
        await tx.query('UPDATE campaigns SET exhausted_count = exhausted_count + 1 WHERE id = $1', [
          failed.campaign_id,
        ]);
        return { kind: 'exhausted' };
      }
      await tx.query(`UPDATE messages SET fallback = 'next' WHERE id = $1`, [messageId]);
      let campaignStatus = failed.campaign_status;
      if (campaignStatus === 'completed') {
        await tx.query(
          `UPDATE campaigns SET status = 'sending', completed_at = NULL WHERE id = $1 AND status = 'completed'`,
          [failed.campaign_id],
        );
        campaignStatus = 'sending';
      }
      return { kind: 'next', messageId: created[0]!.id, channel: plan.channel, sendAfter, campaignStatus };
    },
  );

  if (outcome.kind !== 'next') return outcome;
  deps.logger.info(
    { messageId, next: outcome.messageId, channel: outcome.channel },
    'falling back to the next channel',
  );
  // A paused campaign's new message waits for resume, which queues every queued message.
  if (outcome.campaignStatus === 'sending') {
    try {
      await enqueueSends(
        deps.queues,
        [{ id: outcome.messageId, channel: outcome.channel, send_after: outcome.sendAfter ?? null }],
        now,
      );
    } catch (error) {
      // The row exists; the reconciler queues it once Redis answers again.
      deps.logger.warn({ err: error, messageId: outcome.messageId }, 'could not queue the next attempt yet');
    }
  }
  return { kind: 'next', messageId: outcome.messageId, channel: outcome.channel };
}
