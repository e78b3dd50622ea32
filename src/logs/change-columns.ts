import { OPERATIONS } from '../destinations/destination.ts';
import type { SettledRow } from '../engine/run-recorder.ts';

export const OUTCOMES: readonly SettledRow['outcome'][] = ['delivered', 'rejected', 'deferred'];

/**
 * Settled rows on their way to the changes table, a column each: a row costs its key and a few
 * typed-array slots, not an object or an array of its own (a 100,000-change run settles 100,000
 * rows while it delivers). The op and the outcome are indexes into OPERATIONS and OUTCOMES;
 * times are epoch ms, and NaN stands for no event time (no eventTime, or a null one) and no L.
 */
export class ChangeColumns {
  readonly keys: string[] = [];
  readonly ops: Uint8Array;
  readonly outcomes: Uint8Array;
  readonly settledAt: Float64Array;
  readonly eventAt: Float64Array;
  readonly latencyMs: Float64Array;

  constructor(readonly capacity: number) {
    this.ops = new Uint8Array(capacity);
    this.outcomes = new Uint8Array(capacity);
    this.settledAt = new Float64Array(capacity);
    this.eventAt = new Float64Array(capacity);
    this.latencyMs = new Float64Array(capacity);
  }

  get size(): number {
    return this.keys.length;
  }

  get full(): boolean {
    return this.keys.length === this.capacity;
  }

  push(row: SettledRow, settledAt: number): void {
    const i = this.keys.length;
    this.keys.push(row.key);
    this.ops[i] = OPERATIONS.indexOf(row.op as (typeof OPERATIONS)[number]);
    this.outcomes[i] = OUTCOMES.indexOf(row.outcome);
    this.settledAt[i] = settledAt;
    this.eventAt[i] = row.eventAt ?? NaN;
    this.latencyMs[i] = row.latencyMs ?? NaN;
  }
}

/** How many rows the chunks hold together. */
export function rowsIn(chunks: ChangeColumns[]): number {
  return chunks.reduce((n, chunk) => n + chunk.size, 0);
}
