import type { Queryable } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';

export const PREFERRED_TIMES = ['morning', 'afternoon', 'evening', 'any'] as const;
export type PreferredTime = (typeof PREFERRED_TIMES)[number];

export type SupportRequestInput =
  | { kind: 'callback'; phone: string; preferredTime: PreferredTime }
  | { kind: 'message'; message: string; name: string | null; replyEmail: string | null };

/** Files a request in the staff support queue (status 'open'). Contact details and words are sealed. */
export async function insertSupportRequest(
  db: Queryable,
  vault: Vault,
  request: SupportRequestInput & { incidentId: number; personId: number | null; locale: string; at: Date },
): Promise<number> {
  const seal = (value: string | null) => (value === null ? null : vault.seal(value));
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO support_requests
       (incident_id, person_id, kind, phone_enc, preferred_time, locale, message_enc, name_enc, reply_email_enc, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id`,
    [
      request.incidentId,
      request.personId,
      request.kind,
      request.kind === 'callback' ? seal(request.phone) : null,
      request.kind === 'callback' ? request.preferredTime : null,
      request.locale,
      request.kind === 'message' ? seal(request.message) : null,
      request.kind === 'message' ? seal(request.name) : null,
      request.kind === 'message' ? seal(request.replyEmail) : null,
      request.at,
    ],
  );
  return rows[0]!.id;
}
