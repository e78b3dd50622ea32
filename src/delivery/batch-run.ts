import { STATUS_CODES } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Change, Destination, Operation, RecordResult, Rejection } from '../destinations/destination.ts';
import { SyncError } from '../errors.ts';
import { mayHaveApplied, unsafeToRetry } from './ambiguity.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import type { Bisection } from './bisection.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { Outcome } from './outcome.ts';
import type { RateBudget } from './rate-budget.ts';
import type { TraceLog } from './trace-log.ts';

/**
 * One batch from first request to an outcome for every record: retries with backoff
 * (transient), waits without spending attempts (429), splits in halves to isolate the rows
 * that make the destination refuse the whole request (terminal), defers what it cannot settle
 * now, and stops the delivery on config, quota or an unavailable destination.
 */
export interface BatchRunSettings {
  destination: Destination;
  budget: RateBudget;
  /** Aborted when the delivery stops: no new request, no more waiting. */
  stopSignal: AbortSignal;
  /** Handed to write(): aborted only when requests in flight must be cut short. */
  writeSignal: AbortSignal;
  maxAttempts: number;
  /** Longest total wait for 429s on one request before its records are deferred. */
  maxThrottleWaitMs: number;
  /** Longest single wait a Retry-After may impose; past it the delivery stops. */
  maxRetryAfterMs: number;
  backoff: BackoffPolicy;
  trace: TraceLog;
  breaker: CircuitBreaker;
  bisection: Bisection;
  /** Operations a retry cannot apply twice at this destination (see ambiguity.ts). */
  retrySafe: readonly Operation[];
  /** Gives rows the split pool could not isolate back to the queue; false if they were given back before. */
  requeue(records: Change[]): boolean;
  /** Random per delivery: with a batch's label, the batchId its retries share. */
  deliveryId: string;
  /** Stops the delivery now (config, quota, unavailable), before another request can take this one's slot. */
  halt(err: SyncError): void;
  counters: { requests: number; apiCalls: number; retries: number; throttled: number };
}

/** Errors thrown by drivers that mean "try again": the connection, not the request, failed. */
const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/** Kinds that stop the whole delivery. */
const STOPPING = new Set(['config', 'quota', 'unavailable']);

export class BatchRun {
  /** Records with an outcome so far, and their outcomes (same order). */
  readonly settled: Change[] = [];
  readonly results: Outcome[] = [];
  /** Rows given back to the queue (they settle in a later batch). */
  handedBack = 0;
  /** Rows isolated by splitting and refused for good. */
  refusedAlone = 0;

  constructor(private readonly s: BatchRunSettings) {}

  count(outcome: Outcome['outcome']): number {
    return this.results.filter((r) => r.outcome === outcome).length;
  }

  /** Settles `records`; throws the stop reason, a stopping SyncError, or an unexpected error. */
  async run(records: Change[], label: string): Promise<void> {
    const refused = await this.send(records, label);
    if (refused) await this.split(records, label, refused);
  }

  /** Sends until the records are settled; answers the terminal error to split on, if any. */
  private async send(records: Change[], label: string): Promise<SyncError | undefined> {
    const { destination, budget, counters, trace } = this.s;
    let failures = 0;
    let throttleWait = 0;
    let retry = false;
    for (;;) {
      const permit = await budget.acquire(this.s.stopSignal);
      counters.requests++;
      if (retry) counters.retries++;
      const name = retry ? `${label} retry` : label;
      let status: number | undefined;
      try {
        const results = await destination.write(records, {
          signal: this.s.writeSignal,
          apiCall: () => void counters.apiCalls++,
          observeLimits: (o) => budget.observe(o),
          trace: (text) => trace.line(`${label}: ${text}`),
          status: (code) => void (status = code),
          batchId: `${this.s.deliveryId}:${label}`,
        });
        permit.release('success');
        this.s.breaker.success();
        const rejected = this.complete(records, results);
        const note = rejected === 0 ? `[${records.length}]` : `[${records.length - rejected} delivered, ${rejected} rejected]`;
        trace.line(`${name}: ${status ? statusText(status) : 'OK'} ${note}`, rejected === 0 ? 'ok' : 'rejected');
        return undefined;
      } catch (thrown) {
        if (this.s.writeSignal.aborted || this.s.stopSignal.aborted && isAbort(thrown)) {
          permit.release('failed');
          throw this.s.stopSignal.aborted ? this.s.stopSignal.reason : thrown;
        }
        const err = classify(thrown);
        if (err && STOPPING.has(err.kind)) this.s.halt(err);
        permit.release(err?.kind === 'rate_limited' ? 'throttled' : 'failed');
        if (!err) throw thrown;
        switch (err.kind) {
          case 'rate_limited': {
            counters.throttled++;
            if (err.retryAfterMs !== undefined && err.retryAfterMs > this.s.maxRetryAfterMs) {
              const asked = `asked to wait ${seconds(err.retryAfterMs)} (Retry-After), past the cap of ${seconds(this.s.maxRetryAfterMs)} (rateLimit.maxRetryAfter)`;
              this.s.halt(new SyncError('unavailable', `${describe(err)}: ${asked}`, { code: err.code, status: err.status, category: 'rate_limit' }));
              return this.deferAll(records, `${name}: ${describe(err)}, ${asked} [${records.length} deferred to the next run]`, `the destination ${asked}`);
            }
            const wait = budget.throttled(err.retryAfterMs);
            if (throttleWait + wait > this.s.maxThrottleWaitMs) {
              return this.deferAll(records, `${name}: ${describe(err)}, asked to wait ${wait} ms: over the limit of ${this.s.maxThrottleWaitMs} ms of waiting [${records.length} deferred to the next run]`,
                `still rate limited after waiting ${seconds(throttleWait)}: ${err.message}`);
            }
            throttleWait += wait;
            trace.line(`${name}: ${describe(err)}, retry in ${wait} ms`, 'throttled');
            retry = true;
            continue; // acquire() waits out the pause; no attempt spent
          }
          case 'transient': {
            failures++;
            const open = this.s.breaker.failure(err);
            if (open) {
              this.s.halt(new SyncError('unavailable', `circuit open: ${open} (last: ${err.message})`, { code: err.code, status: err.status }));
              return this.deferAll(records, `${name}: ${describe(err)}; circuit open: ${open} [${records.length} deferred to the next run]`, `circuit open: ${open}`);
            }
            const unsafe = mayHaveApplied(err) ? unsafeToRetry(records, this.s.retrySafe) : undefined;
            if (unsafe) {
              return this.deferAll(records,
                `${name}: ${describe(err)}; the destination may have applied this ${unsafe} already, and a retry could apply it twice: not retried [${records.length} deferred to the next run]`,
                `${err.message}; the destination may have applied this ${unsafe}: not retried in this run, to avoid writing it twice`);
            }
            if (failures >= this.s.maxAttempts) {
              return this.deferAll(records, `${name}: ${describe(err)}, gave up after ${failures} attempts [${records.length} deferred to the next run]`,
                `gave up after ${failures} attempts: ${err.message}`);
            }
            const wait = backoffDelay(failures - 1, this.s.backoff);
            trace.line(`${name}: ${describe(err)}, retry in ${wait} ms (attempt ${failures + 1} of ${this.s.maxAttempts})`, 'retried');
            await sleep(wait, undefined, { signal: this.s.stopSignal });
            retry = true;
            continue;
          }
          case 'terminal':
            return err;
          default: // config, quota, unavailable: the run stops
            trace.always(`${name}: ${describe(err)}: ${err.message}`);
            throw err;
        }
      }
    }
  }

