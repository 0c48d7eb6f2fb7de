import { ELIGIBLE_SQL } from './rules.js';
import { POSSIBLY_SENT_STATUSES } from '../deliveries/status.js';
import type { AudienceNarrowing } from '../campaigns/audience.js';

const POSSIBLY_SENT_SQL = POSSIBLY_SENT_STATUSES.map((status) => `'${status}'`).join(', ');

/**
 * Narrows a campaign's audience for campaigns about a code pool, as SQL over `people p`, for the
 * fan-out's WHERE clause. For any other campaign it is true and changes nothing.
 *
 * - offer: people eligible for the pool who have not redeemed a code from it;
 * - reminder: people offered a code (given one, or sent the offer) who have not redeemed it, while
 *   the enroll-by date has not passed. Whoever redeems between the reminder's creation and its
 *   fan-out is left out, because this is read page by page as the fan-out runs.
 *
 * Listed in the composition root (src/deps.ts) among the audience narrowings the fan-out applies.
 * The campaign id is inlined (it is an integer from our own row) so the fan-out's parameters stay as
 * they are.
 */
export const codeCampaignAudience: AudienceNarrowing = function codeCampaignAudience(
  campaignId: number,
): string {
  if (!Number.isSafeInteger(campaignId)) throw new Error(`campaign id ${campaignId} is not an integer`);
  return `(NOT EXISTS (SELECT 1 FROM code_campaigns cc0 WHERE cc0.campaign_id = ${campaignId})
  OR EXISTS (
    SELECT 1 FROM code_campaigns cc JOIN code_pools cp ON cp.id = cc.pool_id
    WHERE cc.campaign_id = ${campaignId}
      AND cp.incident_id = p.incident_id
      AND ${ELIGIBLE_SQL}
      AND NOT EXISTS (SELECT 1 FROM codes c WHERE c.pool_id = cp.id AND c.person_id = p.id AND c.redeemed_at IS NOT NULL)
      AND (cc.purpose = 'offer' OR (
        (cp.enroll_by IS NULL OR cp.enroll_by >= current_date)
        AND (EXISTS (SELECT 1 FROM codes c WHERE c.pool_id = cp.id AND c.person_id = p.id)
             OR EXISTS (SELECT 1 FROM messages m JOIN code_campaigns oc ON oc.campaign_id = m.campaign_id
                        WHERE oc.pool_id = cp.id AND oc.purpose = 'offer' AND m.person_id = p.id
                          AND m.status IN (${POSSIBLY_SENT_SQL})))))
  ))`;
};
