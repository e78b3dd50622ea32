import pg from 'pg';
import { OPERATIONS } from '../destinations/destination.ts';
import { quoteIdentifier } from '../sql-identifier.ts';
import { OUTCOMES, type ChangeColumns } from './change-columns.ts';
import { CHANGES_TABLE, LOG_TABLES, rowsOf, type LogTable, type LogType, type LogValue, type LogWriter, type RunLogs } from './log-tables.ts';

const PG_TYPES: Record<LogType, string> = { text: 'text', bigint: 'bigint', double: 'double precision', boolean: 'boolean', timestamptz: 'timestamptz' };
/** Rows per INSERT: each column goes as one array parameter (unnest), so a statement stays small in parameters. */
const CHUNK = 10_000;

const ident = quoteIdentifier;

/** The session's temp table the changes are staged in, shaped like the changes table. */
const STAGED = 'lastmile_staged_changes';

/**
 * Sync logs in a Postgres source: tables created on first use, each run in one transaction. The
 * changes are staged as they come into a temp table of the writer's session, each chunk in a
 * short transaction of its own (Postgres does that work while the run goes on or folds its
 * state, and no transaction stays open through a long delivery); write() then moves them, the
 * run's own row and its rejections into the log tables in one transaction.
 */
export class PostgresLogWriter implements LogWriter {
  private session: Promise<pg.Client> | undefined;

  constructor(private readonly connection: pg.ClientConfig, private readonly schema: string, private readonly run: { runId: string; sync: string }) {}

  async open(): Promise<void> {}

  async stage(chunks: ChangeColumns[]): Promise<void> {
    const client = await this.connected();
    for (const changes of chunks) {
      for (let from = 0; from < changes.size; from += CHUNK) await this.insertChanges(client, changes, from, Math.min(changes.size, from + CHUNK));
    }
  }

  async write(logs: RunLogs): Promise<void> {
    const client = await this.connected();
    await client.query('BEGIN');
    try {
      for (const table of LOG_TABLES) await client.query(`DELETE FROM ${this.name(table)} WHERE run_id = $1`, [this.run.runId]);
      await client.query(`INSERT INTO ${this.name(CHANGES_TABLE)} SELECT * FROM ${STAGED}`);
      for (const [table, rows] of rowsOf(logs)) {
        for (let from = 0; from < rows.length; from += CHUNK) await this.insert(client, table, rows.slice(from, from + CHUNK));
      }
      if (logs.retentionMs !== undefined) {
        const cutoff = new Date(Date.now() - logs.retentionMs).toISOString();
        for (const table of LOG_TABLES) await client.query(`DELETE FROM ${this.name(table)} WHERE ${ident(table.timeColumn)} < $1`, [cutoff]);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  /** Ends the session: its temp table goes with it. */
  async close(): Promise<void> {
    const client = await this.session?.catch(() => undefined);
    this.session = undefined;
    await client?.end().catch(() => {});
  }

  /** The writer's session, with the log tables created and its temp table for staging. */
  private connected(): Promise<pg.Client> {
    this.session ??= (async () => {
      const client = new pg.Client({ ...this.connection, application_name: `lastmile-logs ${this.run.runId}` }); // a DBA sees whose session it is
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(this.schema)}`);
        for (const table of LOG_TABLES) await client.query(createTable(this.schema, table));
        await client.query(`CREATE TEMP TABLE ${STAGED} (LIKE ${this.name(CHANGES_TABLE)})`);
        return client;
      } catch (error) {
        await client.end().catch(() => {});
        throw error;
      }
    })();
    return this.session;
  }

  private name(table: LogTable): string {
    return `${ident(this.schema)}.${ident(table.name)}`;
  }

  /** Rows `from` to `to` of a chunk into the staging table: their columns as they are, made into the table's in SQL. */
  private async insertChanges(client: pg.Client, changes: ChangeColumns, from: number, to: number): Promise<void> {
    const column = (values: Uint8Array | Float64Array) => Array.from(values.subarray(from, to));
    const timestamp = (ms: string) => `to_timestamp(nullif(${ms}, 'NaN') / 1000)`;
    await client.query(
      `INSERT INTO ${STAGED} (${CHANGES_TABLE.columns.map(([name]) => ident(name)).join(', ')}) ` +
      `SELECT $1, $2, key, ($3::text[])[op + 1], ($4::text[])[outcome + 1], ${timestamp('settled_ms')}, ${timestamp('event_ms')}, nullif(latency_ms, 'NaN') ` +
      'FROM unnest($5::text[], $6::int[], $7::int[], $8::float8[], $9::float8[], $10::float8[]) AS c(key, op, outcome, settled_ms, event_ms, latency_ms)',
      [this.run.runId, this.run.sync, OPERATIONS, OUTCOMES, changes.keys.slice(from, to), column(changes.ops), column(changes.outcomes),
        column(changes.settledAt), column(changes.eventAt), column(changes.latencyMs)],
    );
  }

  private async insert(client: pg.Client, table: LogTable, rows: LogValue[][]): Promise<void> {
    if (rows.length === 0) return;
    const columns = table.columns.map(([name, type], c) => {
      const values = rows.map((row) => (type === 'timestamptz' && row[c] !== null ? new Date(row[c] as number).toISOString() : row[c]));
      return { name, type, values };
    });
    const unnest = columns.map(({ type }, c) => `$${c + 1}::${PG_TYPES[type]}[]`).join(', ');
    await client.query(
      `INSERT INTO ${this.name(table)} (${columns.map(({ name }) => ident(name)).join(', ')}) SELECT * FROM unnest(${unnest})`,
      columns.map(({ values }) => values),
    );
  }
}

function createTable(schema: string, table: LogTable): string {
  const columns = table.columns.map(([name, type]) => `${ident(name)} ${PG_TYPES[type]}`);
  if (table.primaryKey) columns.push(`PRIMARY KEY (${table.primaryKey.map(ident).join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${ident(schema)}.${ident(table.name)} (${columns.join(', ')})`;
}
