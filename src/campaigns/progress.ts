import type { Queryable } from '../platform/db.js';
import { MESSAGE_STATUSES, type MessageStatus } from '../deliveries/status.js';
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

/** Pure: folds counter rows into the progress staff see. */
export function summarizeProgress(
  campaign: {
    id: number;
    status: CampaignStatus;
    audienceSize: number;
    exhaustedCount: number;
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
  const settled = Math.min(campaign.audienceSize, reached + campaign.exhaustedCount + sentLetters);
  return {
    campaignId: campaign.id,
    status: campaign.status,
    people: campaign.audienceSize,
    fanoutComplete: campaign.fanoutComplete,
    byChannel,
    totals,
    reached,
    exhausted: campaign.exhaustedCount,
    inFlight: totals.queued + totals.sending + totals.unknown,
    resends: campaign.resends ?? 0,
    percent: campaign.audienceSize === 0 ? 0 : Math.floor((settled / campaign.audienceSize) * 100),
  };
}

export async function readCampaignProgress(
  db: Queryable,
  campaignId: number,
): Promise<CampaignProgress | null> {
  const { rows: campaigns } = await db.query<{
    id: number;
    status: CampaignStatus;
    audience_size: number;
    exhausted_count: number;
    fanout_completed_at: Date | null;
  }>('SELECT id, status, audience_size, exhausted_count, fanout_completed_at FROM campaigns WHERE id = $1', [
    campaignId,
  ]);
  const campaign = campaigns[0];
  if (!campaign) return null;
  const { rows } = await db.query<{ channel: string; status: MessageStatus; n: number }>(
    `SELECT channel, status, sum(n)::int AS n FROM campaign_message_counts
     WHERE campaign_id = $1 GROUP BY channel, status HAVING sum(n) <> 0`,
    [campaignId],
  );
  return summarizeProgress(
    {
      id: campaign.id,
      status: campaign.status,
      audienceSize: campaign.audience_size,
      exhaustedCount: campaign.exhausted_count,
      fanoutComplete: campaign.fanout_completed_at !== null,
      resends: await countResends(db, campaignId),
    },
    rows,
  );
}

/** Resends after unknown outcomes in a campaign (a partial index keeps this to the few resent rows). */
export async function countResends(db: Queryable, campaignId: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT COALESCE(sum(resends), 0)::int AS n FROM messages WHERE campaign_id = $1 AND resends > 0',
    [campaignId],
  );
  return rows[0]?.n ?? 0;
}

/** The most common reasons messages failed, for the failures panel; reads only failed rows. */
export async function readFailureReasons(
  db: Queryable,
  campaignId: number,
  limit = 10,
): Promise<{ channel: string; status: MessageStatus; reason: string; n: number }[]> {
  const { rows } = await db.query<{
    channel: string | null;
    status: MessageStatus;
    reason: string | null;
    n: number;
  }>(
    `SELECT channel, status, status_reason AS reason, count(*)::int AS n FROM messages
     WHERE campaign_id = $1 AND status IN ('bounced', 'failed', 'undelivered', 'no_answer', 'busy')
     GROUP BY 1, 2, 3 ORDER BY n DESC LIMIT $2`,
    [campaignId, limit],
  );
  return rows.map((row) => ({
    channel: row.channel ?? 'none',
    status: row.status,
    reason: row.reason ?? 'no reason given',
    n: row.n,
  }));
}
