import type { Queryable } from '../platform/db.js';
import { FAILED_STATUSES, MESSAGE_STATUSES, type MessageStatus } from '../deliveries/status.js';
import type { CampaignStatus } from './lifecycle.js';

/**
 * A campaign's live progress, read from counters the database keeps as statuses change (see
 * migration 0002): a few hundred rows at most, whatever the audience, so a page may poll it.
 */
export type StatusCounts = Record<MessageStatus, number>;

export interface CampaignProgress {
  campaignId: number;
  status: CampaignStatus;
  /** People the fan-out has reached so far (the whole audience once it is complete). */
  people: number;
  fanoutComplete: boolean;
  /** Per channel ('none' for people with no usable contact), messages in each status. */
  byChannel: Record<string, StatusCounts>;
  totals: StatusCounts;
  /** People confirmed reached: delivered or answered. */
  reached: number;
  /** People every channel failed for (or who have no usable contact), as recorded by fallback. */
  exhausted: number;
  /** People left out because another campaign already holds their live notice. */
  skipped: number;
  /** People settled: reached, exhausted, sent a letter (no receipt comes back), or cancelled. */
  settled: number;
  /** Messages still to go out or going out now, or whose outcome the provider has yet to tell us. */
  inFlight: number;
  /** Messages sent again after an unknown outcome the provider had no record of (or could not be asked). */
  resends: number;
  /** Share of people settled (reached, exhausted, or a letter sent), 0–100. */
  percent: number;
}

function emptyCounts(): StatusCounts {
  return Object.fromEntries(MESSAGE_STATUSES.map((status) => [status, 0])) as StatusCounts;
}

/**
 * Pure: folds counter rows into the progress staff see. Each attempt is counted on the channel it
 * happened on (a bounced email stays a failed email when the SMS after it reaches the person);
 * people are counted beside, from the campaign's own counters.
 */
export function summarizeProgress(
  campaign: {
    id: number;
    status: CampaignStatus;
    audienceSize: number;
    exhaustedCount: number;
    skippedCount: number;
    fanoutComplete: boolean;
    resends?: number;
  },
  rows: { channel: string; status: MessageStatus; n: number }[],
): CampaignProgress {
  const byChannel: Record<string, StatusCounts> = {};
  const totals = emptyCounts();
  let sentLetters = 0;
  for (const row of rows) {
    const counts = (byChannel[row.channel] ??= emptyCounts());
    counts[row.status] += row.n;
    totals[row.status] += row.n;
    if (row.channel === 'letter' && row.status === 'sent') sentLetters += row.n;
  }
  const reached = totals.delivered + totals.answered;
  // A person has at most one attempt that is not a failure followed up: reached, posted, cancelled or exhausted.
  const settled = Math.min(
    campaign.audienceSize,
    reached + campaign.exhaustedCount + sentLetters + totals.cancelled,
  );
  let percent = campaign.audienceSize === 0 ? 0 : Math.floor((settled / campaign.audienceSize) * 100);
  if (campaign.audienceSize === 0 && campaign.status === 'completed') percent = 100;
  // While the fan-out still reads the audience, the people so far are not all of them.
  if (!campaign.fanoutComplete) percent = Math.min(percent, 99);
  return {
    campaignId: campaign.id,
    status: campaign.status,
    people: campaign.audienceSize,
    fanoutComplete: campaign.fanoutComplete,
    byChannel,
    totals,
    reached,
    exhausted: campaign.exhaustedCount,
    skipped: campaign.skippedCount,
    settled,
    inFlight: totals.queued + totals.sending + totals.unknown,
    resends: campaign.resends ?? 0,
    percent,
  };
}

/**
 * The counters' progress of one campaign, or of every campaign of an incident (newest first, the
 * incident page's rows): one reader, so the campaign page and the incident page cannot disagree.
 * Three small reads whatever the number of campaigns: the campaigns, their counters, their resends
 * (a partial index keeps the last to the few resent rows).
 */
