import quickselect from 'quickselect';
import type { Percentiles } from '../state/run-record.ts';

/** Milliseconds, kept in a growing typed array (8 bytes a row). */
export class Samples {
  private data = new Float64Array(1024);
  size = 0;

  add(ms: number): void {
    if (this.size === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.size++] = ms;
  }

  values(): Float64Array {
    return this.data.subarray(0, this.size);
  }

  /**
   * Nearest-rank percentiles: every value reported is one a row had. Found by selection, not a
   * sort (a 100,000-row run has three sets to rank): the p50 pass leaves every value past its
   * rank at or above it, so the p95 pass only looks there.
   */
  percentiles(): Percentiles {
    const values = this.values().slice() as unknown as number[]; // quickselect reads and swaps by index: a typed array will do
    const rank = (p: number) => Math.max(0, Math.ceil(p * values.length) - 1);
    const select = (k: number, from: number) => {
      quickselect(values, k, from);
      return values[k]!;
    };
    const p50 = select(rank(0.5), 0);
    const p95 = select(rank(0.95), rank(0.5)); // (moves the p50 value: read it first)
    let max = p95;
    for (let i = rank(0.95) + 1; i < values.length; i++) if (values[i]! > max) max = values[i]!;
    return { p50Ms: Math.round(p50), p95Ms: Math.round(p95), maxMs: Math.round(max) };
  }
}
