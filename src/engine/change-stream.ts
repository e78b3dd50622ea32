import type { SyncMode } from '../config/project.ts';
import type { Rejection } from '../destinations/destination.ts';
import type { Diff, DiffKind } from '../diff/diff.ts';
import type { Mapper } from '../mapping/mapper.ts';
import type { Row } from '../sources/source.ts';
import { isHeld, type RowStateUpdate } from '../state/state-store.ts';
import { MODE_OPERATIONS } from './sync-modes.ts';
import { parkedUpdate, type PendingChange } from './state-update.ts';

export type { PendingChange };

/** Rows settled without a request: mapping rejections, and deletes of rows the destination never held (skipped). */
export interface LocalOutcomes {
  /** `sent`: the model's row, which the mapping refused. */
  rejected: { key: string; rejection: Rejection; update?: RowStateUpdate; sent?: Row }[];
  skipped: RowStateUpdate[];
  /** Rows held back because an event delivered a newer value of the key (state unchanged). */
  heldBack: number;
}

/** Changes the diff hands over at once. */
const CHUNK_SIZE = 5_000;

/**
 * Step 3's input: the differences this mode sends, mapped into Changes, in chunks. A row the
 * mapping refuses (a value that cannot be coerced, a null identifier) never reaches the
 * destination: it is reported through `onLocal` with its reason, as is a delete of a row the
 * destination never held.
 */
export async function* changeStream(
  diff: Diff,
  mode: SyncMode,
  mapper: Mapper,
  onLocal: (outcomes: LocalOutcomes) => Promise<void>,
  signal: AbortSignal,
  /** True for a row older (by the sync's events.orderBy) than what an event delivered for its key. */
  olderThanEvents?: (key: string, row: Row) => boolean,
): AsyncIterable<PendingChange[]> {
  const operations = MODE_OPERATIONS[mode];
  for await (const chunk of diff.changes(Object.keys(operations) as DiffKind[], { chunkSize: CHUNK_SIZE, signal })) {
    const changes: PendingChange[] = [];
    const local: LocalOutcomes = { rejected: [], skipped: [], heldBack: 0 };
    for (const { kind, key, fp, localFp, row, previous, eventAt } of chunk) {
      const destId = previous?.destId ?? undefined;
      if (kind === 'removed') {
        if (!previous || !isHeld(previous.status) || !previous.match) {
          local.skipped.push({ key, deleted: true }); // never arrived there: nothing to delete
          continue;
        }
        changes.push({ key, op: 'delete', match: previous.match, fields: {}, destId, fp: null, previous });
        continue;
      }
      if (row === null) continue; // left the model between the diff and this read: next run sees it
      if (olderThanEvents?.(key, row)) {
        local.heldBack++;
        continue;
      }
      const op = operations[kind]!;
      const mapped = mapper.map(row);
      if (!mapped.ok) {
        local.rejected.push({ key, rejection: mapped.rejection, sent: row, update: parkedUpdate({ op, fp, localFp, destId, previous }, key, mapped.rejection) });
        continue;
      }
      const { fields, match } = mapped.value;
      // eventAt in the literal, even when undefined: a property added later makes V8 grow every change's object.
      changes.push({ key, op, match, fields, destId, fp, localFp, previous, eventAt: typeof eventAt === 'number' ? eventAt : undefined });
    }
    if (local.rejected.length || local.skipped.length || local.heldBack) await onLocal(local);
    if (changes.length) yield changes;
  }
}
