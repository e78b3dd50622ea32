import pg from 'pg';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needService, SERVICES } from '../helpers/services.ts';
import { postgresSourceType } from '../../src/sources/postgres/postgres-type.ts';
import type { BulkLoadSource } from '../../src/sources/source.ts';
import { stageRows } from '../../src/sources/duckdb/duckdb-staging.ts';
import {
  expectBoundedChunks, expectBulkLoadEqualsStaging, expectCanonicalRow, expectLoadInterrupted, expectStagedRoundTrip, readAll, readModelIds, scratchWorkspace,
} from './source-conformance.ts';

const up = await needService('postgres');
const SCHEMA = 'lm_pgsrc';
// The session runs in Kolkata (+05:30): timestamptz must still come out as UTC instants.
const URL_IN_KOLKATA = `${SERVICES.postgres.url}?options=${encodeURIComponent('-c TimeZone=Asia/Kolkata')}`;

describe.skipIf(!up)('Postgres source', () => {
  let admin: pg.Client;
  let source: BulkLoadSource;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: SERVICES.postgres.url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}`);
    await admin.query(`CREATE TABLE ${SCHEMA}.canonical (
      id int, big int8, dec numeric(18,4), tstz timestamptz, ts timestamp, d date, flag boolean, doc jsonb,
      nothing text, label text)`);
    await admin.query(`INSERT INTO ${SCHEMA}.canonical VALUES (1, 9007199254740993, 12345678901234.5678,
      '2024-03-01 12:00:00.123456+02', '2024-03-01 12:00:00.000001', '2024-03-01', true, '{"a":[1,2],"b":"x"}',
      NULL, 'héllo "world"')`);
    await admin.query(`CREATE TABLE ${SCHEMA}."Events" (id int, updated_at timestamptz, note text)`);
    await admin.query(`INSERT INTO ${SCHEMA}."Events" SELECT i, '2024-03-01 10:00:00+00'::timestamptz + i * interval '1 microsecond', 'n' || i FROM generate_series(1, 5) i`);
    source = postgresSourceType.create({ name: 'app_db', type: 'postgres', url: URL_IN_KOLKATA }, '/') as BulkLoadSource;
  });

  afterAll(async () => {
    await source?.close();
    await admin?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin?.end();
  });

  it('keeps every value its meaning, in a non-UTC session', async () => {
    const { columns } = await expectCanonicalRow(source, `SELECT * FROM ${SCHEMA}.canonical`);
    expect(columns.find((c) => c.name === 'dec')).toMatchObject({ type: 'decimal', precision: 18, scale: 4 });
  });

  it('stages into DuckDB without changing a value', async () => {
    await expectStagedRoundTrip(source, `SELECT * FROM ${SCHEMA}.canonical`);
  });

  it('reads other types exactly: unconstrained numeric, negative int8, arrays, bytea, time, infinity', async () => {
    const { rows, columns } = await readAll(source, `SELECT
      123456789012345678901234567890.123456789::numeric AS wide, '-9223372036854775808'::int8 AS low,
      ARRAY[1, 2, NULL]::int4[] AS ints, ARRAY['a', 'b,c']::text[] AS texts, '\\x00ff'::bytea AS bin,
      '23:59:59.999999'::time AS tm, 'infinity'::timestamptz AS forever, 1.5::float8 AS dbl,
      '0044-03-15 BC'::date AS old, '2024-03-01 12:00:00.5-08'::timestamptz AS half`);
    expect(rows).toEqual([{
      wide: '123456789012345678901234567890.123456789', low: -9223372036854775808n, ints: [1, 2, null],
      texts: ['a', 'b,c'], bin: new Uint8Array([0, 255]), tm: '23:59:59.999999', forever: 'infinity', dbl: 1.5,
      old: '-000043-03-15', half: '2024-03-01T20:00:00.500000Z',
    }]);
    expect(columns.find((c) => c.name === 'wide')).toEqual({ name: 'wide', type: 'decimal' });
    await expectStagedRoundTrip(source, `SELECT '-0.000001'::numeric(7,6) AS small, ARRAY[1, 2]::int4[] AS ints,
      '\\x00ff'::bytea AS bin, '23:59:59.999999'::time AS tm, 'infinity'::timestamptz AS forever,
      '0044-03-15 BC'::date AS old, '-9223372036854775808'::int8 AS low`);
  });

  it('stages an unconstrained numeric as DECIMAL(38,10): same number, ten decimals', async () => {
    const signal = new AbortController().signal;
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await stageRows(connection, 'lm_pgsrc_loose', source.read(`SELECT '-0.000001'::numeric AS n`, { chunkSize: 10, signal }), signal);
    const back = await connection.runAndReadAll('SELECT n::VARCHAR AS n, typeof(n) AS t FROM lm_pgsrc_loose');
    expect(back.getRowObjects()).toEqual([{ n: '-0.0000010000', t: 'DECIMAL(38,10)' }]);
    connection.closeSync();
    instance.closeSync();
  });

  it('streams through a cursor in chunks of at most chunkSize rows', async () => {
    await expectBoundedChunks(source, 'SELECT i, md5(i::text) AS h FROM generate_series(1, 5000) i', 5000, 777);
  });

  it('yields one empty chunk with columns for an empty result', async () => {
    const result = await readAll(source, 'SELECT 1::int8 AS a WHERE false');
    expect(result.chunkSizes).toEqual([0]);
    expect(result.columns).toEqual([{ name: 'a', type: 'bigint' }]);
  });

  it('binds the cursor value as $1, never pasted into the SQL', async () => {
    const sql = `SELECT id FROM (${source.tableQuery(`${SCHEMA}.Events`)}) m WHERE ${source.quoteIdentifier('updated_at')} > ${source.placeholder(1)} ORDER BY id`;
    expect((await readAll(source, sql, 100, ['2024-03-01T10:00:00.000003Z'])).rows).toEqual([{ id: 4 }, { id: 5 }]);
    const injection = `SELECT count(*) AS n FROM ${SCHEMA}."Events" WHERE note = $1`;
    expect((await readAll(source, injection, 100, ["n1' OR '1'='1"])).rows).toEqual([{ n: 0 }]);
    expect((await readAll(source, 'SELECT $1::int8 + 0 AS big', 10, [9007199254740993n])).rows).toEqual([{ big: 9007199254740993n }]);
  });

  it('a query error names the source', async () => {
    await expect(readAll(source, 'SELECT * FROM lm_pgsrc.no_such_table')).rejects.toThrow(/source "app_db": the query failed: .*no_such_table/);
  });

  it('an abort mid-read stops it, and the source stays usable', async () => {
    const controller = new AbortController();
    const read = async () => {
      for await (const _ of source.read('SELECT i FROM generate_series(1, 100000) i', { chunkSize: 10, signal: controller.signal })) {
        controller.abort(new Error('stopped by test'));
      }
    };
    await expect(read()).rejects.toThrow('stopped by test');
    await expect(source.check(new AbortController().signal)).resolves.toBeUndefined();
  });

  it('a dead server is an error naming the source and address, never the password', async () => {
    const dead = postgresSourceType.create(
      { name: 'gone', type: 'postgres', host: '127.0.0.1', port: 1, user: 'postgres', password: 'hunter2', database: 'test' }, '/');
    const error = await dead.check(new AbortController().signal).then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/^source "gone": cannot connect to Postgres at 127\.0\.0\.1:1\/test: /);
    expect(error?.message).not.toContain('hunter2');
    await dead.close();
  });

  it('settings take a url or host fields, not both', () => {
    expect(postgresSourceType.settings.safeParse({ url: 'postgres://u@h/db' }).success).toBe(true);
    expect(postgresSourceType.settings.safeParse({ host: 'h', port: 5432, user: 'u', password: 'p', database: 'db' }).success).toBe(true);
    expect(postgresSourceType.settings.safeParse({ url: 'postgres://u@h/db', host: 'h' }).success).toBe(false);
    expect(postgresSourceType.settings.safeParse({ database: 'db' }).success).toBe(false);
    expect(postgresSourceType.secretSettings).toContain('password');
  });
});

describe.skipIf(!up)('Postgres source: loading a model in bulk (COPY)', () => {
  let admin: pg.Client;
  let source: BulkLoadSource;
  const signal = new AbortController().signal;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: SERVICES.postgres.url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA}_bulk CASCADE; CREATE SCHEMA ${SCHEMA}_bulk`);
    await admin.query(`CREATE TABLE ${SCHEMA}_bulk.events (id int, updated_at timestamptz, note text)`);
    await admin.query(`INSERT INTO ${SCHEMA}_bulk.events SELECT i, '2024-03-01 10:00:00+00'::timestamptz + i * interval '1 microsecond', 'n' || i FROM generate_series(1, 5) i`);
    source = postgresSourceType.create({ name: 'app_db', type: 'postgres', url: URL_IN_KOLKATA }, '/') as BulkLoadSource;
  });

  afterAll(async () => {
    await source?.close();
    await admin?.query(`DROP SCHEMA IF EXISTS ${SCHEMA}_bulk CASCADE`);
    await admin?.end();
  });

  it('loads exactly what staging the rows of read() gives, in a non-UTC session', async () => {
    const [row] = await expectBulkLoadEqualsStaging(source, { sql: `SELECT
      1 AS id, 9007199254740993::int8 AS big, '-9223372036854775808'::int8 AS low, 12345678901234.5678::numeric(18,4) AS dec,
      123456789012345678.123456789::numeric AS wide, '0.12345678915'::numeric AS rounded, '-0.000001'::numeric(7,6) AS small,
      '2024-03-01 12:00:00.123456+02'::timestamptz AS tstz, '1850-03-01 10:00:00'::timestamptz AS local_mean_time,
      '0044-03-15 10:00:00.5 BC'::timestamptz AS bc_tstz, '0044-03-15 10:00:00.5 BC'::timestamp AS bc_ts, '0044-03-15 BC'::date AS bc_date,
      'infinity'::timestamptz AS forever, '-infinity'::timestamp AS never, 'infinity'::date AS last_day, '10000-01-01'::date AS far,
      '2024-03-01 12:00:00.000001'::timestamp AS ts, '2024-03-01'::date AS d, '24:00:00'::time AS midnight, '23:59:59.999999'::time AS tm,
      true AS flag, NULL::bool AS unknown, 1.1::float4 AS f4, 'NaN'::float8 AS nan, '-Infinity'::float8 AS ninf, -0.0::float8 AS negzero,
      '{"a": [1, 2.50, 1e400], "b": "x", "b": "y", "2": 1, "big": 12345678901234567890}'::json AS doc, '{"z": 1, "a": {"é": "\\n"}}'::jsonb AS docb,
      ARRAY[1, 2, NULL]::int4[] AS ints, ARRAY['a', 'b,c', NULL, '"q"']::text[] AS texts, ARRAY[1.50]::numeric[] AS nums,
      ARRAY['2024-03-01 12:00+02']::timestamptz[] AS instants, '\\x00ff22'::bytea AS bin, ''::bytea AS no_bytes,
      E'héllo "world", ok\\nline 2\\r\\n' AS label, '' AS empty, NULL::text AS nothing, 'a'::char(3) AS padded,
      '1 day 02:00'::interval AS span, '127.0.0.1'::inet AS ip, 42::oid AS object, 7::int2 AS tiny` });
    expect(row).toMatchObject({ big: 9007199254740993n, tstz: '2024-03-01T10:00:00.123456Z', bc_date: '-000043-03-15', empty: '', nothing: null });
  });

  it('cuts a large CSV at row ends only, whatever quotes and newlines the rows hold', async () => {
    // ~10 MB: several files, with quoted fields (commas, quotes, newlines) spanning the cuts.
    const rows = await expectBulkLoadEqualsStaging(source, { sql: `SELECT i, repeat('a,"b"' || E'\\n', i % 40) AS text, md5(i::text) AS h
      FROM generate_series(1, 60000) i` });
    expect(rows).toHaveLength(60000);
    expect(rows.at(-1)).toMatchObject({ i: 60000, text: '' });
  });

  it('loads a row larger than a CSV file and than the default line limit of DuckDB (2 MB)', async () => {
    const rows = await expectBulkLoadEqualsStaging(source, { sql: `SELECT i, repeat(md5(i::text), 200000) AS big FROM generate_series(1, 2) i` });
    expect(rows.map((row) => (row.big as string).length)).toEqual([6_400_000, 6_400_000]);
  });

  it('loads one empty table with the columns for an empty result', async () => {
    expect(await expectBulkLoadEqualsStaging(source, { sql: 'SELECT 1::int8 AS a, now() AS b WHERE false' })).toEqual([]);
  });

  it('in cursor mode, compares with the mark as a literal the server quoted, never pasted', async () => {
    const table = source.tableQuery(`${SCHEMA}_bulk.events`);
    const ids = async (column: string, value: string) =>
      (await expectBulkLoadEqualsStaging(source, { sql: table, since: { column, value } })).map((row) => row.id);
    expect(await ids('updated_at', '2024-03-01T10:00:00.000003Z')).toEqual([3, 4, 5]);
    // Pasted as is, the mark would turn the filter into `… OR 'a'='a'` and select every row.
    expect(await ids('note', "n4' OR 'a'='a")).toEqual([5]);
    expect(await ids('note', 'n4\\')).toEqual([5]);
  });

  it('reads a model whose SQL ends with a semicolon or a comment', async () => {
    expect(await expectBulkLoadEqualsStaging(source, { sql: 'SELECT 1 AS a -- the answer' })).toEqual([{ a: 1 }]);
    expect(await expectBulkLoadEqualsStaging(source, { sql: 'SELECT 1 AS a;' })).toEqual([{ a: 1 }]);
  });

  it('a run loads the model in bulk; in cursor mode only the rows at or past the mark', async () => {
    const model = { name: 'events', source: 'app_db', table: `${SCHEMA}_bulk.events`, primaryKey: ['id'], cursor: 'updated_at' };
    expect(await readModelIds(source, model, null)).toEqual([1, 2, 3, 4, 5]);
    expect(await readModelIds(source, model, '2024-03-01T10:00:00.000003Z')).toEqual([3, 4, 5]);
  });

  it('a query error names the source', async () => {
    const { connection, close } = await scratchWorkspace();
    await expect(source.loadInto(connection, 't', { sql: 'SELECT * FROM lm_pgsrc.no_such_table' }, signal))
      .rejects.toThrow(/source "app_db": the query failed: .*no_such_table/);
    await close();
  });

  it('a value the workspace cannot hold fails the load naming its column and row', async () => {
    const { connection, close } = await scratchWorkspace();
    // An unconstrained numeric stages as DECIMAL(38,10): 30 digits before the point do not fit.
    await expect(source.loadInto(connection, 't', { sql: `SELECT i, CASE WHEN i = 3 THEN 10::numeric ^ 30 ELSE i END AS n FROM generate_series(1, 5) i` }, signal))
      .rejects.toThrow(/cannot stage column "n" of row 3: /);
    await close();
  });

  // The COPY sends 50,000 rows, then waits: the test ends it from another session, or aborts it.
  const pausing = { sql: `SELECT i, CASE WHEN i = 50000 THEN pg_sleep(30)::text END AS pause FROM generate_series(1, 60000) i` };

  it('a server that ends the connection mid-load fails the load with a clear error, and the source stays usable', async () => {
    await expectLoadInterrupted(source, pausing, () => waitForCopy(admin), async () => admin.query('SELECT pg_terminate_backend($1)', [await waitForCopy(admin)]),
      /^source "app_db": (the query failed|lost the connection mid-read): .*(terminating connection due to administrator command|Connection terminated unexpectedly|the server closed)/);
  });

  it('an abort mid-load stops it at once, and the source stays usable', async () => {
    await expectLoadInterrupted(source, pausing, () => waitForCopy(admin), async (load) => load.abort(new Error('stopped by test')), /^stopped by test$/);
  });
});

/** Waits (at most 20 s) until a lastmile session runs a COPY, and returns its backend pid. */
async function waitForCopy(admin: pg.Client): Promise<number> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const { rows } = await admin.query(`SELECT pid FROM pg_stat_activity WHERE application_name = 'lastmile' AND query LIKE 'COPY%' AND state = 'active'`);
    if (rows[0]) return rows[0].pid as number;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no COPY started within 20 s');
}

