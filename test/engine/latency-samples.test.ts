import { describe, expect, it } from 'vitest';
import { Samples } from '../../src/engine/latency-samples.ts';

/** Nearest rank, the plain way: sort, then take the value at ceil(p × n). */
function bySort(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

describe('Samples', () => {
  it('gives the nearest-rank p50, p95 and max a sort gives, for sizes around the ranks and skewed values', () => {
    let seed = 11;
    const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (const size of [1, 2, 3, 19, 20, 21, 100, 1_001, 50_000]) {
      const values = Array.from({ length: size }, () => Math.round(next() ** 3 * 3_600_000) / 7);
      const samples = new Samples();
      for (const value of values) samples.add(value);
      expect(samples.percentiles(), `size ${size}`).toEqual({
        p50Ms: Math.round(bySort(values, 0.5)), p95Ms: Math.round(bySort(values, 0.95)), maxMs: Math.round(Math.max(...values)),
      });
      expect([...samples.values()], 'ranking leaves the values as added').toEqual(values);
    }
  });
});
