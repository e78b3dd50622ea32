/**
 * At most `limit` requests in any window of `windowMs`: the hard guarantee behind a
 * configured rate ("20 per second" is never 21 in any second, counted where the destination
 * counts) and behind observed limits ("100 per 10 s").
 *
 * Each entry starts at the moment the request was allowed; the caller may later move it
 * forward (a request that left late, held up by a busy process, arrived late too).
 */
export interface WindowEntry {
  at: number;
  /** Still waiting for its answer: it may not have arrived yet (counted as arriving now, up to OPEN_CAP_MS). */
  open?: boolean;
}

/** A request in flight longer than this is taken to have arrived by then (a hung request must not block the window). */
export const OPEN_CAP_MS = 2_000;

export class SlidingWindow {
  /** The last `limit` entries, in the order they were allowed. */
  private entries: WindowEntry[] = [];

  constructor(private limit: number, private windowMs: number) {}

  resize(limit: number, windowMs: number): void {
    this.limit = Math.max(1, Math.floor(limit));
    this.windowMs = windowMs;
    if (this.entries.length > this.limit) this.entries = this.entries.slice(-this.limit);
  }

  /** Milliseconds until one more request fits (0: now). */
  delay(now: number): number {
    if (this.entries.length < this.limit) return 0;
    let oldest = Infinity;
    for (const e of this.entries) oldest = Math.min(oldest, e.open ? Math.max(e.at, Math.min(now, e.at + OPEN_CAP_MS)) : e.at);
    return Math.max(0, oldest + this.windowMs - now);
  }

  record(now: number): WindowEntry {
    const entry = { at: now };
    this.entries.push(entry);
    if (this.entries.length > this.limit) this.entries.shift();
    return entry;
  }

  /** Entries inside the window ending now. */
  count(now: number): number {
    return this.entries.filter((e) => e.at > now - this.windowMs).length;
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
