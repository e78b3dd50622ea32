/**
 * How much jitter a round trip may hide beyond what its duration shows: a request no slower
 * than the fastest recent one may still have reached the destination this much later.
 */
export const ARRIVAL_SLACK_MS = 10;
/** A request is never taken to have arrived later than this after it started. */
const MAX_SHIFT_MS = 10_000;
/** Round trips remembered for the destination's usual latency. */
const REMEMBERED = 32;
/** Round trips needed before their fastest is taken as usual (the first ones open connections and warm up). */
const SETTLED_AFTER = 8;

/**
 * Where an answered request counts in the rate windows. A rate window starts a request's entry
 * when it is allowed, but the destination counts it when it arrives, somewhere in the round
 * trip. What can put more requests in one of the destination's windows than in ours is one
 * request arriving later, relative to its start, than another: by at most how much longer its
 * round trip took than the fastest recent one (the rest of the trip is the same), plus a little
 * jitter. So the entry moves by that much: a request held up by a busy process or a slow
 * destination costs rate, a long but steady round trip (a remote API) costs none. A trip
 * shorter than the slack, or among the first few, moves by its whole duration, to its answer:
 * exact, and nearly free.
 */
export class ArrivalLag {
  private readonly latencies: number[] = [];

  /** Milliseconds past its start at which a request started at `startedAt`, answered now, is taken to have arrived. */
  shift(startedAt: number, now = Date.now()): number {
    const took = Math.max(0, now - startedAt);
    const usual = this.latencies.length < SETTLED_AFTER ? 0 : Math.min(...this.latencies);
    this.latencies.push(took);
    if (this.latencies.length > REMEMBERED) this.latencies.shift();
    return Math.max(0, Math.min(took, took - usual + ARRIVAL_SLACK_MS, MAX_SHIFT_MS));
  }
}
