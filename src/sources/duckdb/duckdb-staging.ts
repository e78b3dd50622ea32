import { DuckDBDataChunk, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import type { Column, Row, RowChunk } from '../source.ts';
import { CellError, columnWriter, type ColumnWriter, type DecimalShape } from './duckdb-chunk-writer.ts';
import { quoteIdentifier as quote } from '../../sql-identifier.ts';

/** Decimals whose engine gave no precision (Postgres `numeric`, SQLite) land here. */
const DEFAULT_DECIMAL: DecimalShape = { precision: 38, scale: 10 };
const VECTOR_SIZE = duckdb.vector_size();

/**
 * Creates the temp table `table` from the first chunk's columns and appends every row
 * through DuckDB's appender, a data chunk of 2,048 rows at a time. This is how rows from
 * Postgres, MySQL or SQLite reach the DuckDB workspace where the diff runs; values come
 * back out exactly as they went in. Returns the number of rows staged.
 */
export async function stageRows(
  connection: DuckDBConnection,
  table: string,
  chunks: AsyncIterable<RowChunk>,
  signal: AbortSignal,
): Promise<number> {
  let appender: DuckDBAppender | undefined;
  let writers: ColumnWriter[] = [];
  let pending: Row[] = [];
  let count = 0;
  const flush = () => {
    if (pending.length === 0) return;
    appendBatch(appender!, writers, pending);
    count += pending.length;
    pending = [];
  };
  try {
    for await (const chunk of chunks) {
      signal.throwIfAborted();
      if (!appender) {
        await connection.run(createTableSql(table, chunk.columns));
        appender = await connection.createAppender(table, 'main', 'temp');
        writers = chunk.columns.map((column) => columnWriter(column, decimalShape(column)));
      }
      for (const row of chunk.rows) {
        pending.push(row);
        if (pending.length === VECTOR_SIZE) flush();
      }
    }
    if (!appender) throw new Error(`no columns to stage into "${table}": the source yielded no chunk`);
    flush();
    appender.flushSync();
    return count;
  } catch (error) {
    if (!(error instanceof CellError)) throw error;
    throw new Error(
      `cannot stage column "${error.column}" of row ${count + error.row + 1} (a ${error.valueType} value): ${error.message}`,
      { cause: error },
    );
  } finally {
    appender?.closeSync();
  }
}

function appendBatch(appender: DuckDBAppender, writers: ColumnWriter[], rows: Row[]): void {
  const types = writers.map((_, c) => appender.columnType(c));
  const chunk = DuckDBDataChunk.create(types);
  for (let c = 0; c < writers.length; c++) {
    writers[c]!(duckdb.data_chunk_get_vector(chunk.chunk, c), rows, rows.length);
  }
  chunk.rowCount = rows.length;
  appender.appendDataChunk(chunk);
}

export function createTableSql(table: string, columns: Column[]): string {
  const list = columns.map((column) => `${quote(column.name)} ${duckdbTypeOf(column)}`).join(', ');
  return `CREATE OR REPLACE TEMP TABLE ${quote(table)} (${list})`;
}

/** The DuckDB type a logical column is staged as. */
export function duckdbTypeOf(column: Column): string {
  switch (column.type) {
    case 'boolean': return 'BOOLEAN';
    case 'integer': return 'BIGINT';
    case 'bigint': return 'HUGEINT'; // MySQL's BIGINT UNSIGNED goes past BIGINT
    case 'double': return 'DOUBLE';
    case 'decimal': {
      const { precision, scale } = decimalShape(column);
      return `DECIMAL(${precision},${scale})`;
    }
    case 'varchar': return 'VARCHAR';
    case 'date': return 'DATE';
    case 'time': return 'TIME';
    case 'timestamp': return 'TIMESTAMP';
    case 'timestamptz': return 'TIMESTAMPTZ';
    case 'json': return 'JSON';
    case 'blob': return 'BLOB';
  }
}

function decimalShape(column: Column): DecimalShape {
  const { precision, scale } = column;
  if (precision !== undefined && scale !== undefined && precision >= 1 && precision <= 38 && scale >= 0 && scale <= precision) {
    return { precision, scale };
  }
  return DEFAULT_DECIMAL;
}

