import type { Redis } from 'ioredis';
import { AdaptiveRate } from './adaptive-rate.ts';
import { ADAPTIVE_EVENT } from './redis-budget-scripts.ts';

/** Events kept in the stream, about: 30 s of history at 300 requests/s (AdaptiveRate keeps 30 s). */
const KEEP_EVENTS = 10_000;
/** Events read per round trip. */
const PAGE = 1_000;
/** A process reads the others' events at most this often. */
const CATCH_UP_MS = 50;

/**
 * The adaptive search for a credential's rate, one for every process that shares its budget.
 * Every answer any process gets (success, served, 429) goes to one Redis stream, stamped with
 * Redis's clock; every process replays the stream, in its order, into its own AdaptiveRate.
 * The search is deterministic, so they all hold the same estimate: it converges once, from
 * everybody's answers, instead of three times from a third of them each. A process that
 * starts late replays what the stream kept and starts from where the others are.
 */
export class SharedAdaptiveRate {
  private readonly adaptive = new AdaptiveRate();
  private lastId = '-';
  private readAt = -Infinity;

  constructor(private readonly redis: Redis, private readonly keys: string[], private readonly streamKey: string) {}

  get rate(): number {
    return this.adaptive.rate;
  }

  get limitEstimate(): number | undefined {
    return this.adaptive.limitEstimate;
  }

  /** A request succeeded; `rateBound`: callers here were waiting for the rate. */
  onSuccess(rateBound: boolean): void {
    this.note('s', rateBound ? 1 : 0);
  }

  /** A request was answered, not with success (5xx, reset): it used the rate all the same. */
  onServed(): void {
    this.note('f', 0);
  }

  /** The destination answered 429 and asked for (or got) a pause of `quietMs`. */
  onThrottle(quietMs: number): void {
    this.note('t', Math.ceil(quietMs));
  }

  /** Replays the events written since the last read (everybody's), unless read within CATCH_UP_MS. */
  async catchUp(force = false): Promise<void> {
    if (!force && Date.now() - this.readAt < CATCH_UP_MS) return;
    this.readAt = Date.now();
    for (;;) {
      const start = this.lastId === '-' ? '-' : `(${this.lastId}`;
      const events = await this.redis.xrange(this.streamKey, start, '+', 'COUNT', PAGE);
      for (const [id, fields] of events) {
        this.lastId = id;
        this.apply(Number(id.split('-')[0]), fields[1], Number(fields[3]));
      }
      if (events.length < PAGE) return;
    }
  }

  private apply(at: number, kind: string | undefined, arg: number): void {
    if (kind === 's') this.adaptive.onSuccess(at, arg === 1);
    else if (kind === 'f') this.adaptive.onServed(at);
    else if (kind === 't') this.adaptive.onThrottle(at, arg);
  }

  private note(kind: 's' | 'f' | 't', arg: number): void {
    void this.redis.eval(ADAPTIVE_EVENT, this.keys.length, ...this.keys, kind, arg, KEEP_EVENTS).catch(() => undefined);
  }
}
