import { SlidingWindow, type WindowEntry } from './sliding-window.ts';

/**
 * Paces request starts at `rate` per second, evenly spaced (a token bucket in its GCRA
 * form: one "theoretical arrival time" instead of a token count, so the rate can change
 * at any moment without losing or inventing tokens).
 *
 * Half an interval of credit makes up for late timers without letting two requests leave
 * together (which the window would then hold back a second later, again and again); a sliding window of `max(1, floor(rate))` requests per
 * `that / rate` seconds (plus a few ms for clock granularity) makes sure no window the
 * destination counts holds more than the rate.
 */
export class TokenBucket {
  private rate = Infinity;
  private tat = 0;
  /** Typical delay between a request's start and its place in the window (see RateBudget.late). */
  private lag = 0;
  private readonly window = new SlidingWindow(1, 0);

  static readonly WINDOW_MARGIN_MS = 5;

  constructor(rate: number) {
    this.setRate(rate);
  }

  get requestsPerSecond(): number {
    return this.rate;
  }

  setRate(rate: number): void {
    if (!(rate > 0)) throw new RangeError(`rate must be positive, got ${rate}`);
    this.rate = rate;
    if (Number.isFinite(rate)) {
      const limit = Math.max(1, Math.floor(rate));
      this.window.resize(limit, (limit / rate) * 1000 + TokenBucket.WINDOW_MARGIN_MS);
    }
  }

  /**
   * Spaces requests so that `limit` of them span the window plus the usual lag: the window
   * then rarely has to hold a request back, and the rate stays even instead of stop-and-go.
   */
  setLag(ms: number): void {
    this.lag = Math.max(0, ms);
  }

  private interval(): number {
    const limit = Math.max(1, Math.floor(this.rate));
    return Math.max(1000 / this.rate, ((limit / this.rate) * 1000 + TokenBucket.WINDOW_MARGIN_MS + this.lag) / limit);
  }

  /** Milliseconds until the next start is allowed (0: now). */
  delay(now: number): number {
    if (!Number.isFinite(this.rate)) return 0;
    return Math.max(0, this.tat - now, this.window.delay(now));
  }

  /** Records a start; call only when delay() is 0. The entry may be moved later (see SlidingWindow). */
  take(now: number): WindowEntry | undefined {
    if (!Number.isFinite(this.rate)) return undefined;
    const interval = this.interval();
    this.tat = Math.max(this.tat, now - interval / 2) + interval;
    return this.window.record(now);
  }
}
