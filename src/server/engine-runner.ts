import type { Project } from '../config/project.ts';
import type { StateStore } from '../state/state-store.ts';
import { newRunId, runSync } from '../engine/run-sync.ts';
import { planSync } from '../engine/plan-sync.ts';
import type { SyncRunner } from './run-manager.ts';
import type { LatencySink } from '../engine/latency.ts';

/**
 * The real engine behind the server's runs and plans. With `queue:` (the distributed mode) a
 * run goes to the workers: the sync's lock is checked here first, so a sync running anywhere
 * is refused at once (409), then the run is enqueued and its summary awaited. Dry runs stay here.
 */
export function engineRunner(project: Project, store: StateStore, hooks: { onLatencies?: LatencySink } = {}): SyncRunner {
  return {
    newRunId,
    run: async (runStore, sync, options) => {
      if (!project.queue || options.dryRun) return runSync({ project, store: runStore }, sync, { onLatencies: hooks.onLatencies, ...options });
      const runId = options.runId ?? newRunId();
      await (await runStore.acquireLock(sync, runId)).release(); // free now: the worker that takes the run takes the lock
      const { enqueueRun } = await import('../worker/enqueue-run.ts'); // BullMQ loads only in the distributed mode
      return enqueueRun(project, sync, { ...options, runId, trigger: options.trigger });
    },
    plan: (sync) => planSync({ project, store }, sync),
  };
}
