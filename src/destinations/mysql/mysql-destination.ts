import mysql from 'mysql2/promise';
import { ConfigError, SyncError } from '../../errors.ts';
import type { Value } from '../../sources/source.ts';
import type {
  Capabilities, Change, Destination, DestinationInit, FieldSpec, RecordResult, WriteContext,
} from '../destination.ts';
import {
  chunkRows, groupChanges, planColumns, syncFields, type StatementGroup, type TableRef,
} from '../sql-batch.ts';
import { toSyncError, type MyErrorContext } from './mysql-errors.ts';
import { toColumn, toFieldSpec, type ColumnRow, type MyColumn } from './mysql-schema.ts';
import {
  COLUMNS_SQL, JSON_CHECKS_SQL, MAX_STATEMENT_BYTES, MAX_VALUES, createTableSql, deleteSql, insertSql, qualifiedName,
  quoteIdent, updateSql, type Literal,
} from './mysql-sql.ts';
import { mysqlSettings, type MysqlConnection, type MysqlSyncOptions } from './mysql-type.ts';
import { toDriverValue } from './mysql-values.ts';

type Columns = Map<string, MyColumn>;
type Row = StatementGroup['rows'][number];
type ResultHeader = { affectedRows: number };

/** Connections already set up for Lastmile (strict mode, UTC, backslash escapes on). */
const prepared = new WeakSet<object>();

/**
 * Writes a sync's changes into one MySQL/MariaDB table, one transaction per batch: upserts as
 * INSERT … ON DUPLICATE KEY UPDATE, inserts as multi-row INSERT, updates as one statement per
 * row sent in one round trip, deletes as DELETE … WHERE (match) IN (…). The session runs in
 * strict mode, so a value that does not fit fails (ER_DATA_TOO_LONG) instead of being cut.
 */
export class MysqlDestination implements Destination {
  readonly type = 'mysql';
  readonly name: string;
  readonly budgetKey: string;
  readonly capabilities: Capabilities;
  private readonly pool: mysql.Pool;
  private readonly table: TableRef;
  private readonly tableName: string;
  private readonly options: MysqlSyncOptions;
  private readonly fields: { match: string[]; all: string[] };
  private readonly server: string;
  private columns?: Promise<Columns>;

  constructor(init: DestinationInit<MysqlConnection, MysqlSyncOptions>) {
    const settings = mysqlSettings(init.connection);
    this.name = init.connection.name;
    this.options = init.options;
    this.table = init.options.table;
    this.tableName = qualifiedName(this.table);
    this.fields = syncFields(init.sync);
    this.server = `${settings.host}:${settings.port}/${settings.database ?? ''}`;
    this.budgetKey = this.server;
    this.capabilities = {
      operations: ['insert', 'update', 'upsert', 'delete'],
      maxBatchSize: 1_000,
      rateLimit: { concurrency: 4 },
      // One bad row fails the batch's transaction: the engine splits to isolate it.
      perRecordResults: false,
    };
    this.pool = mysql.createPool({
      ...settings,
      connectionLimit: init.connection.rateLimit?.concurrency ?? 4,
      charset: 'utf8mb4',
      connectTimeout: 10_000,
      multipleStatements: true, // updates: one UPDATE per row, one round trip; values are escaped literals
      dateStrings: true,
    });
    if (!this.fields.match.length && init.sync.mode !== 'insert') {
      throw new ConfigError(`sync "${init.sync.name}": mode ${init.sync.mode} needs \`match\` to find rows in the table`, init.sync.location);
    }
  }

  async check(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.columns = undefined;
    const columns = await this.loadColumns();
    if (!columns.size) {
      if (this.options.createTable) return;
      throw this.missingTable();
    }
    const missing = this.fields.all.filter((field) => !columns.has(field));
    if (missing.length) throw this.missingColumns(missing);
  }

  async describe(signal: AbortSignal): Promise<FieldSpec[]> {
    signal.throwIfAborted();
    const columns = await this.loadColumns();
    if (columns.size) return [...columns.values()].map(toFieldSpec);
    if (!this.options.createTable) throw this.missingTable();
    return Object.entries(this.options.columns ?? {}).map(([name, declared]) => ({
      name,
      ...(typeof declared === 'string' ? { type: declared } : declared),
      ...(this.fields.match.includes(name) ? { required: true } : {}),
    }));
  }

