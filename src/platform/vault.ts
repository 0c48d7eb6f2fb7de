import crypto from 'node:crypto';

/**
 * Encryption at rest for personal data and keyed hashes for finding it.
 *
 * A sealed value is `v1.<keyId>.<iv>.<ciphertext+tag>` (base64url). The key id travels with the value so
 * the key can rotate: new values use the current key, old ones still open with a previous key until
 * `candor rotate-key` rewrites them.
 */
export interface Vault {
  seal(plaintext: string): string;
  open(sealed: string): string;
  /** Keyed hash for lookups and dedupe. `purpose` separates domains: an email hash never matches a phone hash. */
  hash(purpose: HashPurpose, normalizedValue: string): Buffer;
  currentKeyId: string;
}

export type HashPurpose =
  | 'email'
  | 'phone'
  | 'reference'
  | 'dedupe'
  | 'postal_code'
  | 'birth_year'
  | 'staff_email'
  | 'api_key'
  | 'one_time_code'
  | 'subscription_token'
  | 'staff_invitation';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function keyId(key: Buffer): string {
  return crypto.createHash('sha256').update(key).digest('hex').slice(0, 8);
}

const SHA256_BLOCK_BYTES = 64;

/** SHA-256 states after the HMAC's inner and outer padded-key blocks, ready to copy. */
function hmacStates(key: Buffer): [crypto.Hash, crypto.Hash] {
  const block = Buffer.alloc(SHA256_BLOCK_BYTES);
  // A key longer than a block is hashed first, as HMAC does.
  (key.length > SHA256_BLOCK_BYTES ? crypto.createHash('sha256').update(key).digest() : key).copy(block);
  const inner = Buffer.from(block.map((byte) => byte ^ 0x36));
  const outer = Buffer.from(block.map((byte) => byte ^ 0x5c));
  return [crypto.createHash('sha256').update(inner), crypto.createHash('sha256').update(outer)];
}

export function createVault(keys: { current: Buffer; previous: Buffer[] }, hmacKey: Buffer): Vault {
  const byId = new Map<string, Buffer>();
  for (const key of [keys.current, ...keys.previous]) byId.set(keyId(key), key);
  const currentKeyId = keyId(keys.current);
  const sealPrefix = `v1.${currentKeyId}.`;
  // Key objects skip re-importing the raw key on every call: an import seals and hashes millions of times.
  const currentKey = crypto.createSecretKey(keys.current);
  // HMAC-SHA-256 is SHA-256(key ^ opad, SHA-256(key ^ ipad, message)) (RFC 2104). The two padded-key
  // blocks are hashed once here; each hash then copies those states instead of keying a new HMAC,
  // which an import does millions of times. The result is the same HMAC, byte for byte.
  const [innerState, outerState] = hmacStates(hmacKey);
  // IVs come from the CSPRNG a block at a time (one call per thousand seals, not one each) and each
  // 12-byte slice is used once, so they are exactly as random and as unique as one call per seal.
  let ivs = Buffer.alloc(0);

  return {
    currentKeyId,
    seal(plaintext) {
      if (ivs.length < IV_BYTES) ivs = crypto.randomBytes(IV_BYTES * 1024);
      const iv = ivs.subarray(0, IV_BYTES);
      ivs = ivs.subarray(IV_BYTES);
      const cipher = crypto.createCipheriv(ALGORITHM, currentKey, iv);
      const ciphertext = cipher.update(plaintext, 'utf8');
      // GCM's final() adds no bytes; it computes the tag.
      cipher.final();
      const body = Buffer.concat([ciphertext, cipher.getAuthTag()]);
      return `${sealPrefix}${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    open(sealed) {
      const [version, id, ivText, bodyText] = sealed.split('.');
      if (version !== 'v1' || !id || !ivText || !bodyText) throw new Error('not a sealed value');
      const key = byId.get(id);
      if (!key)
        throw new Error(`no encryption key with id ${id}; was ENCRYPTION_KEYS_PREVIOUS emptied too early?`);
      const body = Buffer.from(bodyText, 'base64url');
      const decipher = crypto.createDecipheriv(ALGORITHM, key, Buffer.from(ivText, 'base64url'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(body.subarray(0, body.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    },
    hash(purpose, normalizedValue) {
      const inner = innerState.copy().update(`${purpose}\0${normalizedValue}`).digest();
      return outerState.copy().update(inner).digest();
    },
  };
}
