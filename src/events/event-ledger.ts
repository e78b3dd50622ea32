import type { EventStatus, SettledEvent } from './event-journal.ts';

export interface EventOutcome {
  id: string;
  key: string;
  status: EventStatus;
  reason?: string;
  category?: string;
  acceptedAt?: string;
  settledAt: string;
}

/** Outcomes kept for lookup by id, and latencies for the percentiles. */
const KEEP_OUTCOMES = 100_000;
const KEEP_LATENCIES = 10_000;
const KEEP_REJECTED = 100;

/**
 * How a sync's events ended, in memory: each recent event's outcome by id (the API's
 * GET …/events/{id}), counts by outcome, the latest rejections with the destination's reason,
 * and the latency from acceptance to the destination's acknowledgement (p50/p95/p99).
 */
export class EventLedger {
  private readonly outcomes = new Map<string, EventOutcome>();
  /**
   * The ids kept, oldest first from `oldest`: the one evicted is found here. Evicting a Map's
   * first key instead costs a walk over every key deleted before it (V8 keeps them until it
   * rehashes), which made each settle slower the more events the ledger had seen.
   */
  private readonly keptIds: string[] = [];
  private oldest = 0;
  private readonly counts: Record<EventStatus, number> = { delivered: 0, unchanged: 0, superseded: 0, rejected: 0 };
  private readonly latencies: number[] = [];
  private latencyAt = 0;
  private readonly rejected: EventOutcome[] = [];
  /** Events delivered per second, for the last seconds (second → count). */
  private readonly perSecond = new Map<number, number>();

  settled(event: SettledEvent & { acceptedAt?: number }): void {
    const outcome: EventOutcome = {
      id: event.id, key: event.key, status: event.status, settledAt: new Date(event.settledAt).toISOString(),
      ...(event.reason !== undefined && { reason: event.reason }), ...(event.category !== undefined && { category: event.category }),
      ...(event.acceptedAt !== undefined && { acceptedAt: new Date(event.acceptedAt).toISOString() }),
    };
    if (!this.outcomes.has(event.id)) this.keep(event.id);
    this.outcomes.set(event.id, outcome);
    this.counts[event.status]++;
    if (event.status === 'rejected') {
      this.rejected.push(outcome);
      if (this.rejected.length > KEEP_REJECTED) this.rejected.shift();
    }
    if (event.status === 'delivered') {
      const second = Math.floor(event.settledAt / 1000);
      this.perSecond.set(second, (this.perSecond.get(second) ?? 0) + 1);
      if (this.perSecond.size > 20) this.perSecond.delete(this.perSecond.keys().next().value!);
    }
  }

  private keep(id: string): void {
    if (this.keptIds.length < KEEP_OUTCOMES) {
      this.keptIds.push(id);
      return;
    }
    this.outcomes.delete(this.keptIds[this.oldest]!);
    this.keptIds[this.oldest] = id;
    this.oldest = (this.oldest + 1) % KEEP_OUTCOMES;
  }

  latency(ms: number): void {
    if (this.latencies.length < KEEP_LATENCIES) this.latencies.push(ms);
    else this.latencies[this.latencyAt++ % KEEP_LATENCIES] = ms;
  }

  outcome(id: string): EventOutcome | undefined {
    return this.outcomes.get(id);
  }

  /** Events delivered per second over the last 10 seconds. */
  deliveredPerSecond(now = Date.now()): number {
    const since = Math.floor(now / 1000) - 10;
    let n = 0;
    for (const [second, count] of this.perSecond) if (second >= since) n += count;
    return n / 10;
  }

  summary() {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : null);
    return {
      counts: { ...this.counts },
      latencyMs: { samples: sorted.length, p50: at(50), p95: at(95), p99: at(99) },
      rejected: [...this.rejected].reverse(),
    };
  }
}
