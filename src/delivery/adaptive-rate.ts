/**
 * Finds a destination's rate when nobody said it: start low, grow while requests succeed
 * and the rate (not the concurrency cap) is what holds us back, and on a 429 drop under the
 * rate the destination actually served, then creep back up.
 *
 * The limit is estimated from measures, not guessed by halving: the rate the destination
 * served over the last second of sending (every answer but a 429; the pauses it asked for
 * left out). A 429 with too few answers before it to measure anything (a storm of them)
 * changes nothing: the pause it asks for is what holds us back, and once the storm passes we
 * go on at the rate that worked. Only 429s count: a 5xx or a reset says nothing about the rate.
 *
 * Each 429 costs a pause (a Retry-After rounds up to a second, a twentieth of a minute at
 * 20/s), so the rate aims a little under the estimate (`headroom`), and 429s that keep coming
 * at the estimate (a destination that allows almost no burst, a busy machine sending
 * unevenly) widen the headroom until they are rare; a quiet minute narrows it again.
 *
 * Growth: before any estimate, +1 per success (doubling per second); below the aim, half the
 * gap per second; above it, a probe that starts at 10 % of the estimate per second, halves
 * with every 429 that confirms the estimate (down to 0.1 %), and doubles after a minute
 * without a 429, so a raised limit is still found.
 */
export interface AdaptiveOptions {
  initial: number;
  min: number;
  max: number;
}

export const DEFAULT_ADAPTIVE: AdaptiveOptions = { initial: 4, min: 1, max: 10_000 };

/** The served rate is measured over this much recent sending time (pauses left out). */
const MEASURE_MS = 1_000;
/** Answers and pauses are kept this long, at most. */
const KEEP_MS = 30_000;
/** Fewer answers than this in the measure: the 429 tells nothing about the rate. */
const MIN_SAMPLES = 4;
/** A measure within this share of the estimate confirms it. */
const AGREEMENT = 0.05;
/** Share of the estimate aimed at: first, widest, narrowest, and the steps between. */
const HEADROOM = { start: 0.95, min: 0.8, max: 0.98, widen: 0.03, narrow: 0.01 };
/** Confirming 429s closer together than this widen the headroom. */
const TOO_OFTEN_MS = 10_000;
/** Below the aim: close this share of the gap per second. */
const RECOVER_PER_SECOND = 0.5;
/** Above it, the probe: share of the estimate per second at first, at the least. */
const PROBE_START = 0.1;
const PROBE_FLOOR = 0.001;
/** Without a 429 this long, the probe doubles and the headroom narrows. */
const QUIET_MS = 60_000;

export class AdaptiveRate {
  private value: number;
  /** Best estimate of the destination's limit; undefined until a 429 measured it. */
  private ceiling: number | undefined;
  private headroom = HEADROOM.start;
  private probe = PROBE_START;
  /** Times of recent requests answered other than 429. */
  private served: number[] = [];
  /** Recent pauses 429s asked for, oldest first: time in them served nothing by our choice. */
  private pauses: { start: number; end: number }[] = [];
  private lastCutAt = -Infinity;
  private lastConfirmedAt = -Infinity;
  /** Since when nothing was throttled (the probe and headroom relax from there). */
  private quietSince = 0;

  constructor(private readonly options: AdaptiveOptions = DEFAULT_ADAPTIVE) {
    this.value = options.initial;
  }

  get rate(): number {
    return this.value;
  }

  get limitEstimate(): number | undefined {
    return this.ceiling;
  }

  /** A request was answered, though not with success (5xx, reset): it used the rate all the same. */
  onServed(now: number): void {
    this.served.push(now);
    while (this.served.length > 0 && this.served[0] <= now - KEEP_MS) this.served.shift();
  }

  /** A request succeeded; `rateBound`: callers were waiting for the rate, so growing helps. */
  onSuccess(now: number, rateBound: boolean): void {
    this.onServed(now);
    if (!rateBound) return;
    if (this.ceiling === undefined) {
      this.value = this.clamp(this.value + 1);
      return;
    }
    if (now - this.quietSince >= QUIET_MS) {
      this.quietSince = now;
      this.probe = Math.min(PROBE_START, this.probe * 2);
      this.headroom = Math.min(HEADROOM.max, this.headroom + HEADROOM.narrow);
    }
    // Each success adds 1/rate of a second's worth of growth.
    const perSuccess = 1 / this.value;
    const aim = this.ceiling * this.headroom;
    const step = this.value < aim ? Math.max(aim - this.value, 0) * RECOVER_PER_SECOND : this.ceiling * this.probe;
    this.value = this.clamp(this.value + step * perSuccess);
  }

  /**
   * The destination answered 429. Requests already in flight answer 429 too: one cut per
   * `quietMs` (the pause the destination asked for, at least a second).
   */
  onThrottle(now: number, quietMs = 1_000): void {
    if (now - this.lastCutAt < Math.max(1_000, quietMs)) return;
    const from = this.sendingSince(now, MEASURE_MS);
    const served = this.served.filter((t) => t > from).length;
    this.lastCutAt = now;
    this.quietSince = now + quietMs;
    this.pauses.push({ start: now, end: now + quietMs });
    while (this.pauses.length > 0 && this.pauses[0].end <= now - KEEP_MS) this.pauses.shift();
    if (served < MIN_SAMPLES) return; // nothing to measure: the pause does the work
    const measured = Math.min(this.value, served / (MEASURE_MS / 1000));
    if (this.ceiling !== undefined && Math.abs(measured - this.ceiling) <= this.ceiling * AGREEMENT) {
      // The estimate holds: probe more gently, and aim lower if 429s keep coming at it.
      this.probe = Math.max(PROBE_FLOOR, this.probe / 2);
      if (now - this.lastConfirmedAt < TOO_OFTEN_MS) this.headroom = Math.max(HEADROOM.min, this.headroom - HEADROOM.widen);
      this.lastConfirmedAt = now;
    } else {
      this.ceiling = measured;
    }
    this.value = this.clamp(this.ceiling * this.headroom);
  }

  /** The start of the last `ms` of sending time before `now`: pauses do not count. */
  private sendingSince(now: number, ms: number): number {
    let from = now - ms;
    for (let i = this.pauses.length - 1; i >= 0; i--) {
      const { start, end } = this.pauses[i];
      if (end <= from) break;
      from -= Math.min(end, now) - Math.max(start, from);
    }
    return from;
  }

  private clamp(rate: number): number {
    return Math.min(this.options.max, Math.max(this.options.min, rate));
  }
}
