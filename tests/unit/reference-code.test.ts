import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  formatReferenceCode,
  normalizeReferenceCode,
  REFERENCE_CODE_BYTES,
} from '../../src/people/reference-code.js';

describe('reference codes', () => {
  it('carries at least 64 bits and reads in groups of four', () => {
    expect(REFERENCE_CODE_BYTES * 8).toBeGreaterThanOrEqual(64);
    const code = formatReferenceCode(crypto.randomBytes(REFERENCE_CODE_BYTES));
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
  });

  it('accepts what a person types: any case, spaces and dashes, O for zero and I or L for one', () => {
    const code = formatReferenceCode(Buffer.from('00112233445566778899', 'hex'));
    const canonical = normalizeReferenceCode(code);
    expect(canonical).not.toBeNull();
    const typed = code.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l');
    expect(normalizeReferenceCode(typed)).toBe(canonical);
  });

  it('rejects input that cannot be a code', () => {
    expect(normalizeReferenceCode('')).toBeNull();
    expect(normalizeReferenceCode('ABCD-EFGH')).toBeNull();
    expect(normalizeReferenceCode('UUUU-UUUU-UUUU-UUUU')).toBeNull();
  });
});
