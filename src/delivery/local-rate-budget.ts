import { holdLease, limitsInForce } from './budget-limits.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RateLimitObservation } from '../destinations/destination.ts';
import { SyncError } from '../errors.ts';
import { AdaptiveRate } from './adaptive-rate.ts';
import { ArrivalLag } from './arrival-lag.ts';
import {
  DAILY_RESERVE_SHARE, DEFAULT_CONCURRENCY, type AcquireOptions, type BudgetLimits, type BudgetMode, type BudgetProvider,
  type DeclaredRate, type Permit, type RateBudget, type RequestOutcome,
} from './rate-budget.ts';
import { Semaphore } from './semaphore.ts';
import { SlidingWindow, type WindowEntry } from './sliding-window.ts';
import { TokenBucket } from './token-bucket.ts';
import { throttlePause } from './throttle-pause.ts';

/** Node's longest timer (about 24.8 days); a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Recent waits for the rate mean the rate is the bottleneck (adaptive growth). */
const RATE_BOUND_MS = 1_000;

/**
 * The rate budget of one credential, kept in this process (see rate-budget.ts for what a
 * budget does). Its provider, LocalBudgets, gives every delivery in the process the same
 * budget for the same key.
 */
export class LocalRateBudget implements RateBudget {
  private readonly leases = new Set<BudgetLimits>();
  private readonly slots = new Semaphore(DEFAULT_CONCURRENCY);
  private readonly adaptive = new AdaptiveRate();
  private readonly bucket = new TokenBucket(this.adaptive.rate);
  private configuredRate: number | undefined;
  private declaredRate: DeclaredRate | undefined;
  private reported: { window: SlidingWindow; limit: number; intervalMs: number } | undefined;
  private daily: { limit?: number; remaining: number; usedSince: number } | undefined;
  private dailyReserve: number | undefined;
  /** When the newest observation was made: an older one (read before a delivery began) changes nothing. */
  private observedAt = -Infinity;
  private pausedUntil = 0;
  private throttleStreak = 0;
  private lastRateWaitAt = -Infinity;
  private turn: Promise<void> = Promise.resolve();
  private readonly arrival = new ArrivalLag();
  /** Recent shifts of window entries: their upper quartile is the lag the pacing allows for. */
  private readonly shifts: number[] = [];

  constructor(readonly key: string) {}

  get mode(): BudgetMode {
    if (this.configuredRate !== undefined) return 'configured';
    if (this.reported) return 'reported';
    return this.declaredRate ? 'declared' : 'adaptive';
  }

  get requestsPerSecond(): number {
    return this.bucket.requestsPerSecond;
  }

  get concurrency(): number {
    return this.slots.limit;
  }

  get inFlight(): number {
    return this.slots.inUse;
  }

  lease(limits: BudgetLimits): () => void {
    return holdLease(this.leases, limits, () => this.applyLimits());
  }

  async acquire(signal: AbortSignal, options: AcquireOptions = {}): Promise<Permit> {
    await this.slots.acquire(signal);
    let entries: WindowEntry[] = [];
    try {
      await this.inTurn(async () => void (entries = await this.waitForStart(signal, options.finishing === true)));
    } catch (err) {
      this.slots.release();
      throw err;
    }
    const startedAt = Date.now();
    let released = false;
    return {
      release: (outcome) => {
        if (released) return;
        released = true;
        this.slots.release();
        this.late(entries, startedAt);
        this.settle(outcome);
      },
    };
  }

  throttled(retryAfterMs?: number): number {
    const now = Date.now();
    this.throttleStreak++;
    const wait = throttlePause(this.throttleStreak, retryAfterMs);
    this.pausedUntil = Math.max(this.pausedUntil, now + wait);
    if (this.mode === 'adaptive') {
      this.adaptive.onThrottle(now, wait);
      this.bucket.setRate(this.adaptive.rate);
    }
    return this.pausedUntil - now;
  }

  observe(observation: RateLimitObservation): void {
    const now = Date.now();
    const { limit, remaining, intervalMs, dailyLimit, dailyRemaining, at = now } = observation;
    if (at < this.observedAt) return;
    this.observedAt = at;
    if (limit !== undefined && limit > 0 && intervalMs !== undefined && intervalMs > 0) {
      if (!this.reported || this.reported.limit !== limit || this.reported.intervalMs !== intervalMs) {
        const window = this.reported?.window ?? new SlidingWindow(limit, intervalMs);
        window.resize(limit, intervalMs + TokenBucket.WINDOW_MARGIN_MS);
        this.reported = { window, limit, intervalMs };
        this.pace();
      }
      if (remaining !== undefined) this.reported.window.reserve(limit - remaining, now);
    }
    if (dailyRemaining !== undefined) {
      this.daily = { limit: dailyLimit ?? this.daily?.limit, remaining: dailyRemaining, usedSince: 0 };
    }
  }

