import { isStale, type LockHolder, type LockTiming } from './lock-holder.ts';
import type { RunSummary } from './run-record.ts';

/** A run whose summary still says `running`, with the lock row of its sync (if any). */
export interface RunningRun {
  summary: RunSummary;
  lock?: LockHolder;
}

/**
 * Why a `running` run is dead, or undefined while it lives. A live run holds its sync's lock
 * from before its summary is first saved until after its last save, so a running run without
 * the lock, or with a stale one, was killed (kill -9, a power cut) or hung.
 */
export function deathOf({ summary, lock }: RunningRun, timing: LockTiming, now = Date.now()): string | undefined {
  if (!lock) return 'its process ended without finishing the run';
  if (lock.runId !== summary.runId) return `run ${lock.runId} found it dead and took its lock over`;
  if (!isStale(lock, timing, now)) return undefined;
  const silent = Math.round((now - lock.heartbeatAt) / 1000);
  return silent * 1000 > timing.staleAfterMs
    ? `its heartbeat stopped ${silent} s ago (pid ${lock.pid} on ${lock.host})`
    : `its process is gone (pid ${lock.pid} on ${lock.host})`;
}

/** The summary of a run found dead: what it had committed, the rest deferred to the next run. */
export function abandonedSummary(summary: RunSummary, reason: string, now = Date.now()): RunSummary {
  const settled = summary.delivered + summary.rejected + (summary.skipped ?? 0);
  return {
    ...summary,
    status: 'abandoned',
    error: `found dead: ${reason}; counts are what it had committed, the rest waits for the next run`,
    finishedAt: new Date(now).toISOString(),
    durationMs: now - Date.parse(summary.startedAt),
    deferred: Math.max(0, (summary.toSync ?? 0) - settled),
  };
}
