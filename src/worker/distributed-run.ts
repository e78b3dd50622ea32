import { setTimeout as sleep } from 'node:timers/promises';
import type { Project } from '../config/project.ts';
import { rebatch } from '../delivery/rebatch.ts';
import { changeStream, type LocalOutcomes } from '../engine/change-stream.ts';
import { messageOf, openDiffSession, type DiffSession } from '../engine/diff-session.ts';
import { measureLatency } from '../engine/latency.ts';
import { preflight } from '../engine/preflight.ts';
import { resolveSync } from '../engine/resolve-sync.ts';
import { RunRecorder } from '../engine/run-recorder.ts';
import { profileOf, recordDiff } from '../engine/run-sync.ts';
import { collectSyncLogs } from '../engine/warehouse-logs.ts';
import type { RunSummary } from '../state/run-record.ts';
import type { StateStore } from '../state/state-store.ts';
import { finalizeDistributedRun, summaryOf } from './finalize-distributed.ts';
import type { RunJobData } from './queues.ts';
import type { RunLedger } from './run-ledger.ts';

/**
 * Batches of one run written and not yet settled, at most: the diff waits for workers past it,
 * so a first sync of ten million rows never sits in Postgres (or Redis) all at once.
 */
export const BATCH_WINDOW = 64;
/** How often the worker that diffed looks whether its batches have settled. */
const POLL_MS = 100;

export interface RunContext {
  project: Project;
  store: StateStore;
  ledger: RunLedger;
  enqueueBatch(runId: string, batchNo: number): Promise<void>;
  /** Whether Redis still has the job of a batch not settled (a restarted Redis keeps none). */
  batchQueued(runId: string, batchNo: number): Promise<boolean>;
}

/** How often the worker that diffed checks that its unsettled batches are still queued. */
const QUEUED_CHECK_MS = 2_000;

/**
 * A run job: the one place a distributed run is diffed. Holds the sync's lock and the diff
 * for the whole run, writes the changes as batches (a bounded window ahead of the workers),
 * and answers the summary once the worker that settles the last batch has finalized the run.
 *
 * A run job that runs a second time (its worker was killed, BullMQ gave it to another) finds
 * the run begun: the run fails cleanly and the next run sends what this one did not.
 */
