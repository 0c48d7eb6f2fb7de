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

/**
 * A member as a request sees them. `sessionEpoch` is raised when their live sessions must end
 * (switched off, authenticator reset): a session signed in under another epoch is dropped.
 */
export interface ActiveStaff extends StaffMember {
  sessionEpoch: number;
}

/** What signing in needs about an account. The TOTP secret is decrypted only here, never logged. */
export interface StaffCredentials extends ActiveStaff {
  passwordHash: string | null;
  totpSecret: string | null;
  totpLastStep: number | null;
  /** Enrolling an authenticator is required whatever the role (invited accounts, and after a reset). */
  totpRequired: boolean;
  disabled: boolean;
}

interface CredentialsRow {
  id: number;
  display_name: string;
  role: StaffRole;
  password_hash: string | null;
  totp_secret_enc: string | null;
  totp_last_step: number | null;
  totp_required: boolean;
  session_epoch: number;
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
    totpRequired: row.totp_required,
    sessionEpoch: row.session_epoch,
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
export async function findActiveStaff(db: Queryable, id: number): Promise<ActiveStaff | null> {
  const { rows } = await db.query<{
    id: number;
    display_name: string;
    role: StaffRole;
    session_epoch: number;
  }>('SELECT id, display_name, role, session_epoch FROM staff WHERE id = $1 AND disabled_at IS NULL', [id]);
  const row = rows[0];
  return row
    ? { id: row.id, displayName: row.display_name, role: row.role, sessionEpoch: row.session_epoch }
    : null;
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

/** A staff account as the staff management page shows it to an admin. */
export interface StaffAccount extends StaffMember {
  email: string;
  hasTotp: boolean;
  disabledAt: Date | null;
  lastSignedInAt: Date | null;
  createdAt: Date;
}

interface StaffAccountRow {
  id: number;
  display_name: string;
  role: StaffRole;
  email_enc: string;
  has_totp: boolean;
  disabled_at: Date | null;
  last_signed_in_at: Date | null;
  created_at: Date;
}

const STAFF_ACCOUNT_COLUMNS = `id, display_name, role, email_enc, totp_secret_enc IS NOT NULL AS has_totp,
  disabled_at, last_signed_in_at, created_at`;

function toStaffAccount(vault: Vault, row: StaffAccountRow): StaffAccount {
  return {
    id: row.id,
    displayName: row.display_name,
    role: row.role,
    email: vault.open(row.email_enc),
    hasTotp: row.has_totp,
    disabledAt: row.disabled_at,
    lastSignedInAt: row.last_signed_in_at,
    createdAt: row.created_at,
  };
}

/** Everyone with an account, switched off or not: active first, then by name. */
export async function listStaffAccounts(db: Queryable, vault: Vault): Promise<StaffAccount[]> {
  const { rows } = await db.query<StaffAccountRow>(
    `SELECT ${STAFF_ACCOUNT_COLUMNS} FROM staff ORDER BY disabled_at IS NOT NULL, display_name, id`,
  );
  return rows.map((row) => toStaffAccount(vault, row));
}

export async function findStaffAccount(
  db: Queryable,
  vault: Vault,
  id: number,
): Promise<StaffAccount | null> {
  const { rows } = await db.query<StaffAccountRow>(
    `SELECT ${STAFF_ACCOUNT_COLUMNS} FROM staff WHERE id = $1`,
    [id],
  );
  return rows[0] ? toStaffAccount(vault, rows[0]) : null;
}

/**
 * Locks one account's row for a change, and with it every active admin's row (in id order, so two
 * changes never deadlock). Two admins demoting each other at once then run one after the other, and
 * the second sees the first one's change: "is there another active admin" cannot be answered twice
 * from the same stale picture. Under READ COMMITTED a waiting FOR UPDATE re-reads the rows it waited
 * for, so an admin demoted meanwhile no longer counts.
 */
export async function lockForStaffChange(
  tx: Queryable,
  id: number,
): Promise<{ target: { role: StaffRole; disabled: boolean } | null; activeAdminIds: number[] }> {
  const admins = await tx.query<{ id: number }>(
    `SELECT id FROM staff WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id FOR UPDATE`,
  );
  const { rows } = await tx.query<{ role: StaffRole; disabled_at: Date | null }>(
    'SELECT role, disabled_at FROM staff WHERE id = $1 FOR UPDATE',
    [id],
  );
  const row = rows[0];
  return {
    target: row ? { role: row.role, disabled: row.disabled_at !== null } : null,
    activeAdminIds: admins.rows.map((admin) => admin.id),
  };
}

export async function updateStaffRole(db: Queryable, id: number, role: StaffRole): Promise<void> {
  await db.query('UPDATE staff SET role = $2 WHERE id = $1', [id, role]);
}

/** Switching off ends every live session of the account (a new epoch) and, through findActiveStaff, its API keys. */
export async function setStaffDisabled(db: Queryable, id: number, at: Date | null): Promise<void> {
  await db.query(
    `UPDATE staff SET disabled_at = $2,
       session_epoch = CASE WHEN $2::timestamptz IS NULL THEN session_epoch ELSE session_epoch + 1 END
     WHERE id = $1`,
    [id, at],
  );
}

/** Forgets the authenticator and ends every live session: the next sign-in enrols a new one. */
export async function clearStaffTotp(db: Queryable, id: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE staff SET totp_secret_enc = NULL, totp_last_step = NULL, totp_required = true,
       session_epoch = session_epoch + 1
     WHERE id = $1`,
    [id],
  );
  return rowCount === 1;
}

/**
 * The account an accepted invitation makes. Unlike ensureStaff, an address that already has an
 * account is refused (null), never taken over: an invitation must not reset someone's password.
 */
export async function insertInvitedStaff(
  db: Queryable,
  input: { emailHash: Buffer; emailEnc: string; displayName: string; role: StaffRole; passwordHash: string },
): Promise<ActiveStaff | null> {
  const { rows } = await db.query<{
    id: number;
    display_name: string;
    role: StaffRole;
    session_epoch: number;
  }>(
    `INSERT INTO staff (email_hash, email_enc, display_name, role, password_hash, totp_required)
     VALUES ($1, $2, $3, $4, $5, true)
     ON CONFLICT (email_hash) DO NOTHING
     RETURNING id, display_name, role, session_epoch`,
    [input.emailHash, input.emailEnc, input.displayName, input.role, input.passwordHash],
  );
  const row = rows[0];
  return row
    ? { id: row.id, displayName: row.display_name, role: row.role, sessionEpoch: row.session_epoch }
    : null;
}

export async function staffEmailTaken(db: Queryable, emailHash: Buffer): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM staff WHERE email_hash = $1', [emailHash]);
  return (rowCount ?? 0) > 0;
}

/** An invitation to join the staff: the token itself is never stored, only its keyed hash. */
export interface StaffInvitation {
  id: number;
  email: string;
  displayName: string;
  role: StaffRole;
  invitedBy: number | null;
  invitedByName: string | null;
  createdAt: Date;
  expiresAt: Date;
  acceptedAt: Date | null;
  withdrawnAt: Date | null;
}

interface InvitationRow {
  id: number;
  email_hash: Buffer;
  email_enc: string;
  display_name: string;
  role: StaffRole;
  invited_by: number | null;
  inviter_name: string | null;
  created_at: Date;
  expires_at: Date;
  accepted_at: Date | null;
  withdrawn_at: Date | null;
}

function toInvitation(vault: Vault, row: InvitationRow): StaffInvitation {
  return {
    id: row.id,
    email: vault.open(row.email_enc),
    displayName: row.display_name,
    role: row.role,
    invitedBy: row.invited_by,
    invitedByName: row.inviter_name,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    acceptedAt: row.accepted_at,
    withdrawnAt: row.withdrawn_at,
  };
}

const INVITATION_SELECT = `SELECT i.*, s.display_name AS inviter_name FROM staff_invitations i
  LEFT JOIN staff s ON s.id = i.invited_by`;

/** Withdraws any open invitation to this address: a new link replaces the old one. */
export async function withdrawOpenInvitations(db: Queryable, emailHash: Buffer, at: Date): Promise<void> {
  await db.query(
    `UPDATE staff_invitations SET withdrawn_at = $2
     WHERE email_hash = $1 AND accepted_at IS NULL AND withdrawn_at IS NULL`,
    [emailHash, at],
  );
}

export async function insertInvitation(
  db: Queryable,
  input: {
    emailHash: Buffer;
    emailEnc: string;
    displayName: string;
    role: StaffRole;
    tokenHash: Buffer;
    invitedBy: number | null;
    createdAt: Date;
    expiresAt: Date;
  },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO staff_invitations (email_hash, email_enc, display_name, role, token_hash, invited_by, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    [
      input.emailHash,
      input.emailEnc,
      input.displayName,
      input.role,
      input.tokenHash,
      input.invitedBy,
      input.createdAt,
      input.expiresAt,
    ],
  );
  return rows[0]!.id;
}

/** Invitations not yet accepted or withdrawn (expired ones too, so an admin sees they lapsed), newest first. */
export async function listOpenInvitations(db: Queryable, vault: Vault): Promise<StaffInvitation[]> {
  const { rows } = await db.query<InvitationRow>(
    `${INVITATION_SELECT} WHERE i.accepted_at IS NULL AND i.withdrawn_at IS NULL ORDER BY i.id DESC`,
  );
  return rows.map((row) => toInvitation(vault, row));
}

export async function findInvitationByTokenHash(
  db: Queryable,
  vault: Vault,
  tokenHash: Buffer,
): Promise<StaffInvitation | null> {
  const { rows } = await db.query<InvitationRow>(`${INVITATION_SELECT} WHERE i.token_hash = $1`, [tokenHash]);
  return rows[0] ? toInvitation(vault, rows[0]) : null;
}

/** Withdraws one open invitation; false when it was already accepted, withdrawn, or never existed. */
export async function withdrawInvitation(db: Queryable, id: number, at: Date): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE staff_invitations SET withdrawn_at = $2 WHERE id = $1 AND accepted_at IS NULL AND withdrawn_at IS NULL`,
    [id, at],
  );
  return rowCount === 1;
}

/**
 * Spends an invitation: one UPDATE that only an open, unexpired invitation passes, so a link works
 * once even when it is submitted twice at the same moment.
 */
export async function claimInvitation(
  db: Queryable,
  tokenHash: Buffer,
  at: Date,
): Promise<{ id: number; emailHash: Buffer; emailEnc: string; displayName: string; role: StaffRole } | null> {
  const { rows } = await db.query<InvitationRow>(
    `UPDATE staff_invitations SET accepted_at = $2
     WHERE token_hash = $1 AND accepted_at IS NULL AND withdrawn_at IS NULL AND expires_at > $2
     RETURNING *`,
    [tokenHash, at],
  );
  const row = rows[0];
  return row
    ? {
        id: row.id,
        emailHash: row.email_hash,
        emailEnc: row.email_enc,
        displayName: row.display_name,
        role: row.role,
      }
    : null;
}

export async function recordInvitationAccepted(db: Queryable, id: number, staffId: number): Promise<void> {
  await db.query('UPDATE staff_invitations SET accepted_staff_id = $2 WHERE id = $1', [id, staffId]);
}
