import { ArrivalLag } from './arrival-lag.ts';
import { holdLease, limitsInForce } from './budget-limits.ts';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { RateLimitObservation } from '../destinations/destination.ts';
import { SyncError } from '../errors.ts';
import {
  DAILY_RESERVE_SHARE, DEFAULT_CONCURRENCY, type AcquireOptions, type BudgetLimits, type BudgetMode, type BudgetProvider,
  type DeclaredRate, type Permit, type RateBudget, type RequestOutcome,
} from './rate-budget.ts';
import { ACQUIRE, OBSERVE, READ, RELEASE, RENEW, THROTTLE } from './redis-budget-scripts.ts';
import { SharedAdaptiveRate } from './shared-adaptive-rate.ts';
import { OPEN_CAP_MS } from './sliding-window.ts';
import { TokenBucket } from './token-bucket.ts';
import { throttlePause } from './throttle-pause.ts';

/** A permit's hold lasts this long unless renewed: a killed holder's slot frees itself by then. */
export const HOLD_TTL_MS = 30_000;
/** Holds of live permits are renewed this often. */
const RENEW_EVERY_MS = 10_000;
/** Longest single wait before asking Redis again (a pause may be lifted, a slot freed). */
const MAX_POLL_MS = 250;
/** Waits for the rate within this long mean the rate is the bottleneck (adaptive growth). */
const RATE_BOUND_MS = 1_000;

/** How a budget reaches Redis: one connection (commands keep their order) and this process's held permits. */
interface RedisBudgetLink {
  redis: Redis;
  prefix: string;
  held: Map<string, string>;
}

/**
 * The rate budget of one credential, kept in Redis so that every process using the credential
 * (workers on several machines) shares one concurrency cap, one rate, one 429 pause, the window
 * the destination reports and its daily quota. Each gate is checked and taken in one Lua script
 * (redis-budget-scripts.ts), so two processes never both take the last permit.
 *
 * With nothing configured or reported, the adaptive search is shared too: every process
 * replays everybody's answers into the same estimate (shared-adaptive-rate.ts).
 *
 * Leases stay in the process (every worker runs the same config, so they agree). `inFlight`
 * counts the permits this process holds. Methods other than acquire() answer at once: their
 * Redis writes go out on the provider's one connection, ahead of any later acquire's script.
 */
export class RedisRateBudget implements RateBudget {
  private readonly leases = new Set<BudgetLimits>();
  private readonly adaptive: SharedAdaptiveRate;
  private readonly keys: string[];
  private configuredRate: number | undefined;
  private declaredRate: DeclaredRate | undefined;
  private cap = DEFAULT_CONCURRENCY;
  private dailyReserve: number | undefined;
  private reported: { limit: number; intervalMs: number } | undefined;
  private observedAt = -Infinity;
  private pausedUntil = 0;
  private throttleStreak = 0;
  private lastRateWaitAt = -Infinity;
  private held = 0;
  private turn: Promise<void> = Promise.resolve();
  private readonly arrival = new ArrivalLag();

  constructor(readonly key: string, private readonly link: RedisBudgetLink) {
    const base = `${link.prefix}:budget:${key}`;
    this.keys = [`${base}:slots`, `${base}:log`, `${base}:rlog`, `${base}:state`, `${base}:adaptive`];
    this.adaptive = new SharedAdaptiveRate(link.redis, this.keys, this.keys[4]);
    void this.script(READ).then((r) => this.learn(r as number[]), () => undefined);
  }

  get mode(): BudgetMode {
    if (this.configuredRate !== undefined) return 'configured';
    if (this.reported) return 'reported';
    return this.declaredRate ? 'declared' : 'adaptive';
  }

  get requestsPerSecond(): number {
    const reported = this.reported ? (this.reported.limit * 1000) / this.reported.intervalMs : undefined;
    if (this.configuredRate !== undefined) return Math.min(this.configuredRate, reported ?? Infinity);
    return reported ?? this.declaredRate?.requestsPerSecond ?? this.adaptive.rate;
  }

