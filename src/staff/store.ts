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

/** What signing in needs about an account. The TOTP secret is decrypted only here, never logged. */
export interface StaffCredentials extends StaffMember {
  passwordHash: string | null;
  totpSecret: string | null;
  totpLastStep: number | null;
  disabled: boolean;
}

interface CredentialsRow {
  id: number;
  display_name: string;
  role: StaffRole;
  password_hash: string | null;
  totp_secret_enc: string | null;
  totp_last_step: number | null;
  disabled_at: Date | null;
}

function toCredentials(vault: Vault, row: CredentialsRow): StaffCredentials {
  return {
    id: row.id,
    displayName: row.display_name,
    role: row.role,
    passwordHash: row.password_hash,
    totpSecret: row.totp_secret_enc ? vault.open(row.totp_secret_enc) : null,
    totpLastStep: row.totp_last_step,
    disabled: row.disabled_at !== null,
  };
}

export async function findStaffCredentialsByEmail(
  db: Queryable,
  vault: Vault,
  emailInput: string,
): Promise<StaffCredentials | null> {
  const email = normalizeEmail(emailInput);
  if (!email) return null;
  const { rows } = await db.query<CredentialsRow>('SELECT * FROM staff WHERE email_hash = $1', [
    vault.hash('staff_email', email),
  ]);
  return rows[0] ? toCredentials(vault, rows[0]) : null;
}

export async function findStaffCredentials(
  db: Queryable,
  vault: Vault,
  id: number,
): Promise<StaffCredentials | null> {
  const { rows } = await db.query<CredentialsRow>('SELECT * FROM staff WHERE id = $1', [id]);
  return rows[0] ? toCredentials(vault, rows[0]) : null;
}

/** The signed-in member as each request sees them: role and disabled state read fresh, so a change bites at once. */
export async function findActiveStaff(db: Queryable, id: number): Promise<StaffMember | null> {
  const { rows } = await db.query<{ id: number; display_name: string; role: StaffRole }>(
    'SELECT id, display_name, role FROM staff WHERE id = $1 AND disabled_at IS NULL',
    [id],
  );
  const row = rows[0];
  return row ? { id: row.id, displayName: row.display_name, role: row.role } : null;
}

export async function listStaff(db: Queryable): Promise<(StaffMember & { hasTotp: boolean })[]> {
  const { rows } = await db.query<{ id: number; display_name: string; role: StaffRole; has_totp: boolean }>(
    'SELECT id, display_name, role, totp_secret_enc IS NOT NULL AS has_totp FROM staff WHERE disabled_at IS NULL ORDER BY display_name',
  );
  return rows.map((row) => ({
    id: row.id,
    displayName: row.display_name,
    role: row.role,
    hasTotp: row.has_totp,
  }));
}

export async function setStaffPassword(db: Queryable, id: number, passwordHash: string): Promise<void> {
  await db.query('UPDATE staff SET password_hash = $2 WHERE id = $1', [id, passwordHash]);
}

export async function setStaffTotpSecret(
  db: Queryable,
  vault: Vault,
  id: number,
  secret: string | null,
  acceptedStep: number | null,
): Promise<void> {
  await db.query('UPDATE staff SET totp_secret_enc = $2, totp_last_step = $3 WHERE id = $1', [
    id,
    secret === null ? null : vault.seal(secret),
    acceptedStep,
  ]);
}

/** Records a spent TOTP step; false when another request spent this step (or a later one) first. */
export async function spendTotpStep(db: Queryable, id: number, step: number): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE staff SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)',
    [id, step],
  );
  return rowCount === 1;
}

export async function recordSignIn(db: Queryable, id: number, at: Date): Promise<void> {
  await db.query('UPDATE staff SET last_signed_in_at = $2 WHERE id = $1', [id, at]);
}
