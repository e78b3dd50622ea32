import pLimit, { type LimitFunction } from 'p-limit';

export interface PlanGateOptions {
  /** Plans computed at once: each reads its model into a DuckDB workspace of its own. */
  concurrency?: number;
  /** Plans waiting for a turn; past that, requests are refused (429). */
  queue?: number;
  /** Told whenever the number of plans being computed changes. */
  onRunning?(running: number): void;
}

/** Too many plans in progress: the API answers 429 with Retry-After. */
export class PlansBusyError extends Error {
  constructor(readonly retryAfterSeconds: number, running: number, waiting: number) {
    super(`${running} plans are being computed and ${waiting} wait for a turn; ask again in ${retryAfterSeconds} s`);
    this.name = 'PlansBusyError';
  }
}

/**
 * Keeps plan requests from taking the server's memory: a request for a sync whose plan is
 * already being computed (or waits) shares that plan; other plans run a few at a time, a
 * few more wait, and the rest are refused with a time to come back.
 */
export class PlanGate {
  private readonly limit: LimitFunction;
  private readonly queue: number;
  private readonly shared = new Map<string, Promise<unknown>>();
  private running = 0;
  /** Recent plan durations, for Retry-After. */
  private averageMs = 1_000;

  constructor(private readonly compute: (sync: string) => Promise<unknown>, private readonly options: PlanGateOptions = {}) {
    this.limit = pLimit(options.concurrency ?? 2);
    this.queue = options.queue ?? 4;
  }

  plan(sync: string): Promise<unknown> {
    const pending = this.shared.get(sync);
    if (pending) return pending;
    const { activeCount: running, pendingCount: waiting, concurrency } = this.limit;
    if (running + waiting >= concurrency + this.queue) {
      const turns = Math.ceil((waiting + 1) / concurrency);
      throw new PlansBusyError(Math.max(1, Math.ceil((turns * this.averageMs) / 1000)), running, waiting);
    }
    const plan = this.limit(() => this.timed(sync)).finally(() => this.shared.delete(sync));
    this.shared.set(sync, plan);
    return plan;
  }

  private async timed(sync: string): Promise<unknown> {
    const started = Date.now();
    this.options.onRunning?.(++this.running);
    try {
      return await this.compute(sync);
    } finally {
      this.averageMs = 0.7 * this.averageMs + 0.3 * (Date.now() - started);
      this.options.onRunning?.(--this.running);
    }
  }
}
