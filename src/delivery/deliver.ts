import { randomUUID } from 'node:crypto';
import type { Change, Destination } from '../destinations/destination.ts';
import { RunError, SyncError } from '../errors.ts';
import { NATURALLY_IDEMPOTENT } from './ambiguity.ts';
import { DEFAULT_BACKOFF } from './backoff.ts';
import { BatchRun } from './batch-run.ts';
import { Bisection } from './bisection.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import type { Outcome } from './outcome.ts';
import { budgetLimits } from './budget-limits.ts';
import { budgetFor } from './budgets.ts';
import { rebatch } from './rebatch.ts';
import { TraceLog } from './trace-log.ts';

/**
 * Delivers a stream of changes through a destination at the rate it allows, and gives
 * every record an outcome: delivered, rejected, or deferred to the next run.
 *
 * Batches are pulled only when a slot is free (memory: about `concurrency + 1` batches);
 * every request their writes send takes a permit from the credential's shared budget
 * (concurrency, rate, reported limits). BatchRun retries, throttles and splits them, and they
 * are handed to `onSettled` as they finish (several may be settling at once; a batch holds
 * its slot until its own settle resolves). A config,
 * quota or unavailable error, an abort, or a failing `onSettled` stops the delivery: nothing
 * new is sent, requests in flight finish and settle, then it throws. `counters` holds the
 * counts either way.
 */
export interface DeliveryOptions {
  destination: Destination;
  batchSize: number;                          // clamped to destination.capabilities.maxBatchSize
  rateLimit?: { requestsPerSecond?: number; concurrency?: number; maxRetryAfter?: number };  // from config; else what the destination reports or documents; else adaptive
  signal: AbortSignal;
  maxAttempts?: number;                       // transient retries per request (default 6); 429s don't spend attempts
  /** Filled as the delivery goes, so a stopped delivery's counts are known too. */
  counters?: DeliveryStats;
}

export interface DeliveryHooks<C extends Change = Change> {
  /**
   * These records have their outcomes (`outcomes[i]` is `batch[i]`'s; records are the objects the
   * stream gave). Awaited: the engine commits state here, and a batch counts as done only after it resolves.
   */
  onSettled(batch: C[], outcomes: Outcome[]): Promise<void>;
  /** A human-readable line for step 3 of the run trace, e.g. "batch 3: 429 Too Many Requests, retry in 5000 ms". */
  trace(text: string): void;
  onProgress?(stats: DeliveryStats): void;
}

export interface DeliveryStats {
  requests: number; apiCalls: number; retries: number; throttled: number; batches: number;
  delivered: number; rejected: number;
  /** Rows not settled: deferred by a batch, or never sent because the delivery stopped. */
  deferred: number;
  /** Requests spent isolating rows of batches refused whole. */
  splitCalls: number;
}

export function emptyStats(): DeliveryStats {
  return { requests: 0, apiCalls: 0, retries: 0, throttled: 0, batches: 0, delivered: 0, rejected: 0, deferred: 0, splitCalls: 0 };
}

export const DEFAULT_MAX_ATTEMPTS = 6;
/** Total 429 waiting one request accepts before its rows are deferred to the next run. */
export const MAX_THROTTLE_WAIT_MS = 10 * 60_000;
/** Longest single Retry-After accepted unless the destination's rateLimit.maxRetryAfter says otherwise. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;
/** After an abort, requests in flight get this long to answer before they are cut. */
export const ABORT_GRACE_MS = 10_000;
/** Counting the rows not yet read, for the stop message, takes at most this long. */
const COUNT_REST_MS = 2_000;

