import { STATUS_CODES } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Change, Destination, RecordResult, Rejection } from '../destinations/destination.ts';
import { SyncError } from '../errors.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import type { RateBudget } from './rate-budget.ts';
import type { TraceLog } from './trace-log.ts';

/**
 * One batch from first request to a final outcome for every record: retries with backoff
 * (transient), waits without spending attempts (429), splits in halves to isolate the rows
 * that make the destination refuse the whole request (terminal), and stops on config/quota.
 */
export interface BatchRunSettings {
  destination: Destination;
  budget: RateBudget;
  /** Aborted when the delivery stops: no new request, no more waiting. */
  stopSignal: AbortSignal;
  /** Handed to write(): aborted only when requests in flight must be cut short. */
  writeSignal: AbortSignal;
  maxAttempts: number;
  /** Longest total wait for 429s on one request before its records are rejected (rate_limit). */
  maxThrottleWaitMs: number;
  backoff: BackoffPolicy;
  trace: TraceLog;
  /** Stops the delivery now (config, quota), before another request can take this one's slot. */
  halt(err: SyncError): void;
  counters: { requests: number; apiCalls: number; retries: number; throttled: number };
}

/** Errors thrown by drivers that mean "try again": the connection, not the request, failed. */
const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/** Extra requests one batch may spend on splitting: enough to isolate two bad rows fully. */
export function splitBudget(size: number): number {
  return 4 * Math.ceil(Math.log2(Math.max(2, size)));
}

export class BatchRun {
  /** Records with a final outcome so far, and their results (same order). */
  readonly settled: Change[] = [];
  readonly results: RecordResult[] = [];
  private splitCallsLeft: number;

  constructor(private readonly s: BatchRunSettings, size: number) {
    this.splitCallsLeft = splitBudget(size);
  }

  get delivered(): number {
    return this.results.filter((r) => r.outcome === 'delivered').length;
  }

  /** Settles `records`; throws the stop reason, a config/quota SyncError, or an unexpected error. */
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
        });
        permit.release('success');
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
        if (err?.kind === 'config' || err?.kind === 'quota') this.s.halt(err);
        permit.release(err?.kind === 'rate_limited' ? 'throttled' : 'failed');
        if (!err) throw thrown;
        switch (err.kind) {
          case 'rate_limited': {
            counters.throttled++;
            const wait = budget.throttled(err.retryAfterMs);
            if (throttleWait + wait > this.s.maxThrottleWaitMs) {
              trace.line(`${name}: ${describe(err)}, asked to wait ${wait} ms: over the limit of ${this.s.maxThrottleWaitMs} ms of waiting, rows rejected for the next run`, 'rejected');
              this.rejectAll(records, { category: 'rate_limit', code: err.code, retryable: true,
                message: `still rate limited after waiting ${Math.round(throttleWait / 1000)} s: ${err.message}` });
              return undefined;
            }
            throttleWait += wait;
            trace.line(`${name}: ${describe(err)}, retry in ${wait} ms`, 'throttled');
            retry = true;
            continue; // acquire() waits out the pause; no attempt spent
          }
          case 'transient': {
            failures++;
            if (failures >= this.s.maxAttempts) {
              trace.line(`${name}: ${describe(err)}, gave up after ${failures} attempts [${records.length} rejected for the next run]`, 'rejected');
              this.rejectAll(records, { category: err.category ?? 'destination_error', code: err.code ?? statusCode(err), field: err.field,
                retryable: true, message: `gave up after ${failures} attempts: ${err.message}` });
              return undefined;
            }
            const wait = backoffDelay(failures - 1, this.s.backoff);
            trace.line(`${name}: ${describe(err)}, retry in ${wait} ms (attempt ${failures + 1} of ${this.s.maxAttempts})`, 'retried');
            await sleep(wait, undefined, { signal: this.s.stopSignal });
            retry = true;
            continue;
          }
          case 'terminal':
            return err;
          default: // config, quota: the run stops
            trace.always(`${name}: ${describe(err)}: ${err.message}`);
            throw err;
        }
      }
    }
  }

  private async split(records: Change[], label: string, err: SyncError): Promise<void> {
    const { trace } = this.s;
    if (records.length === 1) {
      trace.line(`${label}: ${describe(err)} [1 rejected: ${truncate(err.message, 160)}]`, 'rejected');
      this.rejectAll(records, { category: err.category ?? 'destination_error', code: err.code ?? statusCode(err),
        field: err.field, message: err.message, retryable: false });
      return;
    }
    if (this.splitCallsLeft < 2) {
      trace.line(`${label}: ${describe(err)}, split limit reached [${records.length} rejected for the next run]`, 'rejected');
      this.rejectAll(records, { category: 'destination_error', code: err.code ?? statusCode(err), retryable: true,
        message: `the destination refused a batch holding this row (${err.message}); the rows at fault could not be isolated within the split limit, so this row is retried next run` });
      return;
    }
    this.splitCallsLeft -= 2;
    const half = Math.ceil(records.length / 2);
    const [left, right] = [records.slice(0, half), records.slice(half)];
    trace.line(`${label}: ${describe(err)} (${truncate(err.message, 120)}), splitting into ${left.length} + ${right.length}`, 'split');
    await this.run(left, `${label}.1`);
    await this.run(right, `${label}.2`);
  }

  /** Records every result; a record without one is a destination bug, rejected for a retry. */
  private complete(records: Change[], results: RecordResult[]): number {
    const byKey = new Map(results.map((r) => [r.key, r]));
    let rejected = 0;
    for (const record of records) {
      const result = byKey.get(record.key) ?? {
        key: record.key, outcome: 'rejected' as const,
        rejection: { category: 'destination_error' as const, retryable: true,
          message: `destination "${this.s.destination.name}" returned no result for this record (a bug in the destination); it is retried next run` },
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

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
