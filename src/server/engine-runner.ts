import type { Project } from '../config/project.ts';
import type { StateStore } from '../state/state-store.ts';
import { newRunId, runSync } from '../engine/run-sync.ts';
import { planSync } from '../engine/plan-sync.ts';
import type { SyncRunner } from './run-manager.ts';

/** The real engine behind the server's runs and plans. */
export function engineRunner(project: Project, store: StateStore): SyncRunner {
  return {
    newRunId,
    run: (runStore, sync, options) => runSync({ project, store: runStore }, sync, options),
    plan: (sync) => planSync({ project, store }, sync),
  };
}