export async function deliver<C extends Change>(changes: AsyncIterable<C[]>, options: DeliveryOptions, hooks: DeliveryHooks<C>): Promise<DeliveryStats> {
  const { destination, signal } = options;
  const caps = destination.capabilities;
  const { budget, release } = budgetFor(destination.budgetKey, budgetLimits(destination, options.rateLimit));
  const seen = destination.lastObservedLimits?.();
  if (seen) budget.observe(seen); // a quota found nearly used by check() stops the run before its first request
  const stats = Object.assign(options.counters ?? emptyStats(), emptyStats());
  const trace = new TraceLog((text) => hooks.trace(text));
  const bisection = new Bisection(Math.max(1, Math.min(Math.floor(options.batchSize), caps.maxBatchSize)));
  const breaker = new CircuitBreaker();
  const requeued: C[] = [];
  const givenBack = new Set<string>();
  const deliveryId = randomUUID();

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
  const settle = (batch: C[], outcomes: Outcome[]) => {
    if (batch.length === 0) return Promise.resolve();
    const done = (async () => {
      try {
        await hooks.onSettled(batch, outcomes);
      } catch (err) {
        unsettled += batch.length; // not committed: they wait for the next run
        stopWith(err);
        return;
      }
      for (const r of outcomes) stats[r.outcome]++;
      hooks.onProgress?.({ ...stats });
    })();
    settling.add(done);
    void done.finally(() => settling.delete(done));
    return done;
  };

  const runBatch = async (records: C[], n: number, firstTime: boolean) => {
    bisection.admit(records.length);
    const run = new BatchRun({
      destination, budget, stopSignal: stop.signal, writeSignal: cut.signal,
      maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, maxThrottleWaitMs: MAX_THROTTLE_WAIT_MS,
      maxRetryAfterMs: options.rateLimit?.maxRetryAfter ?? DEFAULT_MAX_RETRY_AFTER_MS,
      backoff: DEFAULT_BACKOFF, trace, deliveryId, counters: stats, halt: stopWith, breaker, bisection,
      retrySafe: caps.retrySafe ?? NATURALLY_IDEMPOTENT,
      requeue: (rows) => {
        if (rows.some((r) => givenBack.has(r.key))) return false;
        for (const r of rows) givenBack.add(r.key);
        requeued.push(...(rows as C[]));
        return true;
      },
    });
    try {
      await run.run(records, `batch ${n}`);
    } catch (err) {
      if (!stop.signal.aborted || !isStopEcho(err, stop.signal)) stopWith(describeFailure(err, destination, n));
    }
    stats.splitCalls = bisection.splitCalls;
    unsettled += records.length - run.settled.length - run.handedBack;
    if (run.settled.length === records.length) stats.batches++;
    if (firstTime) resize(() => bisection.observe(records.length - run.handedBack, run.refusedAlone));
    trace.batchSettled(n, run.count('delivered'), run.count('rejected'), run.count('deferred'));
    await settle(run.settled as C[], run.results);
  };

  /** Says so in the trace when refusals make batches smaller (or let them grow back). */
  const resize = (change: () => void) => {
    const before = bisection.batchSize;
    change();
    const after = bisection.batchSize;
    if (after !== before) trace.line(`batches now carry ${fmt(after)} rows: about 1 row in ${fmt(after)} makes the destination refuse its whole batch`, 'split');
  };

  const batches = rebatch(changes, () => bisection.batchSize)[Symbol.asyncIterator]();
  const active = new Set<Promise<void>>();
  let batchNumber = 0;
  let sourceDone = false;
  let sourceFailed = false;
  try {
    for (;;) {
      if (stop.signal.aborted) break;
      if (active.size > budget.concurrency) {
        await Promise.race(active);
        continue;
      }
      let batch: C[] | undefined;
      let firstTime = true;
      if (requeued.length) {
        batch = requeued.splice(0, bisection.batchSize);
        firstTime = false;
      } else if (!sourceDone) {
        const next = await batches.next();
        if (next.done) sourceDone = true;
        else batch = next.value;
      }
      if (!batch) {
        if (active.size === 0) break;
        await Promise.race(active); // a batch in flight may still give rows back
        continue;
      }
      if (stop.signal.aborted) {
        unsettled += batch.length;
        break;
      }
      const n = ++batchNumber;
      const p: Promise<void> = runBatch(batch, n, firstTime).finally(() => active.delete(p));
      active.add(p);
    }
  } catch (err) {
    sourceFailed = true;
    stopWith(err); // the source of changes failed
  }
  await Promise.all(active);
  await Promise.all(settling);
  unsettled += requeued.splice(0).length;
  clearTimeout(graceTimer);
  signal.removeEventListener('abort', onAbort);
  release();
  trace.flush();

  const splits = stats.splitCalls ? ` (${fmt(stats.splitCalls)} to isolate refused rows)` : '';
  const totals = `delivered ${fmt(stats.delivered)}, rejected ${fmt(stats.rejected)}${stats.deferred ? `, deferred ${fmt(stats.deferred)}` : ''} in ${fmt(stats.batches)} batches: ` +
    `${fmt(stats.requests)} requests${splits}, ${fmt(stats.retries)} retries, ${fmt(stats.throttled)} throttled`;
  if (stopError === undefined) {
    trace.always(totals);
    return stats;
  }
  stats.deferred += unsettled;
  const notRead = sourceDone ? 0 : sourceFailed ? 'unknown' : await countRest(batches);
  if (notRead !== 'unknown') stats.deferred += notRead;
  const waiting = notRead === 'unknown' ? `${fmt(stats.deferred)} rows sent or read and the rows not yet read` : `${fmt(stats.deferred)} rows`;
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
