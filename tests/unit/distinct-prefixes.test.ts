import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DistinctPrefixes } from '../../src/imports/distinct-prefixes.js';

const pairs = (values: [number, number][]) => Uint32Array.from(values.flat());

describe('telling whether a file names each contact once', () => {
  it('stays distinct over many random prefixes, through the table growing', () => {
    const set = new DistinctPrefixes();
    const random = new Uint32Array(crypto.randomBytes(8 * 50_000).buffer);
    for (let offset = 0; offset < random.length; offset += 1_000)
      set.addAll(random.subarray(offset, offset + 1_000));
    expect(set.distinct).toBe(true);
  });

  it('notices a repeated prefix, in the same batch or a later one', () => {
    const same = new DistinctPrefixes();
    same.addAll(
      pairs([
        [1, 2],
        [3, 4],
        [1, 2],
      ]),
    );
    expect(same.distinct).toBe(false);
    const later = new DistinctPrefixes();
    later.addAll(
      pairs([
        [5, 6],
        [7, 8],
      ]),
    );
    later.addAll(pairs(Array.from({ length: 5_000 }, (_, i) => [i + 100, i] as [number, number])));
    expect(later.distinct).toBe(true);
    later.addAll(pairs([[7, 8]]));
    expect(later.distinct).toBe(false);
  });

  it('treats a prefix of zero as a value, never as an empty slot', () => {
    const set = new DistinctPrefixes();
    set.addAll(pairs([[0, 0]]));
    expect(set.distinct).toBe(true);
    set.addAll(pairs([[0, 0]]));
    expect(set.distinct).toBe(false);
  });
});
