import type { SyncConfig } from '../config/project.ts';
import { ConfigError, SyncError } from '../errors.ts';
import type { Value } from '../sources/source.ts';
import type {
  Capabilities, Change, Destination, DestinationInit, FieldSpec, RecordResult, WriteContext,
} from './destination.ts';
import { LazyPromise } from './lazy-promise.ts';
import {
  groupChanges, planColumns, syncFields, type ColumnPlan, type SqlDialect, type SqlSyncOptions, type StatementRow,
  type SyncFields, type TableRef,
} from './sql-batch.ts';
import { writeBatch, type SqlSession } from './sql-transaction.ts';

/** What a SQL destination tells the shared part about itself. */
export interface SqlTarget<Column> {
  /** host:port/database, for messages and the rate budget: never the URL, which may hold a password. */
  server: string;
  dialect: Pick<SqlDialect, 'quoteIdent' | 'qualifiedName'>;
  toFieldSpec(column: Column): FieldSpec;
  /** Most changes one batch (one transaction) carries. */
  maxBatchSize: number;
}

/**
 * What the Postgres and MySQL destinations share: a sync writes one table, whose columns are
 * read once (the table created first when the sync asks for it); check() and describe() read
 * them; a batch is cut into statement groups, changes without a match value are rejected up
 * front and a column the table lacks stops the run; the groups are written in one transaction
 * in which each row the table refuses is rejected alone (writeBatch). A dialect reads the
 * columns, creates the table and writes one group's rows.
 */
export abstract class SqlTableDestination<Column, Options extends SqlSyncOptions> implements Destination {
  abstract readonly type: string;
  readonly name: string;
  readonly budgetKey: string;
  readonly capabilities: Capabilities;
  protected readonly table: TableRef;
  protected readonly tableName: string;
  protected readonly options: Options;
  protected readonly fields: SyncFields;
  private readonly target: SqlTarget<Column>;
  private readonly columns = new LazyPromise<Map<string, Column>>();

  protected constructor(init: DestinationInit<object, Options>, target: SqlTarget<Column>) {
    this.name = init.connection.name;
    this.options = init.options;
    this.table = init.options.table;
    this.tableName = target.dialect.qualifiedName(this.table);
    this.fields = syncFields(init.sync);
    this.budgetKey = target.server;
    this.target = target;
    this.capabilities = {
      operations: ['insert', 'update', 'upsert', 'delete'],
      maxBatchSize: target.maxBatchSize,
      rateLimit: { concurrency: 4 },
      // A row the table refuses is rejected alone inside the batch's transaction; the others commit.
      perRecordResults: true,
    };
    assertSyncFits(init.sync, this.fields);
  }

  /** The table's columns, by name; an empty map when the table does not exist. */
  protected abstract loadColumns(): Promise<Map<string, Column>>;

  /** CREATE TABLE IF NOT EXISTS with these columns. */
  protected abstract createTable(columns: ColumnPlan[]): Promise<void>;

  /** A pooled connection that writes groups into the table with these columns. */
  protected abstract openSession(columns: Map<string, Column>): Promise<SqlSession>;

  abstract close(): Promise<void>;

  async check(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.columns.forget();
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
    if (columns.size) return [...columns.values()].map((column) => this.target.toFieldSpec(column));
    if (!this.options.createTable) throw this.missingTable();
    // Not created yet: the types the sync declares for its fields are all there is to tell.
    const declared = this.options.columns ?? {};
    return this.fields.all.filter((name) => declared[name]).map((name) => {
      const declaration = declared[name]!;
      return {
        name,
        ...(typeof declaration === 'string' ? { type: declaration } : declaration),
        ...(this.fields.match.includes(name) ? { required: true } : {}),
      };
    });
  }

  async write(batch: Change[], ctx: WriteContext): Promise<RecordResult[]> {
    const { groups, rejected } = groupChanges(batch, this.fields.match);
    if (!groups.length) return rejected;
    const columns = await this.columns.get(() => this.prepare(batch));
    for (const group of groups) {
      const missing = group.columns.filter((c) => !columns.has(c));
      if (missing.length) {
        this.columns.forget(); // the table may change before the next try
        throw this.missingColumns(missing);
      }
    }
    return [...rejected, ...(await writeBatch(await this.openSession(columns), groups, ctx))];
  }

  /** An update whose row is not in the table: nothing was changed, and retrying will not help. */
  protected notFound(row: StatementRow): RecordResult {
    const match = this.fields.match;
    const where = match.map((c) => `${c} = ${describeValue(row.values[c])}`).join(', ');
    return {
      key: row.key,
      outcome: 'rejected',
      rejection: { category: 'missing_identifier', field: match.join(', '), message: `no row of ${this.tableName} has ${where}: nothing to update`, retryable: false },
    };
  }

  /** What the error translation needs to name the destination, the server and the table. */
  protected errorContext(): { destination: string; server: string; table: string } {
    return { destination: this.name, server: this.target.server, table: this.tableName };
  }

  /** The table's columns (the table created first when the sync asks for it and it is missing). */
  private async prepare(batch: Change[]): Promise<Map<string, Column>> {
    let columns = await this.loadColumns();
    if (!columns.size && this.options.createTable) {
      await this.createTable(planColumns(this.fields, batch, this.options.columns));
      columns = await this.loadColumns();
    }
    if (!columns.size) throw this.missingTable();
    return columns;
  }

  private missingTable(): SyncError {
    return new SyncError('config', `${this.type} destination "${this.name}" (${this.target.server}): table ${this.tableName} does not exist: create it, or set \`createTable: true\` on the sync`);
  }

  private missingColumns(missing: string[]): SyncError {
    const names = missing.map((name) => this.target.dialect.quoteIdent(name)).join(', ');
    return new SyncError('config', `${this.type} destination "${this.name}": table ${this.tableName} has no column ${names}: fix the mapping or add the column`, { field: missing[0] });
  }
}

/** Each row of a statement that went through. */
export function delivered(rows: StatementRow[]): RecordResult[] {
  return rows.map((row) => ({ key: row.key, outcome: 'delivered' }));
}

function describeValue(value: Value | undefined): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** A sync without match fields cannot upsert, update or delete anything. */
function assertSyncFits(sync: SyncConfig, fields: SyncFields): void {
  if (!fields.match.length && sync.mode !== 'insert') {
    throw new ConfigError(`sync "${sync.name}": mode ${sync.mode} needs \`match\` to find rows in the table`, sync.location);
  }
}
