import type { Queryable } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import type { Channel } from '../channels/kinds.js';

/** What the personal page shows about the person who proved who they are. */
export interface Profile {
  id: number;
  incidentId: number;
  referenceCode: string;
  name: string | null;
  affected: boolean;
  exposedDataTypes: string[];
  country: string | null;
  /** The person's IANA zone, as imported; null when the import gave none. */
  timeZone: string | null;
  locale: string;
  preferredChannel: Channel | null;
  accessibilityNeeds: string[];
  reachable: { email: boolean; phone: boolean; postalAddress: boolean };
  phone: string | null;
  subscribed: boolean;
}

export async function loadProfile(db: Queryable, vault: Vault, personId: number): Promise<Profile | null> {
  const { rows } = await db.query<{
    id: number;
    incident_id: number;
    reference_enc: string;
    name_enc: string | null;
    phone_enc: string | null;
    affected: boolean;
    exposed_data_types: string[];
    country: string | null;
    time_zone: string | null;
    locale: string;
    preferred_channel: Channel | null;
    accessibility_needs: string[];
    has_email: boolean;
    has_postal_address: boolean;
    subscribed: boolean;
  }>(
    `SELECT id, incident_id, reference_enc, name_enc, phone_enc, affected, exposed_data_types, country, time_zone, locale,
            preferred_channel, accessibility_needs, email_enc IS NOT NULL AS has_email,
            postal_address_enc IS NOT NULL AS has_postal_address, subscribed_at IS NOT NULL AS subscribed
     FROM people WHERE id = $1`,
    [personId],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    incidentId: row.incident_id,
    referenceCode: vault.open(row.reference_enc),
    name: row.name_enc ? vault.open(row.name_enc) : null,
    affected: row.affected,
    exposedDataTypes: row.exposed_data_types,
    country: row.country,
    timeZone: row.time_zone,
    locale: row.locale,
    preferredChannel: row.preferred_channel,
    accessibilityNeeds: row.accessibility_needs,
    reachable: { email: row.has_email, phone: row.phone_enc !== null, postalAddress: row.has_postal_address },
    phone: row.phone_enc ? vault.open(row.phone_enc) : null,
    subscribed: row.subscribed,
  };
}

export async function updatePreferences(
  db: Queryable,
  personId: number,
  preferences: { locale: string; preferredChannel: Channel | null; accessibilityNeeds: string[]; at: Date },
): Promise<void> {
  await db.query(
    `UPDATE people SET locale = $2, preferred_channel = $3, accessibility_needs = $4, updated_at = $5 WHERE id = $1`,
    [
      personId,
      preferences.locale,
      preferences.preferredChannel,
      preferences.accessibilityNeeds,
      preferences.at,
    ],
  );
}

export async function setSubscribed(
  db: Queryable,
  personId: number,
  subscribed: boolean,
  at: Date,
): Promise<void> {
  await db.query(
    `UPDATE people SET subscribed_at = CASE WHEN $2 THEN COALESCE(subscribed_at, $3) ELSE NULL END, updated_at = $3
     WHERE id = $1`,
    [personId, subscribed, at],
  );
}
