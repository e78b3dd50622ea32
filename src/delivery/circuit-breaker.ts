import type { SyncError } from '../errors.ts';

/** Timeouts in a row (no success between) that open the circuit. */
export const TIMEOUTS_TO_OPEN = 3;
/** Transient failures of any kind in a row that open it. */
export const FAILURES_TO_OPEN = 12;

const TIMEOUT_CODES = new Set(['TIMEOUT', 'ETIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * Stops a delivery that only waits: a destination that hangs would otherwise cost
 * (batches ÷ concurrency) × attempts × timeout. Counted across all batches of a delivery; any
 * success closes it again. When it opens, the run stops and the rest waits for the next run.
 */
export class CircuitBreaker {
  private timeouts = 0;
  private failures = 0;

  success(): void {
    this.timeouts = 0;
    this.failures = 0;
  }

  /** Counts a transient failure; answers why the circuit opened, if it just did. */
  failure(err: SyncError): string | undefined {
    this.failures++;
    if (TIMEOUT_CODES.has(err.code ?? '')) this.timeouts++;
    if (this.timeouts >= TIMEOUTS_TO_OPEN) return `${this.timeouts} requests in a row timed out`;
    if (this.failures >= FAILURES_TO_OPEN) return `${this.failures} requests in a row failed`;
    return undefined;
  }
}
