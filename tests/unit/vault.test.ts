import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createVault, keyId } from '../../src/platform/vault.js';

const key = () => crypto.randomBytes(32);

describe('vault', () => {
  it('seals a value so the ciphertext does not contain it, and opens it again', () => {
    const vault = createVault({ current: key(), previous: [] }, key());
    const sealed = vault.seal('ada@example.com');
    // The whole address, and its base64 form: three letters like 'ada' can turn up in random hex or base64.
    expect(sealed).not.toContain('ada@example');
    expect(sealed).not.toContain(Buffer.from('ada@example.com').toString('base64url').slice(0, 12));
    expect(vault.open(sealed)).toBe('ada@example.com');
  });

  it('seals the same value differently each time', () => {
    const vault = createVault({ current: key(), previous: [] }, key());
    expect(vault.seal('x')).not.toBe(vault.seal('x'));
  });

  it('opens values sealed under a previous key after rotation, and seals new ones under the new key', () => {
    const oldKey = key();
    const newKey = key();
    const before = createVault({ current: oldKey, previous: [] }, key());
    const sealed = before.seal('+447400123456');
    const after = createVault({ current: newKey, previous: [oldKey] }, key());
    expect(after.open(sealed)).toBe('+447400123456');
    expect(after.seal('y').split('.')[1]).toBe(keyId(newKey));
  });

  it('refuses a tampered value', () => {
    const vault = createVault({ current: key(), previous: [] }, key());
    const sealed = vault.seal('secret');
    const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
    expect(() => vault.open(tampered)).toThrow();
  });

  it('hashes the same value to different keyed hashes for different purposes', () => {
    const vault = createVault({ current: key(), previous: [] }, key());
    expect(vault.hash('email', 'a@b.c').equals(vault.hash('email', 'a@b.c'))).toBe(true);
    expect(vault.hash('email', 'a@b.c').equals(vault.hash('phone', 'a@b.c'))).toBe(false);
  });

  it('never reuses an IV, across the blocks of random bytes it draws them from', () => {
    const vault = createVault({ current: key(), previous: [] }, key());
    const ivs = new Set(Array.from({ length: 3_000 }, () => vault.seal('x').split('.')[2]));
    expect(ivs.size).toBe(3_000);
  });

  it('keeps the keyed hash stable (HMAC-SHA-256 of purpose, NUL, value), so stored hashes stay findable', () => {
    const hmacKey = key();
    const vault = createVault({ current: key(), previous: [] }, hmacKey);
    const expected = crypto.createHmac('sha256', hmacKey).update('email\0a@b.c').digest();
    expect(vault.hash('email', 'a@b.c').equals(expected)).toBe(true);
  });

  it('computes the same HMAC as Node for keys shorter than, equal to and longer than a SHA-256 block', () => {
    for (const length of [16, 32, 64, 65, 100]) {
      const hmacKey = crypto.randomBytes(length);
      const vault = createVault({ current: key(), previous: [] }, hmacKey);
      for (const value of ['', 'a@b.c', '+447400123456', 'é'.repeat(300)]) {
        const expected = crypto.createHmac('sha256', hmacKey).update(`phone\0${value}`).digest();
        expect(vault.hash('phone', value).equals(expected)).toBe(true);
      }
    }
  });
});