export async function runDistributed(ctx: RunContext, job: RunJobData, signal: AbortSignal): Promise<RunSummary> {
  const { project, store, ledger } = ctx;
  const begun = await ledger.getRun(job.runId);
  if (begun) return failBegunRun(ctx, job.runId, 'the worker that diffed it stopped (killed or lost) while its batches were out');
  const resolved = resolveSync(project, job.sync);
  const lock = await store.acquireLock(job.sync, job.runId);
  await store.abandonDeadRuns();
  const recorder = new RunRecorder(store, profileOf(undefined, resolved, { trigger: job.trigger, fullResync: job.fullResync }), job.sync, job.runId);
  const logs = collectSyncLogs(project, recorder, store);
  let session: DiffSession | undefined;
  let created = false;
  // Rows the workers settled reach this run's latency meter and sync logs, as in a run in one process.
  const takeSettled = async () => {
    if (!recorder.watchesRows) return;
    const rows = await ledger.takeSettled(job.runId);
    for (let i = 0, j = 0; i < rows.length; i = j) { // one call per time a worker settled rows
      while (j < rows.length && rows[j][3] === rows[i][3]) j++;
      recorder.rowsSettled(rows.slice(i, j).map(([key, op, outcome, , eventAt]) => ({ key, op, outcome, eventAt: eventAt ?? undefined })), rows[i][3]);
    }
  };
  try {
    await recorder.begin();
    if (job.fullResync) await store.forgetFingerprints(job.sync);
    session = await openDiffSession(project, store, resolved, {
      fullResync: job.fullResync, retryRejected: job.retryRejected, signal, describeDestination: true, persist: true,
    });
    recordDiff(recorder, session, resolved);
    measureLatency(session, resolved, recorder);
    recorder.enter('push');
    await preflight(session, resolved, recorder, signal);
    recorder.trace(3, `distributed: batches go to every worker on the queue (pid ${process.pid} diffed)`);
    await recorder.flushTrace();
    await recorder.save();
    await ledger.createRun({
      runId: job.runId, sync: job.sync, configVersion: job.configVersion, summary: { ...recorder.summary },
      profile: recorder.profile, highWaterMark: session.diff.highWaterMark,
    });
    created = true;

    // The run's progress, added up across workers, about once a second; the final summary once there is one.
    let savedAt = 0;
    let checkedAt = Date.now();
    const progress = async (): Promise<RunSummary | undefined> => {
      const run = await ledger.getRun(job.runId);
      if (run?.status === 'failed') throw new Error(`run ${job.runId} failed while its batches were out`);
      if (run?.status === 'pushing' && Date.now() - checkedAt > QUEUED_CHECK_MS) {
        checkedAt = Date.now();
        await checkQueued(ctx, job.runId);
      }
      await takeSettled();
      if (run?.final) return run.final;
      if (run && run.status === 'pushing' && Date.now() - savedAt > 1_000) {
        savedAt = Date.now();
        await store.saveRun({ summary: summaryOf(run), profile: recorder.profile });
      }
      return undefined;
    };
    const onLocal = async (local: LocalOutcomes) => {
      const updates = [...local.skipped, ...local.rejected.flatMap((row) => (row.update ? [row.update] : []))];
      if (updates.length) await store.commitRows(job.sync, updates);
      await store.addRejected(local.rejected.map(({ key, rejection }) => ({
        runId: job.runId, sync: job.sync, key, at: new Date().toISOString(), category: rejection.category, message: rejection.message,
        retryable: rejection.retryable, ...(rejection.code !== undefined ? { code: rejection.code } : {}), ...(rejection.field !== undefined ? { field: rejection.field } : {}),
      })));
      await ledger.addCounts(job.runId, {
        skipped: local.skipped.length, rejected: local.rejected.length, rejectedRetryable: local.rejected.filter((r) => r.rejection.retryable).length,
      });
    };
    const batchSize = Math.min(resolved.destinationConfig.batch?.size ?? session.destination.capabilities.maxBatchSize, session.destination.capabilities.maxBatchSize);
    let batches = 0;
    let room = 0; // batches that may be written before the window is asked again (settling only makes more)
    for await (const changes of rebatch(changeStream(session.diff, resolved.sync.mode, session.mapper, onLocal, signal), batchSize)) {
      while (room === 0 && (room = BATCH_WINDOW - (await ledger.pendingBatches(job.runId))) <= 0) {
        room = 0;
        await progress();
        await sleep(POLL_MS, undefined, { signal });
      }
      room--;
      batches++;
      await ledger.putBatch(job.runId, batches, changes);
      await ctx.enqueueBatch(job.runId, batches);
    }
    const run = await ledger.closeBatches(job.runId, batches);
    if (run.settledBatches === batches) await finalizeDistributedRun(project, store, ledger, job.runId);
    let final: RunSummary | undefined;
    while (!(final = await progress())) await sleep(POLL_MS, undefined, { signal });
    await takeSettled();
    return await recorder.adopt(final); // saved over any progress written after the finalizer's save
  } catch (error) {
    const message = messageOf(error);
    if (created && !(await ledger.conclude(job.runId, 'failed'))) return (await store.getRun(job.runId))?.summary ?? recorder.summary;
    const run = created ? await ledger.getRun(job.runId) : undefined;
    if (run) { // what the workers settled before the failure counts
      const { delivered, rejected, rejectedRetryable, skipped } = summaryOf(run);
      Object.assign(recorder.summary, { delivered, rejected, rejectedRetryable, skipped });
      Object.assign(recorder.delivery, { apiCalls: run.counts.apiCalls, retries: run.counts.retries, throttled: run.counts.throttled });
    }
    if (created) await takeSettled().catch(() => undefined);
    const status = signal.aborted ? 'cancelled' : 'failed';
    recorder.trace(4, `status: ${status.toUpperCase()}  ${message}`);
    return await recorder.finish(status, message);
  } finally {
    await session?.close();
    await logs?.writeBack();
    await lock.release();
  }
}

/**
 * Throws when a batch waits in Postgres but its job is gone from Redis (Redis restarted and
 * kept nothing): nobody would ever deliver it, so the run fails with a message saying so.
 */
async function checkQueued(ctx: RunContext, runId: string): Promise<void> {
  for (const batchNo of await ctx.ledger.pendingBatchNumbers(runId)) {
    if (await ctx.batchQueued(runId, batchNo)) continue;
    if ((await ctx.ledger.readBatch(runId, batchNo)) === undefined) continue; // settled meanwhile
    throw new Error(`the queue lost batch ${batchNo} of this run (was Redis restarted?); the run stopped, state keeps every batch delivered before, the next run sends the rest`);
  }
}

/** A run found begun by a run job that ran again: it fails, its waiting batches are dropped, its summary says why. */
async function failBegunRun(ctx: RunContext, runId: string, why: string): Promise<RunSummary> {
  const { store, ledger } = ctx;
  await ledger.conclude(runId, 'failed');
  await ledger.takeSettled(runId); // nobody is left to measure them
  const record = await store.getRun(runId);
  const run = await ledger.getRun(runId);
  const summary: RunSummary = { ...(record?.summary ?? run!.summary) };
  if (summary.status === 'running' || summary.status === 'abandoned') {
    const counts = run?.counts;
    if (counts) Object.assign(summary, { delivered: summary.delivered + counts.delivered, rejected: summary.rejected + counts.rejected, skipped: summary.skipped + counts.skipped });
    Object.assign(summary, {
      status: 'failed', error: `run ${runId}: ${why}; rows not settled are sent by the next run`,
      finishedAt: new Date().toISOString(), durationMs: Date.now() - Date.parse(summary.startedAt),
      deferred: Math.max(0, summary.toSync - summary.delivered - summary.rejected - summary.skipped),
    });
    await store.appendTrace(runId, [{ at: new Date().toISOString(), step: 4, text: `status: FAILED  ${summary.error}` }]);
    await store.saveRun({ summary, profile: record?.profile ?? run!.profile });
  }
  return summary;
}
