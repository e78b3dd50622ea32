import type { Change, Destination, RecordResult } from '../destinations/destination.ts';
import { RunError, SyncError } from '../errors.ts';
import { DEFAULT_BACKOFF } from './backoff.ts';
import { BatchRun } from './batch-run.ts';
import { budgetFor } from './rate-budget.ts';
import { rebatch } from './rebatch.ts';
import { TraceLog } from './trace-log.ts';

/**
 * Delivers a stream of changes through a destination at the rate it allows, and gives
 * every record a final outcome (delivered or rejected) or leaves it for the next run.
 *
 * Batches are pulled only when a slot is free (memory: about `concurrency + 1` batches),
 * sent through the credential's shared budget (concurrency, rate, reported limits), retried,
 * throttled and split by BatchRun, and handed to `onSettled` as they finish (several may
 * be settling at once; a batch holds its slot until its own settle resolves). A 'config' or 'quota' error, an abort, or a failing `onSettled` stops the
 * delivery: nothing new is sent, requests in flight finish and settle, then it throws.
 */
export interface DeliveryOptions {
  destination: Destination;
  batchSize: number;                          // clamped to destination.capabilities.maxBatchSize
  rateLimit?: { requestsPerSecond?: number; concurrency?: number };  // from config; else what the destination reports or documents; else adaptive
  signal: AbortSignal;
  maxAttempts?: number;                       // transient retries per request (default 6); 429s don't spend attempts
}

export interface DeliveryHooks {
  /** All records of this batch have a final outcome (delivered / rejected). Awaited: the engine commits state here, and a batch counts as done only after it resolves. */
  onSettled(batch: Change[], results: RecordResult[]): Promise<void>;
  /** A human-readable line for step 3 of the run trace, e.g. "batch 3: 429 Too Many Requests, retry in 5000 ms". */
  trace(text: string): void;
  onProgress?(stats: DeliveryStats): void;
}

export interface DeliveryStats { requests: number; apiCalls: number; retries: number; throttled: number; delivered: number; rejected: number; batches: number }

export const DEFAULT_MAX_ATTEMPTS = 6;
/** Total 429 waiting one request accepts before its rows are rejected (retried next run). */
export const MAX_THROTTLE_WAIT_MS = 10 * 60_000;
/** After an abort, requests in flight get this long to answer before they are cut. */
export const ABORT_GRACE_MS = 10_000;
/** Counting the rows not yet read, for the stop message, takes at most this long. */
const COUNT_REST_MS = 2_000;

