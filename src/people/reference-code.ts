import base32Encode from 'base32-encode';

/**
 * The reference code printed on every notice. 80 random bits in Crockford base32 (no I, L, O or U,
 * so it reads aloud without "is that an O or a zero?"), grouped in fours: `7KQ2-M9XD-4PHR-3TWA`.
 * Stored only as a keyed hash (for lookup) and encrypted (to print it again).
 */
export const REFERENCE_CODE_BYTES = 10;
const LENGTH = 16;
const ALPHABET = /^[0-9A-HJKMNP-TV-Z]+$/;

export function formatReferenceCode(randomBytes: Uint8Array): string {
  if (randomBytes.length !== REFERENCE_CODE_BYTES)
    throw new Error(`need ${REFERENCE_CODE_BYTES} random bytes`);
  const code = base32Encode(randomBytes, 'Crockford');
  return code.match(/.{4}/g)!.join('-');
}

/**
 * The canonical form of what a person typed: any case, spaces and dashes ignored, and the letters
 * people confuse with digits read as those digits. Null when it cannot be a reference code.
 */
export function normalizeReferenceCode(input: string): string | null {
  const compact = input.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  return compact.length === LENGTH && ALPHABET.test(compact) ? compact : null;
}
