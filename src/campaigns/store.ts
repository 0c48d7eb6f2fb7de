import type { Queryable } from '../platform/db.js';
import type { MessageKind } from '../notices/render.js';
import type { ChannelPolicy } from './channel-policy.js';
import type { Audience, CampaignStatus } from './lifecycle.js';

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
