import type { SyncConfig } from '../config/project.ts';
import { checkDestination } from '../delivery/check-destination.ts';
import { ConfigError, RunError } from '../errors.ts';
import type { DiffSession } from './diff-session.ts';
import type { RunRecorder } from './run-recorder.ts';
import type { ResolvedSync } from './resolve-sync.ts';
import { rejectInvalidRows } from './reject-invalid-rows.ts';
import { operationsOf } from './sync-modes.ts';
import { formatCount } from './trace-format.ts';

/**
 * What must hold before the first request: the destination supports what the mode sends, mirror
 * would not delete too much, the destination answers, and rows whose key cannot be tracked are
 * rejected (they never reach the stream of changes).
 */
export async function preflight(session: DiffSession, { sync, model, destinationConfig }: ResolvedSync, recorder: RunRecorder, signal: AbortSignal): Promise<void> {
  const { destination } = session;
  const unsupported = operationsOf(sync.mode).filter((op) => !destination.capabilities.operations.includes(op));
  if (unsupported.length) {
    throw new ConfigError(
      `sync "${sync.name}": mode ${sync.mode} needs ${unsupported.join(', ')}, which destination "${destination.name}" (${destination.type}) does not support`,
      sync.location,
    );
  }
  guardMassDelete(session, sync);
  await checkDestination(destination, destinationConfig.rateLimit, signal);
  destination.planFor?.(recorder.toSync);
  await rejectInvalidRows(session.diff, model.primaryKey, recorder, signal);
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