export async function deliver(changes: AsyncIterable<Change[]>, options: DeliveryOptions, hooks: DeliveryHooks): Promise<DeliveryStats> {
  const { destination, signal } = options;
  const caps = destination.capabilities;
  const batchSize = Math.max(1, Math.min(Math.floor(options.batchSize), caps.maxBatchSize));
  const declaredRate = caps.rateLimit?.requestsPerSecond;
  const { budget, release } = budgetFor(destination.budgetKey, {
    requestsPerSecond: options.rateLimit?.requestsPerSecond,
    concurrency: options.rateLimit?.concurrency ?? caps.rateLimit?.concurrency,
    declared: declaredRate === undefined ? undefined : { requestsPerSecond: declaredRate, windowMs: caps.rateLimit?.windowMs },
  });
  const stats: DeliveryStats = { requests: 0, apiCalls: 0, retries: 0, throttled: 0, delivered: 0, rejected: 0, batches: 0 };
  const trace = new TraceLog((text) => hooks.trace(text));

  const stop = new AbortController();
  const cut = new AbortController();
  let stopError: unknown;
  let graceTimer: NodeJS.Timeout | undefined;
  const stopWith = (err: unknown) => {
    if (stop.signal.aborted) return;
    stopError = err;
    stop.abort(err);
  };
  const onAbort = () => {
    stopWith(signal.reason ?? new Error('aborted'));
    graceTimer = setTimeout(() => cut.abort(signal.reason), ABORT_GRACE_MS);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });

  let unsettled = 0;
  // Batches settle concurrently, so commits that overlap can share one write and one fsync
  // (the state stores group them); every key is in one batch only, so order does not matter.
  const settling = new Set<Promise<void>>();
  const settle = (batch: Change[], results: RecordResult[]) => {
    if (batch.length === 0) return Promise.resolve();
    const done = (async () => {
      try {
        await hooks.onSettled(batch, results);
      } catch (err) {
        unsettled += batch.length; // not committed: they wait for the next run
        stopWith(err);
        return;
      }
      for (const r of results) r.outcome === 'delivered' ? stats.delivered++ : stats.rejected++;
      hooks.onProgress?.({ ...stats });
    })();
    settling.add(done);
    void done.finally(() => settling.delete(done));
    return done;
  };

  const runBatch = async (records: Change[], n: number) => {
    const run = new BatchRun({
      destination, budget, stopSignal: stop.signal, writeSignal: cut.signal,
      maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, maxThrottleWaitMs: MAX_THROTTLE_WAIT_MS,
      backoff: DEFAULT_BACKOFF, trace, counters: stats, halt: stopWith,
    }, records.length);
    try {
      await run.run(records, `batch ${n}`);
    } catch (err) {
      if (!stop.signal.aborted || !isStopEcho(err, stop.signal)) stopWith(describeFailure(err, destination, n));
    }
    unsettled += records.length - run.settled.length;
    if (run.settled.length === records.length) stats.batches++;
    trace.batchSettled(n, run.delivered, run.settled.length - run.delivered);
    await settle(run.settled, run.results);
  };

  const batches = rebatch(changes, batchSize)[Symbol.asyncIterator]();
  const active = new Set<Promise<void>>();
  let batchNumber = 0;
  let notRead: number | 'unknown' = 0;
  let sourceFailed = false;
  try {
    for (;;) {
      if (stop.signal.aborted) break;
      if (active.size > budget.concurrency) {
        await Promise.race(active);
        continue;
      }
      const next = await batches.next();
      if (next.done) break;
      if (stop.signal.aborted) {
        unsettled += next.value.length;
        break;
      }
      const n = ++batchNumber;
      const p: Promise<void> = runBatch(next.value, n).finally(() => active.delete(p));
      active.add(p);
    }
  } catch (err) {
    sourceFailed = true;
    stopWith(err); // the source of changes failed
  }
  await Promise.all(active);
  await Promise.all(settling);
  clearTimeout(graceTimer);
  signal.removeEventListener('abort', onAbort);
  release();
  trace.flush();

  if (stopError === undefined) {
    trace.always(`delivered ${fmt(stats.delivered)}, rejected ${fmt(stats.rejected)} in ${fmt(stats.batches)} batches: ${fmt(stats.requests)} requests, ${fmt(stats.retries)} retries, ${fmt(stats.throttled)} throttled`);
    return stats;
  }
  notRead = sourceFailed ? 'unknown' : await countRest(batches);
  const waiting = notRead === 'unknown' ? `${fmt(unsettled)} rows sent or read and the rows not yet read` : `${fmt(unsettled + notRead)} rows`;
  const err = stopMessage(stopError, destination, signal, `the run stopped, ${waiting} wait for the next run`);
  trace.always(`stopped: ${err.message}`);
  throw err;
}

/** A batch that ended because the delivery stopped (its sleep or acquire was aborted). */
function isStopEcho(err: unknown, stopSignal: AbortSignal): boolean {
  return err === stopSignal.reason || (err as { name?: string })?.name === 'AbortError';
}

function describeFailure(err: unknown, destination: Destination, batch: number): unknown {
  if (err instanceof SyncError || err instanceof RunError) return err;
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new RunError(`destination "${destination.name}" failed unexpectedly on batch ${batch} (${text})`, { cause: err });
}

function stopMessage(err: unknown, destination: Destination, signal: AbortSignal, tail: string): Error {
  const prefix = `destination "${destination.name}"`;
  if (err instanceof SyncError) {
    const head = err.message.includes(prefix) ? err.message : `${prefix}: ${err.message}`;
    return new SyncError(err.kind, `${head}; ${tail}`, {
      retryAfterMs: err.retryAfterMs, code: err.code, status: err.status, field: err.field, category: err.category, cause: err,
    });
  }
  if (signal.aborted && err === signal.reason) return new RunError(`${prefix}: delivery cancelled; ${tail}`, { cause: err });
  // Not the destination's: the source of changes or the state commit failed; their message says which.
  const message = err instanceof Error ? err.message : String(err);
  return new RunError(`${message}; ${tail}`, { cause: err });
}

/** Rows the delivery never read: counted for the stop message, within a time limit. */
async function countRest(batches: AsyncIterator<Change[]>): Promise<number | 'unknown'> {
  const deadline = Date.now() + COUNT_REST_MS;
  let rows = 0;
  try {
    for (;;) {
      if (Date.now() > deadline) return 'unknown';
      const next = await batches.next();
      if (next.done) return rows;
      rows += next.value.length;
    }
  } catch {
    return 'unknown';
  } finally {
    await batches.return?.().catch(() => undefined);
  }
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
