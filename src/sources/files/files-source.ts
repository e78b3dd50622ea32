import path from 'node:path';
import { statSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { RunError } from '../../errors.ts';
import type { DuckdbNativeSource, ReadOptions, RowChunk } from '../source.ts';
import { DuckdbSource, MEMORY, duckString } from '../duckdb/duckdb-source.ts';

/** File extensions and the DuckDB reader each one goes through. */
const READERS: [RegExp, string][] = [
  [/\.parquet$/i, 'read_parquet'],
  [/\.(csv|tsv|txt)(\.(gz|zst))?$/i, 'read_csv_auto'],
  [/\.(json|jsonl|ndjson)(\.(gz|zst))?$/i, 'read_json_auto'],
];

/**
 * A folder of CSV, Parquet or JSON files, read by DuckDB. A model names a file (`table:
 * prices.csv`, or a glob `data/*.parquet`), or writes SQL with read_csv/read_parquet and
 * paths relative to the folder. Models run inside the engine's DuckDB workspace.
 */
export class FilesSource implements DuckdbNativeSource {
  readonly type = 'files';
  private readonly duckdb: DuckdbSource;

  /** `folder`: absolute. */
  constructor(readonly name: string, readonly folder: string) {
    // An in-memory DuckDB whose relative file paths start at the folder.
    this.duckdb = new DuckdbSource(name, MEMORY, folder);
  }

  async check(signal: AbortSignal): Promise<void> {
    this.assertFolder();
    await this.duckdb.check(signal);
  }

  async *read(sql: string, options: ReadOptions): AsyncIterable<RowChunk> {
    this.assertFolder();
    yield* this.duckdb.read(sql, options);
  }

  async attach(workspace: DuckDBConnection, signal: AbortSignal): Promise<void> {
    this.assertFolder();
    await this.duckdb.attach(workspace, signal);
  }

  placeholder(index: number): string {
    return `$${index}`;
  }

  quoteIdentifier(name: string): string {
    return this.duckdb.quoteIdentifier(name);
  }

  /** `prices.csv` -> SELECT * FROM read_csv_auto('/abs/folder/prices.csv'); globs work too. */
  tableQuery(table: string): string {
    const reader = READERS.find(([extension]) => extension.test(table))?.[1];
    if (!reader) {
      throw new RunError(
        `source "${this.name}": cannot tell how to read "${table}"; name a .csv, .parquet or .json file (or write the model as sql: with read_csv/read_parquet)`,
      );
    }
    return `SELECT * FROM ${reader}(${duckString(path.resolve(this.folder, table))})`;
  }

  async close(): Promise<void> {
    await this.duckdb.close();
  }

  private assertFolder(): void {
    let isFolder = false;
    try {
      isFolder = statSync(this.folder).isDirectory();
    } catch {
      // missing: reported below
    }
    if (!isFolder) {
      throw new RunError(`source "${this.name}": folder ${this.folder} does not exist; fix "path" (relative paths start at the project folder)`);
    }
  }
}
