import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { OPERATIONS } from '../destinations/destination.ts';
import { quoteIdentifier } from '../sql-identifier.ts';
import { OUTCOMES, rowsIn, type ChangeColumns } from './change-columns.ts';
import { CHANGES_TABLE, deleteEarlierWrite, LOG_TABLES, rowsOf, type LogTable, type LogType, type LogValue, type LogWriter, type RunLogs } from './log-tables.ts';

const PG_TYPES: Record<LogType, string> = { text: 'text', bigint: 'bigint', double: 'double precision', boolean: 'boolean', timestamptz: 'timestamptz' };
/** Rows per INSERT (each column goes as one array parameter, unnest) and per piece of a COPY. */
const CHUNK = 10_000;

const ident = quoteIdentifier;

/** The session's temp table the changes of a long run are staged in, shaped like the changes table. */
const STAGED = 'lastmile_staged_changes';

/**
 * Sync logs in a Postgres source: tables created on first use, each run in one transaction. The
 * changes go in by COPY (binary: no number is printed as text). Those of a run too long to hold
 * in memory are staged as they come into a temp table of the writer's session, each chunk a COPY
 * of its own (no transaction stays open through a long delivery). Once the delivery has ended,
 * begin() opens the run's transaction, moves them in and copies the rest straight into the table;
 * write() adds the run's own row and its rejections, and commits.
 */
export class PostgresLogWriter implements LogWriter {
  private session: Promise<pg.Client> | undefined;
  private staged = false;

  constructor(private readonly connection: pg.ClientConfig, private readonly schema: string, private readonly run: { runId: string; sync: string }) {}

  /** Connects and creates the tables while the model is read. */
  async open(): Promise<void> {
    await this.connected();
  }

  async stage(chunks: ChangeColumns[]): Promise<void> {
    const client = await this.connected();
    if (!this.staged) await client.query(`CREATE TEMP TABLE ${STAGED} (LIKE ${this.name(CHANGES_TABLE)})`);
    this.staged = true;
    await this.copy(client, STAGED, chunks);
  }

  /** Opens the run's transaction and moves its changes in (the transaction stays open while the run folds its state). */
  async begin(changes: ChangeColumns[]): Promise<void> {
    const client = await this.connected();
    await client.query('BEGIN');
    await deleteEarlierWrite(this.run.runId, (table) => this.name(table), async (sql, params) => (await client.query(sql, params)).rowCount ?? 0);
    if (this.staged) await client.query(`INSERT INTO ${this.name(CHANGES_TABLE)} SELECT * FROM ${STAGED}`);
    await this.copy(client, this.name(CHANGES_TABLE), changes);
  }

  /** Finishes the transaction begin() opened. */
  async write(logs: RunLogs): Promise<void> {
    const client = await this.connected();
    try {
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

  /** The writer's session, with the log tables created. */
  private connected(): Promise<pg.Client> {
    this.session ??= (async () => {
      const client = new pg.Client({ ...this.connection, application_name: `lastmile-logs ${this.run.runId}` }); // a DBA sees whose session it is
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(this.schema)}`);
        for (const table of LOG_TABLES) await client.query(createTable(this.schema, table));
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

  private async copy(client: pg.Client, table: string, chunks: ChangeColumns[]): Promise<void> {
    if (rowsIn(chunks) === 0) return;
    const columns = CHANGES_TABLE.columns.map(([name]) => ident(name)).join(', ');
    await pipeline(Readable.from(binaryChanges(this.run, chunks)), client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN (FORMAT binary)`)));
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

/**
 * Rows of the changes table (CHANGES_TABLE's columns, in order) in COPY's binary format: each
 * row is its field count, then each field's length and bytes, numbers big-endian, -1 for NULL
 * (NaN: no event time, no L). Nothing per row becomes a JS string: printing the numbers as text
 * (array parameters, CSV) cost the run more than Postgres' own work. What every row repeats (its
 * field count, run id and sync) and the op's and outcome's fields are encoded once, and copied.
 */
function* binaryChanges(run: { runId: string; sync: string }, chunks: ChangeColumns[]): Iterable<Buffer> {
  yield Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]); // signature, flags, header extension length
  const fieldCount = Buffer.alloc(2);
  fieldCount.writeInt16BE(CHANGES_TABLE.columns.length);
  const rowStart = Buffer.concat([fieldCount, field(run.runId), field(run.sync)]);
  const [ops, outcomes] = [OPERATIONS.map(field), OUTCOMES.map(field)];
  for (const changes of chunks) {
    for (let from = 0; from < changes.size; from += CHUNK) {
      const to = Math.min(changes.size, from + CHUNK);
      let bound = 0;
      for (let i = from; i < to; i++) bound += ROW_BYTES + rowStart.length + 3 * changes.keys[i]!.length; // UTF-8: at most 3 bytes a UTF-16 unit
      const out = new BinaryRows(Buffer.allocUnsafe(bound));
      for (let i = from; i < to; i++) {
        out.encoded(rowStart);
        out.text(changes.keys[i]!);
        out.encoded(ops[changes.ops[i]!]!);
        out.encoded(outcomes[changes.outcomes[i]!]!);
        out.timestamp(changes.settledAt[i]!);
        out.timestamp(changes.eventAt[i]!);
        out.double(changes.latencyMs[i]!);
      }
      yield out.written();
    }
  }
  yield Buffer.from([0xff, 0xff]); // the trailer: a field count of -1
}

