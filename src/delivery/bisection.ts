import type { SplitBudget } from '../destinations/destination.ts';

/**
 * How a delivery finds the rows of a batch that the destination refused as a whole (one bad
 * row fails the request): it sends halves, down to the single rows at fault.
 *
 * The extra calls are bounded per delivery, by a pool all batches share: every batch adds
 * splitBudget(size) calls, and every row found at fault earns back the 2·⌈log2 size⌉ calls that
 * finding one row costs. So halving keeps going while it finds bad rows (it converges within the
 * run, however many a batch holds), and stops when it does not (a destination that refuses
 * batches but no single row): at most Σ splitBudget(batch) + 2·⌈log2 size⌉ per bad row.
 *
 * Once refusals are seen, batches shrink toward 1 ÷ (share of rows refused): a batch then holds
 * about one bad row, which is cheaper to find than several in a large batch. A batch that runs
 * the pool dry gives its unresolved rows back to the queue once (they go out again later, in
 * smaller batches); after that they are deferred to the next run.
 */
export class Bisection implements SplitBudget {
  private pool = 0;
  private rows = 0;
  private refused = 0;
  /** Calls spent on splitting so far (each split sends two halves). */
  splitCalls = 0;

  constructor(private readonly maxBatchSize: number) {}

  /** Rows the next batch should carry. */
  get batchSize(): number {
    if (this.refused === 0) return this.maxBatchSize;
    return Math.max(1, Math.min(this.maxBatchSize, Math.round(this.rows / this.refused)));
  }

  /** A batch starts: its share joins the pool. */
  admit(size: number): void {
    this.pool += splitBudget(size);
  }

  /** A row was found at fault: the calls it took come back to the pool. */
  found(): void {
    this.pool += 2 * Math.ceil(Math.log2(Math.max(2, this.maxBatchSize)));
  }

  /** Takes the two calls of one split; false when the pool is dry. */
  takeSplit(): boolean {
    if (this.pool < 2) return false;
    this.pool -= 2;
    this.splitCalls += 2;
    return true;
  }

  /** A batch of `size` rows ended with `refused` rows isolated as refused for good. */
  observe(size: number, refused: number): void {
    this.rows += size;
    this.refused += refused;
  }
}

/** Calls one batch brings to the pool: enough to isolate two bad rows in it. */
export function splitBudget(size: number): number {
  return 4 * Math.ceil(Math.log2(Math.max(2, size)));
}
