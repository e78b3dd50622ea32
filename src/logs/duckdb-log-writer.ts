import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { LOG_TABLES, rowsOf, type LogTable, type LogType, type LogValue, type LogWriter, type RunLogs } from './log-tables.ts';

const DUCK_TYPES: Record<LogType, string> = { text: 'VARCHAR', bigint: 'BIGINT', double: 'DOUBLE', boolean: 'BOOLEAN', timestamptz: 'TIMESTAMPTZ' };

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Sync logs in a DuckDB source file: opened for writing only while a run's logs are written (a
 * DuckDB file has one writer), rows read in from a CSV file, each run in one transaction.
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

/**
 * Rows go in through a CSV file DuckDB reads in one statement (a value at a time through the
 * appender costs a native call each). Timestamps travel as epoch milliseconds: parsing text
 * timestamps with zones is DuckDB's slowest CSV path.
 */
async function append(db: DuckDBConnection, schema: string, table: LogTable, rows: LogValue[][]): Promise<void> {
  if (rows.length === 0) return;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-logs-'));
  try {
    const file = path.join(dir, `${table.name}.csv`);
    const types = table.columns.map(([, type]) => type);
    await writeFile(file, rows.map((row) => row.map((value, c) => csvField(types[c]!, value)).join(',')).join('\n') + '\n');
    const read = table.columns.map(([name, type]) => `${duckString(name)}: ${duckString(type === 'timestamptz' ? 'BIGINT' : DUCK_TYPES[type])}`).join(', ');
    const select = table.columns.map(([name, type]) => (type === 'timestamptz' ? `make_timestamptz(${ident(name)} * 1000)` : ident(name))).join(', ');
    await db.run(`INSERT INTO ${ident(schema)}.${ident(table.name)} SELECT ${select} FROM read_csv(${duckString(file)}, header = false, quote = '"', escape = '"', columns = {${read}})`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A null is an empty unquoted field; text is always quoted, so an empty text stays empty, not null. */
function csvField(type: LogType, value: LogValue): string {
  if (value === null) return '';
  switch (type) {
    case 'text': return `"${String(value).replaceAll('"', '""')}"`;
    case 'bigint': case 'timestamptz': return String(Math.round(Number(value)));
    case 'boolean': return value ? 'true' : 'false';
    case 'double': return String(value);
  }
}

const duckString = (text: string) => `'${text.replaceAll("'", "''")}'`;

function createTable(schema: string, table: LogTable): string {
  const columns = table.columns.map(([name, type]) => `${ident(name)} ${DUCK_TYPES[type]}`);
  if (table.primaryKey) columns.push(`PRIMARY KEY (${table.primaryKey.map(ident).join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${ident(schema)}.${ident(table.name)} (${columns.join(', ')})`;
}