  get concurrency(): number {
    return this.cap;
  }

  get inFlight(): number {
    return this.held;
  }

  /** The destination's limit as the shared adaptive search estimates it (undefined: no 429 measured yet). */
  get limitEstimate(): number | undefined {
    return this.adaptive.limitEstimate;
  }

  /** Whether a delivery of this process holds a lease now (its limits are in force). */
  get leased(): boolean {
    return this.leases.size > 0;
  }

  /** Reads now what every process taught the shared adaptive search (acquire() does it by itself). */
  refresh(): Promise<void> {
    return this.adaptive.catchUp(true);
  }

  lease(limits: BudgetLimits): () => void {
    return holdLease(this.leases, limits, () => this.applyLimits());
  }

  async acquire(signal: AbortSignal, options: AcquireOptions = {}): Promise<Permit> {
    let permitId = '';
    let startedAt = 0;
    let grantedAt = 0;
    await this.inTurn(async () => {
      for (;;) {
        signal.throwIfAborted();
        const local = this.pausedUntil - Date.now();
        if (local >= 1) {
          await sleep(Math.min(local, MAX_POLL_MS), undefined, { signal });
          continue;
        }
        const id = randomUUID();
        if (this.mode === 'adaptive') await this.adaptive.catchUp();
        const [count, windowMs] = this.rateWindow();
        const sentAt = Date.now(); // before the grant: the request's time counts from here (see ArrivalLag)
        const answer = (await this.script(ACQUIRE, id, this.cap, count, windowMs, HOLD_TTL_MS, options.finishing ? 1 : 0,
          this.dailyReserve ?? -1, DAILY_RESERVE_SHARE, TokenBucket.WINDOW_MARGIN_MS, OPEN_CAP_MS)) as number[];
        if (answer[0] === 0) {
          this.learn([answer[2], answer[3]]);
          if (signal.aborted) { // granted while the caller gave up: give it back
            void this.script(RELEASE, id, 0).catch(() => undefined);
            signal.throwIfAborted();
          }
          permitId = id;
          startedAt = sentAt;
          grantedAt = answer[1];
          return;
        }
        if (answer[0] === 3) throw quotaError(answer[1], answer[2], answer[3], answer[4]);
        if (answer[0] === 2 && answer[1] > 10) this.lastRateWaitAt = Date.now();
        await sleep(Math.max(1, Math.min(answer[1], MAX_POLL_MS)), undefined, { signal });
      }
    });
    this.held++;
    this.link.held.set(permitId, this.keys[0]);
    let released = false;
    return {
      grantedAt,
      release: (outcome) => {
        if (released) return;
        released = true;
        this.held--;
        this.link.held.delete(permitId);
        void this.script(RELEASE, permitId, this.arrival.shift(startedAt)).catch(() => undefined);
        this.settle(outcome);
      },
    };
  }

  throttled(retryAfterMs?: number): number {
    const now = Date.now();
    this.throttleStreak++;
    const wait = throttlePause(this.throttleStreak, retryAfterMs);
    this.pausedUntil = Math.max(this.pausedUntil, now + wait);
    void this.script(THROTTLE, Math.ceil(wait)).catch(() => undefined);
    if (this.mode === 'adaptive') this.adaptive.onThrottle(wait);
    return this.pausedUntil - now;
  }

  observe(observation: RateLimitObservation): void {
    const { limit, remaining, intervalMs, dailyLimit, dailyRemaining, at = Date.now() } = observation;
    if (at < this.observedAt) return;
    this.observedAt = at;
    if (limit !== undefined && limit > 0 && intervalMs !== undefined && intervalMs > 0) this.reported = { limit, intervalMs };
    const arg = (v: number | undefined) => (v === undefined ? '' : v);
    void this.script(OBSERVE, at, arg(limit), arg(remaining), arg(intervalMs), arg(dailyLimit), arg(dailyRemaining), TokenBucket.WINDOW_MARGIN_MS)
      .catch(() => undefined);
  }

