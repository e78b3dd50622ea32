import type { Project } from '../config/project.ts';
import type { Destination } from '../destinations/destination.ts';
import { deliver, emptyStats } from '../delivery/deliver.ts';
import { outcomesOf } from '../engine/commit-outcomes.ts';
import { resolveSync } from '../engine/resolve-sync.ts';
import type { PendingChange } from '../engine/state-update.ts';
import { RunError, SyncError } from '../errors.ts';
import type { TraceLine } from '../state/run-record.ts';
import type { StateStore } from '../state/state-store.ts';
import { finalizeDistributedRun } from './finalize-distributed.ts';
import type { BatchJobData } from './queues.ts';
import type { BatchCounts, RunLedger, SettledBatchRow } from './run-ledger.ts';

export interface BatchContext {
  project: Project;
  store: StateStore;
  ledger: RunLedger;
  /** This worker's destination of a sync, opened and checked once. */
  destinationFor(sync: string, signal: AbortSignal): Promise<Destination>;
}

/** Trace lines of a batch that only restate its counts: the run's totals say it once. */
const TOTALS_LINE = /^delivered [\d,]+, rejected [\d,]+/;

/**
 * A batch job: delivers one batch of a run's changes through the shared rate budget, commits
 * state for what the destination settled, then settles the batch in the ledger (counts added
 * once, however often the job ran). The worker that settles a run's last batch finalizes it.
 * Answers the batch's counts, or 'skipped' (settled before, or its run is over).
 *
 * A destination that stops the delivery (daily quota, unavailable) leaves the batch's other
 * rows deferred to the next run; any other failure throws, and BullMQ tries the job again.
 */
export async function runBatchJob(ctx: BatchContext, job: BatchJobData, signal: AbortSignal): Promise<BatchCounts | 'skipped'> {
  const { project, store, ledger } = ctx;
  const run = await ledger.getRun(job.runId);
  if (!run || run.status !== 'pushing') return 'skipped';
  const changes = await ledger.readBatch(job.runId, job.batchNo);
  if (!changes) return 'skipped';
  const { sync, model, destinationConfig } = resolveSync(project, job.sync);
  const destination = await ctx.destinationFor(job.sync, signal);
  destination.planFor?.(run.summary.toSync);

  const counts: BatchCounts = { delivered: 0, rejected: 0, rejectedRetryable: 0, skipped: 0, apiCalls: 0, retries: 0, throttled: 0 };
  const trace: TraceLine[] = [];
  const stats = emptyStats();
  // With an event time or sync logs, the worker that diffed needs each settled row (engine/latency.ts, engine/warehouse-logs.ts).
  const settledRows: SettledBatchRow[] | undefined = model.eventTime || project.logs ? [] : undefined;
  const onSettled = async (batch: PendingChange[], outcomes: Parameters<typeof outcomesOf>[1]) => {
    const { updates, delivered, rejected } = outcomesOf(batch, outcomes);
    if (updates.length) await store.commitRows(sync.name, updates);
    const at = Date.now();
    settledRows?.push(...batch.map(({ key, op, eventAt }, i): SettledBatchRow => [key, op, outcomes[i]!.outcome, at, eventAt ?? null]));
    await store.addRejected(rejected.map(({ key, rejection }) => ({
      runId: job.runId, sync: sync.name, key, at: new Date().toISOString(), category: rejection.category, message: rejection.message,
      retryable: rejection.retryable, ...(rejection.code !== undefined ? { code: rejection.code } : {}), ...(rejection.field !== undefined ? { field: rejection.field } : {}),
    })));
    counts.delivered += delivered;
    counts.rejected += rejected.length;
    counts.rejectedRetryable += rejected.filter((r) => r.rejection.retryable).length;
  };
  try {
    await deliver(one(changes), {
      destination, batchSize: changes.length, rateLimit: destinationConfig.rateLimit, signal, counters: stats,
    }, {
      onSettled,
      trace: (text) => { if (!TOTALS_LINE.test(text)) trace.push({ at: new Date().toISOString(), step: 3, text: `batch ${job.batchNo}: ${text}` }); },
    });
  } catch (error) {
    const stopped = error instanceof SyncError && (error.kind === 'quota' || error.kind === 'unavailable') && !signal.aborted;
    if (!stopped) throw error instanceof Error ? error : new RunError(String(error));
  } finally {
    if (trace.length) await store.appendTrace(job.runId, trace);
  }
  Object.assign(counts, { apiCalls: stats.apiCalls, retries: stats.retries, throttled: stats.throttled });

  const settled = await ledger.settleBatch(job.runId, job.batchNo, counts, settledRows);
  if (!settled) return 'skipped';
  if (settled.totalBatches !== null && settled.settledBatches >= settled.totalBatches) {
    await finalizeDistributedRun(project, store, ledger, job.runId);
  }
  return counts;
}

async function* one(changes: PendingChange[]): AsyncIterable<PendingChange[]> {
  yield changes;
}