/** A text field as COPY writes it (its length in bytes, then its UTF-8), to copy into every row that repeats it. */
function field(text: string): Buffer {
  const out = new BinaryRows(Buffer.alloc(4 + 3 * text.length)); // UTF-8: at most 3 bytes a UTF-16 unit
  out.text(text);
  return out.written();
}

/** A row's bytes besides its key's text, its run id and its sync: the key's length, 2 timestamps and 1 double with theirs, and the op's and outcome's fields. */
const ROW_BYTES = 4 + 3 * 12 + 4 + Math.max(...OPERATIONS.map((op) => op.length)) + 4 + Math.max(...OUTCOMES.map((outcome) => outcome.length));

/** Microseconds from the Unix epoch to Postgres' own (2000-01-01). */
const PG_EPOCH_US = Date.UTC(2000, 0, 1) * 1000;
const TWO_32 = 2 ** 32;

/**
 * Fields of COPY binary rows, written one after the other into a buffer large enough, numbers
 * through a DataView (which the compiler inlines: Buffer's writeInt32BE and the like are calls).
 */
class BinaryRows {
  private at = 0;
  private readonly view: DataView;

  constructor(private readonly out: Buffer) {
    this.view = new DataView(out.buffer, out.byteOffset, out.length);
  }

  /** Fields already in COPY's form (the row's start, an op, an outcome), as they are. */
  encoded(bytes: Buffer): void {
    this.out.set(bytes, this.at);
    this.at += bytes.length;
  }

  /** Its UTF-8, byte by byte while it is ASCII (a key is short: that beats a call to Buffer.write), else by Buffer.write. */
  text(value: string): void {
    const start = this.at + 4;
    let length = 0;
    for (; length < value.length; length++) {
      const code = value.charCodeAt(length);
      if (code > 0x7f) break;
      this.out[start + length] = code;
    }
    if (length < value.length) length = this.out.write(value, start, 'utf8');
    this.view.setInt32(this.at, length);
    this.at = start + length;
  }

  double(value: number): void {
    if (Number.isNaN(value)) return this.null();
    this.view.setInt32(this.at, 8);
    this.view.setFloat64(this.at + 4, value);
    this.at += 12;
  }

  /** A timestamptz from epoch ms: int64 microseconds since 2000, written as two 32-bit halves (exact below 2^53 µs, until the year 2255). */
  timestamp(ms: number): void {
    if (Number.isNaN(ms)) return this.null();
    const micros = Math.round(ms * 1000) - PG_EPOCH_US;
    const high = Math.floor(micros / TWO_32);
    this.view.setInt32(this.at, 8);
    this.view.setInt32(this.at + 4, high);
    this.view.setUint32(this.at + 8, micros - high * TWO_32);
    this.at += 12;
  }

  written(): Buffer {
    return this.out.subarray(0, this.at);
  }

  private null(): void {
    this.view.setInt32(this.at, -1);
    this.at += 4;
  }
}

function createTable(schema: string, table: LogTable): string {
  const columns = table.columns.map(([name, type]) => `${ident(name)} ${PG_TYPES[type]}`);
  if (table.primaryKey) columns.push(`PRIMARY KEY (${table.primaryKey.map(ident).join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${ident(schema)}.${ident(table.name)} (${columns.join(', ')})`;
}
