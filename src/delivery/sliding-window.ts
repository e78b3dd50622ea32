/**
 * At most `limit` starts in any window of `windowMs`: the hard guarantee behind a
 * configured rate ("20 per second" is never 21 in any second, measured however the
 * destination measures it) and behind observed limits ("100 per 10 s").
 */
export class SlidingWindow {
  /** Start times, oldest first; never more than `limit` of them. */
  private starts: number[] = [];

  constructor(private limit: number, private windowMs: number) {}

  resize(limit: number, windowMs: number): void {
    this.limit = Math.max(1, Math.floor(limit));
    this.windowMs = windowMs;
    if (this.starts.length > this.limit) this.starts = this.starts.slice(-this.limit);
  }

  /** Milliseconds until one more start fits (0: now). */
  delay(now: number): number {
    if (this.starts.length < this.limit) return 0;
    return Math.max(0, this.starts[0] + this.windowMs - now);
  }

  record(now: number): void {
    this.starts.push(now);
    if (this.starts.length > this.limit) this.starts.shift();
  }

  /** Starts inside the window ending now. */
  count(now: number): number {
    let n = 0;
    for (let i = this.starts.length - 1; i >= 0 && this.starts[i] > now - this.windowMs; i--) n++;
    return n;
  }

  /**
   * Someone else used `used` of the window (the destination said so): count them as
   * made now, which is the cautious reading since they happened at some earlier time.
   */
  reserve(used: number, now: number): void {
    const missing = Math.min(this.limit, used) - this.count(now);
    for (let i = 0; i < missing; i++) this.record(now);
  }
}
