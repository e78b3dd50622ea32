import { DuckDBDataChunk, type DuckDBConnection } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import { OPERATIONS } from '../destinations/destination.ts';
import { duckString } from '../diff/workspace/workspace.ts';
import type { Column } from '../sources/source.ts';
import { stageRows } from '../sources/duckdb/duckdb-staging.ts';
import { quoteIdentifier } from '../sql-identifier.ts';
import { OUTCOMES, type ChangeColumns } from './change-columns.ts';
import { joinLogDatabase, type LogDatabase } from './duckdb-log-database.ts';
import { CHANGES_TABLE, deleteEarlierWrite, LOG_TABLES, REJECTIONS_TABLE, RUNS_TABLE, rowsOf, type LogTable, type LogType, type LogValue, type LogWriter, type RunLogs } from './log-tables.ts';

const DUCK_TYPES: Record<LogType, string> = { text: 'VARCHAR', bigint: 'BIGINT', double: 'DOUBLE', boolean: 'BOOLEAN', timestamptz: 'TIMESTAMPTZ' };

const ident = quoteIdentifier;

/** Where the rows wait until write(): temp tables of the writer's own connection. */
const staged = (table: string) => `temp.main.${ident(table)}`;
/** The DuckDB file, attached to the log database only from begin() to write()'s commit. */
const FILE = 'lastmile_log_file';
/**
 * Rows per row group of what the writer adds to the file (DuckDB's default is 122,880; groups of
 * either size live side by side in one file): a 100,000-change run's commit, which compresses
 * and writes them, took ~35 ms less, and the zone maps are finer for queries by run or time.
 */
const LOG_ROW_GROUP = 32_768;

/**
 * Sync logs in a DuckDB source file. The changes are staged (see SyncLogs for when) in the
 * process's in-memory log database (see LogDatabase); the file is attached for writing only from
 * the end of the run's delivery (begin()) to its commit (write()), each run in one transaction (a
 * DuckDB file has one writer: holding it through a delivery would lock out everybody else, the
 * readers of the warehouse included).
 */
export class DuckdbLogWriter implements LogWriter {
  private joined: Promise<LogDatabase> | undefined;
  private moving: Promise<FileTransaction> | undefined;

  constructor(private readonly file: string, private readonly schema: string, private readonly run: { runId: string; sync: string }) {}

