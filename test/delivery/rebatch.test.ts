import { describe, expect, it } from 'vitest';
import type { Change } from '../../src/destinations/destination.ts';
import { rebatch } from '../../src/delivery/rebatch.ts';
import { changes } from './delivery-kit.ts';

async function sizes(chunkSizes: number[], size: number): Promise<{ sizes: number[]; keys: string[] }> {
  const all = changes(chunkSizes.reduce((a, b) => a + b, 0));
  async function* source(): AsyncGenerator<Change[]> {
    let at = 0;
    for (const n of chunkSizes) {
      yield all.slice(at, at + n);
      at += n;
    }
  }
  const out: Change[][] = [];
  for await (const batch of rebatch(source(), size)) out.push(batch);
  return { sizes: out.map((b) => b.length), keys: out.flat().map((c) => c.key) };
}

describe('rebatch', () => {
  it.each([
    [[10, 10, 10], 10, [10, 10, 10]],
    [[3, 147, 0, 55], 40, [40, 40, 40, 40, 40, 5]],
    [[1000], 1, Array(1000).fill(1)],
    [[7, 7, 7], 5, [5, 5, 5, 5, 1]],
    [[2, 2, 2, 2], 100, [8]],
    [[], 5, []],
  ])('chunks %j in batches of %i: %j, every change once, in order', async (chunkSizes, size, expected) => {
    const got = await sizes(chunkSizes, size);
    expect(got.sizes).toEqual(expected);
    expect(got.keys).toEqual(changes(got.keys.length).map((c) => c.key));
  });
});
