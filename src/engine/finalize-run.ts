import type { StateStore } from '../state/state-store.ts';
import type { RunSummary } from '../state/run-record.ts';
import type { DiffSession } from './diff-session.ts';
import type { ResolvedSync } from './resolve-sync.ts';
import type { RunRecorder } from './run-recorder.ts';
import { formatCount, formatDuration } from './trace-format.ts';

const COMPACTED_VIEW = 'lastmile_state_after_run';

/**
 * Step 4: fold the run's acknowledged batches into the state snapshot, move the cursor
 * forward when nothing waits for a retry, and close the run with its status.
 */
export async function finalizeRun(
  session: DiffSession,
  resolved: ResolvedSync,
  store: StateStore,
  recorder: RunRecorder,
): Promise<RunSummary> {
  const sync = resolved.sync.name;
  if (store.kind === 'embedded') {
    await store.exposeRowState(sync, session.workspace.connection, COMPACTED_VIEW);
    await store.replaceRowState(sync, session.workspace.connection, `SELECT * FROM ${COMPACTED_VIEW}`);
  }
  // A retryable rejection must be read again next run: the cursor may not pass it.
  if (resolved.model.cursor && !recorder.hasRetryableRejections) {
    await store.setCursor(sync, session.highWaterMark);
  }
  const { summary } = recorder;
  const status = summary.rejected > 0 ? 'partial' : 'success';
  const rejected = summary.rejected ? `  rejected: ${formatCount(summary.rejected)}` : '';
  const elapsed = Date.now() - Date.parse(summary.startedAt);
  recorder.trace(4, `status: ${status.toUpperCase()}  delivered: ${formatCount(summary.delivered)}${rejected}  duration: ${formatDuration(elapsed)}`);
  return recorder.finish(status);
}