  async stage(chunks: ChangeColumns[]): Promise<void> {
    const { connection: db } = await this.database();
    const appender = await db.createAppender(STAGED_CHANGES, 'main', 'temp');
    try {
      const types = STAGED_CHANGE_COLUMNS.map((_, c) => appender.columnType(c));
      for (const changes of chunks) {
        for (let from = 0; from < changes.size; from += VECTOR_SIZE) {
          const count = Math.min(VECTOR_SIZE, changes.size - from);
          const chunk = DuckDBDataChunk.create(types);
          const vector = (c: number) => duckdb.data_chunk_get_vector(chunk.chunk, c);
          const keys = vector(0);
          for (let i = 0; i < count; i++) duckdb.vector_assign_string_element(keys, i, changes.keys[from + i]!);
          const { ops, outcomes, settledAt, eventAt, latencyMs } = changes; // STAGED_CHANGE_COLUMNS after the key, in order
          [ops, outcomes, settledAt, eventAt, latencyMs].forEach((values, c) => {
            const width = values.BYTES_PER_ELEMENT;
            duckdb.copy_data_to_vector(vector(c + 1), 0, values.buffer as ArrayBuffer, values.byteOffset + from * width, count * width);
          });
          chunk.rowCount = count;
          appender.appendDataChunk(chunk);
        }
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  /**
   * Stages the rest of the run's rows, then takes the process's turn at writing, attaches the
   * file and moves the changes in, in the run's transaction: while the run folds its state, and
   * after it has let go of the model (DiffSession.releaseModel). write() adds the rest and commits.
   */
  async begin(changes: ChangeColumns[]): Promise<void> {
    await this.stage(changes);
    await (this.moving = this.moveChanges());
  }

  async write(logs: RunLogs): Promise<void> {
    const { connection: db } = await this.database();
    for (const [table, rows] of rowsOf(logs)) await append(db, staged(table.name), table, rows);
    const { target, end } = await (this.moving ??= this.moveChanges());
    this.moving = undefined;
    try {
      for (const table of [RUNS_TABLE, REJECTIONS_TABLE]) await db.run(`INSERT INTO ${target}.${ident(table.name)} SELECT * FROM ${staged(table.name)}`);
      if (logs.retentionMs !== undefined) {
        const cutoff = new Date(Date.now() - logs.retentionMs).toISOString();
        for (const table of LOG_TABLES) await db.run(`DELETE FROM ${target}.${ident(table.name)} WHERE ${ident(table.timeColumn)} < $1::TIMESTAMPTZ`, [cutoff]);
      }
      await db.run('COMMIT');
    } finally {
      await end();
    }
  }

  /** The process's turn at writing, the file attached, and the run's transaction open there with its changes in. */
  private async moveChanges(): Promise<FileTransaction> {
    const { connection: db, turn } = await this.database();
    const endTurn = await turn();
    const target = `${ident(FILE)}.${ident(this.schema)}`;
    // Rolls back what was not committed, lets go of the file and ends the turn.
    const end = async () => {
      await db.run('ROLLBACK').catch(() => {});
      await db.run(`DETACH ${ident(FILE)}`).catch(() => {});
      await db.run('RESET checkpoint_threshold').catch(() => {});
      endTurn();
    };
    try {
      await db.run(`ATTACH ${duckString(this.file)} AS ${ident(FILE)} (ROW_GROUP_SIZE ${LOG_ROW_GROUP})`);
      await db.run(`CREATE SCHEMA IF NOT EXISTS ${target}`);
      for (const table of LOG_TABLES) await db.run(createTable(target, table));
      // The run's rows reach the file once: its commit checkpoints them straight into it, where
      // they would otherwise go to the WAL first and again at the DETACH's checkpoint. (Set for
      // this turn only: the staging of other writers commits under the same setting.)
      await db.run(`SET checkpoint_threshold = '0KB'`);
      await db.run('BEGIN TRANSACTION');
      await deleteEarlierWrite(this.run.runId, (table) => `${target}.${ident(table.name)}`, async (sql, params) => (await db.run(sql, params)).rowsChanged);
      await db.run(`INSERT INTO ${target}.${ident(CHANGES_TABLE.name)} ${changesFromStaged(this.run)}`);
    } catch (error) {
      await end();
      throw error;
    }
    return { target, end };
  }

  async close(): Promise<void> {
    const moving = this.moving; // begun, and not written
    this.moving = undefined;
    await (await moving?.catch(() => undefined))?.end();
    const joined = this.joined;
    this.joined = undefined;
    (await joined?.catch(() => undefined))?.leave();
  }

  async open(): Promise<void> {
    await this.database();
  }

  /** The log database, with this writer's staging tables (in memory up to a cap, then spilled to a temp folder: a 10M-row run's changes). */
  private database(): Promise<LogDatabase> {
    this.joined ??= (async () => {
      const database = await joinLogDatabase();
      try {
        for (const table of LOG_TABLES) {
          await database.connection.run(table === CHANGES_TABLE
            ? `CREATE TEMP TABLE ${STAGED_CHANGES} (${STAGED_CHANGE_COLUMNS.join(', ')})`
            : createTable('temp', table));
        }
      } catch (error) {
        database.leave();
        throw error;
      }
      return database;
    })();
    return this.joined;
  }
}

const VECTOR_SIZE = duckdb.vector_size();

/** The changes as staged: ChangeColumns' columns as they are, made into the table's by changesFromStaged. */
const STAGED_CHANGES = 'changes';
const STAGED_CHANGE_COLUMNS = ['key VARCHAR', 'op UTINYINT', 'outcome UTINYINT', 'settled_ms DOUBLE', 'event_ms DOUBLE', 'latency_ms DOUBLE'];

/** The run's transaction in the file (the schema there, quoted), and what ends it (rolling back what was not committed). */
interface FileTransaction {
  target: string;
  end(): Promise<void>;
}

/** The staged changes as rows of the changes table (see CHANGES_TABLE for its columns). */
function changesFromStaged({ runId, sync }: { runId: string; sync: string }): string {
  const name = (list: readonly string[], index: string) => `(${literalList(list)})[${index} + 1]`;
  return `SELECT ${duckString(runId)}, ${duckString(sync)}, key, ${name(OPERATIONS, 'op')}, ${name(OUTCOMES, 'outcome')}, ${timestampFromMs('settled_ms')}, ` +
    `${timestampFromMs("nullif(event_ms, 'NaN'::DOUBLE)")}, nullif(latency_ms, 'NaN'::DOUBLE) FROM ${staged(STAGED_CHANGES)}`;
}

/** A TIMESTAMPTZ from epoch milliseconds (SQL), to the microsecond. */
const timestampFromMs = (ms: string) => `make_timestamptz(CAST(round(${ms} * 1000) AS BIGINT))`;

/** A VARCHAR[] literal, to name a value by its index in the list. */
const literalList = (values: readonly LogValue[]) => `[${values.map(literal).join(', ')}]::VARCHAR[]`;

/**
 * Rows go in through DuckDB's appender, a data chunk of column vectors at a time, into a temp
 * table, then one INSERT … SELECT. A column with one value in every row (the run id, the sync)
 * is not staged at all: it goes in as a constant. Timestamps travel as epoch milliseconds.
 */
async function append(db: DuckDBConnection, target: string, table: LogTable, rows: LogValue[][]): Promise<void> {
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
  await db.run(`INSERT INTO ${target} SELECT ${plans.map((plan) => `${plan.select} AS ${ident(plan.name)}`).join(', ')}${from}`);
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
  const cast = (value: string) => (type === 'timestamptz' ? timestampFromMs(value) : `CAST(${value} AS ${DUCK_TYPES[type]})`);
  const first = rows[0]![c]!;
  if (rows.every((row) => row[c] === first)) return { name, type: 'varchar', select: cast(literal(first)) };
  if (type === 'text') {
    const index = new Map<LogValue, number>();
    for (const row of rows) {
      if (!index.has(row[c]!)) index.set(row[c]!, index.size + 1);
      if (index.size > FEW) break;
    }
    if (index.size <= FEW) {
      return { name, type: 'integer', select: `list_extract(${literalList([...index.keys()])}, ${ident(name)})`, staged: (row) => index.get(row[c]!)! };
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

/**
 * A column of a few known values as an ENUM: one byte a row, where text would cost the INSERT and
 * the compression at commit several times more (a 100,000-change run writes two of them). A
 * value added to the list later needs its column widened (ALTER TABLE … ALTER … TYPE ENUM(…)).
 */
const enumType = (values: readonly string[]) => `ENUM(${values.map(duckString).join(', ')})`;

/** `schema`: quoted, and qualified by its database where needed; `temp`: a temp table of the connection, with no key. */
function createTable(schema: string | 'temp', table: LogTable): string {
  const columns = table.columns.map(([name, type, values]) => `${ident(name)} ${values ? enumType(values) : DUCK_TYPES[type]}`);
  if (schema === 'temp') return `CREATE TEMP TABLE ${ident(table.name)} (${columns.join(', ')})`;
  if (table.primaryKey) columns.push(`PRIMARY KEY (${table.primaryKey.map(ident).join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${schema}.${ident(table.name)} (${columns.join(', ')})`;
}
