import { describe, expect, it } from 'vitest';
import type { SyncMode } from '../../src/config/project.ts';
import { deliver } from '../../src/delivery/deliver.ts';
import type { Destination, RecordResult } from '../../src/destinations/destination.ts';
import type { DestinationType } from '../../src/destinations/registry.ts';
import { SyncError } from '../../src/errors.ts';
import type { Value } from '../../src/sources/source.ts';
import { change, createDestination, makeSync, outcomes, recordingContext, thrown } from '../destinations/destination-test-kit.ts';

/**
 * What every SQL destination (Postgres, MySQL) does alike, against its real server: a bad
 * row fails its batch with the server's code and the column, deliver() isolates it, check()
 * and describe() read the table, createTable makes it, and connection failures have the
 * right kind. A harness gives the dialect's own DDL and codes; each dialect's test file
 * keeps what only it does (COPY, quoting, its types).
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
  /** The server's own codes, as SyncError.code carries them. */
  codes: { tooLong: string; notNull: string; wrongType: string; refusedLogin: string; unknownDatabase: string };
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

    describe('a bad row fails the whole batch as terminal, with the server code and the column', () => {
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
        const error = await thrown(() => dest.write([good(1), change('upsert', 99, ['id'], bad), good(2)], recordingContext()));
        expect(error).toBeInstanceOf(SyncError);
        expect({ kind: error.kind, code: error.code, field: error.field, category: error.category }).toEqual({ kind: 'terminal', code, field, category });
        expect(error.message).toContain(code);
        expect(await h.query(`SELECT id FROM ${name}`)).toEqual([]); // rolled back
        // Alone, the good rows go through: the engine's split finds the bad one.
        expect(outcomes(await dest.write([good(1), good(2)], recordingContext()))).toEqual({ 1: 'delivered', 2: 'delivered' });
      });
    });

    it('through deliver(), 1,000 upserts with 2 bad rows: exactly those 2 are rejected with their code and column, 998 arrive', async () => {
      const name = table('delivered');
      await h.query(`CREATE TABLE ${name} (id int PRIMARY KEY, code varchar(10) NOT NULL, qty int)`);
      const destination = h.open('upsert', ['id'], ['id', 'code', 'qty'], { table: name });
      // Two: as many as the engine's split budget isolates in one batch.
      const bad: Record<number, Record<string, Value>> = { 137: { code: 'far too long for ten' }, 802: { code: null } };
      const changes = Array.from({ length: 1_000 }, (_, i) => change('upsert', i, ['id'], { id: i, code: `c${i}`, qty: i, ...bad[i] }));
      async function* stream() { yield changes.slice(0, 600); yield changes.slice(600); }
      const settled: RecordResult[] = [];
      const stats = await deliver(stream(), { destination, batchSize: 1_000, signal }, {
        onSettled: async (_batch, results) => void settled.push(...results),
        trace: () => {},
      });

      const rejected = settled.flatMap((r) => (r.outcome === 'rejected' ? [{ key: r.key, ...r.rejection }] : []));
      expect(rejected.sort((a, b) => Number(a.key) - Number(b.key)).map(({ key, code, field, category, retryable }) => ({ key, code, field, category, retryable })))
        .toEqual([
          { key: '137', code: h.codes.tooLong, field: 'code', category: 'schema_mismatch', retryable: false },
          { key: '802', code: h.codes.notNull, field: 'code', category: 'invalid_row', retryable: false },
        ]);
      expect(settled.filter((r) => r.outcome === 'delivered')).toHaveLength(998);
      expect(stats).toMatchObject({ delivered: 998, rejected: 2 });
      const stored = (await h.query(`SELECT id FROM ${name} ORDER BY id`)).map((row) => row.id);
      expect(stored).toEqual(changes.map((_, i) => i).filter((i) => !bad[i]));
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
