import type { Logger } from 'pino';
import type { Project } from '../config/project.ts';
import type { StateStore } from '../state/state-store.ts';
import type { TokenAuth } from './auth.ts';
import type { ServerMetrics } from './metrics.ts';
import type { Redactor } from '../config/redact.ts';
import type { RunManager, SyncRunner } from './run-manager.ts';
import type { Scheduler } from './scheduler.ts';
import type { PlanGate } from './plan-gate.ts';
import type { EventHub } from '../events/event-hub.ts';

/** Everything the routes read from: one per server. */
export interface ServerContext {
  project: Project;
  store: StateStore;
  runner: SyncRunner;
  manager: RunManager;
  /** Plans go through it: a few at a time, identical ones shared. */
  plans: PlanGate;
  scheduler: Scheduler;
  /** The event path's pipelines, one per sync. */
  events: EventHub;
  metrics: ServerMetrics;
  auth: TokenAuth;
  log: Logger;
  redact: Redactor;
  /** Folder of the built web UI, or null when it could not be built. */
  uiDir: string | null;
}
