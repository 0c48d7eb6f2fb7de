import { describe, expect, it } from 'vitest';
import { idOr404, positiveId } from '../../src/platform/ids.js';
import { NotFoundError } from '../../src/platform/errors.js';

describe('ids from paths, forms and query strings', () => {
  it('reads a positive whole number, from a string or a number', () => {
    expect(positiveId('42')).toBe(42);
    expect(positiveId(7)).toBe(7);
  });

  it('reads nothing else as an id', () => {
    for (const value of [
      '',
      '0',
      '-3',
      '1.5',
      'abc',
      '1e400',
      '9007199254740993',
      undefined,
      null,
      ['1'],
      {},
    ])
      expect(positiveId(value), JSON.stringify(value)).toBeNull();
  });

  it('answers a malformed id in a path like an id nothing has: not found, naming what was asked for', () => {
    expect(idOr404('12', 'campaign')).toBe(12);
    expect(() => idOr404('x', 'campaign')).toThrow(NotFoundError);
    expect(() => idOr404('-1', 'campaign')).toThrow('There is no such campaign.');
  });
});
