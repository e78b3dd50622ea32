import type { ModelConfig } from '../../config/project.ts';
import { canBulkLoad, isDuckdbNative, modelReadSql, type Column, type ModelRead, type Source, type Value } from '../../sources/source.ts';
import { toColumn } from '../../sources/duckdb/duckdb-values.ts';
import { stageRows } from '../../sources/duckdb/duckdb-staging.ts';
import { quoteDuck, type Workspace } from './workspace.ts';

/** The model, readable inside the workspace: a SQL relation and its columns. */
export interface ModelRelation {
  /** SELECT text over the model's rows, usable as a subquery in the workspace. */
  sql: string;
  /** Parameters `sql` needs ($1 = the cursor's high-water mark). */
  params: Value[];
  /** The model's columns, with their logical types (fingerprints pick their canonical form from them). */
  columns: Column[];
}

const STAGED_TABLE = 'lastmile_model_rows';

/**
 * Step 1 of a run. DuckDB-native sources (DuckDB files, CSV/Parquet) are attached, so the
 * model's SQL runs inside the workspace; any other source is streamed in chunks into a
 * workspace table (in bulk where the source can). With a cursor, only rows at or past the last
 * high-water mark are read, the mark bound as a parameter or quoted by the server itself, never
 * pasted into SQL. At, not only past: a row committed late with the mark's own value must still
 * arrive; the rows already sent at the mark are unchanged by fingerprint, so reading them again
 * sends nothing.
 */
export async function readModel(
  workspace: Workspace,
  source: Source,
  model: ModelConfig,
  highWaterMark: Value | null,
  signal: AbortSignal,
): Promise<ModelRelation> {
  const base = model.sql ?? source.tableQuery(model.table!);
  const incremental = model.cursor !== undefined && highWaterMark !== null;

  if (isDuckdbNative(source)) {
    await source.attach(workspace.connection, signal);
    const sql = incremental
      ? `SELECT * FROM (${base}) AS lastmile_model WHERE ${quoteDuck(model.cursor!)} >= $1`
      : `SELECT * FROM (${base}) AS lastmile_model`;
    return { sql, params: incremental ? [highWaterMark] : [], columns: await describe(workspace, `SELECT * FROM (${base}) AS lastmile_model`) };
  }

  const read: ModelRead = incremental ? { sql: base, since: { column: model.cursor!, value: highWaterMark } } : { sql: base };
  if (canBulkLoad(source)) {
    // Postgres and MySQL export in bulk straight into the workspace: no row becomes a JS object.
    await source.loadInto(workspace.connection, STAGED_TABLE, read, signal);
  } else {
    const chunks = source.read(modelReadSql(source, read, source.placeholder(1)), { chunkSize: 10_000, signal, params: incremental ? [highWaterMark] : [] });
    await stageRows(workspace.connection, STAGED_TABLE, chunks, signal);
  }
  const staged = `SELECT * FROM ${STAGED_TABLE}`;
  return { sql: staged, params: [], columns: await describe(workspace, staged) };
}

async function describe(workspace: Workspace, sql: string): Promise<Column[]> {
  const result = await workspace.connection.run(`SELECT * FROM (${sql}) AS lastmile_described LIMIT 0`);
  return result.columnNames().map((name, i) => toColumn(name, result.columnType(i)));
}
