import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { DestinationInit, RecordResult } from '../destination.ts';
import { chunkRows, type ColumnPlan, type StatementGroup, type StatementRow } from '../sql-batch.ts';
import { SqlTableDestination, delivered } from '../sql-table-destination.ts';
import type { SqlSession, StatementScope } from '../sql-transaction.ts';
import { toSyncError, type PgErrorContext } from './postgres-errors.ts';
import { toColumn, toFieldSpec, type ColumnRow, type PgColumn } from './postgres-schema.ts';
import {
  COLUMNS_SQL, KEY_ALIAS, MAX_PARAMS, MAX_ROWS, copySql, createTableSql, deleteSql, insertSql, qualifiedName, quoteIdent, updateSql,
} from './postgres-sql.ts';
import { postgresSettings, type PostgresConnection, type PostgresSyncOptions } from './postgres-type.ts';
import { copyText, csvLine, toParam } from './postgres-values.ts';

type Columns = Map<string, PgColumn>;

/**
 * Writes a sync's changes into one Postgres table, one transaction per batch: upserts as
 * INSERT … ON CONFLICT, inserts as INSERT (COPY above copyThreshold), updates and deletes
 * joined on the match columns. A bad value fails its statement as 'terminal' with its
 * SQLSTATE, and the shared writeBatch() isolates the row under savepoints.
 */
export class PostgresDestination extends SqlTableDestination<PgColumn, PostgresSyncOptions> {
  readonly type = 'postgres';
  private readonly pool: pg.Pool;

  constructor(init: DestinationInit<PostgresConnection, PostgresSyncOptions>) {
    const settings = postgresSettings(init.connection);
    super(init, {
      server: `${settings.host}:${settings.port}/${settings.database ?? settings.user ?? ''}`,
      dialect: { quoteIdent, qualifiedName },
      toFieldSpec,
      // Large enough for COPY to matter; one transaction of 5,000 rows is cheap for Postgres.
      maxBatchSize: 5_000,
    });
    this.pool = new pg.Pool({
      ...settings,
      max: init.connection.rateLimit?.concurrency ?? 4,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      application_name: 'lastmile',
    });
    // An idle connection that dies is replaced on the next checkout; nothing to do here.
    this.pool.on('error', () => {});
    // One that dies while checked out (the server killed it) says so to its query, then emits
    // 'error' too, which would crash the process without a listener.
    this.pool.on('connect', (client) => client.on('error', () => {}));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  protected async openSession(columns: Columns): Promise<SqlSession> {
    const context: PgErrorContext = { ...this.errorContext(), types: columns };
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw toSyncError(error, context);
    }
    return {
      run: async (sql) => void (await client.query(sql)),
      write: (group, scope) => this.writeGroup(client, group, columns, scope, context),
      failure: (error) => toSyncError(error, context),
      release: (broken) => client.release(broken),
    };
  }

  private async writeGroup(
    client: pg.PoolClient, group: StatementGroup, columns: Columns, scope: StatementScope, context: PgErrorContext,
  ): Promise<RecordResult[]> {
    const match = this.fields.match;
    const typeOf = (column: string) => columns.get(column)!.sqlType;
    if (group.op === 'insert' && group.rows.length > this.options.copyThreshold) {
      Object.assign(context, { columns: group.columns, rows: group.rows.map((row) => row.values) });
      await this.copy(client, group, columns, scope);
      return delivered(group.rows);
    }
    const results: RecordResult[] = [];
    const width = group.op === 'update' ? 1 + group.columns.length : group.columns.length;
    for (const rows of chunkRows(group.rows, match, { paramsPerRow: width, maxParams: MAX_PARAMS, maxRows: MAX_ROWS })) {
      Object.assign(context, { columns: group.columns, rows: rows.map((row) => row.values) });
      scope.call();
      if (group.op === 'insert' || group.op === 'upsert') {
        const sql = insertSql(this.table, group.columns, rows.length, group.op === 'upsert' ? { match } : undefined);
        await client.query(sql, params(rows, group.columns, columns));
        results.push(...delivered(rows));
      } else if (group.op === 'delete') {
        // Already gone counts as done: a delete is idempotent.
        await client.query(deleteSql(this.table, match, rows.length, typeOf), params(rows, match, columns));
        results.push(...delivered(rows));
      } else {
        const set = group.columns.filter((c) => !match.includes(c));
        const order = [...match, ...set];
        const values = rows.flatMap((row) => [row.key, ...order.map((c) => toParam(row.values[c], columns.get(c)))]);
        const found = await client.query<Record<string, string>>(updateSql(this.table, set, match, rows.length, typeOf), values);
        const hit = new Set(found.rows.map((r) => r[KEY_ALIAS]));
        for (const row of rows) results.push(hit.has(row.key) ? { key: row.key, outcome: 'delivered' } : this.notFound(row));
      }
    }
    return results;
  }

  /** COPY … FROM STDIN (CSV): one round trip for the whole group, in the batch's transaction. */
  private async copy(client: pg.PoolClient, group: StatementGroup, columns: Columns, scope: StatementScope): Promise<void> {
    scope.call();
    scope.trace(`COPY ${group.rows.length} rows into ${this.tableName}`);
    const types = group.columns.map((c) => columns.get(c));
    function* csv(): Generator<string> {
      let chunk = '';
      for (const row of group.rows) {
        chunk += csvLine(group.columns.map((c, i) => copyText(row.values[c], types[i])));
        if (chunk.length >= 64 * 1024) { yield chunk; chunk = ''; }
      }
      if (chunk) yield chunk;
    }
    await pipeline(Readable.from(csv()), client.query(copyFrom(copySql(this.table, group.columns))));
  }

  protected async createTable(columns: ColumnPlan[]): Promise<void> {
    try {
      if (this.table.schema) await this.pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.table.schema)}`);
      await this.pool.query(createTableSql(this.table, columns));
    } catch (error) {
      // Two syncs creating the same table at once: the loser sees it exists, which is fine.
      const code = (error as { code?: string }).code;
      if (code !== '42P07' && code !== '23505') throw toSyncError(error, this.errorContext());
    }
  }

  protected async loadColumns(): Promise<Columns> {
    try {
      const { rows } = await this.pool.query<ColumnRow>(COLUMNS_SQL, [this.table.schema ?? null, this.table.table]);
      return new Map(rows.map((row) => [row.column_name, toColumn(row)]));
    } catch (error) {
      throw toSyncError(error, this.errorContext());
    }
  }
}

function params(rows: StatementRow[], order: string[], columns: Columns): unknown[] {
  return rows.flatMap((row) => order.map((c) => toParam(row.values[c], columns.get(c))));
}
