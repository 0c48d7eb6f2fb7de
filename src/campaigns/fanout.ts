import type { Job } from 'bullmq';
import type { Db } from '../platform/db.js';
import type { Logger } from '../platform/logger.js';
import { resolveLocale } from '../platform/i18n.js';
import { AUDIENCE_COLUMNS, toAudienceMember, type AudienceRow } from '../people/store.js';
import { jobIds, SEND_JOB_OPTIONS, type FanoutJob, type Queues } from '../queues.js';
import { channelForAttempt, CHANNELS, type Channel } from './channel-policy.js';
import type { Audience } from './lifecycle.js';
import { findCampaign } from './store.js';
import { codeCampaignAudienceSql } from '../codes/audience.js';

export interface FanoutDeps {
  db: Db;
  queues: Queues;
  logger: Logger;
}

export const FANOUT_PAGE_SIZE = 1_000;

/** Which people a campaign reaches, as SQL over `people p` (the incident is always $1). */
const AUDIENCE_FILTER: Record<Audience, string> = {
  affected: 'p.affected',
  everyone: 'true',
  subscribers: 'p.subscribed_at IS NOT NULL',
  not_reached: `NOT EXISTS (SELECT 1 FROM messages m JOIN campaigns c ON c.id = m.campaign_id
                  WHERE m.person_id = p.id AND c.incident_id = $1 AND m.status IN ('sent', 'delivered', 'answered'))`,
  failed: `EXISTS (SELECT 1 FROM messages m JOIN campaigns c ON c.id = m.campaign_id
                  WHERE m.person_id = p.id AND c.incident_id = $1 AND m.status IN ('bounced', 'failed', 'undelivered', 'no_answer', 'busy'))
           AND NOT EXISTS (SELECT 1 FROM messages m JOIN campaigns c ON c.id = m.campaign_id
                  WHERE m.person_id = p.id AND c.incident_id = $1 AND m.status IN ('delivered', 'answered'))`,
};

/**
 * Streams a campaign's audience from PostgreSQL a page at a time: writes one message row per person
 * (persist first), queues a send job per row carrying only its id, then moves the cursor. A crash
 * anywhere repeats at most one page, and repeating a page creates no new rows and no new jobs.
 */
export function makeFanoutProcessor(deps: FanoutDeps) {
  return async function processFanout(job: Job<FanoutJob>): Promise<{ people: number }> {
    const campaign = await findCampaign(deps.db, job.data.campaignId);
    if (!campaign || campaign.status !== 'sending' || campaign.fanoutCompletedAt) return { people: 0 };
    let cursor = campaign.fanoutCursor;
    let people = 0;
    for (;;) {
      const { rows } = await deps.db.query<AudienceRow>(
        `SELECT ${AUDIENCE_COLUMNS} FROM people p
         WHERE p.incident_id = $1 AND p.id > $2 AND ${AUDIENCE_FILTER[campaign.audience]} AND ${codeCampaignAudienceSql(campaign.id)}
         ORDER BY p.id LIMIT $3`,
        [campaign.incidentId, cursor, FANOUT_PAGE_SIZE],
      );
      if (rows.length === 0) break;
      const members = rows.map(toAudienceMember);
      const channels = members.map((member) => channelForAttempt(member, campaign.channelPolicy, 1));
      await deps.db.query(
        `INSERT INTO messages (campaign_id, person_id, attempt, channel, locale, status, status_reason, failed_at)
         SELECT $1, person_id, 1, channel, locale,
                CASE WHEN channel IS NULL THEN 'failed' ELSE 'queued' END,
                CASE WHEN channel IS NULL THEN 'no usable contact details on file' END,
                CASE WHEN channel IS NULL THEN now() END
         FROM unnest($2::bigint[], $3::text[], $4::text[]) AS t(person_id, channel, locale)
         ON CONFLICT (campaign_id, person_id, attempt) DO NOTHING`,
        [campaign.id, members.map((m) => m.id), channels, members.map((m) => resolveLocale(m.locale))],
      );
      const { rows: queued } = await deps.db.query<{ id: number; channel: Channel }>(
        `SELECT id, channel FROM messages WHERE campaign_id = $1 AND attempt = 1 AND person_id = ANY($2::bigint[]) AND status = 'queued'`,
        [campaign.id, members.map((m) => m.id)],
      );
      await enqueueSends(deps.queues, queued);
      cursor = members[members.length - 1]!.id;
      people += members.length;
      await deps.db.query('UPDATE campaigns SET fanout_cursor = $2 WHERE id = $1 AND fanout_cursor < $2', [
        campaign.id,
        cursor,
      ]);
      await job.updateProgress({ cursor, people });
    }
    await deps.db.query(
      'UPDATE campaigns SET fanout_completed_at = now() WHERE id = $1 AND fanout_completed_at IS NULL',
      [campaign.id],
    );
    deps.logger.info({ campaignId: campaign.id, people }, 'fan-out finished');
    return { people };
  };
}

/** Queues send jobs, grouped by channel, in bulk. Safe to repeat: the job id is the message id. */
export async function enqueueSends(
  queues: Queues,
  messages: { id: number; channel: Channel }[],
): Promise<void> {
  for (const channel of CHANNELS) {
    const jobs = messages
      .filter((message) => message.channel === channel)
      .map((message) => ({
        name: 'send',
        data: { v: 1 as const, messageId: message.id },
        opts: { ...SEND_JOB_OPTIONS, jobId: jobIds.send(message.id) },
      }));
    if (jobs.length > 0) await queues.send[channel].addBulk(jobs);
  }
}
