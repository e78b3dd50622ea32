import type { Change, Rejection } from '../destinations/destination.ts';
import type { Outcome } from '../delivery/outcome.ts';
import type { Value } from '../sources/source.ts';
import { isHeld, type RowStateUpdate, type RowStatus } from '../state/state-store.ts';

/**
 * A change as the engine sends it: what the destination needs, plus what state needs once its
 * outcome is known (the delivery hands the same object back with the outcome).
 */
export interface PendingChange extends Change {
  /** Fingerprint of the values sent (null for deletes), and the diff's local one when it keeps one. */
  fp: string | null;
  localFp?: string | null;
  /** The row's state before this run, if any: what the destination holds and where. */
  previous: { status: RowStatus; match: Record<string, Value> | null } | null;
  /** With a model's eventTime: the row's event time (epoch ms), which its settled row carries to the latency meter. */
  eventAt?: number;
}

/**
 * The one rule that turns a record's outcome into its state update (undefined: leave the state
 * as it is, so the next run sends the row again):
 * - delivered: a delete forgets the row; anything else records the values sent, the destination
 *   id it answered (or the one remembered) and the identifier sent;
 * - deferred, or rejected for a retry: nothing changes;
 * - a delete refused because the record is not there (missing_identifier) forgets the row; any
 *   other refused delete stays as it was and is tried again next run;
 * - a write refused for good parks the row with the refused fingerprint, so the same values are
 *   not sent again. If the destination still holds an earlier version (it was delivered, and the
 *   refusal does not say the record is gone), the row is `outdated` and keeps the identifier and id
 *   of that version, so mirror can still delete it; otherwise it is `rejected`.
 */
export function stateUpdateFor(change: PendingChange, outcome: Outcome): RowStateUpdate | undefined {
  const { key } = outcome;
  if (outcome.outcome === 'deferred') return undefined;
  if (outcome.outcome === 'delivered') {
    if (change.op === 'delete') return { key, deleted: true };
    return { key, fp: change.fp!, localFp: change.localFp ?? null, status: 'delivered', destId: outcome.destId ?? change.destId ?? null, match: change.match };
  }
  return parkedUpdate(change, key, outcome.rejection);
}

/** The update for a refusal (from the destination or the local checks). */
export function parkedUpdate(change: Pick<PendingChange, 'op' | 'fp' | 'localFp' | 'destId' | 'previous'>, key: string, rejection: Rejection): RowStateUpdate | undefined {
  if (rejection.retryable) return undefined;
  const gone = rejection.category === 'missing_identifier';
  if (change.op === 'delete') return gone ? { key, deleted: true } : undefined;
  const previous = change.previous;
  if (previous && isHeld(previous.status) && !gone) {
    return { key, fp: change.fp!, localFp: change.localFp ?? null, status: 'outdated', destId: change.destId ?? null, match: previous.match };
  }
  return { key, fp: change.fp!, localFp: change.localFp ?? null, status: 'rejected', destId: gone ? null : change.destId ?? null, match: null };
}
