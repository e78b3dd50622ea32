import { SyncError } from '../errors.ts';
import { classify, describe, seconds, STOPPING } from './failures.ts';
import type { RateBudget } from './rate-budget.ts';
import type { TraceLog } from './trace-log.ts';

export interface RequestSettings {
  budget: RateBudget;
  /** Aborted when the delivery stops: no write starts, and a write's first request is not sent. */
  stopSignal: AbortSignal;
  /** Aborted when requests in flight must be cut: until then a write under way finishes its requests. */
  writeSignal: AbortSignal;
  /** Longest total wait for 429s in one batch before its records are deferred. */
  maxThrottleWaitMs: number;
  /** Longest single wait a Retry-After may impose; past it the delivery stops. */
  maxRetryAfterMs: number;
  trace: TraceLog;
  halt(err: SyncError): void;
  counters: { requests: number; apiCalls: number; retries: number; throttled: number };
}

/** The batch is not sent again in this run: its records are deferred, with this trace line and reason. */
export class BatchDeferred extends Error {
  constructor(readonly traceLine: string, readonly reason: string) {
    super(reason);
    this.name = 'BatchDeferred';
  }
}

/**
 * The requests of one batch (WriteContext.request): each takes a permit from the credential's
 * budget, counts its API calls, and gives the permit back with its outcome. A 429 is waited out
 * and the same request sent again (a 429 says it was not applied), without spending an attempt,
 * up to the batch's limits of waiting; past them the batch is deferred (BatchDeferred).
 *
 * A write's first request waits on the stop signal and stops at a daily quota's reserve;
 * once a request of the write has been answered, the rest finish what it began (a Bulk job's
 * polls, a mirror's upsert after its archive) unless requests in flight are cut.
 */
export class BatchRequests {
  private throttleWait = 0;
  private begun = false;
  private retrying = false;
  /** Some request of the batch was sent again: its trace lines say "retry". */
  private retried = false;

  constructor(private readonly s: RequestSettings, private readonly label: string) {}

  /** The batch's name in the trace: `batch 3`, or `batch 3 retry` once something was sent again. */
  get name(): string {
    return this.retried ? `${this.label} retry` : this.label;
  }

  /** A write of the batch starts; `again`: after a failed one. */
  newWrite(again: boolean): void {
    this.begun = false;
    if (again) this.retrying = this.retried = true;
  }

  async request<T>(send: (call: () => void) => Promise<T>): Promise<T> {
    const { budget, counters } = this.s;
    for (;;) {
      const permit = await budget.acquire(this.begun ? this.s.writeSignal : this.s.stopSignal, { finishing: this.begun });
      counters.requests++;
      if (this.retrying) counters.retries++;
      this.retrying = false;
      let calls = 0;
      const call = () => {
        calls++;
        counters.apiCalls++;
      };
      try {
        const answer = await send(call);
        permit.release('success');
        this.begun = true;
        return answer;
      } catch (thrown) {
        const err = classify(thrown);
        if (err && STOPPING.has(err.kind)) this.s.halt(err); // before the slot is handed on
        permit.release(err?.kind === 'rate_limited' ? 'throttled' : 'failed');
        if (err?.kind !== 'rate_limited') {
          this.begun = true;
          throw thrown;
        }
        this.throttled(err);
      } finally {
        if (calls === 0) counters.apiCalls++;
      }
    }
  }

  /** The destination answered 429: waits at the next acquire, or throws BatchDeferred past the limits. */
  throttled(err: SyncError): void {
    const { budget, counters, trace } = this.s;
    counters.throttled++;
    if (err.retryAfterMs !== undefined && err.retryAfterMs > this.s.maxRetryAfterMs) {
      const asked = `asked to wait ${seconds(err.retryAfterMs)} (Retry-After), past the cap of ${seconds(this.s.maxRetryAfterMs)} (rateLimit.maxRetryAfter)`;
      this.s.halt(new SyncError('unavailable', `${describe(err)}: ${asked}`, { code: err.code, status: err.status, category: 'rate_limit' }));
      throw new BatchDeferred(`${this.name}: ${describe(err)}, ${asked}`, `the destination ${asked}`);
    }
    const wait = budget.throttled(err.retryAfterMs);
    if (this.throttleWait + wait > this.s.maxThrottleWaitMs) {
      throw new BatchDeferred(`${this.name}: ${describe(err)}, asked to wait ${wait} ms: over the limit of ${this.s.maxThrottleWaitMs} ms of waiting`,
        `still rate limited after waiting ${seconds(this.throttleWait)}: ${err.message}`);
    }
    this.throttleWait += wait;
    trace.line(`${this.name}: ${describe(err)}, retry in ${wait} ms`, 'throttled');
    this.retrying = this.retried = true;
  }
}