async function readProgress(
  db: Queryable,
  scope: { campaignId: number } | { incidentId: number },
): Promise<CampaignProgress[]> {
  const [column, key] = 'campaignId' in scope ? ['id', scope.campaignId] : ['incident_id', scope.incidentId];
  const { rows: campaigns } = await db.query<{
    id: number;
    status: CampaignStatus;
    audience_size: number;
    exhausted_count: number;
    skipped_count: number;
    fanout_completed_at: Date | null;
  }>(
    `SELECT id, status, audience_size, exhausted_count, skipped_count, fanout_completed_at FROM campaigns
     WHERE ${column} = $1 ORDER BY id DESC`,
    [key],
  );
  if (campaigns.length === 0) return [];
  const [{ rows: counts }, { rows: resends }] = await Promise.all([
    db.query<{ campaign_id: number; channel: string; status: MessageStatus; n: number }>(
      `SELECT k.campaign_id, k.channel, k.status, sum(k.n)::int AS n FROM campaign_message_counts k
       JOIN campaigns c ON c.id = k.campaign_id WHERE c.${column} = $1
       GROUP BY 1, 2, 3 HAVING sum(k.n) <> 0`,
      [key],
    ),
    db.query<{ campaign_id: number; n: number }>(
      `SELECT m.campaign_id, sum(m.resends)::int AS n FROM messages m
       JOIN campaigns c ON c.id = m.campaign_id WHERE c.${column} = $1 AND m.resends > 0 GROUP BY 1`,
      [key],
    ),
  ]);
  return campaigns.map((campaign) =>
    summarizeProgress(
      {
        id: campaign.id,
        status: campaign.status,
        audienceSize: campaign.audience_size,
        exhaustedCount: campaign.exhausted_count,
        skippedCount: campaign.skipped_count,
        fanoutComplete: campaign.fanout_completed_at !== null,
        resends: resends.find((row) => row.campaign_id === campaign.id)?.n ?? 0,
      },
      counts.filter((row) => row.campaign_id === campaign.id),
    ),
  );
}

export async function readCampaignProgress(
  db: Queryable,
  campaignId: number,
): Promise<CampaignProgress | null> {
  return (await readProgress(db, { campaignId }))[0] ?? null;
}

export function readIncidentCampaignsProgress(
  db: Queryable,
  incidentId: number,
): Promise<CampaignProgress[]> {
  return readProgress(db, { incidentId });
}

/**
 * The most common reasons messages failed, for the failures panel; reads only failed rows. `movedOn`
 * counts the failures followed up on the person's next channel (or the same call, later): the
 * escalation staff rehearse.
 */
export async function readFailureReasons(
  db: Queryable,
  campaignId: number,
  limit = 10,
): Promise<{ channel: string; status: MessageStatus; reason: string; n: number; movedOn: number }[]> {
  const { rows } = await db.query<{
    channel: string | null;
    status: MessageStatus;
    reason: string | null;
    n: number;
    moved_on: number;
  }>(
    `SELECT channel, status, status_reason AS reason, count(*)::int AS n,
            count(*) FILTER (WHERE fallback = 'next')::int AS moved_on FROM messages
     WHERE campaign_id = $1 AND status = ANY($3::text[])
     GROUP BY 1, 2, 3 ORDER BY n DESC LIMIT $2`,
    [campaignId, limit, FAILED_STATUSES],
  );
  return rows.map((row) => ({
    channel: row.channel ?? 'none',
    status: row.status,
    reason: row.reason ?? 'no reason given',
    n: row.n,
    movedOn: row.moved_on,
  }));
}

/** Messages waiting for calling hours: when they will go, per channel (the earliest first). */
export async function readHeldMessages(
  db: Queryable,
  campaignId: number,
  now: Date,
  limit = 20,
): Promise<{ channel: string; sendAfter: Date; n: number }[]> {
  const { rows } = await db.query<{ channel: string; send_after: Date; n: number }>(
    `SELECT channel, send_after, count(*)::int AS n FROM messages
     WHERE campaign_id = $1 AND status = 'queued' AND send_after > $2
     GROUP BY 1, 2 ORDER BY 2, 1 LIMIT $3`,
    [campaignId, now, limit],
  );
  return rows.map((row) => ({ channel: row.channel, sendAfter: row.send_after, n: row.n }));
}

/**
 * Attempts that reached people and attempts that failed, counted up to each of 20 moments between
 * the first message and the last change: the chart's points, each with its time.
 */
export async function readTimeline(
  db: Queryable,
  campaignId: number,
): Promise<{ at: Date; reached: number; failed: number }[]> {
  const { rows } = await db.query<{ at: Date; reached: number; failed: number }>(
    `WITH bounds AS (SELECT min(created_at) AS lo, greatest(max(updated_at), min(created_at) + interval '1 second') AS hi
                     FROM messages WHERE campaign_id = $1),
          marks AS (SELECT lo + (hi - lo) * (i + 1) / 20 AS at FROM bounds, generate_series(0, 19) AS i WHERE lo IS NOT NULL),
          done AS (SELECT COALESCE(delivered_at, CASE WHEN channel = 'letter' THEN sent_at END) AS reached_at, failed_at
                   FROM messages WHERE campaign_id = $1 AND (delivered_at IS NOT NULL OR failed_at IS NOT NULL
                     OR (channel = 'letter' AND sent_at IS NOT NULL)))
     SELECT marks.at,
            count(*) FILTER (WHERE done.reached_at <= marks.at)::int AS reached,
            count(*) FILTER (WHERE done.failed_at <= marks.at)::int AS failed
     FROM marks LEFT JOIN done ON true GROUP BY marks.at ORDER BY marks.at`,
    [campaignId],
  );
  return rows;
}
