import type { SyncMode } from '../config/project.ts';
import { parkedUpdate, type PendingChange } from '../engine/state-update.ts';
import { MODE_OPERATIONS } from '../engine/sync-modes.ts';
import { isHeld, type RowState, type RowStateUpdate } from '../state/state-store.ts';
import type { QueuedEvent } from './event-batch.ts';
import type { AcceptedEvent, SettledEvent } from './event-journal.ts';
import type { EventModel } from './event-model.ts';
import { compareOrder } from './event-order.ts';

/** An event settled without the destination: stale, refused by the mapping, unchanged or superseded. */
export interface LocalSettle {
  event: AcceptedEvent & { order?: unknown };
  status: SettledEvent['status'];
  reason?: string;
  category?: string;
}

/** An event that goes to the destination, as the change delivery sends. */
export interface EventToSend {
  event: QueuedEvent;
  change: PendingChange;
}

export interface SortContext {
  model: EventModel;
  mode: SyncMode;
  orderBy?: string;
  /** Per key, the order value of the newest value delivered. */
  marks: Map<string, unknown>;
  rowState: Map<string, RowState>;
}

/**
 * What becomes of each event of a micro-batch, decided as a run decides for a row: older than
 * what was delivered (stale), refused by the mapping (parked in the state like a run's
 * rejection), equal to the state's fingerprint or not sent in this mode (unchanged), or sent.
 */
export function sortEvents(batch: QueuedEvent[], superseded: QueuedEvent[], { model, mode, orderBy, marks, rowState }: SortContext): {
  local: LocalSettle[];
  localUpdates: RowStateUpdate[];
  sending: EventToSend[];
} {
  const local: LocalSettle[] = superseded.map((event) => ({ event, status: 'superseded', reason: 'a newer value of the same key was sent instead' }));
  const localUpdates: RowStateUpdate[] = [];
  const sending: EventToSend[] = [];
  const operations = MODE_OPERATIONS[mode];
  for (const event of batch) {
    const mark = marks.get(event.key);
    if (orderBy && mark !== undefined && compareOrder(event.order, mark) < 0) {
      local.push({ event, status: 'rejected', category: 'stale_data', reason: `${orderBy} ${String(event.order)} is older than the value already delivered (${orderBy} ${String(mark)}); an older value is never sent after a newer one` });
      continue;
    }
    const previous = rowState.get(event.key);
    const mapped = model.mapper.map(event.canonical);
    const fp = model.fingerprint(event.canonical);
    const op = operations[previous ? 'changed' : 'added'];
    const prior = previous ? { status: previous.status, match: previous.match ?? null } : null;
    if (!mapped.ok) {
      const update = parkedUpdate({ op: op ?? 'upsert', fp, localFp: null, destId: previous?.destId ?? undefined, previous: prior }, event.key, mapped.rejection);
      if (update) localUpdates.push(update);
      local.push({ event, status: 'rejected', category: mapped.rejection.category, reason: mapped.rejection.message });
      continue;
    }
    if (previous && previous.fp === fp && isHeld(previous.status)) {
      local.push({ event, status: 'unchanged', reason: 'the destination holds these values already (same fingerprint)' });
      continue;
    }
    if (!op) {
      local.push({ event, status: 'unchanged', reason: `mode ${mode} sends new keys only; this key was synced before` });
      continue;
    }
    const { fields, match } = mapped.value;
    sending.push({ event, change: { key: event.key, op, match, fields, destId: previous?.destId ?? undefined, fp, localFp: null, previous: prior } });
  }
  return { local, localUpdates, sending };
}
