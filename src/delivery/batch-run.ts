import { setTimeout as sleep } from 'node:timers/promises';
import type { Change, Destination, Operation, RecordResult, Rejection, SplitBudget, WriteContext } from '../destinations/destination.ts';
import { SyncError } from '../errors.ts';
import { mayHaveApplied, unsafeToRetry } from './ambiguity.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import { BatchDeferred, BatchRequests, type RequestSettings } from './batch-requests.ts';
import type { Bisection } from './bisection.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import { classify, describe, isAbort, statusText } from './failures.ts';
import type { Outcome } from './outcome.ts';
import { inspectWrite } from './inspect-write.ts';

/**
 * One batch from first request to an outcome for every record: every request its writes send
 * takes a permit from the credential's budget, and 429s are waited out without spending attempts
 * (BatchRequests); a write that fails is retried with backoff (transient), split in halves to
 * isolate the rows that make the destination refuse the whole request (terminal), deferred when
 * it cannot be settled now, and a config, quota or unavailable error stops the delivery.
 */
export interface BatchRunSettings extends RequestSettings {
  destination: Destination;
  maxAttempts: number;
  backoff: BackoffPolicy;
  breaker: CircuitBreaker;
  bisection: Bisection;
  /** Operations a retry cannot apply twice at this destination (see ambiguity.ts). */
  retrySafe: readonly Operation[];
  /** Gives rows the split pool could not isolate back to the queue; false if they were given back before. */
  requeue(records: Change[]): boolean;
  /** Random per delivery: with a batch's label, the batchId its retries share. */
  deliveryId: string;
}

export class BatchRun {
  /** Records with an outcome so far, and their outcomes (same order). */
  readonly settled: Change[] = [];
  readonly results: Outcome[] = [];
  /** Rows given back to the queue (they settle in a later batch). */
  handedBack = 0;
  /** Rows isolated by splitting and refused for good (by the engine, or by a destination that splits itself). */
  refusedAlone = 0;
  /** The delivery's split budget as writes see it (WriteContext.splits). */
  private readonly splits: SplitBudget = {
    takeSplit: () => this.s.bisection.takeSplit(),
    found: () => {
      this.refusedAlone++;
      this.s.bisection.found();
    },
  };

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
    const { destination, budget, trace } = this.s;
    const requests = new BatchRequests(this.s, label);
    let failures = 0;
    for (let again = false; ; again = true) {
      let status: number | undefined;
      requests.newWrite(again);
      const ctx: WriteContext = {
        signal: this.s.writeSignal,
        request: (send) => requests.request(send),
        observeLimits: (o) => budget.observe(o),
        splits: this.splits,
        batchId: `${this.s.deliveryId}:${label}`,
        trace: (text) => trace.line(`${label}: ${text}`),
        status: (code) => void (status = code),
      };
      try {
        const results = await inspectWrite(destination, records, () => destination.write(records, ctx));
        this.s.breaker.success();
        const rejected = this.complete(records, results);
        const note = rejected === 0 ? `[${records.length}]` : `[${records.length - rejected} delivered, ${rejected} rejected]`;
        trace.line(`${requests.name}: ${status ? statusText(status) : 'OK'} ${note}`, rejected === 0 ? 'ok' : 'rejected');
        return undefined;
      } catch (thrown) {
        if (thrown instanceof BatchDeferred) return this.deferAll(records, thrown.traceLine, thrown.reason);
        const { stopSignal, writeSignal } = this.s;
        if (writeSignal.aborted || (stopSignal.aborted && (isAbort(thrown) || thrown === stopSignal.reason))) {
          throw stopSignal.aborted ? stopSignal.reason : thrown;
        }
        const err = classify(thrown);
        if (!err) throw thrown;
        const name = requests.name;
        switch (err.kind) {
          case 'rate_limited': // thrown outside a request: the whole write waits and goes again
            try {
              requests.throttled(err);
            } catch (deferred) {
              if (deferred instanceof BatchDeferred) return this.deferAll(records, deferred.traceLine, deferred.reason);
              throw deferred;
            }
            continue;
          case 'transient': {
            failures++;
            const open = this.s.breaker.failure(err);
            if (open) {
              this.s.halt(new SyncError('unavailable', `circuit open: ${open} (last: ${err.message})`, { code: err.code, status: err.status }));
              return this.deferAll(records, `${name}: ${describe(err)}; circuit open: ${open}`, `circuit open: ${open}`);
            }
            const unsafe = mayHaveApplied(err) ? unsafeToRetry(records, this.s.retrySafe) : undefined;
            if (unsafe) {
              return this.deferAll(records,
                `${name}: ${describe(err)}; the destination may have applied this ${unsafe} already, and a retry could apply it twice: not retried`,
                `${err.message}; the destination may have applied this ${unsafe}: not retried in this run, to avoid writing it twice`);
            }
            if (failures >= this.s.maxAttempts) {
              return this.deferAll(records, `${name}: ${describe(err)}, gave up after ${failures} attempts`, `gave up after ${failures} attempts: ${err.message}`);
            }
            const wait = backoffDelay(failures - 1, this.s.backoff);
            trace.line(`${name}: ${describe(err)}, retry in ${wait} ms (attempt ${failures + 1} of ${this.s.maxAttempts})`, 'retried');
            await sleep(wait, undefined, { signal: this.s.stopSignal });
            continue;
          }
          case 'terminal':
            return err;
          default: // config, quota, unavailable: the run stops
            this.s.halt(err);
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
      this.splits.found();
      this.rejectAll(records, { category: err.category ?? 'destination_error', code: err.code ?? statusCode(err),
        field: err.field, message: err.message, retryable: false });
      return;
    }
    if (!this.splits.takeSplit()) {
      if (this.s.requeue(records)) {
        this.handedBack += records.length;
        trace.line(`${label}: ${describe(err)}, split budget used up [${records.length} back to the queue, to go out in smaller batches]`, 'split');
        return;
      }
      this.deferAll(records, `${label}: ${describe(err)}, split budget used up`,
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
    this.s.trace.line(`${traceLine} [${records.length} deferred to the next run]`, 'deferred');
    for (const record of records) {
      this.settled.push(record);
      this.results.push({ key: record.key, outcome: 'deferred', reason });
    }
    return undefined;
  }
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
