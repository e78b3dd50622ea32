import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * A row as every source hands it over. Values keep their meaning in a JSON-friendly form:
 * - integers: number when safe, bigint beyond 2^53
 * - decimals: string with every digit (`"12345.6789"`), never a lossy float
 * - floats: number; booleans: boolean; text: string
 * - dates: `"2024-03-01"`; timestamps without zone: `"2024-03-01T12:00:00.123456"`;
 *   timestamps with zone: ISO instant in UTC, `"2024-03-01T12:00:00.123456Z"`
 * - JSON / arrays / structs: parsed JS values; binary: Uint8Array; null: null
 */
export type Value = null | boolean | number | bigint | string | Uint8Array | Value[] | { [key: string]: Value };
export type Row = Record<string, Value>;

/** Logical column types, mapped from each engine's own type names. */
export const COLUMN_TYPES = [
  'boolean', 'integer', 'bigint', 'double', 'decimal', 'varchar',
  'date', 'time', 'timestamp', 'timestamptz', 'json', 'blob',
] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface Column {
  name: string;
  type: ColumnType;
  /** For decimals: precision and scale when the engine reports them. */
  precision?: number;
  scale?: number;
}

export interface ReadOptions {
  /** Rows per yielded chunk: memory stays bounded by chunkSize, whatever the model's size. */
  chunkSize: number;
  signal: AbortSignal;
  /** Positional parameters bound by the driver ($1, ? …): never pasted into the SQL text. */
  params?: Value[];
}

export interface RowChunk {
  columns: Column[];
  rows: Row[];
}

export interface Source {
  readonly name: string;
  readonly type: string;
  /** Connects and runs a trivial query; throws a RunError naming the source when it cannot. */
  check(signal: AbortSignal): Promise<void>;
  /** Streams the result of `sql` in chunks of at most `chunkSize` rows. */
  read(sql: string, options: ReadOptions): AsyncIterable<RowChunk>;
  /**
   * How a parameter placeholder is written in this engine's SQL for position `index` (1-based):
   * `$1` for Postgres and DuckDB, `?` for MySQL and SQLite.
   */
  placeholder(index: number): string;
  /** Quotes an identifier (column, table) for this engine. */
  quoteIdentifier(name: string): string;
  /** The SQL that reads a model declared as `table:` (a table name, or a file for the files source). */
  tableQuery(table: string): string;
  close(): Promise<void>;
}

/**
 * Sources that DuckDB can read natively (DuckDB files, CSV/Parquet files). The engine then
 * runs the model's SQL inside its own DuckDB workspace, so the diff never leaves DuckDB.
 */
export interface DuckdbNativeSource extends Source {
  /** Makes the model's tables visible in `workspace` (ATTACH … READ_ONLY; USE …). */
  attach(workspace: DuckDBConnection, signal: AbortSignal): Promise<void>;
}

export function isDuckdbNative(source: Source): source is DuckdbNativeSource {
  return typeof (source as Partial<DuckdbNativeSource>).attach === 'function';
}

/** What a run reads of a model: its SQL and, in cursor mode, the mark rows must be at or past. */
export interface ModelRead {
  sql: string;
  since?: { column: string; value: Value };
}

/** The SQL of a model read; `mark` is how the mark is written: a placeholder, or a literal the server quoted. */
export function modelReadSql(source: Source, read: ModelRead, mark: string): string {
  if (!read.since) return read.sql;
  return `SELECT * FROM (\n${read.sql}\n) AS lastmile_model WHERE ${source.quoteIdentifier(read.since.column)} >= ${mark}`;
}

/**
 * Sources that load a model into a workspace table in bulk (Postgres' COPY, MySQL's text
 * protocol as CSV), far faster than `read()`. The table holds exactly what staging the rows
 * of `read()` would: same columns, types and values.
 */
export interface BulkLoadSource extends Source {
  /** Creates (or replaces) the temp table `table` in `workspace` and loads the model's rows into it. */
  loadInto(workspace: DuckDBConnection, table: string, read: ModelRead, signal: AbortSignal): Promise<void>;
}

export function canBulkLoad(source: Source): source is BulkLoadSource {
  return typeof (source as Partial<BulkLoadSource>).loadInto === 'function';
}
