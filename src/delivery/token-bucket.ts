import { SlidingWindow, type WindowEntry } from './sliding-window.ts';

/**
 * Paces request starts at `rate` per second, evenly spaced (a token bucket in its GCRA
 * form: one "theoretical arrival time" instead of a token count, so the rate can change
 * at any moment without losing or inventing tokens).
 *
 * Half an interval of credit makes up for late timers without letting two requests leave
 * together (which the window would then hold back a second later, again and again). A
 * sliding window of `rate × windowMs` requests per `windowMs` (plus a few ms for clock
 * granularity) makes sure no window the destination counts holds more than that: a
 * second for a configured rate, the destination's own span for the one it reports
 * (HubSpot: 100 per 10 s).
 */
export class TokenBucket {
  private rate = Infinity;
  /** Requests the guard window holds. */
  private windowLimit = 1;
  private tat = 0;
  /** Typical delay between a request's start and its place in the window (see RateBudget.late). */
  private lag = 0;
  private readonly window = new SlidingWindow(1, 0);

  static readonly WINDOW_MARGIN_MS = 5;

  constructor(rate: number, windowMs?: number) {
    this.setRate(rate, windowMs);
  }

  get requestsPerSecond(): number {
    return this.rate;
  }

  setRate(rate: number, windowMs = 1000): void {
    if (!(rate > 0)) throw new RangeError(`rate must be positive, got ${rate}`);
    this.rate = rate;
    this.windowLimit = Math.max(1, Math.floor((rate * windowMs) / 1000));
    if (Number.isFinite(rate)) this.window.resize(this.windowLimit, (this.windowLimit / rate) * 1000 + TokenBucket.WINDOW_MARGIN_MS);
  }

  /**
   * Spaces requests so that `limit` of them span the window plus the usual lag: the window
   * then rarely has to hold a request back, and the rate stays even instead of stop-and-go.
   */
  setLag(ms: number): void {
    this.lag = Math.max(0, ms);
  }

  /** The lag and margin are spread over the whole window: over 10 s they cost a tenth of what they cost over 1 s. */
  private interval(): number {
    const limit = this.windowLimit;
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
