import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { needService, SERVICES } from '../helpers/services.ts';
import { recordStatements, redshiftStandInUrl } from '../helpers/redshift-stand-in.ts';
import { redshiftSourceType } from '../../src/sources/redshift/redshift-type.ts';
import { redshiftColumn } from '../../src/sources/redshift/redshift-values.ts';
import { replacePlaceholders } from '../../src/sources/redshift/redshift-sql.ts';
import type { Source } from '../../src/sources/source.ts';
import { expectBoundedChunks, expectCanonicalRow, expectStagedRoundTrip, readAll, readModelIds } from './source-conformance.ts';

/**
 * Redshift speaks the Postgres wire protocol; here the local Postgres stands in for it. The
 * source may only send SQL Redshift documents: every statement it sends is recorded and checked.
 * Setup SQL (generate_series, json) is the stand-in's own and not the source's.
 */
const up = await needService('postgres');
const SCHEMA = 'lm_rssrc';
const REDSHIFT_STATEMENTS = /^(SELECT 1$|SELECT QUOTE_LITERAL\(\$1::varchar\)$|SET DATESTYLE TO 'ISO, YMD'$|BEGIN$|DECLARE lastmile_read CURSOR FOR |FETCH FORWARD \d+ FROM lastmile_read$|CLOSE lastmile_read$|END$|ROLLBACK$)/;

