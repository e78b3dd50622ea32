import type { StateStore } from '../state/state-store.ts';
import type { RunSummary } from '../state/run-record.ts';
import type { DiffSession } from './diff-session.ts';
import type { ResolvedSync } from './resolve-sync.ts';
import type { RunRecorder } from './run-recorder.ts';
import type { SyncError } from '../errors.ts';
import { formatCount, formatDuration } from './trace-format.ts';

/**
 * Step 4: fold the run's acknowledged batches into the state snapshot, move the cursor
 * forward when nothing waits for a retry, and close the run with its status: success, or
 * partial when rows were rejected or deferred (`stopped`: the destination made the run stop early).
 */
export async function finalizeRun(
  session: DiffSession,
  resolved: ResolvedSync,
  store: StateStore,
  recorder: RunRecorder,
  stopped?: SyncError,
): Promise<RunSummary> {
  const sync = resolved.sync.name;
  await store.compactRowState(sync);
  // A row rejected for a retry, or not settled, must be read again next run: the cursor may not pass it.
  if (resolved.model.cursor && !recorder.leavesRowsBehind) {
    await store.setCursor(sync, session.diff.highWaterMark);
  }
  const { summary } = recorder;
  const deferred = summary.toSync - summary.delivered - summary.rejected - summary.skipped;
  const status = summary.rejected > 0 || deferred > 0 ? 'partial' : 'success';
  const elapsed = Date.now() - Date.parse(summary.startedAt);
  recorder.trace(4, `status: ${status.toUpperCase()}  ${outcomeCounts(summary, deferred)}  duration: ${formatDuration(elapsed)}`);
  return recorder.finish(status, stopped?.message);
}

/** `delivered: 1,830  rejected: 12 (10 parked until the row changes, 2 retried next run)  deferred: 5` */
export function outcomeCounts(summary: RunSummary, deferred: number): string {
  const parts = [`delivered: ${formatCount(summary.delivered)}`];
  if (summary.rejected) {
    const parked = summary.rejected - summary.rejectedRetryable;
    const kinds = [parked && `${formatCount(parked)} parked until the row changes`, summary.rejectedRetryable && `${formatCount(summary.rejectedRetryable)} retried next run`].filter(Boolean);
    parts.push(`rejected: ${formatCount(summary.rejected)} (${kinds.join(', ')})`);
  }
  if (deferred) parts.push(`deferred: ${formatCount(deferred)} (sent next run)`);
  if (summary.skipped) parts.push(`skipped: ${formatCount(summary.skipped)}`);
  return parts.join('  ');
}
