import type { Queryable } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import { normalizeEmail } from '../people/contact.js';
import { ValidationError } from '../platform/errors.js';

export const STAFF_ROLES = ['admin', 'editor', 'approver', 'agent', 'viewer'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export interface StaffMember {
  id: number;
  displayName: string;
  role: StaffRole;
}

/** Creates a staff member, or returns the existing one with that email. */
export async function ensureStaff(
  db: Queryable,
  vault: Vault,
  input: { email: string; displayName: string; role: StaffRole; passwordHash?: string | null },
): Promise<StaffMember> {
  const email = normalizeEmail(input.email);
  if (!email) throw new ValidationError('Enter a valid email address', { email: 'invalid' });
  const { rows } = await db.query<{ id: number; display_name: string; role: StaffRole }>(
    `INSERT INTO staff (email_hash, email_enc, display_name, role, password_hash) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (email_hash) DO UPDATE SET display_name = staff.display_name
     RETURNING id, display_name, role`,
    [
      vault.hash('staff_email', email),
      vault.seal(email),
      input.displayName,
      input.role,
      input.passwordHash ?? null,
    ],
  );
  const row = rows[0]!;
  return { id: row.id, displayName: row.display_name, role: row.role };
}
