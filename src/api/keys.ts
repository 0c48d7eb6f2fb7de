import crypto from 'node:crypto';
import type { Deps } from '../deps.js';
import type { Queryable } from '../platform/db.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../platform/errors.js';
import { isStaffRole, roleWithin } from '../staff/permissions.js';
import { findActiveStaff } from '../staff/store.js';
import type { StaffRole } from '../staff/store.js';

/**
 * API keys: `candor_<prefix>_<secret>`. The key acts as the staff member it belongs to, with a role no
 * higher than theirs, so four-eyes rules hold through the API (the approver is a person, not a key).
 * Only a keyed hash is stored; the key itself is shown once.
 */
export interface ApiKey {
  id: number;
  staffId: number;
  staffName: string | null;
  name: string;
  role: StaffRole;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const KEY_PATTERN = /^candor_([a-z0-9]{8})_([A-Za-z0-9_-]{43})$/;

export function newApiKeyToken(): { token: string; prefix: string } {
  const prefix = crypto.randomBytes(6).toString('hex').slice(0, 8);
  return { token: `candor_${prefix}_${crypto.randomBytes(32).toString('base64url')}`, prefix };
}

export function looksLikeApiKey(token: string): boolean {
  return KEY_PATTERN.test(token);
}

interface ApiKeyRow {
  id: number;
  staff_id: number;
  display_name: string | null;
  name: string;
  role: StaffRole;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    staffId: row.staff_id,
    staffName: row.display_name,
    name: row.name,
    role: row.role,
    prefix: row.prefix,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

/**
 * Creates a key for a staff member: the role may not exceed the member's own, and the key is returned
 * once. The caller records the audit entry (the console's route table, or the CLI).
 */
export async function createApiKey(
  deps: Pick<Deps, 'db' | 'vault' | 'clock'>,
  input: { staffId: number; name: string; role: string },
): Promise<{ key: ApiKey; token: string }> {
  const name = input.name.trim();
  if (!name || name.length > 100) throw new ValidationError('Give the key a name (up to 100 characters).');
  if (!isStaffRole(input.role)) throw new ValidationError('Choose a role for the key.');
  const staff = await findActiveStaff(deps.db, input.staffId);
  if (!staff || !isStaffRole(staff.role)) throw new NotFoundError('There is no such staff member.');
  if (!roleWithin(input.role, staff.role))
    throw new ForbiddenError(
      `A key cannot do more than its owner: ${staff.role} cannot hold a ${input.role} key.`,
    );
  const { token, prefix } = newApiKeyToken();
  const { rows } = await deps.db.query<ApiKeyRow>(
    `INSERT INTO api_keys (staff_id, name, role, prefix, key_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)
     RETURNING *, (SELECT display_name FROM staff WHERE id = $1) AS display_name`,
    [staff.id, name, input.role, prefix, deps.vault.hash('api_key', token), deps.clock.now()],
  );
  return { key: toApiKey(rows[0]!), token };
}

export async function revokeApiKey(deps: Pick<Deps, 'db' | 'clock'>, input: { id: number }): Promise<void> {
  const { rowCount } = await deps.db.query(
    'UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1',
    [input.id, deps.clock.now()],
  );
  if (rowCount !== 1) throw new NotFoundError('There is no such API key.');
}

export async function listApiKeys(db: Queryable): Promise<ApiKey[]> {
  const { rows } = await db.query<ApiKeyRow>(
    `SELECT k.*, s.display_name FROM api_keys k JOIN staff s ON s.id = k.staff_id ORDER BY k.revoked_at IS NOT NULL, k.id DESC`,
  );
  return rows.map(toApiKey);
}

/**
 * The key a request presents, if it is live and its owner still is: the effective role is the lower
 * of the key's and the owner's today, so demoting or disabling a member bites their keys at once.
 */
export async function authenticateApiKey(
  deps: Pick<Deps, 'db' | 'vault' | 'clock'>,
  token: string,
): Promise<{ keyId: number; staff: { id: number; displayName: string; role: StaffRole } } | null> {
  if (!looksLikeApiKey(token)) return null;
  const { rows } = await deps.db.query<ApiKeyRow>(
    `UPDATE api_keys k SET last_used_at = $2 FROM staff s
     WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND s.id = k.staff_id
     RETURNING k.*, s.display_name`,
    [deps.vault.hash('api_key', token), deps.clock.now()],
  );
  const row = rows[0];
  if (!row) return null;
  const owner = await findActiveStaff(deps.db, row.staff_id);
  if (!owner || !isStaffRole(owner.role) || !roleWithin(row.role, owner.role)) return null;
  return { keyId: row.id, staff: { id: owner.id, displayName: owner.displayName, role: row.role } };
}
