import type { Audience } from './lifecycle.js';
import type { MessageKind } from '../notices/render.js';
import { FAILED_STATUSES, IN_FLIGHT_STATUSES, POSSIBLY_SENT_STATUSES } from '../deliveries/status.js';

/** Our own status names as an SQL list: the audiences are SQL fragments with the incident as $1 only. */
const sqlList = (statuses: readonly string[]) => statuses.map((status) => `'${status}'`).join(', ');

/** A person with a message in one of these may already have heard (an unknown outcome counts: it is live). */
const POSSIBLY_SENT_SQL = sqlList(POSSIBLY_SENT_STATUSES);

/**
 * A person with any attempt in one of these is not "someone we failed to reach": it reached them,
 * may have (sent, unknown), or is still going (queued, sending, a fallback under way).
 */
const NOT_FAILED_SQL = sqlList([...new Set([...POSSIBLY_SENT_STATUSES, ...IN_FLIGHT_STATUSES])]);

/** Which people a campaign reaches, as SQL over `people p` (the incident is always $1). */
export const AUDIENCE_FILTER: Record<Audience, string> = {
  affected: 'p.affected',
  everyone: 'true',
  subscribers: 'p.subscribed_at IS NOT NULL',
  subscribers_and_affected: '(p.affected OR p.subscribed_at IS NOT NULL)',
  not_reached: `NOT EXISTS (SELECT 1 FROM messages m JOIN campaigns c ON c.id = m.campaign_id
                  WHERE m.person_id = p.id AND c.incident_id = $1 AND m.status IN (${POSSIBLY_SENT_SQL}))`,
  failed: `EXISTS (SELECT 1 FROM messages m JOIN campaigns c ON c.id = m.campaign_id
                  WHERE m.person_id = p.id AND c.incident_id = $1 AND m.status IN (${sqlList(FAILED_STATUSES)}))
           AND NOT EXISTS (SELECT 1 FROM messages m JOIN campaigns c ON c.id = m.campaign_id
                  WHERE m.person_id = p.id AND c.incident_id = $1 AND m.status IN (${NOT_FAILED_SQL}))`,
};

/**
 * A feature's own condition on whom a campaign reaches, as SQL over `people p` for one campaign:
 * `true` for campaigns it has nothing to say about. The codes feature narrows its offers and
 * reminders this way. The composition root (src/deps.ts) lists them and the fan-out and the plan
 * receive them, so the campaigns never import the features built on top of them.
 */
export type AudienceNarrowing = (campaignId: number) => string;

/**
 * What a message kind adds to any audience: someone who unsubscribed from update emails (the
 * List-Unsubscribe link) gets no more updates. The initial notice and code offers still go: a person
 * cannot opt out of being told their data was breached.
 */
export function kindFilter(kind: MessageKind): string {
  return kind === 'update' ? 'p.updates_opted_out_at IS NULL' : 'true';
}
