import type { Column, Row, Value } from '../../sources/source.ts';
import type { RowStatus } from '../../state/state-store.ts';
import type { ChangeRow, Diff, DiffCounts, DiffKind, DiffRequest, InvalidKey } from '../diff.ts';
import { rowStateSql } from '../../state/row-state-sql.ts';
import { RunError } from '../../errors.ts';
import { rowBuilder, streamColumns, streamRows, type ColumnChunk } from '../../sources/duckdb/duckdb-rows.ts';
import { CANDIDATES_TABLE, computeDiff, DIFF_TABLE, DUPLICATE_KEYS_TABLE, type DiffInput } from './compute-diff.ts';
import { upgradeLegacyState } from './workspace-upgrade.ts';
import { readRowStates } from '../../state/row-state-rows.ts';
import { DELTA_TABLE, materializeDelta } from './delta.ts';
import { readModel } from './read-model.ts';
import { modelQueryMessage } from '../../sources/describe-model.ts';
import { duckString, openWorkspace, quoteDuck, type Workspace } from './workspace.ts';

const PREVIOUS_STATE = 'lastmile_previous';
const STORED_STATE = 'lastmile_stored_state';
const INTERNAL = new Set(['__change', '__change_key', '__prev_status', '__dest_id', '__prev_match', '__key', '__fp', '__lfp', '__event_ms']);

/**
 * The diff in a DuckDB workspace beside the engine: DuckDB files and CSV/Parquet are attached
 * and read in place, other sources streamed in; the state is scanned from the files the store
 * gives (Parquet, or a CSV export); one pass fingerprints the model and joins it with the state.
 * Only the differences leave DuckDB, with their model columns, when asked for.
 */
export async function openWorkspaceDiff(request: DiffRequest): Promise<Diff> {
  const { model, source, signal } = request;
  const workspace = await openWorkspace({ memoryLimit: request.memoryLimit });
  try {
    const relation = await readModel(workspace, source, model, request.since, signal).catch((error: unknown) => {
      throw new RunError(`source "${source.name}" failed while reading model "${model.name}": ${modelQueryMessage(error instanceof Error ? error.message : String(error))}`, { cause: error });
    });
    const inputs = request.fingerprint(relation.columns.map((c) => c.name));
    const typed = (names: string[]) => names.map((name) => relation.columns.find((c) => c.name === name)!);
    const input: DiffInput = {
      modelSql: relation.sql, modelParams: relation.params,
      plan: { signature: inputs.signature, columns: typed(inputs.columns), primaryKey: typed(model.primaryKey) },
      previous: PREVIOUS_STATE,
      incremental: request.since !== null, retryRejected: request.retryRejected, fullResync: request.fullResync, cursor: model.cursor,
    };
    await loadPreviousState(workspace, input, request);
    const { counts, highWaterMark, refreshed } = await computeDiff(workspace, input);
    if (refreshed > 0 && request.persist) await commitRefreshed(workspace, request);
    const eventMs = eventMsSql(relation.columns.find((c) => c.name === model.eventTime));
    return new WorkspaceDiff(workspace, input, counts, highWaterMark ?? request.since, relation.columns.map((c) => c.name), eventMs);
  } catch (error) {
    await workspace.close();
    throw error;
  }
}

/**
 * The state as of now, as PREVIOUS_STATE in the workspace: a view over the store's Parquet, or a
 * table from its CSV export. A state of the release before recipe v1 is moved to v1 first.
 */
async function loadPreviousState(workspace: Workspace, input: DiffInput, { state, sync, persist }: DiffRequest): Promise<void> {
  const legacy = (await state.fingerprintRecipe(sync)) === 'duckdb-hash';
  const files = await state.rowStateFiles(sync);
  try {
    const kind = files.base?.format === 'csv' || legacy ? 'TABLE' : 'VIEW';
    await workspace.connection.run(`CREATE OR REPLACE TEMP ${kind} ${legacy ? STORED_STATE : PREVIOUS_STATE} AS ${rowStateSql(files)}`);
  } finally {
    await files.release();
  }
  if (legacy) await upgradeLegacyState(workspace, input, STORED_STATE, PREVIOUS_STATE, persist ? { store: state, sync } : undefined);
}

/** Rows found unchanged by recipe v1 whose local fingerprint differed: state learns the new one, so next time is quick. */
async function commitRefreshed({ connection }: Workspace, { state, sync, signal }: DiffRequest): Promise<void> {
  const rows = `SELECT p.key, p.fp, p.status, p.dest_id, p."match", c.__lfp AS local_fp
                FROM ${DIFF_TABLE} AS d JOIN ${CANDIDATES_TABLE} AS c ON c.__key = d.__key JOIN ${PREVIOUS_STATE} AS p ON p.key = d.__key
                WHERE d.__change = 'refreshed'`;
  for await (const chunk of readRowStates(connection, rows, 10_000, signal)) await state.commitRows(sync, chunk);
}

class WorkspaceDiff implements Diff {
  readonly method = 'workspace';
  private closed: Promise<void> | undefined;

  constructor(
    private readonly workspace: Workspace,
    private readonly input: DiffInput,
    readonly counts: DiffCounts,
    readonly highWaterMark: Value | null,
    readonly columns: string[],
    /** SQL for each change's event time in epoch ms (ChangeRow.eventAt), when the model's eventTime column is a date or timestamp. */
    private readonly eventMs?: string,
  ) {}

  get incremental(): boolean {
    return this.input.incremental;
  }

