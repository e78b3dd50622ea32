import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Column } from '../sources/source.ts';
import { stageRows } from '../sources/duckdb/duckdb-staging.ts';
import { LOG_TABLES, rowsOf, type LogTable, type LogType, type LogValue, type LogWriter, type RunLogs } from './log-tables.ts';

const DUCK_TYPES: Record<LogType, string> = { text: 'VARCHAR', bigint: 'BIGINT', double: 'DOUBLE', boolean: 'BOOLEAN', timestamptz: 'TIMESTAMPTZ' };

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Sync logs in a DuckDB source file: opened for writing only while a run's logs are written (a
 * DuckDB file has one writer), each run in one transaction.
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
 * Rows go in through DuckDB's appender, a data chunk of column vectors at a time, into a temp
 * table, then one INSERT … SELECT. A column with one value in every row (the run id, the sync)
 * is not staged at all: it goes in as a constant. Timestamps travel as epoch milliseconds.
 */
async function append(db: DuckDBConnection, schema: string, table: LogTable, rows: LogValue[][]): Promise<void> {
  if (rows.length === 0) return;
  const plans = table.columns.map(([name, type], c) => stagingOf(name, type, rows, c));
  const staged = plans.filter((plan) => plan.staged);
  const temp = `lastmile_log_${table.name}`;
  if (staged.length) {
    const objects = rows.map((row) => Object.fromEntries(staged.map((plan) => [plan.name, plan.staged!(row)])));
    const columns = staged.map((plan) => ({ name: plan.name, type: plan.type }));
    await stageRows(db, temp, (async function* () { yield { columns, rows: objects }; })(), AbortSignal.timeout(600_000));
  }
  const from = staged.length ? ` FROM ${ident(temp)}` : '';
  await db.run(`INSERT INTO ${ident(schema)}.${ident(table.name)} SELECT ${plans.map((plan) => `${plan.select} AS ${ident(plan.name)}`).join(', ')}${from}`);
  if (staged.length) await db.run(`DROP TABLE ${ident(temp)}`);
}

interface Staging {
  name: string;
  type: Column['type'];
  /** The SQL that makes the column's value (from the staged column, or a constant). */
  select: string;
  /** The value staged for a row; none when the column goes in as a constant. */
  staged?: (row: LogValue[]) => LogValue;
}

/**
 * How a column reaches its table: one value in every row (the run id, the sync) is a constant;
 * text with a few distinct values (an op, an outcome) is staged as its index in a list, since
 * a number costs far less to stage than a string; anything else as itself.
 */
function stagingOf(name: string, type: LogType, rows: LogValue[][], c: number): Staging {
  const cast = (value: string) => (type === 'timestamptz' ? `make_timestamptz(CAST(${value} AS BIGINT) * 1000)` : `CAST(${value} AS ${DUCK_TYPES[type]})`);
  const first = rows[0]![c]!;
  if (rows.every((row) => row[c] === first)) return { name, type: 'varchar', select: cast(literal(first)) };
  if (type === 'text') {
    const index = new Map<LogValue, number>();
    for (const row of rows) {
      if (!index.has(row[c]!)) index.set(row[c]!, index.size + 1);
      if (index.size > FEW) break;
    }
    if (index.size <= FEW) {
      const list = `[${[...index.keys()].map(literal).join(', ')}]::VARCHAR[]`;
      return { name, type: 'integer', select: `list_extract(${list}, ${ident(name)})`, staged: (row) => index.get(row[c]!)! };
    }
  }
  return { name, type: STAGED_TYPES[type], select: cast(ident(name)), staged: (row) => row[c]! };
}

/** Distinct values up to which a text column is staged as indexes. */
const FEW = 64;

/** How each log type is staged (timestamps as epoch ms, converted by the INSERT). */
const STAGED_TYPES: Record<LogType, Column['type']> = { text: 'varchar', bigint: 'integer', double: 'double', boolean: 'boolean', timestamptz: 'integer' };

function literal(value: LogValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'string') return duckString(value);
  return String(value);
}

const duckString = (text: string) => `'${text.replaceAll("'", "''")}'`;

function createTable(schema: string, table: LogTable): string {
  const columns = table.columns.map(([name, type]) => `${ident(name)} ${DUCK_TYPES[type]}`);
  if (table.primaryKey) columns.push(`PRIMARY KEY (${table.primaryKey.map(ident).join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${ident(schema)}.${ident(table.name)} (${columns.join(', ')})`;
}