describe.skipIf(!up)('Redshift source (Postgres wire protocol; local Postgres as the server)', () => {
  let admin: pg.Client;
  let source: Source;
  const sent: string[] = [];

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: SERVICES.postgres.url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}`);
    // Redshift DDL but for doc: Redshift's SUPER (OID 4000) has no Postgres twin; json stands in.
    await admin.query(`CREATE TABLE ${SCHEMA}.canonical (
      id INTEGER, big BIGINT, dec NUMERIC(18,4), tstz TIMESTAMPTZ, ts TIMESTAMP, d DATE, flag BOOLEAN, doc json,
      nothing VARCHAR(10), label VARCHAR(64))`);
    await admin.query(`INSERT INTO ${SCHEMA}.canonical VALUES (1, 9007199254740993, 12345678901234.5678,
      '2024-03-01 12:00:00.123456+02', '2024-03-01 12:00:00.000001', '2024-03-01', true, '{"a":[1,2],"b":"x"}',
      NULL, 'héllo "world"')`);
    await admin.query(`CREATE TABLE ${SCHEMA}.events (id INTEGER, updated_at TIMESTAMPTZ, note VARCHAR(20))`);
    await admin.query(`INSERT INTO ${SCHEMA}.events SELECT i, '2024-03-01 10:00:00+00'::timestamptz + i * interval '1 microsecond', 'n' || i FROM generate_series(1, 2500) i`);
    source = redshiftSourceType.create(redshiftSourceType.settings.parse({ url: redshiftStandInUrl(), fetchSize: 300 }) as never, '/');
    recordStatements(sent, () => admin);
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    await source?.close();
    await admin?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin?.end();
    // What the whole suite sent: only statements Redshift documents, never COPY.
    expect(sent.length).toBeGreaterThan(10);
    for (const statement of sent) expect(statement).toMatch(REDSHIFT_STATEMENTS);
  });

  it('keeps every value its meaning, in a non-UTC session', async () => {
    await expectCanonicalRow(source, `SELECT * FROM ${SCHEMA}.canonical`);
  });

  it('stages into DuckDB without changing a value', async () => {
    await expectStagedRoundTrip(source, `SELECT * FROM ${SCHEMA}.canonical`);
  });

  it('fetches through a cursor: chunks of chunkSize, whatever the FETCH size', async () => {
    const before = sent.length;
    await expectBoundedChunks(source, `SELECT * FROM ${SCHEMA}.events`, 2500, 777);
    await expectBoundedChunks(source, `SELECT * FROM ${SCHEMA}.events`, 2500, 100);
    await expectBoundedChunks(source, `SELECT * FROM ${SCHEMA}.events WHERE id <= 600`, 600, 300);
    const fetches = sent.slice(before).filter((s) => s.startsWith('FETCH'));
    expect(fetches.length).toBeGreaterThanOrEqual(9 + 26 + 3);
    expect(fetches.every((s) => /FORWARD (300|100) /.test(s))).toBe(true);
  });

  it('yields one empty chunk with columns for an empty result', async () => {
    const result = await readAll(source, `SELECT id FROM ${SCHEMA}.events WHERE id < 0`);
    expect(result.chunkSizes).toEqual([0]);
    expect(result.columns).toEqual([{ name: 'id', type: 'integer' }]);
  });

  it('puts parameters in as literals the server quotes, so an injection stays a value', async () => {
    const sql = `SELECT id FROM (${source.tableQuery(`${SCHEMA}.events`)}) m WHERE ${source.quoteIdentifier('updated_at')} > ${source.placeholder(1)} AND id < 6 ORDER BY id`;
    expect((await readAll(source, sql, 100, ['2024-03-01T10:00:00.000003Z'])).rows).toEqual([{ id: 4 }, { id: 5 }]);
    const injection = `SELECT count(*) AS n FROM ${SCHEMA}.events WHERE note = $1 -- not $2`;
    expect((await readAll(source, injection, 100, ["n1' OR '1'='1"])).rows).toEqual([{ n: 0 }]);
    expect((await readAll(source, 'SELECT $1::int8 + 0 AS big', 10, [9007199254740993n])).rows).toEqual([{ big: 9007199254740993n }]);
  });

  it('reads a model incrementally at the cursor mark, as a run does', async () => {
    const model = { name: 'events', source: 'warehouse', table: `${SCHEMA}.events`, primaryKey: ['id'], cursor: 'updated_at' };
    expect(await readModelIds(source, model, '2024-03-01T10:00:00.002498Z')).toEqual([2498, 2499, 2500]);
  });

  it('a consumer that stops early leaves the connection usable; so does an abort', async () => {
    for await (const _ of source.read(`SELECT * FROM ${SCHEMA}.events`, { chunkSize: 10, signal: new AbortController().signal })) break;
    expect((await readAll(source, `SELECT count(*) AS n FROM ${SCHEMA}.events`)).rows).toEqual([{ n: 2500 }]);
    const controller = new AbortController();
    const read = async () => {
      for await (const _ of source.read(`SELECT * FROM ${SCHEMA}.events`, { chunkSize: 10, signal: controller.signal })) controller.abort(new Error('stopped by test'));
    };
    await expect(read()).rejects.toThrow('stopped by test');
    await expect(source.check(new AbortController().signal)).resolves.toBeUndefined();
  });

  it('a query error names the source', async () => {
    await expect(readAll(source, `SELECT * FROM ${SCHEMA}.no_such_table`)).rejects.toThrow(/source "[^"]*": the query failed: .*no_such_table/);
  });

  it('a dead cluster is an error naming the source and address, never the password', async () => {
    const dead = redshiftSourceType.create({ name: 'gone', type: 'redshift', host: '127.0.0.1', port: 1, user: 'u', password: 'hunter2', database: 'dev', fetchSize: 1000 }, '/');
    const error = await dead.check(new AbortController().signal).then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/^source "gone": cannot connect to Redshift at 127\.0\.0\.1:1\/dev: /);
    expect(error?.message).not.toContain('hunter2');
    await dead.close();
  });
});

describe('Redshift source without a server', () => {
  it('reads SUPER as JSON and VARBYTE as bytes', () => {
    const field = (dataTypeID: number) => ({ name: 'c', dataTypeID, dataTypeModifier: -1 }) as pg.FieldDef;
    const sup = redshiftColumn(field(4000));
    expect(sup.column.type).toBe('json');
    expect(sup.convert('{"a":[1,2]}')).toEqual({ a: [1, 2] });
    const bytes = redshiftColumn(field(6551));
    expect(bytes.column.type).toBe('blob');
    expect(bytes.convert('00ff')).toEqual(new Uint8Array([0, 255]));
  });

  it('replaces $n only outside strings, quoted names and comments', () => {
    const sql = `SELECT '$1', "$2", x$1, $1 -- $1\n/* $2 */ , $2, 'it''s $1'`;
    expect(replacePlaceholders(sql, (n) => `<${n}>`)).toBe(`SELECT '$1', "$2", x$1, <1> -- $1\n/* $2 */ , <2>, 'it''s $1'`);
  });

  it('settings: a url or host fields; FETCH at most 1000 rows; secrets named', () => {
    expect(redshiftSourceType.settings.safeParse({ url: 'redshift://u:p@cluster.example:5439/dev' }).success).toBe(true);
    expect(redshiftSourceType.settings.safeParse({ host: 'h', user: 'u', password: 'p', database: 'dev' }).success).toBe(true);
    expect(redshiftSourceType.settings.safeParse({ url: 'mysql://h/db' }).success).toBe(false);
    expect(redshiftSourceType.settings.safeParse({ host: 'h', fetchSize: 5000 }).success).toBe(false);
    expect(redshiftSourceType.secretSettings).toEqual(['password', 'url']);
  });
});
