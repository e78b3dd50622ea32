import { existsSync } from 'node:fs';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { RunError } from '../../errors.ts';
import type { DuckdbNativeSource, ReadOptions, RowChunk } from '../source.ts';
import { streamRows } from './duckdb-rows.ts';
import { quoteIdentifier, selectFromTable } from '../../sql-identifier.ts';

export const MEMORY = ':memory:';

/**
 * A DuckDB database file (or `:memory:`, where models read files with read_csv/read_parquet).
 * The engine attaches it read-only to its workspace, so models run where the diff runs.
 */
export class DuckdbSource implements DuckdbNativeSource {
  readonly type = 'duckdb';
  private instance?: Promise<DuckDBInstance>;

  /** `path`: absolute, or `:memory:`. `rootDir`: where relative file reads resolve. */
  constructor(readonly name: string, readonly path: string, private readonly rootDir: string) {}

  async check(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.assertFileExists();
    let instance: DuckDBInstance | undefined;
    try {
      instance = await DuckDBInstance.create(this.path, this.path === MEMORY ? {} : { access_mode: 'READ_ONLY' });
      const connection = await instance.connect();
      await connection.run('SELECT 1');
      connection.closeSync();
    } catch (error) {
      throw new RunError(`source "${this.name}": cannot open DuckDB database ${this.path}: ${messageOf(error)}`, { cause: error });
    } finally {
      instance?.closeSync();
    }
  }

  async *read(sql: string, options: ReadOptions): AsyncIterable<RowChunk> {
    const connection = await this.connect();
    try {
      yield* streamRows(connection, sql, options.params ?? [], options.chunkSize, options.signal);
    } catch (error) {
      if (options.signal.aborted) throw error;
      throw new RunError(`source "${this.name}": the query failed: ${messageOf(error)}`, { cause: error });
    } finally {
      connection.closeSync();
    }
  }

  async attach(workspace: DuckDBConnection, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.path === MEMORY) {
      // Nothing to attach: relative paths in read_csv/read_parquet resolve from the project.
      await workspace.run(`SET file_search_path = ${duckString(this.rootDir)}`);
      return;
    }
    this.assertFileExists();
    const alias = this.quoteIdentifier(attachAlias(this.name));
    try {
      await workspace.run(`ATTACH IF NOT EXISTS ${duckString(this.path)} AS ${alias} (READ_ONLY)`);
      await workspace.run(`USE ${alias}`);
    } catch (error) {
      throw new RunError(`source "${this.name}": cannot attach DuckDB database ${this.path}: ${messageOf(error)}`, { cause: error });
    }
  }

  placeholder(index: number): string {
    return `$${index}`;
  }

  readonly quoteIdentifier = quoteIdentifier;

  /** `prices` or `analytics.prices`: each part quoted. */
  tableQuery(table: string): string {
    return selectFromTable(table, this.quoteIdentifier);
  }

  async close(): Promise<void> {
    const instance = this.instance;
    this.instance = undefined;
    if (instance) (await instance.catch(() => undefined))?.closeSync();
  }

  private async connect(): Promise<DuckDBConnection> {
    this.assertFileExists();
    this.instance ??= DuckDBInstance.create(this.path, this.path === MEMORY ? {} : { access_mode: 'READ_ONLY' });
    try {
      const connection = await (await this.instance).connect();
      if (this.path === MEMORY) await connection.run(`SET file_search_path = ${duckString(this.rootDir)}`);
      return connection;
    } catch (error) {
      this.instance = undefined;
      throw new RunError(`source "${this.name}": cannot open DuckDB database ${this.path}: ${messageOf(error)}`, { cause: error });
    }
  }

  private assertFileExists(): void {
    if (this.path !== MEMORY && !existsSync(this.path)) {
      throw new RunError(
        `source "${this.name}": DuckDB database ${this.path} does not exist; fix "path" (relative paths start at ${this.rootDir}) or create the file`,
      );
    }
  }
}

/** The catalog name a source gets in the workspace: stable, and a valid identifier. */
export function attachAlias(sourceName: string): string {
  return `lastmile_source_${sourceName.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

export function duckString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
