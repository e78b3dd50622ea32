import type { StateStore } from '../state/state-store.ts';
import { isParked } from '../state/state-store.ts';
import type { RejectedRow } from '../state/run-record.ts';

/**
 * The rows of a sync that stand rejected now, over all its runs, each with its newest reason:
 * - refused for good: the row state still parks the key (a later delivery would have cleared it);
 * - to retry: the last finished run refused it (the run after it sends it again).
 * Reads the sync's row state once, keeping only the keys it needs.
 */
export async function currentRejections(store: StateStore, sync: string, signal?: AbortSignal): Promise<RejectedRow[]> {
  const latest = await store.latestRejections(sync);
  if (latest.length === 0) return [];
  const lastRun = (await store.listRuns({ sync, limit: 20 })).find((run) => run.status !== 'running' && !run.dryRun);
  const waiting = new Set(latest.filter((row) => !row.retryable).map((row) => row.key));
  const parked = new Set<string>();
  if (waiting.size) {
    for await (const chunk of store.readRowState(sync, { chunkSize: 10_000, ...(signal ? { signal } : {}) })) {
      for (const state of chunk) if (waiting.has(state.key) && isParked(state.status)) parked.add(state.key);
    }
  }
  return latest.filter((row) => (row.retryable ? row.runId === lastRun?.runId : parked.has(row.key)));
}
