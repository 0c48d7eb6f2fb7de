/**
 * Values shown back to staff without showing a person's details: enough to find the typo in the
 * spreadsheet, not enough to read the address or the number. Pure.
 */

const DOT = '•••';

/** `jane.doe@example.com` → `j•••@e•••.com`; without an @, the first character and dots. */
export function maskEmail(value: string): string {
  const at = value.lastIndexOf('@');
  if (at < 0) return `${value.slice(0, 1)}${DOT}`;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const host = dot > 0 ? domain.slice(0, dot) : domain;
  const suffix = dot > 0 ? domain.slice(dot) : '';
  return `${local.slice(0, 1)}${DOT}@${host.slice(0, 1)}${DOT}${suffix}`;
}

/**
 * `+44 7700 900112` → `+44 •••• ••••12`: the country code and the last two digits stay, every other
 * digit becomes a dot, spacing and punctuation stay. A short number shows no digit at all.
 */
export function maskPhone(value: string): string {
  const digits = value.replace(/\D/g, '').length;
  if (digits < 6) return value.replace(/\d/g, '•');
  const keepFirst = value.trimStart().startsWith('+') ? 2 : 0;
  let seen = 0;
  return value.replace(/\d/g, (digit) => {
    seen += 1;
    return seen <= keepFirst || seen > digits - 2 ? digit : '•';
  });
}

/** Any other personal value (a name, an address, a birth year): its first character and dots. */
export function maskText(value: string): string {
  return value === '' ? '' : `${Array.from(value)[0]}${DOT}`;
}

/** Something shaped like an email address or a phone number, whatever column it was put in. */
export function looksLikeContact(value: string): 'email' | 'phone' | null {
  if (value.includes('@')) return 'email';
  if (value.replace(/\D/g, '').length >= 7) return 'phone';
  return null;
}
