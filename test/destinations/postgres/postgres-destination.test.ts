import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Destination } from '../../../src/destinations/destination.ts';
import { postgresDestinationType } from '../../../src/destinations/postgres/postgres-type.ts';
import { sqlDestinationConformance, testDestinations } from '../../conformance/sql-destination-conformance.ts';
import { needService, SERVICES } from '../../helpers/services.ts';
import { splitBudget } from '../../../src/delivery/bisection.ts';
import { run } from '../../delivery/delivery-kit.ts';
import { change, outcomes, recordingContext, thrown } from '../destination-test-kit.ts';

const up = await needService('postgres');
const SCHEMA = 'lm_pgdst';
const url = SERVICES.postgres.url;

describe.skipIf(!up)('postgres destination', () => {
  let admin: pg.Client;
  const { open, closeAll } = testDestinations(postgresDestinationType, url);
  const rows = async (sql: string) => (await admin.query(sql)).rows;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}`);
  });
  afterAll(async () => {
    await closeAll();
    await admin?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin?.end();
  });

  sqlDestinationConformance({
    name: 'postgres',
    open,
    url,
    user: 'postgres',
    schema: SCHEMA,
    query: rows,
    refusedLoginUrl: (password) => `postgres://lm_no_such_role:${password}@127.0.0.1:5432/test`,
    codes: {
      tooLong: '22001', notNull: '23502', wrongType: '22P02', outOfRange: '22003', checkFailed: '23514',
      refusedLogin: '28000', unknownDatabase: '3D000', killed: '57P01', noSuchTable: '42P01',
    },
    // nextval() is not rolled back with the transaction: the retry is let through.
    killWriterOnce: (table, id) => [
      `CREATE SEQUENCE ${table}_kills`,
      `CREATE FUNCTION ${table}_kill() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.id = ${id} THEN IF nextval('${table}_kills') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF; END IF;
        RETURN NEW; END $$`,
      `CREATE TRIGGER kill_writer_once BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_kill()`,
    ],
    missingTableOn: (table, id) => [
      `CREATE FUNCTION ${table}_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.id = ${id} THEN INSERT INTO ${SCHEMA}.no_such_log VALUES (NEW.id); END IF; RETURN NEW; END $$`,
      `CREATE TRIGGER log_into_missing BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_log()`,
    ],
    describedTable: (table) => [
      `CREATE TYPE ${SCHEMA}.tier AS ENUM ('free', 'Pro', 'it''s')`,
      `CREATE TABLE ${table} (id bigint GENERATED ALWAYS AS IDENTITY, code varchar(10) NOT NULL, label text NOT NULL DEFAULT 'x',
        qty integer, amount numeric(10, 2), ok boolean, tier ${SCHEMA}.tier, at timestamptz, doc jsonb, day date, ratio double precision)`,
    ],
    async expectCreatedTable(table) {
      expect(await rows(`SELECT column_name, data_type, character_maximum_length AS len, numeric_precision AS p FROM information_schema.columns WHERE table_schema = '${SCHEMA}' AND table_name = '${table}' ORDER BY ordinal_position`)).toEqual([
        { column_name: 'sku', data_type: 'text', len: null, p: null },
        { column_name: 'price', data_type: 'numeric', len: null, p: 12 },
        { column_name: 'qty', data_type: 'bigint', len: null, p: 64 },
        { column_name: 'active', data_type: 'boolean', len: null, p: null },
        { column_name: 'seen_on', data_type: 'date', len: null, p: null },
        { column_name: 'seen_at', data_type: 'timestamp with time zone', len: null, p: null },
        { column_name: 'attrs', data_type: 'jsonb', len: null, p: null },
        { column_name: 'note', data_type: 'character varying', len: 20, p: null },
      ]);
      expect(await rows(`SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = '${SCHEMA}.${table}'::regclass AND i.indisprimary`)).toEqual([{ attname: 'sku' }]);
    },
  });

  it('upserts: inserts new rows, updates existing ones, in one statement per batch', async () => {
    await admin.query(`CREATE TABLE ${SCHEMA}.prices (sku text PRIMARY KEY, price numeric(10,2), currency varchar(3), tags text[], meta jsonb)`);
    const dest = open('upsert', ['sku'], ['sku', 'price', 'currency', 'tags', 'meta'], { table: `${SCHEMA}.prices` });
    const ctx = recordingContext();
    const first = await dest.write([
      change('upsert', 'A', ['sku'], { sku: 'A', price: '10.50', currency: 'EUR', tags: ['x', 'y"z'], meta: { seen: [1, 2] } }),
      change('upsert', 'B', ['sku'], { sku: 'B', price: 3, currency: 'USD', tags: [], meta: null }),
    ], ctx);
    expect(outcomes(first)).toEqual({ A: 'delivered', B: 'delivered' });
    expect(ctx.apiCalls).toBe(1);
    await dest.write([
      change('upsert', 'B', ['sku'], { sku: 'B', price: 4.25, currency: 'USD', tags: ['new'], meta: { n: 9007199254740993n } }),
      change('upsert', 'C', ['sku'], { sku: 'C', price: '0.01', currency: 'GBP', tags: null, meta: [] }),
    ], recordingContext());
    expect(await rows(`SELECT sku, price, currency, tags, meta FROM ${SCHEMA}.prices ORDER BY sku`)).toEqual([
      { sku: 'A', price: '10.50', currency: 'EUR', tags: ['x', 'y"z'], meta: { seen: [1, 2] } },
      { sku: 'B', price: '4.25', currency: 'USD', tags: ['new'], meta: { n: '9007199254740993' } },
      { sku: 'C', price: '0.01', currency: 'GBP', tags: null, meta: [] },
    ]);
  });

  it('updates matched rows and rejects the ones that match nothing', async () => {
    await admin.query(`CREATE TABLE ${SCHEMA}.people (email text PRIMARY KEY, name text, age int, since date)`);
    await admin.query(`INSERT INTO ${SCHEMA}.people VALUES ('ada@x.io', 'Ada', 36, '2020-01-01'), ('bob@x.io', 'Bob', 40, NULL)`);
    const dest = open('update', ['email'], ['email', 'name', 'age', 'since'], { table: { schema: SCHEMA, table: 'people' } });
    const results = await dest.write([
      change('update', 1, ['email'], { email: 'ada@x.io', name: 'Ada L.', age: 37, since: '2021-02-03' }),
      change('update', 2, ['email'], { email: 'nobody@x.io', name: 'Nobody', age: 1, since: null }),
      change('update', 3, ['email'], { email: null, name: 'No email', age: 2, since: null }),
    ], recordingContext());
    expect(outcomes(results)).toEqual({ 1: 'delivered', 2: 'rejected:missing_identifier', 3: 'rejected:missing_identifier' });
    const rejection = results.find((r) => r.key === '2');
    expect(rejection?.outcome === 'rejected' && rejection.rejection.message).toContain('nobody@x.io');
    expect(await rows(`SELECT email, name, age, to_char(since, 'YYYY-MM-DD') AS since FROM ${SCHEMA}.people ORDER BY email`)).toEqual([
      { email: 'ada@x.io', name: 'Ada L.', age: 37, since: '2021-02-03' },
      { email: 'bob@x.io', name: 'Bob', age: 40, since: null },
    ]);
  });

  it('deletes by match (mirror), and a row already gone counts as delivered', async () => {
    await admin.query(`CREATE TABLE ${SCHEMA}.mirror (id int, region text, v text, PRIMARY KEY (id, region))`);
    await admin.query(`INSERT INTO ${SCHEMA}.mirror VALUES (1, 'eu', 'a'), (1, 'us', 'b'), (2, 'eu', 'c')`);
    const dest = open('mirror', ['id', 'region'], ['id', 'region', 'v'], { table: `${SCHEMA}.mirror` });
    const results = await dest.write([
      change('delete', 'k1', ['id', 'region'], { id: 1, region: 'eu' }),
      change('delete', 'k9', ['id', 'region'], { id: 9, region: 'eu' }),
      change('upsert', 'k3', ['id', 'region'], { id: 3, region: 'eu', v: 'd' }),
    ], recordingContext());
    expect(outcomes(results)).toEqual({ k1: 'delivered', k9: 'delivered', k3: 'delivered' });
    expect(await rows(`SELECT id, region, v FROM ${SCHEMA}.mirror ORDER BY id, region`)).toEqual([
      { id: 1, region: 'us', v: 'b' }, { id: 2, region: 'eu', v: 'c' }, { id: 3, region: 'eu', v: 'd' },
    ]);
  });

  it('inserts above copyThreshold through COPY, below it through INSERT (a rule tells them apart)', async () => {
    // Postgres documents that COPY FROM does not fire rules; INSERT does. The rule counts INSERTed rows.
    await admin.query(`CREATE TABLE ${SCHEMA}.events (id bigint PRIMARY KEY, body text, at timestamptz, raw bytea)`);
    await admin.query(`CREATE TABLE ${SCHEMA}.inserted_by_statement (id bigint)`);
    await admin.query(`CREATE RULE count_inserts AS ON INSERT TO ${SCHEMA}.events DO ALSO INSERT INTO ${SCHEMA}.inserted_by_statement VALUES (NEW.id)`);
    const dest = open('insert', ['id'], ['id', 'body', 'at', 'raw'], { table: `${SCHEMA}.events`, copyThreshold: 100 });
    const body = (i: number) => (i % 7 === 0 ? null : i % 5 === 0 ? '' : `line "${i}", with, commas\nand a newline`);
    const batch = (from: number, count: number) => Array.from({ length: count }, (_, n) => {
      const i = from + n;
      return change('insert', i, ['id'], { id: i, body: body(i), at: '2024-03-01T12:00:00.5Z', raw: new Uint8Array([i % 256, 0, 255]) });
    });

    const small = recordingContext();
    expect(Object.values(outcomes(await dest.write(batch(1, 100), small)))).toEqual(Array(100).fill('delivered'));
    expect(small.traces.join('\n')).not.toContain('COPY');
    const large = recordingContext();
    expect(Object.values(outcomes(await dest.write(batch(101, 2_500), large)))).toEqual(Array(2_500).fill('delivered'));
    expect(large.apiCalls).toBe(1);
    expect(large.traces).toEqual([`COPY 2500 rows into "${SCHEMA}"."events"`]);

    expect(await rows(`SELECT count(*)::int AS n FROM ${SCHEMA}.inserted_by_statement`)).toEqual([{ n: 100 }]);
    expect(await rows(`SELECT count(*)::int AS n, count(body)::int AS bodies, count(*) FILTER (WHERE body = '')::int AS empty FROM ${SCHEMA}.events`))
      .toEqual([{ n: 2_600, bodies: 2_600 - 371, empty: 446 }]);
    expect(await rows(`SELECT body, at = '2024-03-01T12:00:00.5Z' AS at_ok, encode(raw, 'hex') AS raw FROM ${SCHEMA}.events WHERE id IN (7, 12, 2012) ORDER BY id`)).toEqual([
      { body: null, at_ok: true, raw: '0700ff' },
      { body: 'line "12", with, commas\nand a newline', at_ok: true, raw: '0c00ff' },
      { body: 'line "2012", with, commas\nand a newline', at_ok: true, raw: 'dc00ff' },
    ]);
  });

  it('quotes every identifier: a table and columns named with quotes, spaces and a semicolon', async () => {
    const table = { schema: SCHEMA, table: 'odd "table"; DROP TABLE x' };
    const id = 'the "id"';
    const name = 'full name; --';
    await admin.query(`CREATE TABLE ${SCHEMA}."odd ""table""; DROP TABLE x" ("the ""id""" int PRIMARY KEY, "full name; --" text)`);
    const dest = open('mirror', [id], [id, name], { table, copyThreshold: 2 });
    await dest.write([change('upsert', 1, [id], { [id]: 1, [name]: 'one' }), change('upsert', 2, [id], { [id]: 2, [name]: 'two' })], recordingContext());
    const updater = open('update', [id], [id, name], { table });
    expect(outcomes(await updater.write([change('update', 1, [id], { [id]: 1, [name]: 'uno' })], recordingContext()))).toEqual({ 1: 'delivered' });
    await dest.write([change('delete', 2, [id], { [id]: 2 })], recordingContext());
    const inserter = open('insert', [id], [id, name], { table, copyThreshold: 2 });
    const ctx = recordingContext();
    await inserter.write([3, 4, 5].map((i) => change('insert', i, [id], { [id]: i, [name]: `n${i}` })), ctx);
    expect(ctx.traces[0]).toContain('COPY 3 rows');
    expect(await rows(`SELECT * FROM ${SCHEMA}."odd ""table""; DROP TABLE x" ORDER BY 1`)).toEqual([
      { [id]: 1, [name]: 'uno' }, { [id]: 3, [name]: 'n3' }, { [id]: 4, [name]: 'n4' }, { [id]: 5, [name]: 'n5' },
    ]);
    expect((await describeFields(dest)).map((f) => f.name)).toEqual([id, name]);
  });

  describe('the UPDATE and COPY paths reject a bad row alone too, naming its column', () => {
    it('an update never cuts a value to fit: too long is rejected with 22001 on its column, an overflow with 22003', async () => {
      await admin.query(`CREATE TABLE ${SCHEMA}.bad_update (id int PRIMARY KEY, code varchar(10) NOT NULL, price numeric(6, 2))`);
      await admin.query(`INSERT INTO ${SCHEMA}.bad_update VALUES (1, 'short', 1.00), (2, 'two', 2.00), (3, 'three', 3.00)`);
      const dest = open('update', ['id'], ['id', 'code', 'price'], { table: `${SCHEMA}.bad_update` });
      const results = await dest.write([
        change('update', 1, ['id'], { id: 1, code: 'far far too long', price: '2.00' }),
        change('update', 2, ['id'], { id: 2, code: 'ok', price: '123456.789' }),
        change('update', 3, ['id'], { id: 3, code: 'trois', price: '30.00' }),
      ], recordingContext());
      expect(results.map((r) => (r.outcome === 'rejected' ? [r.key, r.rejection.code] : [r.key, r.outcome])))
        .toEqual([['1', '22001'], ['2', '22003'], ['3', 'delivered']]);
      expect(results[0]?.outcome === 'rejected' && results[0].rejection.field).toBe('code');
      expect(await rows(`SELECT id, code, price FROM ${SCHEMA}.bad_update ORDER BY id`)).toEqual([
        { id: 1, code: 'short', price: '1.00' }, { id: 2, code: 'two', price: '2.00' }, { id: 3, code: 'trois', price: '30.00' },
      ]);
    });

    it('COPY refused for a few rows of 2,000: the halves are copied again, and only those rows are rejected, naming their column', async () => {
      await admin.query(`CREATE TABLE ${SCHEMA}.bad_copy (id int PRIMARY KEY, code varchar(10) NOT NULL)`);
      const dest = open('insert', ['id'], ['id', 'code'], { table: `${SCHEMA}.bad_copy`, copyThreshold: 100 });
      const bad: Record<number, { code: string | null; sqlstate: string }> = {
        5: { code: 'far far too long', sqlstate: '22001' }, 1_234: { code: null, sqlstate: '23502' }, 1_999: { code: 'again too long', sqlstate: '22001' },
      };
      const ctx = recordingContext();
      const results = await dest.write(Array.from({ length: 2_000 }, (_, i) => change('insert', i, ['id'], { id: i, code: bad[i] ? bad[i].code : `c${i}` })), ctx);
      expect(results.filter((r) => r.outcome === 'rejected').map((r) => r.outcome === 'rejected' && [r.key, r.rejection.code, r.rejection.field]))
        .toEqual(Object.entries(bad).map(([key, { sqlstate }]) => [key, sqlstate, 'code']));
      expect(results.filter((r) => r.outcome === 'delivered')).toHaveLength(1_997);
      expect(ctx.traces.slice(0, 3)).toEqual([
        `COPY 2000 rows into "${SCHEMA}"."bad_copy"`,
        '22001: insert of 2000 rows rolled back to a savepoint, written again in halves to find the rows at fault',
        `COPY 1000 rows into "${SCHEMA}"."bad_copy"`,
      ]);
      expect(await rows(`SELECT count(*)::int AS n FROM ${SCHEMA}.bad_copy`)).toEqual([{ n: 1_997 }]);
    });
  });

  it('isolates refused rows within the run\'s split budget, the one the engine splits requests with', async () => {
    // A table that refuses every statement of two rows or more: each row alone is fine, so halving
    // never finds a row at fault. Unbounded, it would write every row alone: about 2,000 statements.
    await admin.query(`CREATE TABLE ${SCHEMA}.one_by_one (id int PRIMARY KEY, code text)`);
    await admin.query(`CREATE FUNCTION ${SCHEMA}.one_by_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF (SELECT count(*) FROM new_rows) > 1 THEN RAISE EXCEPTION 'rows come one at a time' USING ERRCODE = '23514'; END IF;
      RETURN NULL; END $$`);
    await admin.query(`CREATE TRIGGER one_by_one AFTER INSERT ON ${SCHEMA}.one_by_one REFERENCING NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION ${SCHEMA}.one_by_one()`);
    const destination = open('upsert', ['id'], ['id', 'code'], { table: `${SCHEMA}.one_by_one` });
    const d = await run(Array.from({ length: 1_000 }, (_, i) => change('upsert', i, ['id'], { id: i, code: `c${i}` })), { destination, batchSize: 1_000 });

    // Sent, given back once, sent again: each time one statement and the batch's split budget, then deferred.
    expect(d.stats).toMatchObject({ requests: 2, delivered: 0, rejected: 0, deferred: 1_000 });
    expect(d.stats!.splitCalls).toBeLessThanOrEqual(2 * splitBudget(1_000));
    expect(d.stats!.apiCalls).toBeLessThanOrEqual(2 * (1 + splitBudget(1_000)));
    const deferred = d.results.get('500');
    expect(deferred?.outcome === 'deferred' && deferred.reason).toMatch(/could not be isolated within the split budget/);
    expect(await rows(`SELECT count(*)::int AS n FROM ${SCHEMA}.one_by_one`)).toEqual([{ n: 0 }]);
  });

  it('upsert without a unique index on the match column is a config error', async () => {
    await admin.query(`CREATE TABLE ${SCHEMA}.no_key (sku text, v int)`);
    const dest = open('upsert', ['sku'], ['sku', 'v'], { table: `${SCHEMA}.no_key` });
    const error = await thrown(() => dest.write([change('upsert', 'A', ['sku'], { sku: 'A', v: 1 })], recordingContext()));
    expect({ kind: error.kind, code: error.code }).toEqual({ kind: 'config', code: '42P10' });
  });
});

function describeFields(destination: Destination) {
  return destination.describe!(new AbortController().signal);
}
