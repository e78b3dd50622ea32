import type { Project } from '../config/project.ts';
import type { RunSummary } from '../state/run-record.ts';
import { isParked, type StateStore } from '../state/state-store.ts';
import { resolveSync } from '../engine/resolve-sync.ts';
import { openRowState } from '../engine/row-state.ts';

/** A run that finished without failing: every row it read was settled, or it stopped with the rest deferred. */
export function succeeded(run: RunSummary): boolean {
  return !run.dryRun && (run.status === 'success' || run.status === 'partial');
}

/** End time of the sync's last run that succeeded; null when none did (in its 50 latest runs). */
export async function lastSuccessAt(store: StateStore, sync: string): Promise<Date | null> {
  const runs = await store.listRuns({ sync, limit: 50 });
  const ok = runs.find(succeeded);
  return ok ? new Date(ok.finishedAt ?? ok.startedAt) : null;
}

/**
 * Rows of the sync its state holds as refused for good (rejected, or outdated: refused after an
 * earlier version arrived): they wait until they change, or a --retry-rejected run. Reads the
 * whole row state where it lives (the engine's store, or the warehouse for `diff: warehouse`).
 */
export async function parkedRowCount(project: Project, store: StateStore, sync: string): Promise<number> {
  const rowState = await openRowState(project, store, resolveSync(project, sync));
  try {
    let parked = 0;
    for await (const chunk of rowState.store.readRowState(sync, { chunkSize: 10_000 })) {
      for (const row of chunk) if (isParked(row.status)) parked++;
    }
    return parked;
  } finally {
    await rowState.close();
  }
}
