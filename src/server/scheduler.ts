import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { Schedule, SyncConfig } from '../config/project.ts';
import type { RunSummary } from '../state/run-record.ts';

/** Time and timers, injectable so tests can drive the scheduler with a fake clock. */
export interface Clock {
  now(): number;
  /** Calls `fn` after `ms`; returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref?.();
    return () => clearTimeout(timer);
  },
};

export interface SchedulerDeps {
  syncs: SyncConfig[];
  /** Start time of the sync's last (non dry) run, from the state store; null when it never ran. */
  lastStart(sync: string): Promise<Date | null>;
  /** End time of the sync's last run that finished without failing; null when none did. */
  lastSuccess(sync: string): Promise<Date | null>;
  isRunning(sync: string): boolean;
  /** A paused sync gets no scheduled run until it is resumed. */
  isPaused(sync: string): Promise<boolean>;
  /** Starts a run in the background. Throws when it cannot start (already running elsewhere). */
  startRun(sync: string, reason: 'schedule' | 'after'): Promise<void>;
  log: Logger;
  clock?: Clock;
}

/** setTimeout's ceiling (~24.8 days); longer waits are re-armed when they fire. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Starts syncs on their `every` / `cron` schedules and after their `after` dependencies.
 *
 * The next run of a sync is computed from the start of its last run in the store, so a
 * restart neither forgets a schedule nor bursts: however many ticks were missed, one run
 * catches up, and the schedule goes on from there. A sync never overlaps itself: a tick that
 * falls while it runs is folded into the check made when that run ends.
 */
export class Scheduler {
  private readonly clock: Clock;
  private readonly crons = new Map<string, Cron>();
  private readonly timers = new Map<string, () => void>();
  private readonly next = new Map<string, number>();
  private stopped = false;

  constructor(private readonly deps: SchedulerDeps) {
    this.clock = deps.clock ?? systemClock;
    for (const sync of deps.syncs) {
      // Validates every cron pattern at start, so a typo fails `serve`, not a run at 3 am.
      if (sync.schedule && 'cron' in sync.schedule) {
        try {
          this.crons.set(sync.name, new Cron(sync.schedule.cron, { paused: true }));
        } catch (error) {
          throw new Error(`sync "${sync.name}": schedule cron "${sync.schedule.cron}" is not a valid cron pattern (${(error as Error).message})`);
        }
      }
    }
  }

  async start(): Promise<void> {
    await Promise.all(this.deps.syncs.filter((sync) => sync.schedule).map((sync) => this.plan(sync.name)));
  }

  stop(): void {
    this.stopped = true;
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }

  /** When the sync's next scheduled run is due (ISO), or null for manual and `after`-only syncs. */
  nextRunAt(sync: string): string | null {
    const at = this.next.get(sync);
    return at === undefined ? null : new Date(at).toISOString();
  }

  /** Stops the sync's timer; `trigger` also checks the store, for a pause made by another process. */
  paused(sync: string): void {
    this.timers.get(sync)?.();
    this.timers.delete(sync);
    this.next.delete(sync);
  }

  /** Plans the sync's next run again, from its last start (a missed tick runs once, now). */
  async resumed(sync: string): Promise<void> {
    if (this.deps.syncs.find((s) => s.name === sync)?.schedule) await this.plan(sync);
  }

  /** Every run that ends in this process comes through here, whatever started it. */
  async runFinished(summary: RunSummary): Promise<void> {
    if (this.stopped) return;
    const config = this.deps.syncs.find((sync) => sync.name === summary.sync);
    if (config?.schedule) await this.plan(summary.sync);
    if (summary.status === 'failed' || summary.dryRun) return;
    for (const downstream of this.deps.syncs) {
      if (downstream.after?.includes(summary.sync)) await this.startAfterUpstreams(downstream);
    }
  }

  /** Runs a dependent sync once every sync it waits for has succeeded since its own last start. */
  private async startAfterUpstreams(sync: SyncConfig): Promise<void> {
    const since = (await this.deps.lastStart(sync.name))?.getTime() ?? -Infinity;
    for (const upstream of sync.after ?? []) {
      const success = await this.deps.lastSuccess(upstream);
      if (!success || success.getTime() <= since) return;
    }
    await this.trigger(sync.name, 'after');
  }

  private async plan(sync: string): Promise<void> {
    this.timers.get(sync)?.();
    this.timers.delete(sync);
    if (this.stopped || this.deps.isRunning(sync)) return;
    if (await this.deps.isPaused(sync)) return this.paused(sync);
    const last = await this.deps.lastStart(sync);
    const now = this.clock.now();
    const due = this.dueAfter(sync, last?.getTime() ?? null, now);
    if (due === null) {
      this.next.delete(sync);
      return;
    }
    this.next.set(sync, Math.max(due, now));
    if (due <= now) {
      await this.trigger(sync, last ? 'catch-up' : 'schedule');
      return;
    }
    this.arm(sync, due);
  }

  private arm(sync: string, due: number): void {
    const wait = Math.min(due - this.clock.now(), MAX_TIMER_MS);
    const cancel = this.clock.setTimer(() => {
      this.timers.delete(sync);
      if (this.clock.now() < due) return this.arm(sync, due);
      void this.trigger(sync, 'schedule');
    }, Math.max(0, wait));
    this.timers.set(sync, cancel);
  }

  private async trigger(sync: string, reason: 'schedule' | 'catch-up' | 'after'): Promise<void> {
    if (this.stopped) return;
    // Already running: the check made when that run finishes picks the schedule up again.
    if (this.deps.isRunning(sync)) return;
    if (await this.deps.isPaused(sync)) {
      this.deps.log.info({ sync, reason }, `sync "${sync}" is paused: no ${reason} run`);
      return this.paused(sync);
    }
    try {
      this.deps.log.info({ sync, reason }, `starting scheduled run of "${sync}" (${reason})`);
      await this.deps.startRun(sync, reason === 'after' ? 'after' : 'schedule');
      const next = this.dueAfter(sync, this.clock.now(), this.clock.now());
      if (next !== null) this.next.set(sync, next);
    } catch (error) {
      this.deps.log.warn({ sync, err: String(error) }, `scheduled run of "${sync}" did not start: ${(error as Error).message}`);
      // Try again on the next tick rather than spinning on a lock held elsewhere.
      const schedule = this.deps.syncs.find((s) => s.name === sync)?.schedule;
      const due = schedule && this.dueAfter(sync, this.clock.now(), this.clock.now());
      if (due) {
        this.next.set(sync, due);
        this.arm(sync, due);
      }
    }
  }

  /** The first tick after `last` (a run's start), or the first tick after `now` for a sync that never ran. */
  private dueAfter(sync: string, last: number | null, now: number): number | null {
    const schedule: Schedule | undefined = this.deps.syncs.find((s) => s.name === sync)?.schedule;
    if (!schedule) return null;
    if ('every' in schedule) return (last ?? now) + schedule.everyMs;
    const next = this.crons.get(sync)!.nextRun(new Date(last ?? now));
    return next ? next.getTime() : null;
  }
}
