import { describe, expect, it } from 'vitest';
import type { SyncMode } from '../../src/config/project.ts';
import { deliver } from '../../src/delivery/deliver.ts';
import type { Change, Destination } from '../../src/destinations/destination.ts';
import type { DestinationType } from '../../src/destinations/registry.ts';
import type { Value } from '../../src/sources/source.ts';
import { change, createDestination, makeSync, outcomes, recordingContext, thrown } from '../destinations/destination-test-kit.ts';
import type { Outcome } from '../../src/delivery/outcome.ts';

/**
 * What every SQL destination (Postgres, MySQL) does alike, against its real server: a bad
 * row is rejected alone with the server's code and the column while the rest of its batch
 * arrives, however many bad rows there are; a lost connection still retries and a config
 * error still stops the run; check() and describe() read the table, createTable makes it.
 * A harness gives the dialect's own DDL and codes; each dialect's test file keeps what only
 * it does (COPY, quoting, its types).
 */
export interface SqlDestinationHarness {
  /** Shown in the suite's name: 'postgres', 'mysql (MariaDB)'. */
  name: string;
  open: OpenDestination;
  /** The test server, as the admin connects to it. */
  url: string;
  /** The admin user, for connection settings written without a url. */
  user: string;
  /** A schema (Postgres) or database (MySQL) the test file has created for the suite's tables. */
  schema: string;
  /** Runs SQL as the admin and answers the rows. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** A URL the server refuses to log in with, carrying `password`. */
  refusedLoginUrl(password: string): string;
  /** The server's own codes, as SyncError.code and Rejection.code carry them. */
  codes: {
    tooLong: string; notNull: string; wrongType: string; outOfRange: string; checkFailed: string;
    refusedLogin: string; unknownDatabase: string;
    /** The server ended the connection in the middle of a statement. */
    killed: string;
    noSuchTable: string;
  };
  /**
   * Statements that make the server end the writing connection the first time a row with this
   * `id` is written into `table` (a trigger that kills its own session), and never again.
   */
  killWriterOnce(table: string, id: number): string[];
  /** Statements that make writing a row with this `id` into `table` write into a table that does not exist. */
  missingTableOn(table: string, id: number): string[];
  /**
   * Statements that create `table` with: id (bigint, generated), code varchar(10) NOT NULL,
   * label text NOT NULL DEFAULT 'x', qty int, amount numeric(10,2), ok boolean, tier (an enum
   * of 'free', 'Pro', 'it''s'), at (a timestamp), doc (JSON), day date, ratio (a double).
   */
  describedTable(table: string): string[];
  /** Checks what createTable made of the create test's sync (`columns` declares price and note). */
  expectCreatedTable(table: string): Promise<void>;
}

export type OpenDestination = (
  mode: SyncMode, match: string[], fields: string[], options: Record<string, unknown>, connection?: Record<string, unknown>,
) => Destination;

/** Opens destinations of one type for a test file (a sync matching columns to fields of the same name); closeAll() at the end. */
export function testDestinations(type: DestinationType, url: string): { open: OpenDestination; closeAll(): Promise<void> } {
  const opened: Destination[] = [];
  return {
    open(mode, match, fields, options, connection = { url }) {
      const destination = createDestination(type, connection, makeSync(`${type.type}_${mode}`, mode, match, fields, options));
      opened.push(destination);
      return destination;
    },
    async closeAll() {
      await Promise.all(opened.map((d) => d.close()));
    },
  };
}

