import mysql from 'mysql2/promise';
import type { DestinationInit, RecordResult } from '../destination.ts';
import { chunkRows, type ColumnPlan, type StatementGroup } from '../sql-batch.ts';
import { SqlTableDestination, delivered } from '../sql-table-destination.ts';
import type { SqlSession, StatementScope } from '../sql-transaction.ts';
import { toSyncError, type MyErrorContext } from './mysql-errors.ts';
import { toColumn, toFieldSpec, type ColumnRow, type MyColumn } from './mysql-schema.ts';
import {
  COLUMNS_SQL, JSON_CHECKS_SQL, MAX_STATEMENT_BYTES, MAX_VALUES, createTableSql, deleteSql, insertSql, qualifiedName,
  quoteIdent, updateSql, type Literal,
} from './mysql-sql.ts';
import { mysqlSettings, type MysqlConnection, type MysqlSyncOptions } from './mysql-type.ts';
import { toDriverValue } from './mysql-values.ts';

type Columns = Map<string, MyColumn>;
type ResultHeader = { affectedRows: number };

/** Connections already set up for Lastmile (strict mode, UTC, backslash escapes on). */
const prepared = new WeakSet<object>();

/**
 * Writes a sync's changes into one MySQL/MariaDB table, one transaction per batch: upserts as
 * INSERT … ON DUPLICATE KEY UPDATE, inserts as multi-row INSERT, updates as one statement per
 * row sent in one round trip, deletes as DELETE … WHERE (match) IN (…). The session runs in
 * strict mode, so a value that does not fit fails (ER_DATA_TOO_LONG) instead of being cut, and
 * the shared writeBatch() isolates the row under savepoints.
 */
export class MysqlDestination extends SqlTableDestination<MyColumn, MysqlSyncOptions> {
  readonly type = 'mysql';
  private readonly pool: mysql.Pool;
  /** Learned on the first connection: MariaDB numbers some errors its own way. */
  private mariadb = false;

  constructor(init: DestinationInit<MysqlConnection, MysqlSyncOptions>) {
    const settings = mysqlSettings(init.connection);
    super(init, {
      server: `${settings.host}:${settings.port}/${settings.database ?? ''}`,
      dialect: { quoteIdent, qualifiedName },
      toFieldSpec,
      maxBatchSize: 1_000,
    });
    this.pool = mysql.createPool({
      ...settings,
      connectionLimit: init.connection.rateLimit?.concurrency ?? 4,
      charset: 'utf8mb4',
      connectTimeout: 10_000,
      multipleStatements: true, // updates: one UPDATE per row, one round trip; values are escaped literals
      dateStrings: true,
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  protected async openSession(columns: Columns): Promise<SqlSession> {
    const conn = await this.connect();
    const context = this.myErrorContext();
    return {
      run: async (sql) => void (await conn.query(sql)),
      write: (group, scope) => {
        context.columns = group.columns;
        return this.writeGroup(conn, group, columns, scope);
      },
      failure: (error) => toSyncError(error, context),
      release: (broken) => (broken ? conn.destroy() : conn.release()),
    };
  }

  private async writeGroup(conn: mysql.PoolConnection, group: StatementGroup, columns: Columns, scope: StatementScope): Promise<RecordResult[]> {
    const match = this.fields.match;
    const results: RecordResult[] = [];
    const limits = { paramsPerRow: group.columns.length, maxParams: MAX_VALUES, maxBytes: MAX_STATEMENT_BYTES };
    for (const rows of chunkRows(group.rows, match, limits)) {
      const lit: Literal = (column, r) => conn.escape(toDriverValue(rows[r]!.values[column], columns.get(column)));
      scope.call();
      if (group.op === 'insert' || group.op === 'upsert') {
        await conn.query(insertSql(this.table, group.columns, rows.length, lit, group.op === 'upsert' ? { match } : undefined));
        results.push(...delivered(rows));
      } else if (group.op === 'delete') {
        // Already gone counts as done: a delete is idempotent.
        await conn.query(deleteSql(this.table, match, rows.length, lit));
        results.push(...delivered(rows));
      } else {
        const set = group.columns.filter((c) => !match.includes(c));
        const [answer] = await conn.query(updateSql(this.table, set, match, rows.length, lit));
        const headers = (Array.isArray(answer) ? answer : [answer]) as ResultHeader[];
        rows.forEach((row, i) => {
          results.push(headers[i]!.affectedRows > 0 ? { key: row.key, outcome: 'delivered' } : this.notFound(row));
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
        const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT @@SESSION.sql_mode AS mode, VERSION() AS version');
        this.mariadb = /mariadb/i.test(String(rows[0]!.version));
        const modes = String(rows[0]!.mode).split(',').filter((m) => m && m !== 'NO_BACKSLASH_ESCAPES');
        if (!modes.includes('STRICT_ALL_TABLES')) modes.push('STRICT_ALL_TABLES');
        await conn.query(`SET SESSION sql_mode = '${modes.join(',')}', time_zone = '+00:00'`);
        prepared.add(conn.connection);
      }
      return conn;
    } catch (error) {
      conn?.destroy();
      throw toSyncError(error, this.myErrorContext());
    }
  }

  protected async createTable(columns: ColumnPlan[]): Promise<void> {
    await this.query(createTableSql(this.table, columns));
  }

  protected async loadColumns(): Promise<Columns> {
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
      throw toSyncError(error, this.myErrorContext());
    } finally {
      conn.release();
    }
  }

  private myErrorContext(): MyErrorContext {
    return { ...this.errorContext(), mariadb: this.mariadb };
  }
}
