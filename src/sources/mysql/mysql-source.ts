import mysql from 'mysql2';
import { RunError } from '../../errors.ts';
import { serverLabel, sourceFailure } from '../server-connection.ts';
import { pipeline } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import type { DuckDBConnection } from '@duckdb/node-api';
import { modelReadSql, type BulkLoadSource, type Column, type ModelRead, type ReadOptions, type Row, type RowChunk, type Value } from '../source.ts';
import { mysqlColumn, toMysqlParam, type MysqlField } from './mysql-values.ts';
import { MysqlCsvEncoder, mysqlCsvColumn } from './mysql-csv.ts';
import { CsvLoadError, loadCsv, type CsvExport } from '../duckdb/duckdb-csv-load.ts';
import type { MysqlSettings } from './mysql-type.ts';
import { selectFromTable } from '../../sql-identifier.ts';
import { mysqlSession } from './mysql-session.ts';
import { mysqlDialect } from '../../diff/warehouse/mysql-dialect.ts';
import type { WarehouseSession, WarehouseSource } from '../../diff/warehouse/warehouse-session.ts';

/**
 * A MySQL or MariaDB database. A read streams the result row by row with backpressure
 * (the socket pauses while a chunk waits for its consumer), `chunkSize` rows at a time.
 * A run loads its model as CSV instead, from the raw field bytes (see mysql-csv.ts).
 * Parameters travel as `?` and mysql2 escapes them; the session runs in UTC.
 */
export class MysqlSource implements BulkLoadSource, WarehouseSource {
  readonly type = 'mysql';
  private pool?: mysql.Pool;

  constructor(readonly name: string, private readonly settings: MysqlSettings) {}

  async check(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const connection = await this.connect();
    try {
      await new Promise<void>((resolve, reject) => connection.query('SELECT 1', (error) => (error ? reject(error) : resolve())));
    } catch (error) {
      throw this.failure('the check query failed', error);
    } finally {
      connection.release();
    }
  }

  async *read(sql: string, options: ReadOptions): AsyncIterable<RowChunk> {
    const { chunkSize, signal } = options;
    signal.throwIfAborted();
    const connection = await this.connect();
    const query = connection.query({ sql, values: (options.params ?? []).map(toMysqlParam), rowsAsArray: true });
    let fields: MysqlField[] | undefined;
    query.on('fields', (received: MysqlField[]) => { fields = received; });
    const stream = query.stream({ highWaterMark: chunkSize });
    const stop = () => stream.destroy(signal.reason instanceof Error ? signal.reason : new Error('read aborted'));
    signal.addEventListener('abort', stop, { once: true });
    // A connection killed mid-read (KILL, a restart) reports only on the connection: the paused
    // result stream would wait forever, and the process would exit with nothing said.
    const lost = (error: Error) => stream.destroy(new Error(`lost the connection mid-read (${error.message})`, { cause: error }));
    connection.on('error', lost);
    let finished = false;
    try {
      let columns: Column[] | undefined;
      let converters: ((value: unknown) => Value)[] = [];
      let rows: Row[] = [];
      let yielded = false;
      for await (const raw of stream as AsyncIterable<unknown>) {
        if (!columns) {
          if (!fields || !Array.isArray(raw)) throw new Error('the statement returned no rows (a model must be a SELECT)');
          const described = fields.map(mysqlColumn);
          columns = described.map((d) => d.column);
          converters = described.map((d) => d.convert);
        }
        rows.push(toRow(raw as unknown[], columns, converters));
        if (rows.length === chunkSize) {
          yielded = true;
          yield { columns, rows };
          rows = [];
        }
      }
      signal.throwIfAborted();
      columns ??= (fields ?? []).map((field) => mysqlColumn(field).column);
      if (rows.length > 0 || !yielded) yield { columns, rows };
      finished = true;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw this.failure('the query failed', error);
    } finally {
      signal.removeEventListener('abort', stop);
      connection.off('error', lost);
      // A connection left mid-result is not safe to reuse: close it instead.
      if (finished) connection.release();
      else connection.destroy();
    }
  }