/** Registers the suite; call it inside the test file's describe, after the schema is made. */
export function sqlDestinationConformance(h: SqlDestinationHarness): void {
  const table = (name: string) => `${h.schema}.${name}`;
  const signal = new AbortController().signal;

  describe(`SQL destination conformance: ${h.name}`, () => {
    /** Rows 0..count-1 with code 'old' and qty 0, for the update case to change. */
    async function seed(name: string, count: number): Promise<void> {
      const seeder = h.open('upsert', ['id'], ['id', 'code', 'qty'], { table: name });
      const results = await seeder.write(range(count).map((i) => change('upsert', i, ['id'], { id: i, code: 'old', qty: 0 })), recordingContext());
      expect(results.filter((r) => r.outcome === 'delivered')).toHaveLength(count);
    }

    function expectedRejections() {
      const expected: Record<BadKind, { code: string; category: string; field?: string }> = {
        tooLong: { code: h.codes.tooLong, category: 'schema_mismatch', field: 'code' },
        notNull: { code: h.codes.notNull, category: 'invalid_row', field: 'code' },
        wrongType: { code: h.codes.wrongType, category: 'schema_mismatch', field: 'qty' },
        outOfRange: { code: h.codes.outOfRange, category: 'schema_mismatch', field: 'qty' },
        checkFailed: { code: h.codes.checkFailed, category: 'invalid_row' },
      };
      return Object.entries(BAD_ROWS).map(([key, { kind }]) => ({ key, retryable: false, ...expected[kind] }));
    }

    it('creates the table from the mapping: declared types win, the rest from the values; match fields are the primary key', async () => {
      const dest = h.open('upsert', ['sku'], ['sku', 'price', 'qty', 'active', 'seen_on', 'seen_at', 'attrs', 'note'], {
        table: table('created'), createTable: true, columns: { price: { type: 'number', precision: 12, scale: 2 }, note: { type: 'string', maxLength: 20 } },
      });
      await dest.check(signal);
      expect(outcomes(await dest.write([
        change('upsert', 'A', ['sku'], { sku: 'A', price: '9.99', qty: 3, active: true, seen_on: '2024-03-01', seen_at: '2024-03-01T10:00:00Z', attrs: { a: 1 }, note: 'hi' }),
        change('upsert', 'B', ['sku'], { sku: 'B', price: '1.00', qty: null, active: false, seen_on: '2024-03-02', seen_at: '2024-03-02T10:00:00+02:00', attrs: null, note: null }),
      ], recordingContext()))).toEqual({ A: 'delivered', B: 'delivered' });
      await h.expectCreatedTable('created');
      expect((await dest.describe!(signal)).find((f) => f.name === 'attrs')).toEqual({ name: 'attrs', type: 'json' });
    });

    it('before createTable has made the table, describe() tells the types the sync declares for the fields it writes', async () => {
      const dest = h.open('upsert', ['sku'], ['sku', 'price', 'note'], {
        table: table('not_yet'), createTable: true, columns: { sku: { type: 'string', maxLength: 20 }, price: 'number', colour: 'string' },
      });
      expect(await dest.describe!(signal)).toEqual([
        { name: 'sku', type: 'string', maxLength: 20, required: true },
        { name: 'price', type: 'number' },
      ]);
    });

    it('describes the table so the engine can coerce: types, lengths, required, enum options', async () => {
      for (const sql of h.describedTable(table('described'))) await h.query(sql);
      const dest = h.open('insert', [], ['code'], { table: table('described') });
      expect(await dest.describe!(signal)).toEqual([
        { name: 'id', type: 'integer' },
        { name: 'code', type: 'string', maxLength: 10, required: true },
        { name: 'label', type: 'string' },
        { name: 'qty', type: 'integer' },
        { name: 'amount', type: 'number', precision: 10, scale: 2 },
        { name: 'ok', type: 'boolean' },
        { name: 'tier', type: 'enum', options: ['free', 'Pro', "it's"] },
        { name: 'at', type: 'datetime' },
        { name: 'doc', type: 'json' },
        { name: 'day', type: 'date' },
        { name: 'ratio', type: 'number' },
      ]);
    });

    describe('a bad row is rejected alone, with the server code and the column; the rows beside it arrive', () => {
      const good = (i: number) => change('upsert', i, ['id'], { id: i, code: `c${i}`, qty: i });
      const cases = [
        { what: 'a value too long for varchar(10)', bad: { id: 99, code: 'much too long', qty: 1 }, code: h.codes.tooLong, field: 'code', category: 'schema_mismatch' },
        { what: 'a NULL in a NOT NULL column', bad: { id: 99, code: null, qty: 1 }, code: h.codes.notNull, field: 'code', category: 'invalid_row' },
        { what: 'a value of the wrong type', bad: { id: 99, code: 'ok', qty: 'abc' }, code: h.codes.wrongType, field: 'qty', category: 'schema_mismatch' },
      ];
      it.each(cases)('$what -> $code on $field', async ({ bad, code, field, category }) => {
        const name = table(`bad_${code.toLowerCase()}`);
        await h.query(`CREATE TABLE ${name} (id int PRIMARY KEY, code varchar(10) NOT NULL, qty int)`);
        const dest = h.open('upsert', ['id'], ['id', 'code', 'qty'], { table: name });
        const results = await dest.write([good(1), change('upsert', 99, ['id'], bad), good(2)], recordingContext());
        expect(outcomes(results)).toEqual({ 1: 'delivered', 99: `rejected:${category}`, 2: 'delivered' });
        const rejection = results.find((r) => r.key === '99');
        expect(rejection?.outcome === 'rejected' && rejection.rejection).toMatchObject({ code, field, retryable: false, message: expect.stringContaining(code) });
        expect(await h.query(`SELECT id FROM ${name} ORDER BY id`)).toEqual([{ id: 1 }, { id: 2 }]);
      });
    });

    describe('through deliver(), 1,000 rows with 10 bad ones of five kinds: each bad row is rejected alone with its code, the 990 others arrive, in one request', () => {
      it.each(['upsert', 'insert', 'update'] as const)('%s', async (mode) => {
        const name = table(`many_bad_${mode}`);
        await h.query(`CREATE TABLE ${name} (id int PRIMARY KEY, code varchar(10) NOT NULL, qty int CHECK (qty >= 0))`);
        if (mode === 'update') await seed(name, 1_000);
        const destination = h.open(mode, ['id'], ['id', 'code', 'qty'], { table: name });
        const { stats, rejected } = await deliverAll(destination, manyWithBadRows(mode));

        expect(rejected).toEqual(expectedRejections());
        expect(stats).toMatchObject({ requests: 1, retries: 0, delivered: 990, rejected: 10, batches: 1 });
        expect(await h.query(`SELECT id, code, qty FROM ${name} ORDER BY id`)).toEqual(
          mode === 'update'
            ? range(1_000).map((i) => (BAD_ROWS[i] ? { id: i, code: 'old', qty: 0 } : { id: i, code: `c${i}`, qty: i }))
            : range(1_000).filter((i) => !BAD_ROWS[i]).map((i) => ({ id: i, code: `c${i}`, qty: i })),
        );
      });
    });

    it('a connection killed while the bad rows are being isolated: the batch is retried whole, and still only the bad rows are rejected', async () => {
      const name = table('killed');
      await h.query(`CREATE TABLE ${name} (id int PRIMARY KEY, code varchar(10) NOT NULL, qty int CHECK (qty >= 0))`);
      // The first try stops at a bad row before 500: the kill comes while the rows are being isolated.
      for (const sql of h.killWriterOnce(name, 500)) await h.query(sql);
      const destination = h.open('upsert', ['id'], ['id', 'code', 'qty'], { table: name });
      const { stats, rejected, trace } = await deliverAll(destination, manyWithBadRows('upsert'));

      const isolating = /^batch 1: \S+: upsert of 1000 rows rolled back to a savepoint, written again in halves to find the rows at fault$/;
      expect(trace.slice(0, 4)).toEqual([
        expect.stringMatching(isolating),
        expect.stringMatching(new RegExp(`^batch 1: ${h.codes.killed}, retry in \\d+ ms \\(attempt 2 of \\d+\\)$`)),
        expect.stringMatching(isolating),
        'batch 1 retry: OK [990 delivered, 10 rejected]',
      ]);
      expect(rejected).toEqual(expectedRejections());
      expect(stats).toMatchObject({ requests: 2, retries: 1, delivered: 990, rejected: 10 });
      expect((await h.query(`SELECT id FROM ${name} ORDER BY id`)).map((row) => row.id)).toEqual(range(1_000).filter((i) => !BAD_ROWS[i]));
    });

    it('a missing table met while the bad rows are being isolated stops the run: nothing of the batch is committed or settled', async () => {
      const name = table('config_midway');
      await h.query(`CREATE TABLE ${name} (id int PRIMARY KEY, code varchar(10) NOT NULL, qty int CHECK (qty >= 0))`);
      for (const sql of h.missingTableOn(name, 500)) await h.query(sql);
      const destination = h.open('upsert', ['id'], ['id', 'code', 'qty'], { table: name });
      const settled: Outcome[] = [];
      async function* stream() { yield manyWithBadRows('upsert'); }
      const error = await thrown(() => deliver(stream(), { destination, batchSize: 1_000, signal }, {
        onSettled: async (_batch, results) => void settled.push(...results),
        trace: () => {},
      }));

      expect({ kind: error.kind, code: error.code }).toEqual({ kind: 'config', code: h.codes.noSuchTable });
      expect(error.message).toContain('1,000 rows wait for the next run');
      expect(settled).toEqual([]);
      expect(await h.query(`SELECT id FROM ${name}`)).toEqual([]);
    });

    it('check() names a missing table and a missing column', async () => {
      await h.query(`CREATE TABLE ${table('checked')} (sku varchar(20) PRIMARY KEY)`);
      const missingTable = await thrown(() => h.open('upsert', ['sku'], ['sku'], { table: table('nope') }).check(signal));
      expect(missingTable.kind).toBe('config');
      expect(missingTable.message).toContain('createTable');
      const column = await thrown(() => h.open('upsert', ['sku'], ['sku', 'colour'], { table: table('checked') }).check(signal));
      expect({ kind: column.kind, field: column.field }).toEqual({ kind: 'config', field: 'colour' });
    });

    it('connection refused is transient', async () => {
      const dest = h.open('upsert', ['sku'], ['sku'], { table: table('prices') }, { host: '127.0.0.1', port: 1, user: h.user, database: 'test' });
      expect(dest.budgetKey).toBe('127.0.0.1:1/test');
      const error = await thrown(() => dest.write([change('upsert', 'A', ['sku'], { sku: 'A' })], recordingContext()));
      expect({ kind: error.kind, code: error.code }).toEqual({ kind: 'transient', code: 'ECONNREFUSED' });
    });

    it('a refused login or an unknown database is a config error, and the password never shows', async () => {
      const sync = { table: table('prices') };
      const login = await thrown(() => h.open('upsert', ['sku'], ['sku'], sync, { url: h.refusedLoginUrl('s3cret-pw') }).check(signal));
      expect({ kind: login.kind, code: login.code }).toEqual({ kind: 'config', code: h.codes.refusedLogin });
      expect(login.message).not.toContain('s3cret-pw');
      const db = await thrown(() => h.open('upsert', ['sku'], ['sku'], sync, { url: h.url, database: 'lm_no_such_db' }).check(signal));
      expect({ kind: db.kind, code: db.code }).toEqual({ kind: 'config', code: h.codes.unknownDatabase });
      expect(db.message).toContain('lm_no_such_db');
    });
  });
}

