import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { SyncConfig } from '../../config/project.ts';
import { ConfigError, SyncError } from '../../errors.ts';
import type { Value } from '../../sources/source.ts';
import type {
  Capabilities, Change, Destination, DestinationInit, FieldSpec, RecordResult, WriteContext,
} from '../destination.ts';
import {
  chunkRows, groupChanges, planColumns, syncFields, type StatementGroup, type TableRef,
} from '../sql-batch.ts';
import { toSyncError, type PgErrorContext } from './postgres-errors.ts';
import { toColumn, toFieldSpec, type ColumnRow, type PgColumn } from './postgres-schema.ts';
import {
  COLUMNS_SQL, KEY_ALIAS, MAX_PARAMS, MAX_ROWS, copySql, createTableSql, deleteSql, insertSql, qualifiedName, quoteIdent, updateSql,
} from './postgres-sql.ts';
import { postgresSettings, type PostgresConnection, type PostgresSyncOptions } from './postgres-type.ts';
import { copyText, csvLine, toParam } from './postgres-values.ts';

type Columns = Map<string, PgColumn>;
type Row = StatementGroup['rows'][number];

/**
 * Writes a sync's changes into one Postgres table, one transaction per batch: upserts as
 * INSERT … ON CONFLICT, inserts as INSERT (COPY above copyThreshold), updates and deletes
 * joined on the match columns. A bad value fails the batch as 'terminal' with its SQLSTATE,
 * and the engine splits the batch until the row is alone.
 */
export class PostgresDestination implements Destination {
  readonly type = 'postgres';
  readonly name: string;
  readonly budgetKey: string;
  readonly capabilities: Capabilities;
  private readonly pool: pg.Pool;
  private readonly table: TableRef;
  private readonly tableName: string;
  private readonly options: PostgresSyncOptions;
  private readonly fields: { match: string[]; all: string[] };
  private readonly server: string;
  private columns?: Promise<Columns>;

  constructor(init: DestinationInit<PostgresConnection, PostgresSyncOptions>) {
    const settings = postgresSettings(init.connection);
    const concurrency = init.connection.rateLimit?.concurrency ?? 4;
    this.name = init.connection.name;
    this.options = init.options;
    this.table = init.options.table;
    this.tableName = qualifiedName(this.table);
    this.fields = syncFields(init.sync);
    this.server = `${settings.host}:${settings.port}/${settings.database ?? settings.user ?? ''}`;
    this.budgetKey = this.server;
    this.capabilities = {
      operations: ['insert', 'update', 'upsert', 'delete'],
      // Large enough for COPY to matter; one transaction of 5,000 rows is cheap for Postgres.
      maxBatchSize: 5_000,
      rateLimit: { concurrency: 4 },
      // One bad row fails the batch's transaction: the engine splits to isolate it.
      perRecordResults: false,
    };
    this.pool = new pg.Pool({
      ...settings,
      max: concurrency,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      application_name: 'lastmile',
    });
    // An idle connection that dies is replaced on the next checkout; nothing to do here.
    this.pool.on('error', () => {});
    assertSyncFits(init.sync, this.fields);
  }

  async check(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.columns = undefined;
    const columns = await this.loadColumns();
    if (!columns.size) {
      if (this.options.createTable) return;
      throw new SyncError('config', `postgres destination "${this.name}" (${this.server}): table ${this.tableName} does not exist: create it, or set \`createTable: true\` on the sync`);
    }
    const missing = this.fields.all.filter((field) => !columns.has(field));
    if (missing.length) {
      throw new SyncError('config', `postgres destination "${this.name}": table ${this.tableName} has no column ${missing.map(quoteIdent).join(', ')}: fix the mapping or add the column`, { field: missing[0] });
    }
  }

  async describe(signal: AbortSignal): Promise<FieldSpec[]> {
    signal.throwIfAborted();
    const columns = await this.loadColumns();
    if (columns.size) return [...columns.values()].map(toFieldSpec);
    if (!this.options.createTable) {
      throw new SyncError('config', `postgres destination "${this.name}" (${this.server}): table ${this.tableName} does not exist: create it, or set \`createTable: true\` on the sync`);
    }
    // Not created yet: what the sync declares is all there is to tell.
    return planColumns(this.fields, [], this.options.columns)
      .filter((column) => this.options.columns?.[column.name])
      .map((column) => {
        const declared = this.options.columns![column.name]!;
        return { name: column.name, ...(typeof declared === 'string' ? { type: declared } : declared), ...(column.primaryKey ? { required: true } : {}) };
      });
  }

