import type { Queryable } from '../platform/db.js';
import type { MessageKind } from '../notices/render.js';
import type { ChannelPolicy } from './channel-policy.js';
import type { Channel } from '../channels/kinds.js';
import type { Audience, CampaignStatus } from './lifecycle.js';
import { AUDIENCE_COLUMNS, type AudienceRow } from '../people/store.js';
import { AUDIENCE_FILTER, kindFilter, type AudienceNarrowing } from './audience.js';

export interface Campaign {
  id: number;
  incidentId: number;
  updateId: number | null;
  kind: MessageKind;
  audience: Audience;
  channelPolicy: ChannelPolicy;
  status: CampaignStatus;
  createdBy: number | null;
  approvedBy: number | null;
  fanoutCursor: number;
  fanoutCompletedAt: Date | null;
  audienceSize: number;
  exhaustedCount: number;
  /** People the fan-out left out because another campaign holds their live notice. */
  skippedCount: number;
  /** Sending waits until then (a code reminder N days before the enroll-by date); null sends at once. */
  scheduledFor: Date | null;
  createdAt: Date;
}

interface CampaignRow {
  id: number;
  incident_id: number;
  update_id: number | null;
  kind: MessageKind;
  audience: Audience;
  channel_policy: ChannelPolicy;
  status: CampaignStatus;
  created_by: number | null;
  approved_by: number | null;
  fanout_cursor: number;
  fanout_completed_at: Date | null;
  audience_size: number;
  exhausted_count: number;
  skipped_count: number;
  scheduled_for: Date | null;
  created_at: Date;
}

function toCampaign(row: CampaignRow): Campaign {
  return {
    id: row.id,
    incidentId: row.incident_id,
    updateId: row.update_id,
    kind: row.kind,
    audience: row.audience,
    channelPolicy: row.channel_policy,
    status: row.status,
    createdBy: row.created_by,
    approvedBy: row.approved_by,
    fanoutCursor: row.fanout_cursor,
    fanoutCompletedAt: row.fanout_completed_at,
    audienceSize: row.audience_size,
    exhaustedCount: row.exhausted_count,
    skippedCount: row.skipped_count,
    scheduledFor: row.scheduled_for,
    createdAt: row.created_at,
  };
}

export async function insertCampaign(
  db: Queryable,
  campaign: {
    incidentId: number;
    updateId: number | null;
    kind: MessageKind;
    audience: Audience;
    channelPolicy: ChannelPolicy;
    createdBy: number | null;
  },
): Promise<Campaign> {
  const { rows } = await db.query<CampaignRow>(
    `INSERT INTO campaigns (incident_id, update_id, kind, audience, channel_policy, created_by)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
    [
      campaign.incidentId,
      campaign.updateId,
      campaign.kind,
      campaign.audience,
      JSON.stringify(campaign.channelPolicy),
      campaign.createdBy,
    ],
  );
  return toCampaign(rows[0]!);
}

export async function findCampaign(db: Queryable, id: number): Promise<Campaign | null> {
  const { rows } = await db.query<CampaignRow>('SELECT * FROM campaigns WHERE id = $1', [id]);
  return rows[0] ? toCampaign(rows[0]) : null;
}

/** An incident's campaigns, newest first, with who made and who approved each, in one query. */
export async function listIncidentCampaigns(
  db: Queryable,
  incidentId: number,
): Promise<(Campaign & { createdByName: string | null; approvedByName: string | null })[]> {
  const { rows } = await db.query<
    CampaignRow & { created_by_name: string | null; approved_by_name: string | null }
  >(
    `SELECT c.*, cb.display_name AS created_by_name, ab.display_name AS approved_by_name
     FROM campaigns c
     LEFT JOIN staff cb ON cb.id = c.created_by LEFT JOIN staff ab ON ab.id = c.approved_by
     WHERE c.incident_id = $1 ORDER BY c.id DESC`,
    [incidentId],
  );
  return rows.map((row) => ({
    ...toCampaign(row),
    createdByName: row.created_by_name,
    approvedByName: row.approved_by_name,
  }));
}

/** How many people an audience holds today: an estimate before fan-out, which reads the same rule. */
export async function countAudience(db: Queryable, incidentId: number, audience: Audience): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM people p WHERE p.incident_id = $1 AND ${AUDIENCE_FILTER[audience]}`,
    [incidentId],
  );
  return rows[0]?.n ?? 0;
}