  /** The rate of the leases as a window count: `count` starts per `windowMs` (count 0: no rate). */
  private rateWindow(): [number, number] {
    let rate: number;
    let spanMs = 1000;
    if (this.configuredRate !== undefined) rate = this.configuredRate;
    else if (this.reported) return [0, 0]; // the reported window is its own gate
    else if (this.declaredRate) {
      rate = this.declaredRate.requestsPerSecond;
      spanMs = this.declaredRate.windowMs ?? 1000;
    } else rate = this.adaptive.rate;
    if (!Number.isFinite(rate)) return [0, 0];
    const count = Math.max(1, Math.floor((rate * spanMs) / 1000));
    return [count, Math.ceil((count / rate) * 1000) + TokenBucket.WINDOW_MARGIN_MS];
  }

  private learn([limit, intervalMs]: number[]): void {
    if (limit > 0 && intervalMs > 0) this.reported = { limit, intervalMs };
  }

  private settle(outcome: RequestOutcome): void {
    if (outcome === 'throttled') return;
    if (this.mode !== 'adaptive') {
      if (outcome === 'success') this.throttleStreak = 0;
      return;
    }
    if (outcome !== 'success') return this.adaptive.onServed();
    this.throttleStreak = 0;
    this.adaptive.onSuccess(Date.now() - this.lastRateWaitAt < RATE_BOUND_MS);
  }

  private applyLimits(): void {
    const { configuredRate, declaredRate, dailyReserve, concurrency } = limitsInForce(this.leases);
    this.configuredRate = configuredRate;
    this.declaredRate = declaredRate;
    this.dailyReserve = dailyReserve;
    this.cap = concurrency;
  }

  /** One caller of this process at a time asks Redis, in arrival order. */
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

  private script(lua: string, ...args: (string | number)[]): Promise<unknown> {
    return this.link.redis.eval(lua, this.keys.length, ...this.keys, ...args);
  }
}

function quotaError(limit: number, remaining: number, used: number, reserve: number): SyncError {
  const fmt = (n: number) => n.toLocaleString('en-US');
  const usage = limit < 0 ? '' : ` (${fmt(limit - remaining + used)} of ${fmt(limit)} used, ${fmt(reserve)} kept in reserve)`;
  return new SyncError('quota', `the daily API quota is nearly used up${usage}`, { code: 'DAILY_QUOTA', category: 'rate_limit' });
}

/**
 * The budgets of every process that reaches one Redis with one prefix. Keeps the holds of this
 * process's permits alive while it runs; when it dies they expire (HOLD_TTL_MS) and free the slots.
 */
export class RedisBudgets implements BudgetProvider {
  private readonly budgets = new Map<string, RedisRateBudget>();
  private readonly link: RedisBudgetLink;
  private readonly timer: NodeJS.Timeout;

  constructor(redis: Redis, prefix: string) {
    this.link = { redis, prefix, held: new Map() };
    this.timer = setInterval(() => void this.renew(), RENEW_EVERY_MS);
    this.timer.unref();
  }

  budget(key: string): RateBudget {
    let budget = this.budgets.get(key);
    if (!budget) {
      budget = new RedisRateBudget(key, this.link);
      this.budgets.set(key, budget);
    }
    return budget;
  }

  /** The budgets this process has used. */
  all(): Iterable<RedisRateBudget> {
    return this.budgets.values();
  }

  /** Stops renewing holds (the connection is the caller's to close). */
  close(): void {
    clearInterval(this.timer);
  }

  private async renew(): Promise<void> {
    const bySlots = new Map<string, string[]>();
    for (const [id, slots] of this.link.held) bySlots.set(slots, [...(bySlots.get(slots) ?? []), id]);
    for (const [slots, ids] of bySlots) {
      await this.link.redis.eval(RENEW, 4, slots, slots, slots, slots, HOLD_TTL_MS, ...ids).catch(() => undefined);
    }
  }
}
