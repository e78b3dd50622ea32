import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { DuckDBScalarFunction, VARCHAR, type DuckDBConnection, type DuckDBVarCharVector } from '@duckdb/node-api';
import type { Column } from '../source.ts';
import { createTableSql, duckdbTypeOf } from './duckdb-staging.ts';
import { quoteIdentifier as quote } from '../../sql-identifier.ts';
import { CsvChunkFiles, type CsvFile } from './csv-chunk-files.ts';

/**
 * Loads a source's CSV export into a workspace table, parsed by DuckDB's own CSV reader:
 * no row becomes a JS object. The CSV is cut into files of a few MB at row ends, and each
 * file loads while the source writes the next, so the export and the load run side by side.
 * The table gets exactly the columns and types that staging rows one by one gives it
 * (createTableSql), and the conversions below make the values equal too.
 */
export interface CsvColumn {
  /** The staged column. */
  column: Column;
  /** The type DuckDB parses the CSV field as; the staged column's type when absent. */
  read?: string;
  /** SQL from the parsed field (`field` is a reference to it) to the staged value. */
  convert?: (field: string) => string;
  /** A JS conversion of the field's text, for values no SQL reproduces exactly (JSON). */
  text?: (raw: string) => string;
}

/** Writes the CSV (no header, `"` quotes, empty unquoted field = NULL) into `out`, and ends it. */
export interface CsvExport {
  (out: Writable): Promise<void>;
  /** Every write of this export ends at a row end. */
  aligned?: boolean;
}

/** CSV files of 4 MB growing to 16 MB: each load statement costs a little, and the last file loads alone. */
const FIRST_FILE_BYTES = 4 * 1024 * 1024;
const MAX_FILE_BYTES = 16 * 1024 * 1024;
let functionCount = 0;

