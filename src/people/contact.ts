import { parsePhoneNumberWithError, type CountryCode } from 'libphonenumber-js';
import { isSimulatedPhone } from '../channels/simulated-recipients.js';

/** Canonical forms of contact details, so the same person typed two ways hashes the same. */

// Deliberately permissive: one @, a dot in the domain, no spaces. Whether it exists is the provider's job.
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizeEmail(input: string): string | null {
  const email = input.trim().toLowerCase();
  return EMAIL_SHAPE.test(email) && email.length <= 254 ? email : null;
}

/** E.164 (`+447700900123`), reading national numbers in the person's country. */
export function normalizePhone(input: string, defaultCountry?: string): string | null {
  try {
    const phone = parsePhoneNumberWithError(
      input,
      (defaultCountry?.toUpperCase() as CountryCode | undefined) ?? undefined,
    );
    if (phone.isValid()) return phone.number;
    // libphonenumber knows Ofcom's drama range is fiction and calls it invalid; rehearsals need it.
    return phone.isPossible() && isSimulatedPhone(phone.number) ? phone.number : null;
  } catch {
    return null;
  }
}

export function normalizePostalCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, '');
}

/** A BCP 47 tag in canonical case (`pt-BR`, `zh-Hans`), or null. */
export function normalizeLanguageTag(input: string): string | null {
  try {
    const [tag] = Intl.getCanonicalLocales(input.trim());
    return tag ?? null;
  } catch {
    return null;
  }
}