/** Who made and who approved a campaign, and the approver's note, for its page. */
export async function readCampaignReview(
  db: Queryable,
  campaignId: number,
): Promise<{ createdByName: string | null; approvedByName: string | null; reviewNote: string | null }> {
  const { rows } = await db.query<{
    created_by_name: string | null;
    approved_by_name: string | null;
    review_note: string | null;
  }>(
    `SELECT cb.display_name AS created_by_name, ab.display_name AS approved_by_name, c.review_note
     FROM campaigns c
     LEFT JOIN staff cb ON cb.id = c.created_by LEFT JOIN staff ab ON ab.id = c.approved_by
     WHERE c.id = $1`,
    [campaignId],
  );
  return {
    createdByName: rows[0]?.created_by_name ?? null,
    approvedByName: rows[0]?.approved_by_name ?? null,
    reviewNote: rows[0]?.review_note ?? null,
  };
}

/** A message waiting for its send job: the id the job carries, its queue, and when it may go. */
export interface QueuedMessage {
  id: number;
  channel: Channel;
  send_after: Date | null;
}

/** A page of a campaign's queued messages, in id order after `after`, to queue their jobs again. */
export async function readQueuedMessages(
  db: Queryable,
  campaignId: number,
  after: number,
  limit: number,
): Promise<QueuedMessage[]> {
  const { rows } = await db.query<QueuedMessage>(
    `SELECT id, channel, send_after FROM messages
     WHERE campaign_id = $1 AND status = 'queued' AND channel IS NOT NULL AND id > $2 ORDER BY id LIMIT $3`,
    [campaignId, after, limit],
  );
  return rows;
}

/** The first messages just written for these people, still queued: the fan-out queues their jobs. */
export async function readQueuedFirstMessages(
  db: Queryable,
  campaignId: number,
  personIds: number[],
): Promise<QueuedMessage[]> {
  const { rows } = await db.query<QueuedMessage>(
    `SELECT id, channel, send_after FROM messages
     WHERE campaign_id = $1 AND attempt = 1 AND person_id = ANY($2::bigint[]) AND status = 'queued'`,
    [campaignId, personIds],
  );
  return rows;
}

