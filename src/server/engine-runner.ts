import type { Project } from '../config/project.ts';
import type { StateStore } from '../state/state-store.ts';
import { newRunId, runSync } from '../engine/run-sync.ts';
import { planSync } from '../engine/plan-sync.ts';
import type { SyncRunner } from './run-manager.ts';
import type { LatencySink } from '../engine/latency.ts';

/** The real engine behind the server's runs and plans. */
export function engineRunner(project: Project, store: StateStore, hooks: { onLatencies?: LatencySink } = {}): SyncRunner {
  return {
    newRunId,
    run: (runStore, sync, options) => runSync({ project, store: runStore }, sync, { onLatencies: hooks.onLatencies, ...options }),
    plan: (sync) => planSync({ project, store }, sync),
  };
}
