import type { Logger } from 'pino';
import type { StateStore } from '../state/state-store.ts';
import type { RunSummary } from '../state/run-record.ts';
import type { RunOptions, RunProgress } from '../engine/run-sync.ts';
import { emptySummary } from '../state/run-record.ts';
import { RunError } from '../errors.ts';

/** What the server needs from the engine; serve.ts wires the real one, tests may wire their own. */
export interface SyncRunner {
  newRunId(): string;
  /** `store` is the store the run must use (the manager wraps it to learn when the run holds its lock). */
  run(store: StateStore, sync: string, options: RunOptions): Promise<RunSummary>;
  plan(sync: string): Promise<unknown>;
}

export type StartOptions = Pick<RunOptions, 'trigger' | 'fullResync' | 'dryRun' | 'retryRejected'>;

/** A run of this process, while it runs and shortly after. */
export interface LiveRun {
  runId: string;
  sync: string;
  trigger: RunOptions['trigger'];
  startedAt: string;
  progress?: RunProgress;
  summary?: RunSummary;
  /** Set once the run holds the sync's lock: a run refused before that never started. */
  started?: boolean;
  dryRun?: boolean;
}

/** The sync is running already (here or in another process): the API answers 409. */
export class RunConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunConflictError';
  }
}

/** The sync is paused: no run starts until it is resumed (the API answers 409). */
export class SyncPausedError extends RunConflictError {
  constructor(sync: string, pausedAt: string) {
    super(`sync "${sync}" is paused (since ${pausedAt}); resume it to run it (POST /api/syncs/${encodeURIComponent(sync)}/resume, "Resume" on its page, or lastmile resume ${sync})`);
    this.name = 'SyncPausedError';
  }
}

type FinishedListener = (summary: RunSummary) => Promise<void> | void;

/**
 * Starts runs in the background (for the API and the scheduler), keeps their live progress
 * and tells listeners (metrics, alerts, scheduler) when each one ends.
 */
export class RunManager {
  private readonly live = new Map<string, LiveRun>();
  private readonly running = new Map<string, { runId: string; done: Promise<void>; settled: Promise<void>; abort: AbortController }>();
  private readonly listeners: FinishedListener[] = [];
  private readonly startListeners: ((sync: string) => void)[] = [];

  constructor(private readonly deps: { runner: SyncRunner; store: StateStore; log: Logger }) {}

  onStarted(listener: (sync: string) => void): void {
    this.startListeners.push(listener);
  }

  onFinished(listener: FinishedListener): void {
    this.listeners.push(listener);
  }

  isRunning(sync: string): boolean {
    return this.running.has(sync);
  }

  liveRun(runId: string): LiveRun | undefined {
    return this.live.get(runId);
  }

  /**
   * Starts a run and resolves with its id once it holds the sync's lock, so a sync that is
   * running elsewhere (the CLI, another server) is refused here and now, not after a 202.
   */
  async start(sync: string, options: StartOptions): Promise<string> {
    const pausedAt = options.dryRun ? null : await this.deps.store.pausedAt(sync);
    if (pausedAt) throw new SyncPausedError(sync, pausedAt);
    const current = this.running.get(sync);
    if (current) {
      // A run that has saved its end is only letting go of its lock: wait for that, then start.
      const saved = await this.deps.store.getRun(current.runId);
      if (!saved || saved.summary.status === 'running') {
        throw new RunConflictError(`sync "${sync}" is already running (run ${current.runId}); wait for it to finish`);
      }
      await current.settled;
      if (this.running.has(sync)) throw new RunConflictError(`sync "${sync}" was started again meanwhile; wait for that run to finish`);
    }
    const runId = this.deps.runner.newRunId();
    const abort = new AbortController();
    const live: LiveRun = { runId, sync, trigger: options.trigger, startedAt: new Date().toISOString(), ...(options.dryRun ? { dryRun: true } : {}) };
    let resolveLock!: () => void;
    let refused!: (error: unknown) => void;
    const holdsLock = new Promise<void>((resolve, reject) => { resolveLock = resolve; refused = reject; });
    const locked = () => {
      live.started = true;
      for (const listener of this.startListeners) listener(sync);
      resolveLock();
    };
    const store = watchLock(this.deps.store, locked, refused);
    if (options.dryRun) locked();

    const run = this.deps.runner.run(store, sync, {
      ...options, runId, signal: abort.signal,
      onProgress: (progress) => { live.progress = progress; },
    });
    const done = run.then(
      (summary) => this.finish(live, summary),
      (error) => this.finish(live, failedSummary(live, error)),
    );
    // Registered after `done`, so by the time it resolves finish() has cleared `running`.
    const settled = run.then(() => undefined, () => undefined);
    this.running.set(sync, { runId, done, settled, abort });
    this.live.set(runId, live);
    try {
      await Promise.race([holdsLock, run.then(() => undefined)]);
    } catch (error) {
      await done;
      if (error instanceof RunError) throw new RunConflictError(error.message);
      throw error;
    }
    return runId;
  }

  /** Stops every run in progress (they end as failed, state as the last acknowledged batch left it). */
  async abortAll(): Promise<void> {
    const runs = [...this.running.values()];
    for (const run of runs) run.abort.abort(new Error('the server is shutting down'));
    await Promise.all(runs.map((run) => run.done));
  }

  private async finish(live: LiveRun, summary: RunSummary): Promise<void> {
    live.summary = summary;
    this.running.delete(live.sync);
    if (!live.started) {
      // Refused before it began (lock held elsewhere, bad config): the caller got the error; not a run.
      this.live.delete(live.runId);
      return;
    }
    // Keep the live entry a little, so a client polling it sees the end before the store's copy.
    setTimeout(() => this.live.delete(live.runId), 60_000).unref();
    for (const listener of this.listeners) {
      try {
        await listener(summary);
      } catch (error) {
        this.deps.log.error({ sync: live.sync, runId: live.runId, err: String(error) }, 'a run-finished listener failed');
      }
    }
  }
}

/** The store as the run sees it, except that taking the lock (or failing to) is reported. */
function watchLock(store: StateStore, locked: () => void, refused: (error: unknown) => void): StateStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'acquireLock') {
        return async (...args: Parameters<StateStore['acquireLock']>) => {
          try {
            const lock = await target.acquireLock(...args);
            locked();
            return lock;
          } catch (error) {
            refused(error);
            throw error;
          }
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function failedSummary(live: LiveRun, error: unknown): RunSummary {
  return {
    ...emptySummary(live.sync, live.runId, live.startedAt),
    status: 'failed',
    finishedAt: new Date().toISOString(),
    durationMs: Date.now() - Date.parse(live.startedAt),
    error: error instanceof Error ? error.message : String(error),
    ...(live.dryRun ? { dryRun: true } : {}),
  };
}
