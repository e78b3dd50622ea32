import type { SyncConfig } from '../config/project.ts';
import type { StateStore } from '../state/state-store.ts';
import type { RunSummary } from '../state/run-record.ts';
import type { ServerContext } from './server-context.ts';

export interface SyncOverview {
  name: string;
  model: string;
  source: string;
  sourceType: string;
  destination: string;
  destinationType: string;
  mode: string;
  schedule: string | null;
  after: string[];
  health: 'never' | RunSummary['status'];
  running: boolean;
  lastRun: RunSummary | null;
  nextRunAt: string | null;
  /** When the sync was paused; null when it is not. */
  pausedAt: string | null;
  rowsDelivered: number;
}

export function scheduleLabel(sync: SyncConfig): string | null {
  if (!sync.schedule) return null;
  return 'every' in sync.schedule ? `every ${sync.schedule.every}` : `cron ${sync.schedule.cron}`;
}

/** A sync's health (its last run's status), its last and next run, and what it delivered. */
export async function syncOverview(ctx: ServerContext, sync: SyncConfig): Promise<SyncOverview> {
  const { project, store, scheduler, manager } = ctx;
  const model = project.models[sync.model];
  const source = model ? project.sources[model.source] : undefined;
  const destination = project.destinations[sync.destination];
  const [lastRun] = await store.listRuns({ sync: sync.name, limit: 1 });
  return {
    name: sync.name,
    model: sync.model,
    source: source?.name ?? '',
    sourceType: source?.type ?? '',
    destination: sync.destination,
    destinationType: destination?.type ?? '',
    mode: sync.mode,
    schedule: scheduleLabel(sync),
    after: sync.after ?? [],
    health: lastRun?.status ?? 'never',
    // The store has the last word: a run here has saved its end a moment before it lets go of its lock.
    running: lastRun ? lastRun.status === 'running' : manager.isRunning(sync.name),
    lastRun: lastRun ?? null,
    nextRunAt: scheduler.nextRunAt(sync.name),
    pausedAt: await store.pausedAt(sync.name),
    rowsDelivered: await totalDelivered(store, sync.name),
  };
}

/** Rows delivered over the sync's whole recorded history, page by page. */
async function totalDelivered(store: StateStore, sync: string): Promise<number> {
  const pageSize = 500;
  let total = 0;
  let before: string | undefined;
  for (let page = 0; page < 200; page++) {
    const runs = await store.listRuns({ sync, limit: pageSize, ...(before ? { before } : {}) });
    for (const run of runs) if (!run.dryRun) total += run.delivered;
    if (runs.length < pageSize) break;
    before = runs[runs.length - 1]!.startedAt;
  }
  return total;
}
