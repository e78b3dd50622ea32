import type { DuckDBConnection } from '@duckdb/node-api';
import type { Value } from '../sources/source.ts';
import type { RowState, RowStateInput, RowStatus } from './state-store.ts';
import { streamRows } from '../sources/duckdb/duckdb-rows.ts';
import { stageRows } from '../sources/duckdb/duckdb-staging.ts';
import { matchJson } from './value-json.ts';
import { quoteIdent, quoteLiteral } from './row-state-sql.ts';

/**
 * Row state between DuckDB and plain chunks: what a store built on files (or a DuckDB diff)
 * hands to anyone who reads state without DuckDB, and takes from them.
 */

/** Streams `selectSql` (columns key, fp, status, dest_id, match) as RowState chunks. */
export async function* readRowStates(db: DuckDBConnection, selectSql: string, chunkSize: number, signal: AbortSignal): AsyncIterable<RowState[]> {
  const sql = `SELECT key, CAST(fp AS VARCHAR) AS fp, status, dest_id, match, CAST(local_fp AS VARCHAR) AS local_fp FROM (${selectSql}) AS lm_state`;
  for await (const chunk of streamRows(db, sql, [], chunkSize, signal)) {
    if (chunk.rows.length === 0) continue;
    yield chunk.rows.map((r) => ({
      key: r.key as string,
      fp: r.fp as string,
      status: r.status as RowStatus,
      destId: (r.dest_id as string | null) ?? null,
      match: r.match === null ? null : (JSON.parse(r.match as string) as Record<string, Value>),
      localFp: (r.local_fp as string | null) ?? null,
    }));
  }
}

/** Creates temp table `table` (key, fp, status, dest_id, match) holding `rows`. */
export async function stageRowStates(db: DuckDBConnection, table: string, rows: RowStateInput): Promise<void> {
  if (isParquet(rows)) {
    await db.run(`CREATE OR REPLACE TEMP TABLE ${quoteIdent(table)} AS SELECT * FROM read_parquet(${quoteLiteral(rows.parquet)})`);
    return;
  }
  const columns = [
    { name: 'key', type: 'varchar' }, { name: 'fp', type: 'varchar' }, { name: 'status', type: 'varchar' },
    { name: 'dest_id', type: 'varchar' }, { name: 'match', type: 'varchar' }, { name: 'local_fp', type: 'varchar' },
  ] as const;
  async function* chunks() {
    yield { columns: [...columns], rows: [] };
    for await (const chunk of Array.isArray(rows) ? [rows] : (rows as AsyncIterable<RowState[]>)) {
      yield {
        columns: [...columns],
        rows: chunk.map((r) => ({ key: r.key, fp: r.fp, status: r.status, dest_id: r.destId ?? null, match: matchJson(r.match), local_fp: r.localFp ?? null })),
      };
    }
  }
  await db.run(`DROP TABLE IF EXISTS ${quoteIdent(table)}`);
  await stageRows(db, table, chunks(), new AbortController().signal);
}

export function isParquet(rows: RowStateInput): rows is { parquet: string } {
  return !Array.isArray(rows) && 'parquet' in rows;
}

/** Any RowStateInput as plain chunks (a Parquet file is read through `db`). */
export async function* rowStateChunks(rows: RowStateInput, db: () => Promise<DuckDBConnection>): AsyncIterable<RowState[]> {
  if (isParquet(rows)) {
    yield* readRowStates(await db(), `SELECT * FROM read_parquet(${quoteLiteral(rows.parquet)})`, 10_000, new AbortController().signal);
    return;
  }
  if (Array.isArray(rows)) yield rows;
  else yield* rows;
}