  /** Moves the request's window entries to where the destination counted it (see ArrivalLag). */
  private late(entries: WindowEntry[], startedAt: number): void {
    const shift = this.arrival.shift(startedAt);
    for (const e of entries) {
      e.open = false;
      e.at = Math.max(e.at, startedAt + shift);
    }
    this.shifts.push(shift);
    if (this.shifts.length > 32) this.shifts.shift();
    this.bucket.setLag([...this.shifts].sort((a, b) => a - b)[Math.floor(this.shifts.length * 0.75)]);
  }

  private async waitForStart(signal: AbortSignal, finishing: boolean): Promise<WindowEntry[]> {
    for (;;) {
      signal.throwIfAborted();
      if (!finishing) this.checkQuota();
      const now = Date.now();
      const rateWait = Math.max(this.bucket.delay(now), this.reported?.window.delay(now) ?? 0);
      const wait = Math.max(this.pausedUntil - now, rateWait);
      if (wait < 1) break; // timers have whole milliseconds; the window guard keeps the count exact
      if (rateWait > 0) this.lastRateWaitAt = now;
      await sleep(Math.min(wait, MAX_TIMER_MS), undefined, { signal }); // longer timers fire at once
    }
    const now = Date.now();
    const entries = [this.bucket.take(now), this.reported?.window.record(now)].filter((e): e is WindowEntry => e !== undefined);
    for (const e of entries) e.open = true;
    if (this.daily) this.daily.usedSince++;
    return entries;
  }

  private checkQuota(): void {
    if (!this.daily) return;
    const { limit, remaining, usedSince } = this.daily;
    const reserve = this.dailyReserve ?? (limit ? Math.ceil(limit * DAILY_RESERVE_SHARE) : 0);
    if (remaining - usedSince > reserve) return;
    const used = limit === undefined ? '' : ` (${(limit - remaining + usedSince).toLocaleString('en-US')} of ${limit.toLocaleString('en-US')} used, ${reserve.toLocaleString('en-US')} kept in reserve)`;
    throw new SyncError('quota', `the daily API quota is nearly used up${used}`, { code: 'DAILY_QUOTA', category: 'rate_limit' });
  }

  private settle(outcome: RequestOutcome): void {
    if (outcome === 'throttled') return; // throttled() already did the cut
    if (this.mode !== 'adaptive') {
      if (outcome === 'success') this.throttleStreak = 0;
      return;
    }
    const now = Date.now();
    // A failed request (5xx, reset) is no rate signal, but it was served: it counts in the measure.
    if (outcome !== 'success') return this.adaptive.onServed(now);
    this.throttleStreak = 0;
    this.adaptive.onSuccess(now, now - this.lastRateWaitAt < RATE_BOUND_MS);
    this.bucket.setRate(this.adaptive.rate);
  }

  /** One caller at a time waits for the rate, in arrival order. */
  private async inTurn(fn: () => Promise<void>): Promise<void> {
    const previous = this.turn;
    let done!: () => void;
    this.turn = new Promise((resolve) => (done = resolve));
    try {
      await previous;
      await fn();
    } finally {
      done();
    }
  }

  private applyLimits(): void {
    const { configuredRate, declaredRate, dailyReserve, concurrency } = limitsInForce(this.leases);
    this.configuredRate = configuredRate;
    this.declaredRate = declaredRate;
    this.dailyReserve = dailyReserve;
    this.slots.setLimit(concurrency);
    this.pace();
  }

  /**
   * Sets the bucket from the rate in force, counted over the window it is defined on: with a
   * configured rate, per second (lowered to a reported one, never raised); otherwise over
   * the destination's own span, where the same slack costs far less (a tenth, over 10 s).
   */
  private pace(): void {
    const known = this.reported
      ? { requestsPerSecond: (this.reported.limit * 1000) / this.reported.intervalMs, windowMs: this.reported.intervalMs }
      : this.declaredRate;
    if (this.configuredRate !== undefined) this.bucket.setRate(Math.min(this.configuredRate, known?.requestsPerSecond ?? Infinity));
    else if (known) this.bucket.setRate(known.requestsPerSecond, known.windowMs);
    else this.bucket.setRate(this.adaptive.rate);
  }
}

/** The budgets of this process: one per credential, kept for the life of the process. */
export class LocalBudgets implements BudgetProvider {
  private readonly budgets = new Map<string, LocalRateBudget>();

  budget(key: string): RateBudget {
    let budget = this.budgets.get(key);
    if (!budget) {
      budget = new LocalRateBudget(key);
      this.budgets.set(key, budget);
    }
    return budget;
  }
}
