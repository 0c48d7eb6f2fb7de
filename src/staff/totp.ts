import { generateSecret, generateURI, verify, generate } from 'otplib';

/**
 * Time-based one-time codes (RFC 6238, the authenticator-app standard): 6 digits, 30-second steps,
 * one step of clock drift allowed either side. A code is accepted once: the step it matched is stored
 * and any code from that step or before is refused, so a code seen over someone's shoulder is spent.
 */
export function newTotpSecret(): string {
  return generateSecret();
}

export function totpUri(secret: string, account: string, issuer = 'Candor'): string {
  return generateURI({ issuer, label: account, secret });
}

/** Trims spaces and dashes so "123 456" and "123-456" work, as people type them from their phone. */
export function normalizeTotpCode(input: string): string {
  return input.replace(/[\s-]/g, '');
}

export async function checkTotp(
  secret: string,
  code: string,
  options: { now: Date; lastStep: number | null },
): Promise<{ valid: true; step: number } | { valid: false }> {
  const token = normalizeTotpCode(code);
  if (!/^\d{6}$/.test(token)) return { valid: false };
  const result = await verify({
    secret,
    token,
    epoch: Math.floor(options.now.getTime() / 1000),
    epochTolerance: 30,
    ...(options.lastStep !== null ? { afterTimeStep: options.lastStep } : {}),
  });
  return result.valid && 'timeStep' in result ? { valid: true, step: result.timeStep } : { valid: false };
}

/** The current code for a secret: for tests and the browser test, which act as the authenticator app. */
export function currentTotp(secret: string, now: Date = new Date()): Promise<string> {
  return generate({ secret, epoch: Math.floor(now.getTime() / 1000) });
}
