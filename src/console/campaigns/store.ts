import { AUDIENCE_FILTER } from '../../campaigns/audience.js';
import type { Queryable } from '../../platform/db.js';
import type { CampaignStatus, Audience } from '../../campaigns/lifecycle.js';
import type { MessageKind } from '../../notices/render.js';
import { readIncidentCampaignsProgress, type CampaignProgress } from '../../campaigns/progress.js';

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
  /** The same progress the campaign's own page and the API show. */
  progress: CampaignProgress;
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
  }>(
    `SELECT c.id, c.kind, c.audience, c.status, c.created_by, c.created_at,
            cb.display_name AS created_by_name, ab.display_name AS approved_by_name
     FROM campaigns c
     LEFT JOIN staff cb ON cb.id = c.created_by LEFT JOIN staff ab ON ab.id = c.approved_by
     WHERE c.incident_id = $1 ORDER BY c.id DESC`,
    [incidentId],
  );
  const progress = new Map(
    (await readIncidentCampaignsProgress(db, incidentId)).map((p) => [Number(p.campaignId), p]),
  );
  return rows.flatMap((row) => {
    const campaignProgress = progress.get(Number(row.id));
    return campaignProgress
      ? [
          {
            id: row.id,
            kind: row.kind,
            audience: row.audience,
            status: row.status,
            createdBy: row.created_by,
            createdByName: row.created_by_name,
            approvedByName: row.approved_by_name,
            createdAt: row.created_at,
            progress: campaignProgress,
          },
        ]
      : [];
  });
}

/** How many people an audience holds today: an estimate before fan-out, which reads the same rule. */
export async function countAudience(db: Queryable, incidentId: number, audience: Audience): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM people p WHERE p.incident_id = $1 AND ${AUDIENCE_FILTER[audience]}`,
    [incidentId],
  );
  return rows[0]?.n ?? 0;
}
