import { SlidingWindow, type WindowEntry } from './sliding-window.ts';

/**
 * Paces request starts at `rate` per second, evenly spaced (a token bucket in its GCRA
 * form: one "theoretical arrival time" instead of a token count, so the rate can change
 * at any moment without losing or inventing tokens).
 *
 * A quarter interval of credit absorbs timer lateness, so the long-run rate is the rate
 * asked without two requests ever leaving together; a sliding window of `max(1, floor(rate))`
 * starts per `that / rate` seconds, plus a margin for the jitter between our clock and the
 * destination's, makes sure no window the destination counts holds more than the rate.
 */
export class TokenBucket {
  private rate = Infinity;
  private tat = 0;
  private readonly window = new SlidingWindow(1, 0);

  static readonly WINDOW_MARGIN_MS = 15;

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

  /** Milliseconds until the next start is allowed (0: now). */
  delay(now: number): number {
    if (!Number.isFinite(this.rate)) return 0;
    return Math.max(0, this.tat - now, this.window.delay(now));
  }

  /** Records a start; call only when delay() is 0. The entry may be moved later (see SlidingWindow). */
  take(now: number): WindowEntry | undefined {
    if (!Number.isFinite(this.rate)) return undefined;
    const interval = 1000 / this.rate;
    this.tat = Math.max(this.tat, now - interval / 4) + interval;
    return this.window.record(now);
  }
}
