import pg from 'pg';
import Cursor from 'pg-cursor';
import { RunError } from '../../errors.ts';
import { PgServer, RAW_TEXT, textRow } from './pg-server.ts';
import type { DuckDBConnection } from '@duckdb/node-api';
import { modelReadSql, type BulkLoadSource, type Column, type ModelRead, type ReadOptions, type RowChunk } from '../source.ts';
import { pgColumn, toPgParam } from './postgres-values.ts';
import { copyColumn, copySql, describeQuery, exportCsv, serverLiteral } from './postgres-copy.ts';
import { CsvLoadError, loadCsv, type CsvColumn } from '../duckdb/duckdb-csv-load.ts';
import type { Writable } from 'node:stream';
import type { PostgresSettings } from './postgres-type.ts';
import { quoteIdentifier, selectFromTable } from '../../sql-identifier.ts';
import { postgresSession } from './postgres-session.ts';
import { postgresDialect } from '../../diff/warehouse/postgres-dialect.ts';
import type { WarehouseSession, WarehouseSource } from '../../diff/warehouse/warehouse-session.ts';


/**
 * A Postgres database. A read runs the model's SQL through a server-side cursor and
 * fetches `chunkSize` rows at a time, so a 10M-row model never sits in memory. A run loads
 * its model with COPY instead, straight into the workspace (see postgres-copy.ts).
 */
export class PostgresSource implements BulkLoadSource, WarehouseSource {
  readonly type = 'postgres';
  private readonly server: PgServer;

  constructor(readonly name: string, settings: PostgresSettings) {
    this.server = new PgServer(name, settings, { product: 'Postgres', defaultPort: 5432 });
  }

  check(signal: AbortSignal): Promise<void> {
    return this.server.check(signal);
  }

  async *read(sql: string, options: ReadOptions): AsyncIterable<RowChunk> {
    const { chunkSize, signal } = options;
    signal.throwIfAborted();
    const client = await this.connect();
    // A backend terminated or a socket cut mid-read reports on the client, sometimes with no
    // cursor callback at all: every chunk read races it, so the read fails instead of hanging.
    const lost = connectionLost(client);
    const cursor = client.query(new Cursor(sql, (options.params ?? []).map(toPgParam), { rowMode: 'array', types: RAW_TEXT }));
    let released = false;
    const release = (error?: Error) => {
      if (released) return;
      released = true;
      client.release(error); // with an error, the pool closes the connection instead of reusing it
    };
    // Aborting closes the connection: a pending fetch fails at once, even mid-query.
    const stop = () => release(new Error('read aborted'));
    signal.addEventListener('abort', stop, { once: true });
    let broken: Error | undefined;
    try {
      let columns: Column[] | undefined;
      let converters: ((text: string) => unknown)[] = [];
      let yielded = false;
      for (;;) {
        const { rows, fields } = await Promise.race([readChunk(cursor, chunkSize), lost.promise]);
        signal.throwIfAborted();
        if (!columns) {
          const described = fields.map(pgColumn);
          columns = described.map((d) => d.column);
          converters = described.map((d) => d.convert);
        }
        if (rows.length === 0 && yielded) break;
        yielded = true;
        yield { columns, rows: rows.map((raw) => textRow(raw, columns!, converters)) };
        if (rows.length < chunkSize) break;
      }
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      if (signal.aborted) throw signal.reason;
      throw this.failure('the query failed', error);
    } finally {
      signal.removeEventListener('abort', stop);
      lost.dispose();
      if (!broken && !released) await new Promise<void>((resolve) => cursor.close(() => resolve()));
      release(broken);
    }
  }

  async loadInto(workspace: DuckDBConnection, table: string, read: ModelRead, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const client = await this.connect();
    let released = false;
    const release = (error?: Error) => {
      if (released) return;
      released = true;
      client.release(error);
    };
    // Aborting closes the connection, which ends a COPY at once.
    const stop = () => release(new Error('load aborted'));
    signal.addEventListener('abort', stop, { once: true });
    let broken: Error | undefined;
    let connectionLost = false;
    // A connection lost mid-load fails the COPY, and pg also emits it on the client, which has
    // no listener while checked out of the pool: without this one the process would crash.
    const lost = (error: Error) => { broken ??= error; connectionLost = true; };
    client.on('error', lost);
    try {
      const { copy, columns } = await this.copyOf(client, read);
      await loadCsv(workspace, table, columns, (out: Writable) => exportCsv(client, copy, out), signal);
    } catch (error) {
      broken ??= error instanceof Error ? error : new Error(String(error));
      if (signal.aborted) throw signal.reason;
      throw error instanceof CsvLoadError ? error : this.failure(connectionLost ? 'lost the connection mid-read' : 'the query failed', error);
    } finally {
      signal.removeEventListener('abort', stop);
      release(broken);
      client.off('error', lost);
    }
  }

  /** The COPY statement of a model read, and how DuckDB reads each of its columns. */
  private async copyOf(client: pg.PoolClient, read: ModelRead): Promise<{ copy: string; columns: CsvColumn[] }> {
    const sql = read.since ? modelReadSql(this, read, await serverLiteral(client, read.since.value)) : read.sql;
    const columns = (await describeQuery(client, sql)).map(copyColumn);
    return { copy: copySql(sql, columns), columns: columns.map((column) => column.csv) };
  }

  /** Statements on this source's pool, for a diff run inside the database. */
  readonly fingerprintSql = postgresDialect;

  openSession(): WarehouseSession {
    return postgresSession(() => this.connect());
  }

  placeholder(index: number): string {
    return `$${index}`;
  }

  readonly quoteIdentifier = quoteIdentifier;

  /** `customers` or `analytics.customers`: each part quoted. */
  tableQuery(table: string): string {
    return selectFromTable(table, this.quoteIdentifier);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private connect(): Promise<pg.PoolClient> {
    return this.server.connect();
  }

  private failure(what: string, error: unknown): RunError {
    return this.server.failure(what, error);
  }
}

/** Rejects when the client's connection fails or ends before `dispose()`. */
function connectionLost(client: pg.PoolClient): { promise: Promise<never>; dispose(): void } {
  let fail: (error: Error) => void = () => {};
  const promise = new Promise<never>((_, reject) => { fail = reject; });
  promise.catch(() => {}); // observed through Promise.race; nobody may be racing at that moment
  const onError = (error: Error) => fail(new Error(`lost the connection mid-read (${error.message || (error as NodeJS.ErrnoException).code})`, { cause: error }));
  const onEnd = () => fail(new Error('lost the connection mid-read (the server closed it)'));
  client.on('error', onError);
  client.on('end', onEnd);
  return {
    promise,
    dispose() {
      client.off('error', onError);
      client.off('end', onEnd);
    },
  };
}

function readChunk(cursor: Cursor, count: number): Promise<{ rows: unknown[][]; fields: pg.FieldDef[] }> {
  return new Promise((resolve, reject) => {
    cursor.read(count, (error, rows, result) => (error ? reject(error) : resolve({ rows: rows as unknown[][], fields: result.fields ?? [] })));
  });
}
