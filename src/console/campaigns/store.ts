import type { Queryable } from '../../platform/db.js';
import type { CampaignStatus, Audience } from '../../campaigns/lifecycle.js';
import type { MessageKind } from '../../notices/render.js';

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
