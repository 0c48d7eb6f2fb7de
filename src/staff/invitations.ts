import crypto from 'node:crypto';
import type { Deps } from '../deps.js';
import { ConflictError, NotFoundError, ValidationError } from '../platform/errors.js';
import { isUniqueViolation, withTransaction } from '../platform/db.js';
import { recordAudit } from '../audit/store.js';
import { normalizeEmail } from '../people/contact.js';
import { hashPassword, passwordProblem } from './passwords.js';
import { isStaffRole } from './permissions.js';
import {
  claimInvitation,
  findInvitationByTokenHash,
  insertInvitation,
  insertInvitedStaff,
  recordInvitationAccepted,
  staffEmailTaken,
  withdrawInvitation,
  withdrawOpenInvitations,
  STAFF_ROLES,
  type ActiveStaff,
  type StaffInvitation,
  type StaffRole,
} from './store.js';

/**
 * Inviting a colleague, told as a story: an admin names them, their address and their role; Candor
 * makes a one-time link, keeps only a keyed hash of it, and shows the link once to pass on. The
 * colleague opens it within three days, chooses a password and enrols an authenticator; the link is
 * then spent.
 */
export const INVITATION_LIFETIME_HOURS = 72;

/** 256 random bits, URL-safe: the token is the only secret in the link, and is never stored. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function invitationPath(token: string): string {
  return `/console/invitations/${token}`;
}

function tokenHash(deps: Pick<Deps, 'vault'>, token: string): Buffer {
  return deps.vault.hash('staff_invitation', token);
}

/** Thrown when the address already has an account: invite only newcomers, re-role the rest. */
export class StaffEmailTakenError extends ConflictError {
  override name = 'StaffEmailTakenError';
  constructor() {
    super('That address already has a staff account.');
  }
}

export async function inviteStaff(
  deps: Pick<Deps, 'db' | 'vault' | 'clock' | 'config'>,
  input: { email: string; displayName: string; role: string; invitedBy: number | null },
): Promise<{ id: number; link: string; expiresAt: Date; role: StaffRole }> {
  const email = normalizeEmail(input.email);
  if (!email) throw new ValidationError('Enter a valid email address', { email: 'invalid' });
  const displayName = input.displayName.trim();
  if (!displayName || displayName.length > 100)
    throw new ValidationError('a display name of up to 100 characters is needed', { displayName: 'invalid' });
  if (!isStaffRole(input.role)) throw new ValidationError(`role must be one of ${STAFF_ROLES.join(', ')}`);
  const role = input.role;
  const emailHash = deps.vault.hash('staff_email', email);
  if (await staffEmailTaken(deps.db, emailHash)) throw new StaffEmailTakenError();

  const token = crypto.randomBytes(32).toString('base64url');
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + INVITATION_LIFETIME_HOURS * 3600 * 1000);
  try {
    const id = await withTransaction(deps.db, async (tx) => {
      await withdrawOpenInvitations(tx, emailHash, now);
      return insertInvitation(tx, {
        emailHash,
        emailEnc: deps.vault.seal(email),
        displayName,
        role,
        tokenHash: tokenHash(deps, token),
        invitedBy: input.invitedBy,
        createdAt: now,
        expiresAt,
      });
    });
    return { id, link: `${deps.config.publicBaseUrl}${invitationPath(token)}`, expiresAt, role };
  } catch (error) {
    // Another admin invited the same address at the same moment: theirs stands.
    if (isUniqueViolation(error)) throw new ConflictError('That address was invited a moment ago.');
    throw error;
  }
}

export async function withdrawStaffInvitation(
  deps: Pick<Deps, 'db' | 'clock'>,
  input: { id: number },
): Promise<void> {
  if (!(await withdrawInvitation(deps.db, input.id, deps.clock.now())))
    throw new NotFoundError('There is no open invitation with that number.');
}

export type InvitationState =
  { state: 'open'; invitation: StaffInvitation } | { state: 'spent' } | { state: 'unknown' };

/**
 * What a link leads to. Accepted, withdrawn and expired links all read "spent": the page tells the
 * holder to ask for a new one, and says nothing more about the account.
 */
export async function readInvitation(
  deps: Pick<Deps, 'db' | 'vault' | 'clock'>,
  token: string,
): Promise<InvitationState> {
  if (!TOKEN_PATTERN.test(token)) return { state: 'unknown' };
  const invitation = await findInvitationByTokenHash(deps.db, deps.vault, tokenHash(deps, token));
  if (!invitation) return { state: 'unknown' };
  const open = !invitation.acceptedAt && !invitation.withdrawnAt && invitation.expiresAt > deps.clock.now();
  return open ? { state: 'open', invitation } : { state: 'spent' };
}

export class InvitationSpentError extends ConflictError {
  override name = 'InvitationSpentError';
  constructor() {
    super('This invitation has been used, withdrawn or has expired. Ask an admin for a new one.');
  }
}

/**
 * Accepts an invitation: the account is made with the invited role and the chosen password, and must
 * enrol an authenticator before any page opens (the caller starts that step). The claim, the account
 * and the audit entry commit together or not at all, so a link works once.
 */
export async function acceptInvitation(
  deps: Pick<Deps, 'db' | 'vault' | 'clock'>,
  input: { token: string; password: string },
): Promise<ActiveStaff> {
  const problem = passwordProblem(input.password);
  if (problem) throw new ValidationError('the password must be 12 to 256 characters', { password: problem });
  if (!TOKEN_PATTERN.test(input.token)) throw new InvitationSpentError();
  // Hashed before the transaction: argon2 takes a moment, and no row need be held meanwhile.
  const passwordHash = await hashPassword(input.password);
  return withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const invitation = await claimInvitation(tx, tokenHash(deps, input.token), now);
    if (!invitation) throw new InvitationSpentError();
    const staff = await insertInvitedStaff(tx, {
      emailHash: invitation.emailHash,
      emailEnc: invitation.emailEnc,
      displayName: invitation.displayName,
      role: invitation.role,
      passwordHash,
    });
    if (!staff) throw new StaffEmailTakenError();
    await recordInvitationAccepted(tx, invitation.id, staff.id);
    await recordAudit(
      tx,
      { staffId: staff.id, apiKeyId: null },
      {
        action: 'staff.invitation_accept',
        subjectType: 'staff',
        subjectId: staff.id,
        details: { invitation: invitation.id, role: staff.role },
      },
      now,
    );
    return staff;
  });
}