  private async split(records: Change[], label: string, err: SyncError): Promise<void> {
    const { trace, bisection } = this.s;
    if (records.length === 1) {
      trace.line(`${label}: ${describe(err)} [1 rejected: ${truncate(err.message, 160)}]`, 'rejected');
      this.refusedAlone++;
      bisection.found();
      this.rejectAll(records, { category: err.category ?? 'destination_error', code: err.code ?? statusCode(err),
        field: err.field, message: err.message, retryable: false });
      return;
    }
    if (!bisection.takeSplit()) {
      if (this.s.requeue(records)) {
        this.handedBack += records.length;
        trace.line(`${label}: ${describe(err)}, split budget used up [${records.length} back to the queue, to go out in smaller batches]`, 'split');
        return;
      }
      this.deferAll(records, `${label}: ${describe(err)}, split budget used up [${records.length} deferred to the next run]`,
        `the destination refused a batch holding this row (${err.message}); the rows at fault could not be isolated within the split budget`);
      return;
    }
    const half = Math.ceil(records.length / 2);
    const [left, right] = [records.slice(0, half), records.slice(half)];
    trace.line(`${label}: ${describe(err)} (${truncate(err.message, 120)}), splitting into ${left.length} + ${right.length}`, 'split');
    await this.run(left, `${label}.1`);
    await this.run(right, `${label}.2`);
  }

  /** Records every result; a record without one is a destination bug: deferred to the next run. */
  private complete(records: Change[], results: RecordResult[]): number {
    const byKey = new Map(results.map((r) => [r.key, r]));
    let rejected = 0;
    for (const record of records) {
      const result: Outcome = byKey.get(record.key) ?? {
        key: record.key, outcome: 'deferred',
        reason: `destination "${this.s.destination.name}" returned no result for this record (a bug in the destination)`,
      };
      if (result.outcome === 'rejected') rejected++;
      this.settled.push(record);
      this.results.push(result);
    }
    return rejected;
  }

  private rejectAll(records: Change[], rejection: Rejection): void {
    for (const record of records) {
      this.settled.push(record);
      this.results.push({ key: record.key, outcome: 'rejected', rejection: stripUndefined(rejection) });
    }
  }

  private deferAll(records: Change[], traceLine: string, reason: string): undefined {
    this.s.trace.line(traceLine, 'deferred');
    for (const record of records) {
      this.settled.push(record);
      this.results.push({ key: record.key, outcome: 'deferred', reason });
    }
    return undefined;
  }
}

function classify(err: unknown): SyncError | undefined {
  if (err instanceof SyncError) return err;
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  if ((code && NETWORK_CODES.has(code)) || e?.name === 'TimeoutError') {
    return new SyncError('transient', e?.message ?? String(err), { code: code ?? 'TIMEOUT', cause: err });
  }
  return undefined;
}

function isAbort(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === 'AbortError';
}

export function statusText(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? ''}`.trim();
}

function describe(err: SyncError): string {
  if (err.status) return statusText(err.status);
  return err.code ?? err.kind;
}

function statusCode(err: SyncError): string | undefined {
  return err.status === undefined ? undefined : String(err.status);
}

function seconds(ms: number): string {
  return ms >= 86_400_000 * 365 ? `${Math.round(ms / (86_400_000 * 365))} years` : `${Math.round(ms / 1000).toLocaleString('en-US')} s`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
