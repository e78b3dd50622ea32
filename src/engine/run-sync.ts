import { randomUUID } from 'node:crypto';
import type { Project } from '../config/project.ts';
import type { StateStore } from '../state/state-store.ts';
import type { RunProfile, RunSummary } from '../state/run-record.ts';
import { ConfigError } from '../errors.ts';
import { openDiffSession, messageOf, type DiffSession } from './diff-session.ts';
import { preflight } from './preflight.ts';
import { commitOutcomes } from './commit-outcomes.ts';
import { changeStream } from './change-stream.ts';
import { sendChanges } from './send-changes.ts';
import { finalizeRun } from './finalize-run.ts';
import { RunRecorder, type RunProgress } from './run-recorder.ts';
import { resolveSync, type ResolvedSync } from './resolve-sync.ts';
import { openRowState, type RowStateHandle } from './row-state.ts';
import { modeLabel } from './sync-modes.ts';
import { formatCount } from './trace-format.ts';
import { diffMethodOf } from '../diff/diff-method.ts';
import { eventOrderGuard } from '../events/event-order-guard.ts';
import { guardFreshness } from './freshness.ts';
import { measureLatency, type LatencySink } from './latency.ts';
import { collectSyncLogs } from './warehouse-logs.ts';

export interface RunEnv {
  project: Project;
  store: StateStore;
}

export interface RunOptions {
  trigger: RunProfile['trigger'];
  runId?: string;
  /** Re-send every row still in the model, as if nothing had been synced. */
  fullResync?: boolean;
  /** Read and diff, report what would be sent, write nothing. */
  dryRun?: boolean;
  /** Send parked rows (refused for good earlier) again even though they did not change. */
  retryRejected?: boolean;
  signal?: AbortSignal;
  onProgress?(progress: RunProgress): void;
  /** With a model's eventTime: every delivered row's end-to-end latency, as the run ends. */
  onLatencies?: LatencySink;
}

export type { RunProgress };

export function newRunId(): string {
  return `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomUUID().slice(0, 8)}`;
}

/**
 * One run of a sync, top to bottom: read → diff → map → batch → limit → write → commit.
 * Resolves with the run summary; `failed` runs leave state as the last acknowledged batch left it.
 */
export async function runSync(env: RunEnv, syncName: string, options: RunOptions): Promise<RunSummary> {
  const resolved = resolveSync(env.project, syncName);
  const runId = options.runId ?? newRunId();
  const signal = options.signal ?? new AbortController().signal;
  const lock = options.dryRun ? undefined : await env.store.acquireLock(syncName, runId);
  // A run this one took the lock from, or any other found dead, stops showing as running.
  if (lock) await env.store.abandonDeadRuns();
  const recorder = new RunRecorder(options.dryRun ? undefined : env.store, profileOf(env, resolved, options), syncName, runId, options.onProgress);
  const logs = options.dryRun ? undefined : collectSyncLogs(env.project, recorder, env.store);
  let session: DiffSession | undefined;
  let rowState: RowStateHandle | undefined;
  try {
    await recorder.begin();
    rowState = await openRowState(env.project, env.store, resolved);

    // A full resync that dies half-way still re-sends the rest next run (and starts over a damaged state).
    if (options.fullResync && !options.dryRun) await rowState.store.forgetFingerprints(syncName);

    // read → diff: the model is read where the diff runs and compared with the sync's state.
    session = await openDiffSession(env.project, env.store, resolved, {
      fullResync: options.fullResync, retryRejected: options.retryRejected, signal, describeDestination: !options.dryRun, persist: !options.dryRun, rowState,
    });
    recorder.profile.diff = session.diff.method;
    await guardFreshness(session, resolved, recorder, signal);
    recordDiff(recorder, session, resolved);
    measureLatency(session, resolved, recorder, options.onLatencies);
    if (options.dryRun) return await recorder.finish('success');

    recorder.enter('push');
    await preflight(session, resolved, recorder, signal);
    const commit = commitOutcomes(session.state, syncName, recorder);
    // map: the differences this mode sends become the destination's records (refusals settle here).
    // (rows older than what an event already delivered for their key are held back: see events/)
    const olderThanEvents = await eventOrderGuard(env.project, resolved.sync);
    const changes = changeStream(session.diff, resolved.sync.mode, session.mapper, commit.local, signal, olderThanEvents);
    // batch → limit → write: the destination's batches, under its rate budget, each settled batch committed.
    const stopped = await sendChanges(changes, session.destination, resolved.destinationConfig, commit, recorder, signal);
    await session.releaseModel();
    logs?.deliveryEnded();
    if (commit.heldBack) recorder.trace(3, `held back ${formatCount(commit.heldBack)} rows: events delivered newer values of their keys (by ${resolved.sync.events?.orderBy})`);

    // commit: fold the acknowledged batches into the state snapshot, move the cursor, close the run.
    return await finalizeRun(session, resolved, session.state, recorder, stopped);
  } catch (error) {
    const status = signal.aborted ? 'cancelled' : 'failed';
    recorder.trace(4, `status: ${status.toUpperCase()}  ${messageOf(error)}`);
    const summary = await recorder.finish(status, messageOf(error));
    if (error instanceof ConfigError) throw error;
    return summary;
  } finally {
    await session?.close();
    await rowState?.close();
    await logs?.writeBack();
    await lock?.release();
  }
}

export function recordDiff(recorder: RunRecorder, session: DiffSession, resolved: ResolvedSync): void {
  const { counts } = session.diff;
  const s = recorder.summary;
  Object.assign(s, { fetched: counts.fetched, added: counts.added, changed: counts.changed, removed: counts.removed, unchanged: counts.unchanged });
  recorder.trace(1, `records_fetched: ${formatCount(counts.fetched)}${session.diff.incremental ? ' (incremental: rows at or past the last cursor)' : ''}`);
  recorder.enter('diff');
  const sent = sentCount(session, resolved);
  recorder.toSync = sent + counts.invalid;
  const parts = [`added ${formatCount(counts.added)}`, `changed ${formatCount(counts.changed)}`, `removed ${formatCount(counts.removed)}`];
  if (counts.invalid) parts.push(`invalid ${formatCount(counts.invalid)}`);
  recorder.trace(2, `records_to_sync: ${formatCount(sent)} (${parts.join(', ')})`);
}

/** Rows this mode sends: e.g. insert sends only added rows, mirror also deletes removed ones. */
export function sentCount(session: DiffSession, resolved: ResolvedSync): number {
  const { added, changed, removed } = session.diff.counts;
  switch (resolved.sync.mode) {
    case 'insert': return added;
    case 'mirror': return added + changed + removed;
    default: return added + changed;
  }
}

export function profileOf(_env: unknown, resolved: ResolvedSync, options: RunOptions): RunProfile {
  const { sync, model, sourceConfig, destinationConfig } = resolved;
  return {
    model: model.name, source: sourceConfig.name, sourceType: sourceConfig.type,
    destination: destinationConfig.name, destinationType: destinationConfig.type, mode: sync.mode,
    syncModeLabel: modeLabel(sync.mode, model.cursor !== undefined, options.fullResync ?? false),
    diff: diffMethodOf(model, sourceConfig),
    trigger: options.trigger,
  };
}
