import type { SyncConfig, DestinationConfig } from '../config/project.ts';
import type { Change, RecordResult } from '../destinations/destination.ts';
import type { RowStateUpdate, StateStore } from '../state/state-store.ts';
import { deliver } from '../delivery/deliver.ts';
import { ConfigError, RunError } from '../errors.ts';
import { changeStream, type LocalOutcomes, type PendingChange } from './change-stream.ts';
import type { DiffSession } from './diff-session.ts';
import type { RunRecorder } from './run-recorder.ts';
import { changeKindsOf, operationsOf } from './sync-modes.ts';
import { materializeDelta } from '../diff/delta.ts';
import { formatCount } from './trace-format.ts';
import { rejectInvalidRows } from './reject-invalid-rows.ts';

/**
 * Step 3: stream the delta through the mapping into the delivery engine. State moves
 * forward batch by batch, only for what the destination acknowledged (or refused for good).
 */
export async function pushChanges(
  session: DiffSession,
  sync: SyncConfig,
  destinationConfig: DestinationConfig,
  store: StateStore,
  recorder: RunRecorder,
  signal: AbortSignal,
): Promise<void> {
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
  await rejectInvalidRows(session, session.primaryKey, recorder, signal);
  await materializeDelta(session.workspace, session.diffInput, changeKindsOf(sync.mode));

  const pending = new Map<string, PendingChange>();
  const commit = async (updates: RowStateUpdate[]) => {
    if (updates.length) await store.commitRows(sync.name, updates);
  };
  const onLocal = async (local: LocalOutcomes) => {
    await commit([...local.stateOnly, ...local.rejected.flatMap((row) => (row.update ? [row.update] : []))]);
    await recorder.reject(local.rejected);
  };
  const onSettled = async (batch: Change[], results: RecordResult[]) => {
    const updates: RowStateUpdate[] = [];
    const rejected: Parameters<RunRecorder['reject']>[0] = [];
    let delivered = 0;
    const opOf = new Map(batch.map((change) => [change.key, change.op]));
    for (const result of results) {
      const before = pending.get(result.key);
      pending.delete(result.key);
      if (!before) continue;
      const op = opOf.get(result.key);
      if (result.outcome === 'delivered') {
        delivered++;
        updates.push(op === 'delete'
          ? { key: result.key, deleted: true }
          : { key: result.key, fp: before.fp!, status: 'delivered', destId: result.destId ?? before.destId, match: before.match });
        continue;
      }
      rejected.push({ key: result.key, rejection: result.rejection });
      if (result.rejection.retryable) continue;
      if (op === 'delete') {
        if (result.rejection.category === 'missing_identifier') updates.push({ key: result.key, deleted: true });
      } else {
        updates.push({ key: result.key, fp: before.fp!, status: 'rejected', destId: before.destId, match: before.match });
      }
    }
    await commit(updates);
    recorder.delivered(delivered);
    await recorder.reject(rejected);
    await recorder.flushTrace(false);
  };

  const stats = await deliver(
    changeStream(session.workspace, sync.mode, session.mapper, pending, onLocal, signal),
    {
      destination,
      batchSize: destinationConfig.batch?.size ?? destination.capabilities.maxBatchSize,
      rateLimit: destinationConfig.rateLimit,
      signal,
    },
    { onSettled, trace: (text) => recorder.trace(3, text) },
  ).finally(() => recorder.flushTrace());
  recorder.summary.apiCalls = stats.apiCalls;
  recorder.summary.retries = stats.retries;
  recorder.summary.throttled = stats.throttled;
}

/** Mirror refuses a run that would delete more than maxDeletePercent of the synced rows. */
function guardMassDelete(session: DiffSession, sync: SyncConfig): void {
  if (sync.mode !== 'mirror' || sync.maxDeletePercent === undefined) return;
  const { removed, previous } = session.counts;
  const percent = previous === 0 ? 0 : (removed / previous) * 100;
  if (percent > sync.maxDeletePercent) {
    throw new RunError(
      `sync "${sync.name}": ${formatCount(removed)} of ${formatCount(previous)} synced rows (${percent.toFixed(1)} %) would be deleted, ` +
        `above maxDeletePercent ${sync.maxDeletePercent} %; nothing was sent. Check the model, or raise maxDeletePercent.`,
    );
  }
}
