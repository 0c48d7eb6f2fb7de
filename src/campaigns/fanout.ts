import type { Job } from 'bullmq';
import { withTransaction, type Db } from '../platform/db.js';
import type { Logger } from '../platform/logger.js';
import type { Clock } from '../platform/clock.js';
import type { SendingConfig } from '../config.js';
import { resolveLocale } from '../platform/i18n.js';
import { AUDIENCE_COLUMNS, toAudienceMember, type AudienceRow } from '../people/store.js';
import { jobIds, JOB_NAMES, SEND_JOB_OPTIONS, type FanoutJob, type Queues } from '../queues.js';
import { channelForAttempt, CHANNELS, type Channel } from './channel-policy.js';
import { earliestSendTime, zoneOrDefault } from './calling-hours.js';
import { AUDIENCE_FILTER, kindFilter } from './audience.js';
import { findCampaign } from './store.js';
import { isWaitingForSchedule } from './lifecycle.js';
import { codeCampaignAudienceSql } from '../codes/audience.js';

export interface FanoutDeps {
  db: Db;
  queues: Queues;
  logger: Logger;
  clock: Clock;
  config: { sending: SendingConfig };
}

export const FANOUT_PAGE_SIZE = 1_000;

/**
 * Streams a campaign's audience from PostgreSQL a page at a time: writes one message row per person
 * (persist first), queues a send job per row carrying only its id, then moves the cursor. A crash
 * anywhere repeats at most one page, and repeating a page creates no new rows and no new jobs.
 * SMS and calls outside the person's calling hours are written with `send_after` and queued delayed.
 * A paused or cancelled campaign stops the loop; resuming queues the fan-out again from the cursor.
 */
export function makeFanoutProcessor(deps: FanoutDeps) {
  return async function processFanout(job: Job<FanoutJob>): Promise<{ people: number }> {
    const campaign = await findCampaign(deps.db, job.data.campaignId);
    if (!campaign || campaign.status !== 'sending' || campaign.fanoutCompletedAt) return { people: 0 };
    // Queued early (by hand, or by a reconciler whose clock runs ahead): the reconciler queues it again when due.
    if (isWaitingForSchedule(campaign, deps.clock.now())) return { people: 0 };
    let cursor = campaign.fanoutCursor;
    let people = 0;
    for (;;) {
      const current = await findCampaign(deps.db, campaign.id);
      if (current?.status !== 'sending') {
        deps.logger.info({ campaignId: campaign.id, status: current?.status }, 'fan-out stopped');
        return { people };
      }
      const { rows } = await deps.db.query<AudienceRow>(
        `SELECT ${AUDIENCE_COLUMNS} FROM people p
         WHERE p.incident_id = $1 AND p.id > $2 AND ${AUDIENCE_FILTER[campaign.audience]} AND ${kindFilter(campaign.kind)}
           AND ${codeCampaignAudienceSql(campaign.id)}
         ORDER BY p.id LIMIT $3`,
        [campaign.incidentId, cursor, FANOUT_PAGE_SIZE],
      );
      if (rows.length === 0) break;
      const now = deps.clock.now();
      const members = rows.map(toAudienceMember);
      const channels = members.map((member) => channelForAttempt(member, campaign.channelPolicy, 1));
      const sendAfter = members.map((member, i) => {
        const channel = channels[i];
        if (!channel) return null;
        const zone = zoneOrDefault(member.timeZone, deps.config.sending.defaultTimeZone);
        const earliest = earliestSendTime(now, channel, zone, deps.config.sending.callingHours);
        return earliest > now ? earliest : null;
      });
      const lastId = members[members.length - 1]!.id;
      await withTransaction(deps.db, async (tx) => {
        const { rows: inserted } = await tx.query<{ channel: Channel | null }>(
          `INSERT INTO messages (campaign_id, person_id, attempt, channel, locale, status, status_reason, failed_at, fallback, send_after)
           SELECT $1, person_id, 1, channel, locale,
                  CASE WHEN channel IS NULL THEN 'failed' ELSE 'queued' END,
                  CASE WHEN channel IS NULL THEN 'no usable contact details on file' END,
                  CASE WHEN channel IS NULL THEN $6::timestamptz END,
                  CASE WHEN channel IS NULL THEN 'exhausted' END,
                  send_after
           FROM unnest($2::bigint[], $3::text[], $4::text[], $5::timestamptz[]) AS t(person_id, channel, locale, send_after)
           ON CONFLICT (campaign_id, person_id, attempt) DO NOTHING
           RETURNING channel`,
          [
            campaign.id,
            members.map((m) => m.id),
            channels,
            members.map((m) => resolveLocale(m.locale)),
            sendAfter,
            now,
          ],
        );
        // Counted in the same transaction as the rows, so a repeated page adds nothing twice.
        await tx.query(
          `UPDATE campaigns SET audience_size = audience_size + $2, exhausted_count = exhausted_count + $3,
             fanout_cursor = GREATEST(fanout_cursor, $4) WHERE id = $1`,
          [campaign.id, inserted.length, inserted.filter((row) => row.channel === null).length, lastId],
        );
      });
      const { rows: queued } = await deps.db.query<{ id: number; channel: Channel; send_after: Date | null }>(
        `SELECT id, channel, send_after FROM messages
         WHERE campaign_id = $1 AND attempt = 1 AND person_id = ANY($2::bigint[]) AND status = 'queued'`,
        [campaign.id, members.map((m) => m.id)],
      );
      await enqueueSends(deps.queues, queued, now);
      cursor = lastId;
      people += members.length;
      await job.updateProgress({ cursor, people });
    }
    await deps.db.query(
      'UPDATE campaigns SET fanout_completed_at = $2 WHERE id = $1 AND fanout_completed_at IS NULL',
      [campaign.id, deps.clock.now()],
    );
    deps.logger.info({ campaignId: campaign.id, people }, 'fan-out finished');
    return { people };
  };
}

/**
 * Queues send jobs, grouped by channel, in bulk; a message not to go before `send_after` is queued
 * delayed. Safe to repeat: the job id is the message id, and adding an id that exists does nothing.
 */
export async function enqueueSends(
  queues: Queues,
  messages: { id: number; channel: Channel; send_after?: Date | null }[],
  now: Date,
): Promise<void> {
  for (const channel of CHANNELS) {
    const jobs = messages
      .filter((message) => message.channel === channel)
      .map((message) => {
        const delay = message.send_after ? message.send_after.getTime() - now.getTime() : 0;
        return {
          name: JOB_NAMES.send,
          data: { v: 1 as const, messageId: message.id },
          opts: { ...SEND_JOB_OPTIONS, jobId: jobIds.send(message.id), ...(delay > 0 ? { delay } : {}) },
        };
      });
    if (jobs.length > 0) await queues.send[channel].addBulk(jobs);
  }
}
