import { DuckDBInstance, DuckDBTimestampTZValue, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { LOG_TABLES, rowsOf, type LogTable, type LogType, type LogValue, type LogWriter, type RunLogs } from './log-tables.ts';

const DUCK_TYPES: Record<LogType, string> = { text: 'VARCHAR', bigint: 'BIGINT', double: 'DOUBLE', boolean: 'BOOLEAN', timestamptz: 'TIMESTAMPTZ' };

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Sync logs in a DuckDB source file: opened for writing only while a run's logs are written (a
 * DuckDB file has one writer), rows added through DuckDB's appender, each run in one transaction.
 */
export class DuckdbLogWriter implements LogWriter {
  constructor(private readonly file: string, private readonly schema: string) {}

  async write(logs: RunLogs): Promise<void> {
    const instance = await DuckDBInstance.create(this.file);
    const db = await instance.connect();
    try {
      await db.run(`CREATE SCHEMA IF NOT EXISTS ${ident(this.schema)}`);
      for (const table of LOG_TABLES) await db.run(createTable(this.schema, table));
      await db.run('BEGIN TRANSACTION');
      try {
        for (const [table, rows] of rowsOf(logs)) {
          await db.run(`DELETE FROM ${this.name(table)} WHERE run_id = $1`, [logs.summary.runId]);
          await append(db, this.schema, table, rows);
        }
        if (logs.retentionMs !== undefined) {
          const cutoff = new Date(Date.now() - logs.retentionMs).toISOString();
          for (const table of LOG_TABLES) await db.run(`DELETE FROM ${this.name(table)} WHERE ${ident(table.timeColumn)} < $1::TIMESTAMPTZ`, [cutoff]);
        }
        await db.run('COMMIT');
      } catch (error) {
        await db.run('ROLLBACK').catch(() => {});
        throw error;
      }
    } finally {
      db.closeSync();
      instance.closeSync();
    }
  }

  async close(): Promise<void> {}

  private name(table: LogTable): string {
    return `${ident(this.schema)}.${ident(table.name)}`;
  }
}

async function append(db: DuckDBConnection, schema: string, table: LogTable, rows: LogValue[][]): Promise<void> {
  if (rows.length === 0) return;
  const appender = await db.createAppender(table.name, schema);
  try {
    const types = table.columns.map(([, type]) => type);
    for (const row of rows) {
      for (let c = 0; c < types.length; c++) appendValue(appender, types[c]!, row[c] ?? null);
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

function appendValue(appender: DuckDBAppender, type: LogType, value: LogValue): void {
  if (value === null) return appender.appendNull();
  switch (type) {
    case 'text': return appender.appendVarchar(String(value));
    case 'bigint': return appender.appendBigInt(BigInt(Math.round(Number(value))));
    case 'double': return appender.appendDouble(Number(value));
    case 'boolean': return appender.appendBoolean(Boolean(value));
    case 'timestamptz': return appender.appendTimestampTZ(new DuckDBTimestampTZValue(BigInt(Math.round(Number(value) * 1000))));
  }
}

function createTable(schema: string, table: LogTable): string {
  const columns = table.columns.map(([name, type]) => `${ident(name)} ${DUCK_TYPES[type]}`);
  if (table.primaryKey) columns.push(`PRIMARY KEY (${table.primaryKey.map(ident).join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${ident(schema)}.${ident(table.name)} (${columns.join(', ')})`;
}