/** Cancels up to `limit` of a cancelled campaign's queued messages; how many it cancelled. */
export async function cancelQueuedMessages(
  db: Queryable,
  campaignId: number,
  at: Date,
  limit: number,
): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE messages SET status = 'cancelled', status_reason = 'campaign cancelled', updated_at = $2
     WHERE id IN (SELECT id FROM messages WHERE campaign_id = $1 AND status = 'queued' LIMIT $3)`,
    [campaignId, at, limit],
  );
  return rowCount ?? 0;
}

/** Counts a fan-out page in the same transaction as its rows, so a repeated page adds nothing twice. */
export async function recordFanoutPage(
  db: Queryable,
  campaignId: number,
  page: { inserted: number; exhausted: number; skipped: number; lastId: number },
): Promise<void> {
  await db.query(
    `UPDATE campaigns SET audience_size = audience_size + $2, exhausted_count = exhausted_count + $3,
       skipped_count = skipped_count + $5, fanout_cursor = GREATEST(fanout_cursor, $4) WHERE id = $1`,
    [campaignId, page.inserted, page.exhausted, page.lastId, page.skipped],
  );
}

export async function markFanoutComplete(db: Queryable, campaignId: number, at: Date): Promise<void> {
  await db.query(
    'UPDATE campaigns SET fanout_completed_at = $2 WHERE id = $1 AND fanout_completed_at IS NULL',
    [campaignId, at],
  );
}

const STATUS_TIMESTAMP: Partial<Record<CampaignStatus, string>> = {
  awaiting_approval: 'submitted_at',
  approved: 'approved_at',
  sending: 'started_at',
  completed: 'completed_at',
  paused: 'paused_at',
  cancelled: 'cancelled_at',
};

/**
 * Moves a campaign from `from` to `to`; false when someone else moved it first (two approvers
 * clicking at once), so exactly one of them wins.
 */
export async function transitionCampaign(
  db: Queryable,
  id: number,
  from: CampaignStatus,
  to: CampaignStatus,
  at: Date,
  extra: { approvedBy?: number; reviewNote?: string } = {},
): Promise<boolean> {
  const stamp = STATUS_TIMESTAMP[to];
  const { rowCount } = await db.query(
    `UPDATE campaigns SET status = $3
       ${stamp ? `, ${stamp} = COALESCE(${stamp}, $4)` : ''}
       , approved_by = COALESCE($5, approved_by), review_note = COALESCE($6, review_note)
     WHERE id = $1 AND status = $2 AND $4::timestamptz IS NOT NULL`,
    [id, from, to, at, extra.approvedBy ?? null, extra.reviewNote ?? null],
  );
  return rowCount === 1;
}

/**
 * Which live-notice claim a campaign's messages take (migration 0013): the first notice is one per
 * person, a code offer one per person and pool; other kinds are deliberate re-sends and take none.
 */
export interface ClaimScope {
  kind: 'initial_notice' | 'code_offer';
  poolId: number | null;
}

export async function findClaimScope(db: Queryable, campaign: Campaign): Promise<ClaimScope | null> {
  if (campaign.kind === 'initial_notice') return { kind: 'initial_notice', poolId: null };
  if (campaign.kind !== 'code_offer') return null;
  const { rows } = await db.query<{ pool_id: number }>(
    'SELECT pool_id FROM code_campaigns WHERE campaign_id = $1',
    [campaign.id],
  );
  return { kind: 'code_offer', poolId: rows[0]?.pool_id ?? null };
}

/** One page of a campaign's audience, in person order, with who already holds each person's live notice. */
export async function readAudiencePage(
  db: Queryable,
  campaign: Campaign,
  scope: ClaimScope | null,
  after: number,
  limit: number,
  narrowings: readonly AudienceNarrowing[],
): Promise<(AudienceRow & { held_by: number | null })[]> {
  const audience = audienceSql(campaign, scope, narrowings);
  const { rows } = await db.query<AudienceRow & { held_by: number | null }>(
    `SELECT ${AUDIENCE_COLUMNS}, ${audience.heldBy} AS held_by FROM people p
     WHERE ${audience.where} ORDER BY p.id LIMIT $${audience.params.length + 3}`,
    [campaign.incidentId, after, ...audience.params, limit],
  );
  return rows;
}

/**
 * The audience of a campaign as SQL over `people p`, for the fan-out's pages and the plan's counts
 * alike: $1 the incident, $2 the cursor, then `params`.
 */
function audienceSql(campaign: Campaign, scope: ClaimScope | null, narrowings: readonly AudienceNarrowing[]) {
  const heldBy = scope
    ? `(SELECT n.campaign_id FROM notice_claims n
        WHERE n.person_id = p.id AND n.kind = $3 AND COALESCE(n.pool_id, 0) = $4 AND n.released_at IS NULL
          AND n.campaign_id <> $5 LIMIT 1)`
    : 'NULL::bigint';
  return {
    heldBy,
    where: `p.incident_id = $1 AND p.id > $2 AND ${AUDIENCE_FILTER[campaign.audience]} AND ${kindFilter(campaign.kind)}
       ${narrowings.map((narrow) => `AND ${narrow(campaign.id)}`).join(' ')}`,
    params: scope ? [scope.kind, scope.poolId ?? 0, campaign.id] : [],
  };
}

/**
 * How many of the people still to come in a campaign's audience (after the cursor, not held by
 * another campaign) have each language on their record: one set-based count over exactly the rows
 * `readAudiencePage` would page through.
 */
export async function countAudienceByLocale(
  db: Queryable,
  campaign: Campaign,
  scope: ClaimScope | null,
  after: number,
  narrowings: readonly AudienceNarrowing[],
): Promise<{ locale: string; people: number }[]> {
  const audience = audienceSql(campaign, scope, narrowings);
  const { rows } = await db.query<{ locale: string; people: number }>(
    `SELECT p.locale, count(*)::int AS people FROM people p
     WHERE ${audience.where} AND ${audience.heldBy} IS NULL
     GROUP BY p.locale ORDER BY p.locale`,
    [campaign.incidentId, after, ...audience.params],
  );
  return rows;
}

/**
 * Claims the live notice of each person for this campaign, in person order (so two fan-outs running
 * at once wait on each other rather than deadlock); returns whom it now holds. Someone whose live
 * notice another campaign holds, even one that claimed them a moment ago, is left out, not an error.
 */
export async function claimNotices(
  db: Queryable,
  campaignId: number,
  scope: ClaimScope,
  personIds: number[],
  at: Date,
): Promise<Set<number>> {
  if (personIds.length === 0) return new Set();
  const { rows } = await db.query<{ person_id: number }>(
    `INSERT INTO notice_claims (campaign_id, person_id, kind, pool_id, claimed_at)
     SELECT $1, person_id, $3, $4, $5 FROM unnest($2::bigint[]) AS t(person_id) ORDER BY person_id
     ON CONFLICT DO NOTHING RETURNING person_id`,
    [campaignId, [...personIds].sort((a, b) => a - b), scope.kind, scope.poolId, at],
  );
  return new Set(rows.map((row) => Number(row.person_id)));
}

/** Releases what a cancelled campaign still holds for people it never reached. */
export async function releaseCancelledClaims(db: Queryable, campaignId: number, at: Date): Promise<void> {
  await db.query(
    `UPDATE notice_claims n SET released_at = $2, release_reason = 'cancelled'
     WHERE n.campaign_id = $1 AND n.released_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.campaign_id = n.campaign_id AND m.person_id = n.person_id
                         AND NOT message_is_dead(m.status, m.fallback, 'cancelled'))`,
    [campaignId, at],
  );
}

/**
 * Writes each planned person's first message (attempt 1); a repeated page writes nothing twice. Who
 * has no usable contact is recorded as failed with nothing left to try, never silently skipped.
 */
export async function insertFirstMessages(
  db: Queryable,
  campaignId: number,
  messages: { personId: number; channel: Channel | null; locale: string; sendAfter: Date | null }[],
  at: Date,
): Promise<{ channel: Channel | null }[]> {
  if (messages.length === 0) return [];
  const { rows } = await db.query<{ channel: Channel | null }>(
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
      campaignId,
      messages.map((m) => m.personId),
      messages.map((m) => m.channel),
      messages.map((m) => m.locale),
      messages.map((m) => m.sendAfter),
      at,
    ],
  );
  return rows;
}

/** What is still to go out for a campaign, per channel and recipient time zone (for the finish estimate). */
export async function readInFlightByZone(
  db: Queryable,
  campaignId: number,
): Promise<{ channel: Channel; timeZone: string | null; n: number }[]> {
  const { rows } = await db.query<{ channel: Channel; time_zone: string | null; n: number }>(
    `SELECT m.channel, p.time_zone, count(*)::int AS n FROM messages m JOIN people p ON p.id = m.person_id
     WHERE m.campaign_id = $1 AND m.status IN ('queued', 'sending') AND m.channel IS NOT NULL GROUP BY 1, 2`,
    [campaignId],
  );
  return rows.map((row) => ({ channel: row.channel, timeZone: row.time_zone, n: row.n }));
}

/**
 * Locks the campaign's row for the rest of the transaction if it is still sending: a cancel or pause
 * waits for the transaction, or came first and is seen. False when it is not sending.
 */
export async function lockWhileSending(tx: Queryable, campaignId: number): Promise<boolean> {
  const { rows } = await tx.query<{ status: string }>(
    'SELECT status FROM campaigns WHERE id = $1 FOR NO KEY UPDATE',
    [campaignId],
  );
  return rows[0]?.status === 'sending';
}
