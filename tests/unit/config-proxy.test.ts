import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';

describe('TRUST_PROXY', () => {
  it('trusts loopback only unless told otherwise, and takes names, addresses and subnets', () => {
    expect(parseConfig({}).trustProxy).toEqual(['loopback']);
    expect(parseConfig({ TRUST_PROXY: 'uniquelocal, 203.0.113.7,2001:db8::/32' }).trustProxy).toEqual([
      'uniquelocal',
      '203.0.113.7',
      '2001:db8::/32',
    ]);
  });

  it('refuses what is neither a range name nor an address, saying what it takes', () => {
    for (const value of ['everyone', '10.0.0.0/33', '300.1.1.1', '10.0.0.0/8/1', 'true']) {
      expect(() => parseConfig({ TRUST_PROXY: value }), value).toThrow(ConfigError);
      expect(() => parseConfig({ TRUST_PROXY: value })).toThrow(/TRUST_PROXY must list loopback/);
    }
  });
});
