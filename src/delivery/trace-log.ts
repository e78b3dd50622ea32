/**
 * Keeps step 3 of the run trace readable for runs of any size: every line until
 * `verbatimLines`, then one summary line per `summaryEvery` settled batches (what
 * happened to them, counted), then the closing totals.
 */
export const TRACE_VERBATIM_LINES = 200;
export const TRACE_SUMMARY_EVERY = 100;

export type TraceEvent = 'ok' | 'throttled' | 'retried' | 'split' | 'rejected' | 'deferred' | 'other';

export class TraceLog {
  private lines = 0;
  private suppressed = new Map<TraceEvent, number>();
  private batchesSince = 0;
  private firstBatch: number | undefined;
  private lastBatch = 0;
  private delivered = 0;
  private rejected = 0;
  private deferred = 0;

  constructor(
    private readonly write: (text: string) => void,
    private readonly verbatimLines = TRACE_VERBATIM_LINES,
    private readonly summaryEvery = TRACE_SUMMARY_EVERY,
  ) {}

  line(text: string, event: TraceEvent = 'other'): void {
    if (this.lines < this.verbatimLines) {
      this.lines++;
      this.write(text);
      return;
    }
    this.suppressed.set(event, (this.suppressed.get(event) ?? 0) + 1);
  }

  /** Lines that must never be dropped (a stop, the totals). */
  always(text: string): void {
    this.write(text);
  }

  batchSettled(batch: number, delivered: number, rejected: number, deferred = 0): void {
    if (this.lines < this.verbatimLines) return;
    this.firstBatch ??= batch;
    this.lastBatch = Math.max(this.lastBatch, batch);
    this.batchesSince++;
    this.delivered += delivered;
    this.rejected += rejected;
    this.deferred += deferred;
    if (this.batchesSince >= this.summaryEvery) this.flush();
  }

  /** Writes the pending summary, if any. */
  flush(): void {
    if (this.batchesSince === 0 && this.suppressed.size === 0) return;
    const counts = [...this.suppressed].map(([event, n]) => `${n} ${event}`).join(', ');
    const range = this.firstBatch === undefined ? 'later batches' : `batches ${this.firstBatch}–${this.lastBatch}`;
    const deferred = this.deferred ? `, ${this.deferred.toLocaleString('en-US')} deferred` : '';
    this.write(`${range}: ${this.delivered.toLocaleString('en-US')} delivered, ${this.rejected.toLocaleString('en-US')} rejected${deferred}${counts ? ` (${counts})` : ''}`);
    this.suppressed.clear();
    this.batchesSince = 0;
    this.firstBatch = undefined;
    this.delivered = 0;
    this.rejected = 0;
    this.deferred = 0;
  }
}
