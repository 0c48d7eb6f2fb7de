import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../src/platform/batch.js';

describe('createBatcher', () => {
  it('runs calls made in one turn of the event loop as one batch, each caller getting its own result', async () => {
    const batches: number[][] = [];
    const double = createBatcher({
      run: (inputs: number[]) => {
        batches.push(inputs);
        return Promise.resolve(inputs.map((n) => n * 2));
      },
    });
    expect(await Promise.all([double(1), double(2), double(3)])).toEqual([2, 4, 6]);
    expect(await double(4)).toBe(8);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it('never makes a batch larger than its maximum', async () => {
    const sizes: number[] = [];
    const echo = createBatcher({
      run: (inputs: number[]) => {
        sizes.push(inputs.length);
        return Promise.resolve(inputs);
      },
      maxSize: 2,
    });
    expect(await Promise.all([1, 2, 3, 4, 5].map(echo))).toEqual([1, 2, 3, 4, 5]);
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('gives every caller in a failed batch the error, and does not hold it against the next batch', async () => {
    let fail = true;
    const flaky = createBatcher({
      run: (inputs: number[]) =>
        fail ? Promise.reject(new Error('database away')) : Promise.resolve(inputs),
    });
    const results = await Promise.allSettled([flaky(1), flaky(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await flaky(3)).toBe(3);
  });
});