  async write(batch: Change[], ctx: WriteContext): Promise<RecordResult[]> {
    const { groups, rejected } = groupChanges(batch, this.fields.match);
    if (!groups.length) return rejected;
    const columns = await this.ready(batch);
    this.assertColumnsExist(groups, columns);
    const results: RecordResult[] = [...rejected];
    const context: PgErrorContext = { destination: this.name, server: this.server, table: this.tableName, types: columns };
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw toSyncError(error, context);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      for (const group of groups) {
        ctx.signal.throwIfAborted();
        results.push(...(await this.writeGroup(client, group, columns, ctx, context)));
      }
      await client.query('COMMIT');
      return results;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => { broken = true; });
      throw toSyncError(error, context);
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async writeGroup(
    client: pg.PoolClient, group: StatementGroup, columns: Columns, ctx: WriteContext, context: PgErrorContext,
  ): Promise<RecordResult[]> {
    const match = this.fields.match;
    const typeOf = (column: string) => columns.get(column)!.sqlType;
    const delivered = (rows: Row[]): RecordResult[] => rows.map((row) => ({ key: row.key, outcome: 'delivered' }));
    if (group.op === 'insert' && group.rows.length > this.options.copyThreshold) {
      Object.assign(context, { columns: group.columns, rows: group.rows.map((row) => row.values) });
      await this.copy(client, group, columns, ctx);
      return delivered(group.rows);
    }
    const results: RecordResult[] = [];
    const width = group.op === 'update' ? 1 + group.columns.length : group.columns.length;
    for (const rows of chunkRows(group.rows, match, { paramsPerRow: width, maxParams: MAX_PARAMS, maxRows: MAX_ROWS })) {
      Object.assign(context, { columns: group.columns, rows: rows.map((row) => row.values) });
      ctx.apiCall();
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
        for (const row of rows) results.push(hit.has(row.key) ? { key: row.key, outcome: 'delivered' } : notFound(row, match, this.tableName));
      }
    }
    return results;
  }

  /** COPY … FROM STDIN (CSV): one round trip for the whole group, in the batch's transaction. */
  private async copy(client: pg.PoolClient, group: StatementGroup, columns: Columns, ctx: WriteContext): Promise<void> {
    ctx.apiCall();
    ctx.trace(`COPY ${group.rows.length} rows into ${this.tableName}`);
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
      await this.createTable(batch);
      columns = await this.loadColumns();
    }
    if (!columns.size) {
      throw new SyncError('config', `postgres destination "${this.name}" (${this.server}): table ${this.tableName} does not exist: create it, or set \`createTable: true\` on the sync`);
    }
    return columns;
  }

  private async createTable(batch: Change[]): Promise<void> {
    const sql = createTableSql(this.table, planColumns(this.fields, batch, this.options.columns));
    try {
      if (this.table.schema) await this.pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.table.schema)}`);
      await this.pool.query(sql);
    } catch (error) {
      // Two syncs creating the same table at once: the loser sees it exists, which is fine.
      const code = (error as { code?: string }).code;
      if (code !== '42P07' && code !== '23505') throw toSyncError(error, this.errorContext());
    }
  }

  private async loadColumns(): Promise<Columns> {
    try {
      const { rows } = await this.pool.query<ColumnRow>(COLUMNS_SQL, [this.table.schema ?? null, this.table.table]);
      return new Map(rows.map((row) => [row.column_name, toColumn(row)]));
    } catch (error) {
      throw toSyncError(error, this.errorContext());
    }
  }

  private assertColumnsExist(groups: StatementGroup[], columns: Columns): void {
    for (const group of groups) {
      const missing = group.columns.filter((c) => !columns.has(c));
      if (missing.length) {
        this.columns = undefined; // the table may change before the next try
        throw new SyncError('config', `postgres destination "${this.name}": table ${this.tableName} has no column ${missing.map(quoteIdent).join(', ')}: fix the mapping or add the column`, { field: missing[0] });
      }
    }
  }

  private errorContext(): PgErrorContext {
    return { destination: this.name, server: this.server, table: this.tableName };
  }
}

function params(rows: Row[], order: string[], columns: Columns): unknown[] {
  return rows.flatMap((row) => order.map((c) => toParam(row.values[c], columns.get(c))));
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

/** A sync without match fields cannot upsert, update or delete anything. */
function assertSyncFits(sync: SyncConfig, fields: { match: string[] }): void {
  if (!fields.match.length && sync.mode !== 'insert') {
    throw new ConfigError(`sync "${sync.name}": mode ${sync.mode} needs \`match\` to find rows in the table`, sync.location);
  }
}
