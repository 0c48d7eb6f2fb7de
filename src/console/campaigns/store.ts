import { AUDIENCE_FILTER } from '../../campaigns/audience.js';
import type { Queryable } from '../../platform/db.js';
import type { CampaignStatus, Audience } from '../../campaigns/lifecycle.js';
import type { MessageKind } from '../../notices/render.js';
import type { Channel } from '../../campaigns/channel-policy.js';
import { countResends } from '../../campaigns/progress.js';

/** Console reads of campaigns and their messages; writes go through the campaign use cases. */
export interface CampaignSummary {
  id: number;
  kind: MessageKind;
  audience: Audience;
  status: CampaignStatus;
  createdBy: number | null;
  createdByName: string | null;
  approvedByName: string | null;
  createdAt: Date;
  messages: number;
  reached: number;
  failed: number;
}

export async function listCampaignSummaries(db: Queryable, incidentId: number): Promise<CampaignSummary[]> {
  const { rows } = await db.query<{
    id: number;
    kind: MessageKind;
    audience: Audience;
    status: CampaignStatus;
    created_by: number | null;
    created_by_name: string | null;
    approved_by_name: string | null;
    created_at: Date;
    messages: number;
    reached: number;
    failed: number;
  }>(
    `SELECT c.id, c.kind, c.audience, c.status, c.created_by, c.created_at,
            cb.display_name AS created_by_name, ab.display_name AS approved_by_name,
            count(m.id)::int AS messages,
            count(m.id) FILTER (WHERE m.status IN ('delivered', 'answered'))::int AS reached,
            count(m.id) FILTER (WHERE m.status IN ('bounced', 'failed', 'undelivered', 'no_answer', 'busy'))::int AS failed
     FROM campaigns c
     LEFT JOIN staff cb ON cb.id = c.created_by LEFT JOIN staff ab ON ab.id = c.approved_by
     LEFT JOIN messages m ON m.campaign_id = c.id
     WHERE c.incident_id = $1
     GROUP BY c.id, cb.display_name, ab.display_name ORDER BY c.id DESC`,
    [incidentId],
  );
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    audience: row.audience,
    status: row.status,
    createdBy: row.created_by,
    createdByName: row.created_by_name,
    approvedByName: row.approved_by_name,
    createdAt: row.created_at,
    messages: row.messages,
    reached: row.reached,
    failed: row.failed,
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

/** The shapes of people an incident holds (need, preference, contacts) with counts: enough to project channels. */
export async function audienceShapes(db: Queryable, incidentId: number, affectedOnly: boolean) {
  const { rows } = await db.query<{
    preferred_channel: Channel | null;
    accessibility_needs: string[];
    has_email: boolean;
    has_phone: boolean;
    has_postal_address: boolean;
    n: number;
  }>(
    `SELECT preferred_channel, accessibility_needs, email_enc IS NOT NULL AS has_email, phone_enc IS NOT NULL AS has_phone,
            postal_address_enc IS NOT NULL AS has_postal_address, count(*)::int AS n
     FROM people WHERE incident_id = $1 AND ($2::boolean IS FALSE OR affected) GROUP BY 1, 2, 3, 4, 5`,
    [incidentId, affectedOnly],
  );
  return rows.map((row) => ({
    count: row.n,
    person: {
      preferredChannel: row.preferred_channel,
      accessibilityNeeds: row.accessibility_needs,
      reachable: { email: row.has_email, phone: row.has_phone, postalAddress: row.has_postal_address },
    },
  }));
}

export interface CampaignProgress {
  total: number;
  settled: number;
  byStatus: Record<string, number>;
  byChannel: Record<string, Record<string, number>>;
  failures: { reason: string; channel: string | null; n: number }[];
  timeline: { at: Date; reached: number; failed: number }[];
  fanoutDone: boolean;
  /** Messages sent again after an unknown outcome: each may have reached its person twice. */
  resends: number;
}

/**
 * Where a campaign stands: counts per status and channel, the commonest failure reasons, and a
 * timeline of people reached and failed. A person counts once, by their latest attempt.
 */
export async function campaignProgress(
  db: Queryable,
  campaign: { id: number; incidentId: number; audience: Audience; fanoutCompletedAt: Date | null },
): Promise<CampaignProgress> {
  const { rows } = await db.query<{ status: string; channel: string | null; n: number }>(
    `SELECT status, channel, count(*)::int AS n FROM (
       SELECT DISTINCT ON (person_id) status, channel FROM messages WHERE campaign_id = $1 ORDER BY person_id, attempt DESC
     ) latest GROUP BY 1, 2`,
    [campaign.id],
  );
  const byStatus: Record<string, number> = {};
  const byChannel: Record<string, Record<string, number>> = {};
  let people = 0;
  let settled = 0;
  for (const row of rows) {
    people += row.n;
    byStatus[row.status] = (byStatus[row.status] ?? 0) + row.n;
    const channel = row.channel ?? 'none';
    byChannel[channel] = {
      ...byChannel[channel],
      [row.status]: (byChannel[channel]?.[row.status] ?? 0) + row.n,
    };
    // A letter is done once it is printed and posted ('sent'): no receipt comes back for it.
    const inFlight =
      row.status === 'queued' ||
      row.status === 'sending' ||
      row.status === 'unknown' ||
      (row.status === 'sent' && row.channel !== 'letter');
    if (!inFlight) settled += row.n;
  }
  const total = campaign.fanoutCompletedAt
    ? people
    : Math.max(people, await countAudience(db, campaign.incidentId, campaign.audience));
  const failures = await db.query<{ reason: string; channel: string | null; n: number }>(
    `SELECT COALESCE(status_reason, status) AS reason, channel, count(*)::int AS n FROM messages
     WHERE campaign_id = $1 AND status IN ('bounced', 'failed', 'undelivered', 'no_answer', 'busy')
     GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 20`,
    [campaign.id],
  );
  const timeline = await db.query<{ at: Date; reached: number; failed: number }>(
    `WITH bounds AS (SELECT min(created_at) AS lo, greatest(max(updated_at), min(created_at) + interval '1 second') AS hi FROM messages WHERE campaign_id = $1),
          buckets AS (SELECT generate_series(0, 19) AS i)
     SELECT lo + (hi - lo) * (i + 1) / 20 AS at,
            (SELECT count(*)::int FROM messages WHERE campaign_id = $1 AND COALESCE(delivered_at, CASE WHEN channel = 'letter' THEN sent_at END) <= lo + (hi - lo) * (i + 1) / 20) AS reached,
            (SELECT count(*)::int FROM messages WHERE campaign_id = $1 AND failed_at <= lo + (hi - lo) * (i + 1) / 20) AS failed
     FROM bounds, buckets WHERE lo IS NOT NULL ORDER BY i`,
    [campaign.id],
  );
  return {
    total,
    settled,
    byStatus,
    byChannel,
    failures: failures.rows,
    timeline: timeline.rows,
    fanoutDone: campaign.fanoutCompletedAt !== null,
    resends: await countResends(db, campaign.id),
  };
}