  async *invalidKeys(signal: AbortSignal): AsyncIterable<InvalidKey[]> {
    if (this.counts.invalid === 0) return;
    const sql = `SELECT key, copies FROM ${DUPLICATE_KEYS_TABLE}
                 UNION ALL SELECT NULL, __model_rows - __prev_rows FROM ${DIFF_TABLE} WHERE __key IS NULL AND __model_rows > __prev_rows`;
    for await (const chunk of streamRows(this.workspace.connection, sql, [], 1_000, signal)) {
      yield chunk.rows.map((r) => ({ key: r.key === null ? null : String(r.key), copies: Number(r.copies) }));
    }
  }

  async newest(column: string, signal: AbortSignal): Promise<Value | null> {
    const sql = `SELECT max(${quoteDuck(column)}) AS newest FROM (${this.input.modelSql}) AS lastmile_model`;
    for await (const chunk of streamRows(this.workspace.connection, sql, this.input.modelParams, 1, signal)) return chunk.rows[0]?.newest ?? null;
    return null;
  }

  async sample(perKind: number, signal: AbortSignal): Promise<ChangeRow[]> {
    await materializeDelta(this.workspace, this.input, ['added', 'changed', 'removed'], perKind);
    const out: ChangeRow[] = [];
    for await (const chunk of this.read(`SELECT * FROM ${DELTA_TABLE} ORDER BY __change, __change_key`, 100, signal)) out.push(...chunk);
    return out;
  }

  async *changes(kinds: DiffKind[], { chunkSize, signal }: { chunkSize: number; signal: AbortSignal }): AsyncIterable<ChangeRow[]> {
    await materializeDelta(this.workspace, this.input, kinds);
    const where = `WHERE __change IN (${kinds.map(duckString).join(', ') || `''`})`;
    const expected = Number((await this.workspace.connection.runAndReadAll(`SELECT count(*) FROM ${DELTA_TABLE} ${where}`)).getRows()[0][0]);
    let read = 0;
    const eventMs = this.eventMs ? `, ${this.eventMs} AS __event_ms` : '';
    for await (const chunk of this.read(`SELECT *${eventMs} FROM ${DELTA_TABLE} ${where} ORDER BY __change_key`, chunkSize, signal)) {
      read += chunk.length;
      yield chunk;
    }
    // DuckDB ends a stream quietly if its connection runs another statement meanwhile.
    if (read !== expected && !signal.aborted) {
      throw new Error(`internal error: the list of changes ended after ${read} of ${expected} rows; the rest wait for the next run`);
    }
  }

  /** Closes the workspace, where the model's DuckDB file is attached. */
  releaseModel(): Promise<void> {
    return this.close();
  }

  close(): Promise<void> {
    this.closed ??= this.workspace.close();
    return this.closed;
  }

  /**
   * Delta rows as ChangeRows, built straight from DuckDB's column vectors: the model's columns
   * become the row object, the diff's own columns are read from their arrays (one object a row).
   */
  private async *read(sql: string, chunkSize: number, signal: AbortSignal): AsyncIterable<ChangeRow[]> {
    let build: ((chunk: ColumnChunk, i: number) => ChangeRow) | undefined;
    for await (const chunk of streamColumns(this.workspace.connection, sql, [], signal)) {
      build ??= changeRowBuilder(chunk.columns.map((c) => c.name));
      for (let from = 0; from < chunk.count; from += chunkSize) {
        const rows: ChangeRow[] = [];
        for (let i = from; i < Math.min(chunk.count, from + chunkSize); i++) rows.push(build(chunk, i));
        yield rows;
      }
    }
  }
}

/** Builds the ChangeRow of row i of a delta chunk whose columns are `names`. */
function changeRowBuilder(names: string[]): (chunk: ColumnChunk, i: number) => ChangeRow {
  const at = (name: string) => names.indexOf(name);
  const [kindAt, keyAt, fpAt, lfpAt, modelKeyAt, statusAt, destAt, matchAt, eventAt] =
    ['__change', '__change_key', '__fp', '__lfp', '__key', '__prev_status', '__dest_id', '__prev_match', '__event_ms'].map(at);
  const model = names.map((name, c) => [name, c] as const).filter(([name]) => !INTERNAL.has(name));
  const modelRow = rowBuilder(model.map(([name]) => name), model.map(([, c]) => c));
  return ({ values }, i) => {
    const kind = values[kindAt][i] as DiffKind;
    const status = values[statusAt][i] as RowStatus | null;
    const present = kind !== 'removed' && values[modelKeyAt][i] !== null;
    const change: ChangeRow = {
      kind,
      key: String(values[keyAt][i]),
      fp: present ? String(values[fpAt][i]) : null,
      localFp: present ? String(values[lfpAt][i]) : null,
      row: present ? modelRow(values, i) : null,
      previous: status === null ? null : {
        status,
        destId: values[destAt][i] === null ? null : String(values[destAt][i]),
        match: parseMatch(values[matchAt][i]),
      },
      // In the literal, even when undefined: a property added later makes V8 grow every row's object.
      eventAt: eventAt >= 0 ? (values[eventAt][i] as number | null) : undefined,
    };
    return change;
  };
}

/**
 * Epoch ms of a date or timestamp column, in SQL: the latency meter then reads a number per row,
 * not a timestamp's text (which costs more than the rest of L). A timestamp without a zone is
 * UTC, as epochMsOf reads its text; any other type is left to epochMsOf.
 */
function eventMsSql(column: Column | undefined): string | undefined {
  if (!column || !['date', 'timestamp', 'timestamptz'].includes(column.type)) return undefined;
  const value = column.type === 'date' ? `CAST(${quoteDuck(column.name)} AS TIMESTAMP)` : quoteDuck(column.name);
  return `floor(epoch_us(${value}) / 1000)::DOUBLE`;
}

function parseMatch(value: Value): Record<string, Value> | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return JSON.parse(value) as Record<string, Value>;
  return value as Record<string, Value>;
}
