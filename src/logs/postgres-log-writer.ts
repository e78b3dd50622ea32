import pg from 'pg';
import { CHANGES_TABLE, LOG_TABLES, rowsOf, type LogTable, type LogType, type LogValue, type LogWriter, type RunLogs } from './log-tables.ts';

const PG_TYPES: Record<LogType, string> = { text: 'text', bigint: 'bigint', double: 'double precision', boolean: 'boolean', timestamptz: 'timestamptz' };
/** Rows per INSERT: each column goes as one array parameter (unnest), so a statement stays small in parameters. */
const CHUNK = 10_000;

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Sync logs in a Postgres source: tables created on first use, each run in one transaction. */
export class PostgresLogWriter implements LogWriter {
  private readonly changes: LogValue[][] = [];

  constructor(private readonly connection: pg.ClientConfig, private readonly schema: string) {}

  async stage(changes: LogValue[][]): Promise<void> {
    for (const row of changes) this.changes.push(row);
  }

  async write(logs: RunLogs): Promise<void> {
    const client = new pg.Client({ ...this.connection, application_name: 'lastmile-logs' });
    client.on('error', () => {});
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(this.schema)}`);
      for (const table of LOG_TABLES) await client.query(createTable(this.schema, table));
      await client.query('BEGIN');
      const runId = logs.summary.runId;
      for (const [table, rows] of [...rowsOf(logs), [CHANGES_TABLE, this.changes] as const]) {
        await client.query(`DELETE FROM ${this.name(table)} WHERE run_id = $1`, [runId]);
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
    } finally {
      await client.end().catch(() => {});
    }
  }

  async close(): Promise<void> {}

  private name(table: LogTable): string {
    return `${ident(this.schema)}.${ident(table.name)}`;
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
