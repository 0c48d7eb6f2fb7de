import type { Deps } from '../deps.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../platform/errors.js';
import { withTransaction, type DbClient } from '../platform/db.js';
import { recordAudit } from '../audit/store.js';
import { hashPassword, passwordProblem } from './passwords.js';
import { currentTotp, newTotpSecret } from './totp.js';
import {
  clearStaffTotp,
  ensureStaff,
  findStaffCredentialsByEmail,
  lockForStaffChange,
  setStaffDisabled,
  setStaffPassword,
  setStaffTotpSecret,
  STAFF_ROLES,
  updateStaffRole,
  type StaffRole,
} from './store.js';
import { isStaffRole, ROLES_REQUIRING_TOTP } from './permissions.js';

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

/*
 * Managing colleagues' accounts: one use case per action, for the console and the CLI alike. The
 * caller records the audit entry (the console's route table, or the CLI), as for API keys.
 */

/** The change would leave nobody able to manage staff. HTTP 409; never retried. */
export class LastAdminError extends ConflictError {
  override name = 'LastAdminError';
  constructor() {
    super('This is the last active admin: make someone else an admin first.');
  }
}

/**
 * Changes one account while holding the rows of every active admin (see lockForStaffChange), and
 * refuses a change that would take away the last of them. Returns what the account was before.
 */
async function changeAccount(
  deps: Pick<Deps, 'db'>,
  staffId: number,
  after: (before: { role: StaffRole; disabled: boolean }) => { role: StaffRole; disabled: boolean },
  apply: (tx: DbClient, before: { role: StaffRole; disabled: boolean }) => Promise<void>,
): Promise<{ role: StaffRole; disabled: boolean }> {
  return withTransaction(deps.db, async (tx) => {
    const { target, activeAdminIds } = await lockForStaffChange(tx, staffId);
    if (!target) throw new NotFoundError('There is no such staff member.');
    const next = after(target);
    const staysAdmin = next.role === 'admin' && !next.disabled;
    if (activeAdminIds.includes(staffId) && !staysAdmin && activeAdminIds.length <= 1)
      throw new LastAdminError();
    await apply(tx, target);
    return target;
  });
}

/** Gives a member another role. Their pages and API keys follow at once: both read the role per request. */
export async function setStaffRole(
  deps: Pick<Deps, 'db'>,
  input: { staffId: number; role: string },
): Promise<{ from: StaffRole; to: StaffRole }> {
  if (!isStaffRole(input.role)) throw new ValidationError(`role must be one of ${STAFF_ROLES.join(', ')}`);
  const role = input.role;
  const before = await changeAccount(
    deps,
    input.staffId,
    (current) => ({ ...current, role }),
    (tx) => updateStaffRole(tx, input.staffId, role),
  );
  return { from: before.role, to: role };
}

/**
 * Switches an account off: its sessions end on their next request, its API keys stop at once, and it
 * cannot sign in. Switching off an account that is already off changes nothing.
 */
export async function switchOffStaff(
  deps: Pick<Deps, 'db' | 'clock'>,
  input: { staffId: number },
): Promise<{ changed: boolean }> {
  const before = await changeAccount(
    deps,
    input.staffId,
    (current) => ({ ...current, disabled: true }),
    async (tx, current) => {
      if (!current.disabled) await setStaffDisabled(tx, input.staffId, deps.clock.now());
    },
  );
  return { changed: !before.disabled };
}

/** Switches an account on again. Sessions from before it was switched off stay ended. */
export async function switchOnStaff(
  deps: Pick<Deps, 'db'>,
  input: { staffId: number },
): Promise<{ changed: boolean }> {
  const before = await changeAccount(
    deps,
    input.staffId,
    (current) => ({ ...current, disabled: false }),
    async (tx, current) => {
      if (current.disabled) await setStaffDisabled(tx, input.staffId, null);
    },
  );
  return { changed: before.disabled };
}

/**
 * For a lost or replaced phone: forgets the member's authenticator and ends their sessions. At their
 * next sign-in, after the password, they enrol an authenticator again, whatever their role.
 */
export async function resetStaffAuthenticator(
  deps: Pick<Deps, 'db'>,
  input: { staffId: number },
): Promise<void> {
  if (!(await clearStaffTotp(deps.db, input.staffId)))
    throw new NotFoundError('There is no such staff member.');
}