  async write(batch: Change[], ctx: WriteContext): Promise<RecordResult[]> {
    const { groups, rejected } = groupChanges(batch, this.fields.match);
    if (!groups.length) return rejected;
    const columns = await this.ready(batch);
    for (const group of groups) {
      const missing = group.columns.filter((c) => !columns.has(c));
      if (missing.length) {
        this.columns = undefined; // the table may change before the next try
        throw this.missingColumns(missing);
      }
    }
    const context: MyErrorContext = this.errorContext();
    const conn = await this.connect();
    const results: RecordResult[] = [...rejected];
    let broken = false;
    try {
      await conn.beginTransaction();
      for (const group of groups) {
        ctx.signal.throwIfAborted();
        context.columns = group.columns;
        results.push(...(await this.writeGroup(conn, group, columns, ctx)));
      }
      await conn.commit();
      return results;
    } catch (error) {
      await conn.rollback().catch(() => { broken = true; });
      throw toSyncError(error, context);
    } finally {
      if (broken) conn.destroy();
      else conn.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async writeGroup(conn: mysql.PoolConnection, group: StatementGroup, columns: Columns, ctx: WriteContext): Promise<RecordResult[]> {
    const match = this.fields.match;
    const results: RecordResult[] = [];
    const limits = { paramsPerRow: group.columns.length, maxParams: MAX_VALUES, maxBytes: MAX_STATEMENT_BYTES };
    for (const rows of chunkRows(group.rows, match, limits)) {
      const lit: Literal = (column, r) => conn.escape(toDriverValue(rows[r]!.values[column], columns.get(column)));
      ctx.apiCall();
      if (group.op === 'insert' || group.op === 'upsert') {
        await conn.query(insertSql(this.table, group.columns, rows.length, lit, group.op === 'upsert' ? { match } : undefined));
        results.push(...rows.map((row): RecordResult => ({ key: row.key, outcome: 'delivered' })));
      } else if (group.op === 'delete') {
        // Already gone counts as done: a delete is idempotent.
        await conn.query(deleteSql(this.table, match, rows.length, lit));
        results.push(...rows.map((row): RecordResult => ({ key: row.key, outcome: 'delivered' })));
      } else {
        const set = group.columns.filter((c) => !match.includes(c));
        const [answer] = await conn.query(updateSql(this.table, set, match, rows.length, lit));
        const headers = (Array.isArray(answer) ? answer : [answer]) as ResultHeader[];
        rows.forEach((row, i) => {
          results.push(headers[i]!.affectedRows > 0 ? { key: row.key, outcome: 'delivered' } : notFound(row, match, this.tableName));
        });
      }
    }
    return results;
  }

  /** A pooled connection, set up once: strict mode (refuse, never truncate), UTC, backslash escapes. */
  private async connect(): Promise<mysql.PoolConnection> {
    let conn: mysql.PoolConnection | undefined;
    try {
      conn = await this.pool.getConnection();
      if (!prepared.has(conn.connection)) {
        const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT @@SESSION.sql_mode AS mode');
        const modes = String(rows[0]!.mode).split(',').filter((m) => m && m !== 'NO_BACKSLASH_ESCAPES');
        if (!modes.includes('STRICT_ALL_TABLES')) modes.push('STRICT_ALL_TABLES');
        await conn.query(`SET SESSION sql_mode = '${modes.join(',')}', time_zone = '+00:00'`);
        prepared.add(conn.connection);
      }
      return conn;
    } catch (error) {
      conn?.destroy();
      throw toSyncError(error, this.errorContext());
    }
  }

  /** The table's columns, read once (and the table created first when the sync asks for it). */
  private ready(batch: Change[]): Promise<Columns> {
    this.columns ??= this.prepare(batch).catch((error) => {
      this.columns = undefined;
      throw error;
    });
    return this.columns;
  }

  private async prepare(batch: Change[]): Promise<Columns> {
    let columns = await this.loadColumns();
    if (!columns.size && this.options.createTable) {
      await this.query(createTableSql(this.table, planColumns(this.fields, batch, this.options.columns)));
      columns = await this.loadColumns();
    }
    if (!columns.size) throw this.missingTable();
    return columns;
  }

  private async loadColumns(): Promise<Columns> {
    const params = [this.table.schema ?? null, this.table.table];
    const rows = await this.query<ColumnRow>(COLUMNS_SQL, params);
    // MySQL 8 has native JSON and no table_name in check_constraints: nothing to learn there.
    const json = await this.query<{ name: string }>(JSON_CHECKS_SQL, params).catch(() => []);
    const jsonColumns = new Set(json.map((row) => row.name));
    return new Map(rows.map((row) => [row.name, toColumn(row, jsonColumns)]));
  }

  private async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
    const conn = await this.connect();
    try {
      const [rows] = await conn.query(sql, params);
      return rows as T[];
    } catch (error) {
      throw toSyncError(error, this.errorContext());
    } finally {
      conn.release();
    }
  }

  private missingTable(): SyncError {
    return new SyncError('config', `mysql destination "${this.name}" (${this.server}): table ${this.tableName} does not exist: create it, or set \`createTable: true\` on the sync`);
  }

  private missingColumns(missing: string[]): SyncError {
    return new SyncError('config', `mysql destination "${this.name}": table ${this.tableName} has no column ${missing.map(quoteIdent).join(', ')}: fix the mapping or add the column`, { field: missing[0] });
  }

  private errorContext(): MyErrorContext {
    return { destination: this.name, server: this.server, table: this.tableName };
  }
}

function notFound(row: Row, match: string[], table: string): RecordResult {
  const where = match.map((c) => `${c} = ${describeValue(row.values[c])}`).join(', ');
  return {
    key: row.key,
    outcome: 'rejected',
    rejection: { category: 'missing_identifier', field: match.join(', '), message: `no row of ${table} has ${where}: nothing to update`, retryable: false },
  };
}

function describeValue(value: Value | undefined): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
