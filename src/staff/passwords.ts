import { hash, verify } from '@node-rs/argon2';

/**
 * Staff passwords, hashed with argon2id at OWASP's recommended cost (19 MiB, 2 passes). The hash
 * string carries its parameters, so raising them later still verifies old hashes.
 */
// `algorithm: 2` is Algorithm.Argon2id: a const enum, which isolated modules cannot import by name.
const OPTIONS = { algorithm: 2 as const, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export const MIN_PASSWORD_LENGTH = 12;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

// Verifying against this when the email is unknown makes "no such account" take as long as "wrong password".
const DECOY_HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$4AJRorhUdVDVpfucYDJRmA$nqS5IvJEtmwOUkOJr9BgirGaYRcYVCiqbTJvfq4G8E0';

export async function verifyPassword(storedHash: string | null, password: string): Promise<boolean> {
  try {
    const ok = await verify(storedHash ?? DECOY_HASH, password);
    return storedHash !== null && ok;
  } catch {
    return false;
  }
}

/** Why a new password is refused, as a locale key, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return 'console:auth.errors.passwordTooShort';
  if (password.length > 256) return 'console:auth.errors.passwordTooLong';
  return null;
}