export async function loadCsv(
  connection: DuckDBConnection,
  table: string,
  columns: CsvColumn[],
  exportCsv: CsvExport,
  signal: AbortSignal,
): Promise<void> {
  signal.throwIfAborted();
  await connection.run(createTableSql(table, columns.map((c) => c.column)));
  const insert = insertSql(connection, table, columns);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-load-'));
  const chunks = new CsvChunkFiles(dir, FIRST_FILE_BYTES, MAX_FILE_BYTES, exportCsv.aligned);
  // Failures reach the caller through the export and the load; the stream's own event has nothing to add.
  chunks.on('error', () => {});
  const stop = () => {
    connection.interrupt();
    chunks.destroy(signal.reason instanceof Error ? signal.reason : new Error('load aborted'));
  };
  signal.addEventListener('abort', stop, { once: true });
  try {
    const exporting = exportCsv(chunks);
    const loading = loadFiles(connection, insert, chunks.files());
    // A failed load stops the export; a failed export ends the files, and its error explains more.
    const loaded = loading.catch((error: unknown) => { chunks.destroy(new Error(STOPPED_LOADING)); throw error; });
    const [exported, load] = await Promise.allSettled([exporting, loaded]);
    signal.throwIfAborted();
    if (exported.status === 'rejected' && !(load.status === 'rejected' && stoppedLoading(exported.reason))) throw exported.reason;
    if (load.status === 'rejected') throw load.reason;
  } finally {
    signal.removeEventListener('abort', stop);
    chunks.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

const STOPPED_LOADING = 'the workspace stopped loading';

/** Loads each file as it is finished; DuckDB's line numbers count from the file's start, so rows before it are added. */
async function loadFiles(connection: DuckDBConnection, insert: (file: CsvFile) => string, files: AsyncIterable<CsvFile>): Promise<void> {
  let rowsBefore = 0;
  let restore: (() => Promise<void>) | undefined;
  try {
    for await (const file of files) {
      // A load of one file is over before sharing cores would pay for changing the thread count.
      if (rowsBefore > 0) restore ??= await shareCores(connection);
      try {
        const result = await connection.run(insert(file));
        rowsBefore += result.rowsChanged;
      } catch (error) {
        throw loadFailure(error, rowsBefore);
      } finally {
        await rm(file.path, { force: true });
      }
    }
  } finally {
    await restore?.();
  }
}

/**
 * While files load, the source's server and this process's export use cores too: DuckDB takes
 * half of them (one of two), which costs less CPU than its threads contending with the export.
 */
async function shareCores(connection: DuckDBConnection): Promise<() => Promise<void>> {
  const threads = Number((await connection.runAndReadAll(`SELECT current_setting('threads') AS n`)).getRowObjects()[0]!.n);
  const share = Math.max(1, Math.floor(os.availableParallelism() / 2));
  if (share >= threads) return async () => {};
  await connection.run(`SET threads = ${share}`);
  return async () => { await connection.run(`SET threads = ${threads}`); };
}

function insertSql(connection: DuckDBConnection, table: string, columns: CsvColumn[]): (file: CsvFile) => string {
  const fields = columns.map(({ column, read }) => `${literal(column.name)}: ${literal(read ?? duckdbTypeOf(column))}`);
  const values = columns.map((csv) => {
    let field = quote(csv.column.name);
    if (csv.text) field = `${registerText(connection, csv.column.name, csv.text)}(${field})`;
    return `CAST(${csv.convert ? csv.convert(field) : field} AS ${duckdbTypeOf(csv.column)})`;
  });
  // No sniffing: every field's type is given, and `""` is an empty string, never NULL. One buffer
  // holds the whole file, so a row of any size fits (DuckDB's default stops at 2 MB).
  const csv = (file: CsvFile) => `read_csv(${literal(file.path)}, columns = {${fields.join(', ')}}, header = false, auto_detect = false,
    delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, compression = 'none',
    max_line_size = ${file.bytes + 1}, buffer_size = ${file.bytes + 1})`;
  return (file) => `INSERT INTO ${quote(table)} SELECT ${values.join(', ')} FROM ${csv(file)}`;
}

/** A scalar function running `text` on every non-null field of one column. */
function registerText(connection: DuckDBConnection, column: string, text: (raw: string) => string): string {
  const name = `lastmile_csv_text_${++functionCount}`;
  connection.registerScalarFunction(DuckDBScalarFunction.create({
    name,
    returnType: VARCHAR,
    parameterTypes: [VARCHAR],
    mainFunction: (info, input, output) => {
      const values = input.getColumnVector(0) as DuckDBVarCharVector;
      const results = output as DuckDBVarCharVector;
      for (let i = 0; i < input.rowCount; i++) {
        const raw = values.getItem(i);
        try {
          results.setItem(i, raw === null ? null : text(raw));
        } catch (error) {
          info.setError(`column "${column}": ${(error as Error).message}`);
          return;
        }
      }
      results.flush();
    },
  }));
  return name;
}

/** The workspace refused the CSV (a value that does not fit its column, memory): not the source's failure. */
export class CsvLoadError extends Error {
  override name = 'CsvLoadError';
}

/** DuckDB's message, without the CSV reader's hints and the raw line (it may hold any data). */
function loadFailure(error: unknown, rowsBefore: number): CsvLoadError {
  const message = error instanceof Error ? error.message : String(error);
  const line = /CSV Error on Line: (\d+)/.exec(message)?.[1];
  const reason = /Error when converting column "([^"]*)"\. (.*)/.exec(message);
  const text = reason && line ? `cannot stage column "${reason[1]}" of row ${rowsBefore + Number(line)}: ${reason[2]}` : message.split('\n')[0]!;
  return new CsvLoadError(text, { cause: error });
}

/** Whether `error` (or its cause) only says that the load stopped taking the export. */
function stoppedLoading(error: unknown): boolean {
  for (let e = error as (Error & { code?: string }) | undefined; e; e = e.cause as typeof e) {
    if (e.code === 'ERR_STREAM_DESTROYED' || e.code === 'ERR_STREAM_PREMATURE_CLOSE' || e.message === STOPPED_LOADING) return true;
  }
  return false;
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
