/**
 * Finds a destination's rate when nobody said it: start low, grow while requests succeed
 * and the rate (not the concurrency cap) is what holds us back, and on a 429 drop to just
 * under the rate the destination actually served, then probe upward slowly.
 *
 * It is AIMD with a measured decrease: the rate the destination actually served is the
 * best estimate of its limit, so a 429 brings the rate near it instead of halving it. Served
 * is measured since the previous 429 (pauses included: a burst allowance the destination
 * grants after a pause must not pass for its steady rate), or over the last two seconds
 * before the first one.
 */
export interface AdaptiveOptions {
  initial: number;
  min: number;
  max: number;
}

export const DEFAULT_ADAPTIVE: AdaptiveOptions = { initial: 4, min: 0.2, max: 10_000 };

const MEASURE_MS = 2_000;
/** Rate kept under the measured limit after a 429. */
const BACKOFF_SHARE = 0.95;
/** Below the last known limit: close this share of the gap per second. */
const RECOVER_PER_SECOND = 0.3;
/** Above it: probe by this share of it per second. */
const PROBE_PER_SECOND = 0.02;
/** Before any 429: grow by this factor per second. */
const SLOW_START_PER_SECOND = 2;

export class AdaptiveRate {
  private value: number;
  /** Best estimate of the destination's limit; undefined until the first 429. */
  private ceiling: number | undefined;
  private successes: number[] = [];
  private sinceCut = 0;
  private lastCutAt = -Infinity;
  /** End of the pause the last 429 asked for: time in it served nothing by our choice. */
  private pauseEnd = -Infinity;

  constructor(private readonly options: AdaptiveOptions = DEFAULT_ADAPTIVE) {
    this.value = options.initial;
  }

  get rate(): number {
    return this.value;
  }

  get limitEstimate(): number | undefined {
    return this.ceiling;
  }

  /** A request succeeded; `rateBound`: callers were waiting for the rate, so growing helps. */
  onSuccess(now: number, rateBound: boolean): void {
    this.successes.push(now);
    this.sinceCut++;
    while (this.successes.length > 0 && this.successes[0] <= now - MEASURE_MS) this.successes.shift();
    if (!rateBound) return;
    // Each success adds 1/rate of a second's worth of growth.
    const perSuccess = 1 / this.value;
    let next: number;
    if (this.ceiling === undefined) next = this.value * (1 + (SLOW_START_PER_SECOND - 1) * perSuccess);
    else if (this.value < this.ceiling) next = this.value + (this.ceiling - this.value) * RECOVER_PER_SECOND * perSuccess + this.ceiling * PROBE_PER_SECOND * perSuccess;
    else next = this.value + this.ceiling * PROBE_PER_SECOND * perSuccess;
    this.value = this.clamp(next);
  }

  /**
   * The destination answered 429. Requests already in flight answer 429 too: one cut per
   * `quietMs` (the pause the destination asked for, at least a second).
   */
  onThrottle(now: number, quietMs = 1_000): void {
    if (now - this.lastCutAt < Math.max(1_000, quietMs)) return;
    const served = Number.isFinite(this.lastCutAt)
      ? this.sinceCut / (Math.max(100, now - Math.max(this.lastCutAt, this.pauseEnd)) / 1000)
      : this.successes.filter((t) => t > now - MEASURE_MS).length / (MEASURE_MS / 1000);
    this.lastCutAt = now;
    this.pauseEnd = now + quietMs;
    this.sinceCut = 0;
    const estimate = Math.max(served, this.value * 0.5);
    this.ceiling = Math.min(this.value, estimate);
    this.value = this.clamp(this.ceiling * BACKOFF_SHARE);
  }

  private clamp(rate: number): number {
    return Math.min(this.options.max, Math.max(this.options.min, rate));
  }
}