  async loadInto(workspace: DuckDBConnection, table: string, read: ModelRead, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const connection = await this.connect();
    // Raw bytes per field (typeCast off); the stream holds rows until the load takes them.
    const values = read.since ? [toMysqlParam(read.since.value)] : [];
    const query = connection.query({ sql: modelReadSql(this, read, '?'), values, rowsAsArray: true, typeCast: false });
    const rows = query.stream({ highWaterMark: 1000 }) as Readable;
    const fields = new Promise<MysqlField[]>((resolve, reject) => {
      query.once('fields', resolve);
      rows.once('error', reject);
      rows.once('end', () => reject(new Error('the statement returned no rows (a model must be a SELECT)')));
    });
    fields.catch(() => {}); // awaited below; a failure after the fields reaches the caller through the export
    // A lost connection ends neither the query nor its stream in mysql2: end them here.
    let connectionLost = false;
    const lost = (error?: Error) => {
      connectionLost = true;
      rows.destroy(error ?? new Error('the server closed the connection'));
    };
    const lostLater = () => setImmediate(lost); // 'end' comes just before the 'error' that says why
    const stop = () => rows.destroy(signal.reason instanceof Error ? signal.reason : new Error('load aborted'));
    connection.on('error', lost);
    connection.on('end', lostLater);
    signal.addEventListener('abort', stop, { once: true });
    let finished = false;
    try {
      const columns = (await fields).map(mysqlCsvColumn);
      const exportRows: CsvExport = (out: Writable) => pipeline(rows, new MysqlCsvEncoder(columns.map((c) => c.encoding)), out);
      exportRows.aligned = true;
      await loadCsv(workspace, table, columns.map((c) => c.csv), exportRows, signal);
      finished = true;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw error instanceof CsvLoadError ? error : this.failure(connectionLost ? 'lost the connection mid-read' : 'the query failed', error);
    } finally {
      signal.removeEventListener('abort', stop);
      connection.off('error', lost);
      connection.off('end', lostLater);
      // A connection left mid-result is not safe to reuse: close it instead.
      if (finished) connection.release();
      else connection.destroy();
    }
  }

  readonly fingerprintSql = mysqlDialect;

  /** Statements on this source's pool, for a diff run inside the database. */
  openSession(): WarehouseSession {
    return mysqlSession(() => this.connect());
  }

  placeholder(): string {
    return '?';
  }

  quoteIdentifier(name: string): string {
    return `\`${name.replaceAll('`', '``')}\``;
  }

  /** `customers` or `shop.customers`: each part quoted. */
  tableQuery(table: string): string {
    return selectFromTable(table, this.quoteIdentifier);
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await new Promise<void>((resolve) => pool.end(() => resolve()));
  }

  private connect(): Promise<mysql.PoolConnection> {
    this.pool ??= this.createPool();
    const pool = this.pool;
    return new Promise((resolve, reject) => {
      pool.getConnection((error, connection) => {
        if (error) reject(this.failure(`cannot connect to MySQL at ${this.where()}`, error));
        else resolve(connection);
      });
    });
  }

  private createPool(): mysql.Pool {
    const { url, host, port, user, password, database } = this.settings;
    const pool = mysql.createPool({
      ...(url ? { uri: url.replace(/^mariadb:/, 'mysql:') } : { host, port, user, password, database }),
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      connectionLimit: 4,
      connectTimeout: 10_000,
    });
    // TIMESTAMP columns then read as UTC text, and canonical parameters compare in UTC.
    pool.on('connection', (connection) => connection.query(`SET time_zone = '+00:00'`));
    return pool;
  }

  /** host:port/database, never the password. */
  private where(): string {
    return serverLabel(this.settings, 3306);
  }

  private failure(what: string, error: unknown): RunError {
    return sourceFailure(this.name, this.settings, what, error);
  }
}

function toRow(raw: unknown[], columns: Column[], converters: ((value: unknown) => Value)[]): Row {
  const row: Row = {};
  for (let c = 0; c < columns.length; c++) {
    const value = raw[c];
    row[columns[c]!.name] = value === null || value === undefined ? null : converters[c]!(value);
  }
  return row;
}
