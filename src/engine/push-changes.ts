import type { SyncConfig } from '../config/project.ts';
import type { ResolvedSync } from './resolve-sync.ts';
import type { Outcome } from '../delivery/outcome.ts';
import type { RowStateUpdate, StateStore } from '../state/state-store.ts';
import { deliver } from '../delivery/deliver.ts';
import { ConfigError, RunError, SyncError } from '../errors.ts';
import { changeStream, type LocalOutcomes, type PendingChange } from './change-stream.ts';
import type { DiffSession } from './diff-session.ts';
import type { RunRecorder } from './run-recorder.ts';
import { operationsOf } from './sync-modes.ts';
import { formatCount } from './trace-format.ts';
import { rejectInvalidRows } from './reject-invalid-rows.ts';
import { stateUpdateFor } from './state-update.ts';

/**
 * Step 3: stream the delta through the mapping into the delivery engine. State moves
 * forward batch by batch, only for what the destination acknowledged (or refused for good).
 * Answers the reason when the destination made the run stop early with the rest deferred
 * (a quota, a wait past the cap, the circuit broken); throws when the run fails.
 */
export async function pushChanges(
  session: DiffSession,
  { sync, model, destinationConfig }: ResolvedSync,
  store: StateStore,
  recorder: RunRecorder,
  signal: AbortSignal,
): Promise<SyncError | undefined> {
  const { destination } = session;
  const unsupported = operationsOf(sync.mode).filter((op) => !destination.capabilities.operations.includes(op));
  if (unsupported.length) {
    throw new ConfigError(
      `sync "${sync.name}": mode ${sync.mode} needs ${unsupported.join(', ')}, which destination "${destination.name}" (${destination.type}) does not support`,
      sync.location,
    );
  }
  guardMassDelete(session, sync);
  await destination.check(signal);
  destination.planFor?.(recorder.toSync);
  await rejectInvalidRows(session.diff, model.primaryKey, recorder, signal);

  const commit = async (updates: RowStateUpdate[]) => {
    if (updates.length) await store.commitRows(sync.name, updates);
  };
  const onLocal = async (local: LocalOutcomes) => {
    await commit([...local.skipped, ...local.rejected.flatMap((row) => (row.update ? [row.update] : []))]);
    recorder.skip(local.skipped.length);
    await recorder.reject(local.rejected);
  };
  const onSettled = async (batch: PendingChange[], outcomes: Outcome[]) => {
    const updates: RowStateUpdate[] = [];
    const rejected: Parameters<RunRecorder['reject']>[0] = [];
    let delivered = 0;
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i];
      const update = stateUpdateFor(batch[i], outcome);
      if (update) updates.push(update);
      if (outcome.outcome === 'delivered') delivered++;
      if (outcome.outcome === 'rejected') rejected.push({ key: outcome.key, rejection: outcome.rejection });
    }
    await commit(updates);
    if (recorder.watchesRows) recorder.rowsSettled(batch.map(({ key, op }, i) => ({ key, op, outcome: outcomes[i].outcome })));
    recorder.delivered(delivered);
    await recorder.reject(rejected);
    await recorder.checkpoint();
  };

  try {
    await deliver(
      changeStream(session.diff, sync.mode, session.mapper, onLocal, signal),
      {
        destination,
        batchSize: destinationConfig.batch?.size ?? destination.capabilities.maxBatchSize,
        rateLimit: destinationConfig.rateLimit,
        signal,
        counters: recorder.delivery,
      },
      { onSettled, trace: (text) => recorder.trace(3, text), onProgress: () => recorder.progress() },
    );
  } catch (error) {
    if (error instanceof SyncError && (error.kind === 'quota' || error.kind === 'unavailable') && !signal.aborted) return error;
    throw error;
  } finally {
    await recorder.flushTrace();
  }
  return undefined;
}

/** Mirror refuses a run that would delete more than maxDeletePercent of the synced rows. */
function guardMassDelete(session: DiffSession, sync: SyncConfig): void {
  if (sync.mode !== 'mirror' || sync.maxDeletePercent === undefined) return;
  const { removed, previous } = session.diff.counts;
  const percent = previous === 0 ? 0 : (removed / previous) * 100;
  if (percent > sync.maxDeletePercent) {
    throw new RunError(
      `sync "${sync.name}": ${formatCount(removed)} of ${formatCount(previous)} synced rows (${percent.toFixed(1)} %) would be deleted, ` +
        `above maxDeletePercent ${sync.maxDeletePercent} %; nothing was sent. Check the model, or raise maxDeletePercent.`,
    );
  }
}
