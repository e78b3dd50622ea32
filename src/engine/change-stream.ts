import type { SyncMode } from '../config/project.ts';
import type { Change, Rejection } from '../destinations/destination.ts';
import type { Mapper } from '../mapping/mapper.ts';
import type { Row, Value } from '../sources/source.ts';
import { isHeld, type RowStateUpdate, type RowStatus } from '../state/state-store.ts';
import { streamRows } from '../sources/duckdb/duckdb-rows.ts';
import { DELTA_TABLE } from '../diff/delta.ts';
import { MODE_OPERATIONS, type DiffKind } from './sync-modes.ts';
import { RunError } from '../errors.ts';
import { duckString, type Workspace } from './workspace.ts';
import { parkedUpdate, type PendingChange } from './state-update.ts';

export type { PendingChange };

/** Rows settled without a request: mapping rejections, and deletes of rows the destination never held (skipped). */
export interface LocalOutcomes {
  rejected: { key: string; rejection: Rejection; update?: RowStateUpdate }[];
  skipped: RowStateUpdate[];
}

const INTERNAL = new Set(['__change', '__change_key', '__prev_status', '__dest_id', '__prev_match', '__key', '__fp']);

/**
 * Step 3's input: the delta rows this mode sends, mapped into Changes, in chunks. A row the
 * mapping refuses (a value that cannot be coerced, a null identifier) never reaches the
 * destination: it is reported through `onLocal` with its reason.
 */
export async function* changeStream(
  workspace: Workspace,
  mode: SyncMode,
  mapper: Mapper,
  pending: Map<string, PendingChange>,
  onLocal: (outcomes: LocalOutcomes) => Promise<void>,
  signal: AbortSignal,
): AsyncIterable<Change[]> {
  const operations = MODE_OPERATIONS[mode];
  const kinds = (Object.keys(operations) as DiffKind[]).map(duckString).join(', ');
  const where = `WHERE __change IN (${kinds})`;
  const expected = Number((await workspace.connection.runAndReadAll(`SELECT count(*) FROM ${DELTA_TABLE} ${where}`)).getRows()[0][0]);
  let read = 0;
  const sql = `SELECT * FROM ${DELTA_TABLE} ${where} ORDER BY __change_key`;
  for await (const chunk of streamRows(workspace.connection, sql, [], 5_000, signal)) {
    read += chunk.rows.length;
    const changes: Change[] = [];
    const local: LocalOutcomes = { rejected: [], skipped: [] };
    for (const row of chunk.rows) {
      const kind = row.__change as DiffKind;
      const key = String(row.__change_key);
      const destId = row.__dest_id === null ? null : String(row.__dest_id);
      const previous = row.__prev_status === null ? null : { status: row.__prev_status as RowStatus, match: parseMatch(row.__prev_match) };
      if (kind === 'removed') {
        if (!previous || !isHeld(previous.status) || !previous.match) {
          local.skipped.push({ key, deleted: true }); // never arrived there: nothing to delete
          continue;
        }
        pending.set(key, { op: 'delete', fp: null, match: previous.match, destId, previous });
        changes.push({ key, op: 'delete', match: previous.match, fields: {}, ...(destId ? { destId } : {}) });
        continue;
      }
      if (row.__key === null) continue; // left the model between the diff and this read: next run sees it
      const fp = String(row.__fp);
      const op = operations[kind]!;
      const mapped = mapper.map(modelColumns(row));
      if (!mapped.ok) {
        const update = parkedUpdate({ op, fp, match: {}, destId, previous }, key, mapped.rejection);
        local.rejected.push({ key, rejection: mapped.rejection, update });
        continue;
      }
      const { fields, match } = mapped.value;
      pending.set(key, { op, fp, match, destId, previous });
      changes.push({ key, op, match, fields, ...(destId ? { destId } : {}) });
    }
    if (local.rejected.length || local.skipped.length) await onLocal(local);
    if (changes.length) yield changes;
  }
  // DuckDB ends a stream quietly if its connection runs another statement meanwhile.
  if (read !== expected && !signal.aborted) {
    throw new RunError(`internal error: the list of changes ended after ${read} of ${expected} rows; the rest wait for the next run`);
  }
}

function modelColumns(row: Row): Row {
  const out: Row = {};
  for (const [name, value] of Object.entries(row)) if (!INTERNAL.has(name)) out[name] = value;
  return out;
}

function parseMatch(value: Value): Record<string, Value> | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return JSON.parse(value) as Record<string, Value>;
  return value as Record<string, Value>;
}
