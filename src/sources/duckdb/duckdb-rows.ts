import type { DuckDBConnection, DuckDBResult } from '@duckdb/node-api';
import type { Column, Row, RowChunk, Value } from '../source.ts';
import { toColumn, toDuckdbParam } from './duckdb-values.ts';
import { columnReader, type ColumnReader } from './duckdb-vectors.ts';

export { columnType } from './duckdb-values.ts';

/**
 * Streams a query's result from DuckDB in chunks of at most `chunkSize` rows, values in
 * their canonical form. DuckDB hands over data chunks of ~2,048 rows; only one of them and
 * one output chunk are alive at a time, so memory stays flat whatever the result's size.
 * An empty result still yields one empty chunk, so the consumer learns the columns.
 *
 * The connection must run nothing else until the stream ends: DuckDB closes a streaming
 * result when its connection starts another statement, and the stream then simply stops,
 * without an error. Stage or write through another connection meanwhile.
 */
export async function* streamRows(
  connection: DuckDBConnection,
  sql: string,
  params: Value[],
  chunkSize: number,
  signal: AbortSignal,
): AsyncIterable<RowChunk> {
  if (!(chunkSize >= 1)) throw new Error(`chunkSize must be at least 1, got ${chunkSize}`);
  signal.throwIfAborted();
  const result = params.length > 0
    ? await connection.stream(sql, params.map(toDuckdbParam))
    : await connection.stream(sql);
  const { columns, names, readers } = describeResult(result);
  const makeRow = rowFactory(names);
  const values: Value[][] = readers.map(() => []);

  let rows: Row[] = [];
  let yielded = false;
  for (;;) {
    signal.throwIfAborted();
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const count = chunk.rowCount;
    // Column-major first (one tight loop per type), then rows.
    for (let c = 0; c < readers.length; c++) readers[c]!(chunk, c, count, values[c]!);
    for (let i = 0; i < count; i++) {
      rows.push(makeRow(values, i));
      if (rows.length === chunkSize) {
        yielded = true;
        yield { columns, rows };
        rows = [];
        signal.throwIfAborted();
      }
    }
  }
  if (rows.length > 0 || !yielded) yield { columns, rows };
}

/** One DuckDB data chunk read column by column: `values[c][i]` is row i of column c. */
export interface ColumnChunk {
  columns: Column[];
  count: number;
  values: Value[][];
}

/**
 * Streams a query's result as DuckDB hands it over (~2,048 rows a chunk), column by column,
 * values canonical, without building row objects: for a caller that builds its own (see
 * rowBuilder). The arrays are reused from one chunk to the next. Same connection rule as streamRows.
 */
export async function* streamColumns(connection: DuckDBConnection, sql: string, params: Value[], signal: AbortSignal): AsyncIterable<ColumnChunk> {
  signal.throwIfAborted();
  const result = params.length > 0 ? await connection.stream(sql, params.map(toDuckdbParam)) : await connection.stream(sql);
  const { columns, readers } = describeResult(result);
  const values: Value[][] = readers.map(() => []);
  for (;;) {
    signal.throwIfAborted();
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (let c = 0; c < readers.length; c++) readers[c]!(chunk, c, chunk.rowCount, values[c]!);
    yield { columns, count: chunk.rowCount, values };
  }
}

/** A function building row i from the columns at `indexes` of a ColumnChunk, named `names`. */
export function rowBuilder(names: string[], indexes: number[]): (values: Value[][], i: number) => Row {
  const properties = names.map((name, k) => {
    const key = JSON.stringify(name);
    // `"__proto__": v` would set the prototype; a computed key defines a plain property.
    return `${name === '__proto__' ? `[${key}]` : key}: values[${indexes[k]}][i]`;
  });
  return new Function('values', 'i', `return { ${properties.join(', ')} };`) as (values: Value[][], i: number) => Row;
}

function describeResult(result: DuckDBResult): { columns: Column[]; names: string[]; readers: ColumnReader[] } {
  const columns: Column[] = [];
  const readers: ColumnReader[] = [];
  for (let c = 0; c < result.columnCount; c++) {
    const type = result.columnType(c);
    columns.push(toColumn(result.columnName(c), type));
    readers.push(columnReader(type));
  }
  return { columns, names: columns.map((column) => column.name), readers };
}

/**
 * A function building one row object from the column arrays, written for these column
 * names: an object literal gets all its properties in one allocation, where adding them one
 * by one grows the object several times. Names are embedded as JSON string literals.
 */
function rowFactory(names: string[]): (values: Value[][], i: number) => Row {
  return rowBuilder(names, names.map((_, c) => c));
}
