import type { Deps } from '../deps.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../platform/errors.js';
import { recordAudit } from '../audit/store.js';
import { hashPassword, passwordProblem } from './passwords.js';
import { currentTotp, newTotpSecret } from './totp.js';
import {
  ensureStaff,
  findStaffCredentialsByEmail,
  setStaffPassword,
  setStaffTotpSecret,
  STAFF_ROLES,
  type StaffRole,
} from './store.js';
import { ROLES_REQUIRING_TOTP } from './permissions.js';

/**
 * Creates a staff account (or resets the password of the one with that email). With `totp`, a second
 * factor is set now and its secret returned once, to be added to an authenticator app; otherwise an
 * admin or approver sets theirs up at first sign-in.
 */
export async function createStaffAccount(
  deps: Pick<Deps, 'db' | 'vault' | 'clock'>,
  input: {
    email: string;
    displayName: string;
    role: string;
    password: string;
    totp: boolean;
    by?: number | null;
  },
): Promise<{ id: number; totpSecret: string | null; totpRequiredAtSignIn: boolean }> {
  if (!(STAFF_ROLES as readonly string[]).includes(input.role))
    throw new ValidationError(`role must be one of ${STAFF_ROLES.join(', ')}`);
  const role = input.role as StaffRole;
  if (!input.displayName.trim()) throw new ValidationError('a display name is needed');
  const problem = passwordProblem(input.password);
  if (problem) throw new ValidationError('the password must be 12 to 256 characters', { password: problem });
  const staff = await ensureStaff(deps.db, deps.vault, {
    email: input.email,
    displayName: input.displayName.trim(),
    role,
  });
  await setStaffPassword(deps.db, staff.id, await hashPassword(input.password));
  let totpSecret: string | null = null;
  if (input.totp) {
    totpSecret = newTotpSecret();
    await setStaffTotpSecret(deps.db, deps.vault, staff.id, totpSecret, null);
  }
  await recordAudit(
    deps.db,
    { staffId: input.by ?? null, apiKeyId: null },
    {
      action: 'staff.create',
      subjectType: 'staff',
      subjectId: staff.id,
      details: { role, totp: input.totp },
    },
    deps.clock.now(),
  );
  return { id: staff.id, totpSecret, totpRequiredAtSignIn: !input.totp && ROLES_REQUIRING_TOTP.has(role) };
}

/**
 * The code a staff member's authenticator app shows now, so someone trying Candor (the demo approver)
 * can sign in without one. Development only: anywhere else it would be a second factor's bypass.
 */
export async function developmentTotpCode(
  deps: Pick<Deps, 'db' | 'vault' | 'clock' | 'config'>,
  email: string,
): Promise<string> {
  if (deps.config.env !== 'development')
    throw new ForbiddenError(
      `Showing a second factor's code is for development only (NODE_ENV=development); this is ${deps.config.env}.`,
    );
  const staff = await findStaffCredentialsByEmail(deps.db, deps.vault, email);
  if (!staff) throw new NotFoundError(`There is no staff member ${email}.`);
  if (!staff.totpSecret)
    throw new NotFoundError(
      `${email} has no authenticator set up yet; they set one up at their next sign-in.`,
    );
  return currentTotp(staff.totpSecret, deps.clock.now());
}
