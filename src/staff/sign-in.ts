import type { Deps } from '../deps.js';
import type { RateLimit } from '../platform/rate-limit.js';
import { createRateLimit } from '../platform/rate-limit.js';
import { recordAudit } from '../audit/store.js';
import { verifyPassword } from './passwords.js';
import { checkTotp } from './totp.js';
import { ROLES_REQUIRING_TOTP } from './permissions.js';
import {
  findStaffCredentials,
  findStaffCredentialsByEmail,
  recordSignIn,
  spendTotpStep,
  type ActiveStaff,
} from './store.js';
import { normalizeEmail } from '../people/contact.js';

/**
 * Signing in, told as a story: count the attempt against this client, and against this client *for
 * this account*; check the password; then say what the second factor needs.
 *
 * The lockout is per (client, account) pair, never per account alone: someone guessing from their
 * machine locks only themselves out of that account, and the real owner signs in from theirs. The
 * per-client limit stops one machine spraying many accounts.
 */
export type SignInDeps = Pick<Deps, 'db' | 'vault' | 'clock'> & { limits: SignInLimits };

export interface SignInLimits {
  perClientAndAccount: RateLimit;
  perClient: RateLimit;
}

export function createSignInLimits(deps: Pick<Deps, 'redis' | 'config'>): SignInLimits {
  return {
    perClientAndAccount: createRateLimit(deps, {
      name: 'staff-sign-in-pair',
      points: deps.config.staffSignIn.attemptsPerAccount,
      durationSeconds: 15 * 60,
      blockSeconds: deps.config.staffSignIn.lockoutMinutes * 60,
    }),
    perClient: createRateLimit(deps, {
      name: 'staff-sign-in-client',
      points: deps.config.staffSignIn.attemptsPerClient,
      durationSeconds: 60 * 60,
    }),
  };
}

export type SignInResult =
  | { outcome: 'throttled'; retryAfterSeconds: number }
  | { outcome: 'invalid' }
  | { outcome: 'signed-in'; staff: ActiveStaff; secondFactor: 'none' | 'required' | 'setup-required' };

function pairKey(deps: Pick<Deps, 'vault'>, client: string, email: string): string {
  // The account is named by a keyed hash: Redis never holds a staff email in clear.
  const account = deps.vault.hash('staff_email', normalizeEmail(email) ?? email.trim().toLowerCase());
  return `${client}|${account.toString('hex').slice(0, 32)}`;
}

export async function signIn(
  deps: SignInDeps,
  input: { email: string; password: string; client: string },
): Promise<SignInResult> {
  const now = deps.clock.now();
  const key = pairKey(deps, input.client, input.email);
  for (const limit of [deps.limits.perClient, deps.limits.perClientAndAccount]) {
    const allowed = await limit.consume(limit === deps.limits.perClient ? input.client : key);
    if (!allowed.allowed) return { outcome: 'throttled', retryAfterSeconds: allowed.retryAfterSeconds };
  }

  const account = await findStaffCredentialsByEmail(deps.db, deps.vault, input.email);
  const passwordOk = await verifyPassword(account?.passwordHash ?? null, input.password);
  if (!account || account.disabled || !passwordOk) {
    await recordAudit(
      deps.db,
      { staffId: account?.id ?? null, apiKeyId: null },
      { action: 'staff.sign_in', outcome: 'refused', details: { reason: 'bad_credentials' } },
      now,
    );
    return { outcome: 'invalid' };
  }

  await deps.limits.perClientAndAccount.reset(key);
  const staff: ActiveStaff = {
    id: account.id,
    displayName: account.displayName,
    role: account.role,
    sessionEpoch: account.sessionEpoch,
  };
  const secondFactor = account.totpSecret
    ? 'required'
    : ROLES_REQUIRING_TOTP.has(account.role) || account.totpRequired
      ? 'setup-required'
      : 'none';
  if (secondFactor === 'none') await completeSignIn(deps, staff.id);
  return { outcome: 'signed-in', staff, secondFactor };
}

async function completeSignIn(deps: Pick<Deps, 'db' | 'clock'>, staffId: number) {
  const now = deps.clock.now();
  await recordSignIn(deps.db, staffId, now);
  await recordAudit(deps.db, { staffId, apiKeyId: null }, { action: 'staff.sign_in' }, now);
}

/** The second step: a code from the authenticator app, good once, limited like the password. */
export async function verifySecondFactor(
  deps: SignInDeps,
  input: { staffId: number; code: string; client: string },
): Promise<'ok' | 'invalid' | { retryAfterSeconds: number }> {
  const limited = await deps.limits.perClientAndAccount.consume(`${input.client}|totp|${input.staffId}`);
  if (!limited.allowed) return { retryAfterSeconds: limited.retryAfterSeconds };
  const account = await findStaffCredentials(deps.db, deps.vault, input.staffId);
  if (!account?.totpSecret || account.disabled) return 'invalid';
  const result = await checkTotp(account.totpSecret, input.code, {
    now: deps.clock.now(),
    lastStep: account.totpLastStep,
  });
  if (!result.valid || !(await spendTotpStep(deps.db, account.id, result.step))) {
    await recordAudit(
      deps.db,
      { staffId: account.id, apiKeyId: null },
      { action: 'staff.second_factor', outcome: 'refused' },
      deps.clock.now(),
    );
    return 'invalid';
  }
  await deps.limits.perClientAndAccount.reset(`${input.client}|totp|${input.staffId}`);
  await completeSignIn(deps, account.id);
  return 'ok';
}

export { completeSignIn };
