import type { Row } from '../sources/source.ts';
import { compareOrder } from './event-order.ts';
import type { AcceptedEvent } from './event-journal.ts';

/** An accepted event in memory: its canonical row, its order value, and when it may be tried again. */
export interface QueuedEvent extends AcceptedEvent {
  canonical: Row;
  order: unknown;
  /** Deferred events wait until this time (ms since epoch). */
  notBefore: number;
}

/**
 * Takes the next micro-batch from `waiting`: at most `size` keys, none of them in flight (a key
 * is delivered one value at a time, so a later value never overtakes an earlier one on the
 * wire), and one value per key: the newest by order value (or arrival, without `orderBy`).
 * The values it replaced come back as `superseded`. Events it takes leave `waiting`.
 */
export function takeBatch(
  waiting: QueuedEvent[], size: number, inFlight: Set<string>, now: number, ordered: boolean,
): { batch: QueuedEvent[]; superseded: QueuedEvent[]; rest: QueuedEvent[] } {
  const picked = new Map<string, QueuedEvent>();
  const superseded: QueuedEvent[] = [];
  const rest: QueuedEvent[] = [];
  for (const event of waiting) {
    if (inFlight.has(event.key) || event.notBefore > now) {
      rest.push(event);
      continue;
    }
    const other = picked.get(event.key);
    if (other) {
      const newer = !ordered || compareOrder(event.order, other.order) >= 0;
      superseded.push(newer ? other : event);
      if (newer) picked.set(event.key, event);
      continue;
    }
    if (picked.size >= size) {
      rest.push(event);
      continue;
    }
    picked.set(event.key, event);
  }
  return { batch: [...picked.values()], superseded, rest };
}

/** Events `takeBatch` would take now (counted up to `enough`), and the earliest time a waiting one becomes ready. */
export function readiness(waiting: QueuedEvent[], inFlight: Set<string>, now: number, enough: number): { ready: number; oldest: number; nextRetry: number } {
  let ready = 0;
  let oldest = Infinity;
  let nextRetry = Infinity;
  for (const event of waiting) {
    if (inFlight.has(event.key)) continue;
    if (event.notBefore > now) {
      nextRetry = Math.min(nextRetry, event.notBefore);
      continue;
    }
    ready++;
    oldest = Math.min(oldest, event.acceptedAt);
    if (ready >= enough) break;
  }
  return { ready, oldest, nextRetry };
}
