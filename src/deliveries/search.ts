import type { Queryable } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import { normalizeReferenceCode } from '../people/reference-code.js';

/**
 * What a support agent on the phone needs: the person behind the reference code on their letter,
 * and every message sent to them with its status. No contact details: the agent reads the channel
 * and status to the caller, never their address back to them.
 */
export interface DeliveryRecord {
  messageId: number;
  campaignId: number;
  kind: string;
  channel: string | null;
  attempt: number;
  locale: string;
  status: string;
  statusReason: string | null;
  createdAt: Date;
  sentAt: Date | null;
  deliveredAt: Date | null;
  failedAt: Date | null;
}

export interface PersonDeliveries {
  personId: number;
  incidentId: number;
  referenceCode: string;
  locale: string;
  country: string | null;
  affected: boolean;
  deliveries: DeliveryRecord[];
}

export async function findDeliveriesByReference(
  db: Queryable,
  vault: Vault,
  referenceInput: string,
): Promise<PersonDeliveries | null> {
  const code = normalizeReferenceCode(referenceInput);
  if (!code) return null;
  const { rows: people } = await db.query<{
    id: number;
    incident_id: number;
    reference_enc: string;
    locale: string;
    country: string | null;
    affected: boolean;
  }>(
    'SELECT id, incident_id, reference_enc, locale, country, affected FROM people WHERE reference_hash = $1',
    [vault.hash('reference', code)],
  );
  const person = people[0];
  if (!person) return null;
  const { rows } = await db.query<{
    id: number;
    campaign_id: number;
    kind: string;
    channel: string | null;
    attempt: number;
    locale: string;
    status: string;
    status_reason: string | null;
    created_at: Date;
    sent_at: Date | null;
    delivered_at: Date | null;
    failed_at: Date | null;
  }>(
    `SELECT m.id, m.campaign_id, c.kind, m.channel, m.attempt, m.locale, m.status, m.status_reason,
            m.created_at, m.sent_at, m.delivered_at, m.failed_at
     FROM messages m JOIN campaigns c ON c.id = m.campaign_id
     WHERE m.person_id = $1 ORDER BY m.created_at DESC, m.id DESC LIMIT 500`,
    [person.id],
  );
  return {
    personId: person.id,
    incidentId: person.incident_id,
    referenceCode: vault.open(person.reference_enc),
    locale: person.locale,
    country: person.country,
    affected: person.affected,
    deliveries: rows.map((row) => ({
      messageId: row.id,
      campaignId: row.campaign_id,
      kind: row.kind,
      channel: row.channel,
      attempt: row.attempt,
      locale: row.locale,
      status: row.status,
      statusReason: row.status_reason,
      createdAt: row.created_at,
      sentAt: row.sent_at,
      deliveredAt: row.delivered_at,
      failedAt: row.failed_at,
    })),
  };
}