type BadKind = 'tooLong' | 'notNull' | 'wrongType' | 'outOfRange' | 'checkFailed';

/** Ten bad rows of five kinds, spread over a batch of 1,000: more than halving a batch can isolate within its budget. */
const BAD_ROWS: Record<number, { kind: BadKind; values: Record<string, Value> }> = {
  37: { kind: 'tooLong', values: { code: 'far too long for ten' } },
  141: { kind: 'notNull', values: { code: null } },
  250: { kind: 'wrongType', values: { qty: 'abc' } },
  333: { kind: 'checkFailed', values: { qty: -1 } },
  420: { kind: 'outOfRange', values: { qty: 2 ** 40 } },
  512: { kind: 'tooLong', values: { code: 'also much too long' } },
  640: { kind: 'notNull', values: { code: null } },
  777: { kind: 'wrongType', values: { qty: 'x1' } },
  860: { kind: 'checkFailed', values: { qty: -5 } },
  951: { kind: 'outOfRange', values: { qty: 2 ** 41 } },
};

function manyWithBadRows(op: 'upsert' | 'insert' | 'update'): Change[] {
  return range(1_000).map((i) => change(op, i, ['id'], { id: i, code: `c${i}`, qty: i, ...BAD_ROWS[i]?.values }));
}

/** Delivers `changes` as one batch; answers the stats, the rejections (by key, what a user reads) and the trace. */
async function deliverAll(destination: Destination, changes: Change[]) {
  const settled: Outcome[] = [];
  const trace: string[] = [];
  async function* stream() { yield changes; }
  const stats = await deliver(stream(), { destination, batchSize: changes.length, signal: AbortSignal.timeout(60_000) }, {
    onSettled: async (_batch, results) => void settled.push(...results),
    trace: (text) => void trace.push(text),
  });
  expect(settled.map((r) => r.key).sort()).toEqual(changes.map((c) => c.key).sort());
  const rejected = settled
    .flatMap((r) => (r.outcome === 'rejected' ? [{ key: r.key, ...r.rejection }] : []))
    .sort((a, b) => Number(a.key) - Number(b.key));
  for (const r of rejected) expect(r.message).toContain(r.code);
  return { stats, trace, rejected: rejected.map(({ key, code, field, category, retryable }) => ({ key, code, category, retryable, ...(field ? { field } : {}) })) };
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}
