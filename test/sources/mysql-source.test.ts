import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needService, SERVICES } from '../helpers/services.ts';
import { mysqlSourceType } from '../../src/sources/mysql/mysql-type.ts';
import type { BulkLoadSource } from '../../src/sources/source.ts';
import {
  expectBoundedChunks, expectBulkLoadEqualsStaging, expectCanonicalRow, expectLoadInterrupted, expectStagedRoundTrip, readAll, readModelIds, scratchWorkspace,
} from './source-conformance.ts';

const up = await needService('mariadb');
const PREFIX = 'lm_mysrc';

describe.skipIf(!up)('MySQL source (MariaDB)', () => {
  let admin: mysql.Connection;
  let source: BulkLoadSource;

  beforeAll(async () => {
    admin = await mysql.createConnection({ uri: SERVICES.mariadb.url, multipleStatements: true });
    // The writer's session is at +02:00: TIMESTAMP values must still come out as UTC instants.
    await admin.query(`SET time_zone = '+02:00'`);
    await admin.query(`DROP TABLE IF EXISTS ${PREFIX}_canonical, ${PREFIX}_events, ${PREFIX}_series, ${PREFIX}_types`);
    await admin.query(`CREATE TABLE ${PREFIX}_canonical (id INT, big BIGINT, \`dec\` DECIMAL(18,4), tstz TIMESTAMP(6) NULL,
      ts DATETIME(6), d DATE, flag BOOLEAN, doc JSON, nothing TEXT, label VARCHAR(50)) CHARACTER SET utf8mb4`);
    await admin.query(`INSERT INTO ${PREFIX}_canonical VALUES (1, 9007199254740993, 12345678901234.5678,
      '2024-03-01 12:00:00.123456', '2024-03-01 12:00:00.000001', '2024-03-01', TRUE, '{"a":[1,2],"b":"x"}', NULL, 'héllo "world"')`);
    await admin.query(`CREATE TABLE ${PREFIX}_events (id INT, updated_at TIMESTAMP(6) NULL, note VARCHAR(20))`);
    await admin.query(`SET time_zone = '+00:00'`);
    await admin.query(`INSERT INTO ${PREFIX}_events VALUES (1, '2024-03-01 10:00:00.000001', 'n1'), (2, '2024-03-01 10:00:00.000002', 'n2'),
      (3, '2024-03-01 10:00:00.000003', 'n3'), (4, '2024-03-01 10:00:00.000004', 'n4'), (5, '2024-03-01 10:00:00.000005', 'n5')`);
    await admin.query(`CREATE TABLE ${PREFIX}_series (i INT PRIMARY KEY, h CHAR(32))`);
    const series = Array.from({ length: 5000 }, (_, i) => [i + 1, `row-${i + 1}`]);
    await admin.query(`INSERT INTO ${PREFIX}_series VALUES ?`, [series]);
    // Column types as tables declare them (literals in a SELECT carry other metadata).
    await admin.query(`SET SESSION sql_mode = ''`);
    await admin.query(`CREATE TABLE ${PREFIX}_types (id INT, tiny1 TINYINT(1), bit1 BIT(1), bits BIT(12), ubig BIGINT UNSIGNED,
      f FLOAT, d DOUBLE, wide DECIMAL(65,30), y YEAR, zero_date DATE, zero_dt DATETIME, zero_ts TIMESTAMP NULL, t TIME(6),
      doc JSON, bin VARBINARY(10), blob_col BLOB, txt TEXT, ch CHAR(3), e ENUM('a','b'), s SET('x','y')) CHARACTER SET utf8mb4`);
    await admin.query(`INSERT INTO ${PREFIX}_types VALUES
      (1, 5, b'1', b'101010101010', 18446744073709551615, 1.1, -0.1, 12345678901234567890123456.123456789, 2024, '0000-00-00',
       '0000-00-00 00:00:00', '0000-00-00 00:00:00', '23:59:59.999999', '{"b": [1, 2.50], "a": "é\\\\n"}', UNHEX('00FF22'), 'raw"bytes',
       'a,"b"\nc', 'x', 'b', 'x,y'),
      (2, 0, b'0', NULL, 0, NULL, 1e300, -0.5, NULL, '2024-02-29', '2024-02-29 23:59:59', '2024-02-29 23:59:59.5', '00:00:00',
       NULL, '', '', '', '', NULL, '')`);
    await admin.query(`SET SESSION sql_mode = DEFAULT`);
    source = mysqlSourceType.create({ name: 'shop_db', type: 'mysql', url: SERVICES.mariadb.url }, '/') as BulkLoadSource;
  });

  afterAll(async () => {
    await source?.close();
    await admin?.query(`DROP TABLE IF EXISTS ${PREFIX}_canonical, ${PREFIX}_events, ${PREFIX}_series, ${PREFIX}_types`);
    await admin?.end();
  });

  it('keeps every value its meaning, written from a +02:00 session', async () => {
    const { columns } = await expectCanonicalRow(source, `SELECT * FROM ${PREFIX}_canonical`);
    expect(columns.find((c) => c.name === 'dec')).toMatchObject({ type: 'decimal', precision: 18, scale: 4 });
  });

  it('stages into DuckDB without changing a value', async () => {
    await expectStagedRoundTrip(source, `SELECT * FROM ${PREFIX}_canonical`);
  });

  it('reads other types exactly: unsigned bigint, binary, bit, year, zero dates, durations', async () => {
    const { rows, columns } = await readAll(source, `SELECT CAST(18446744073709551615 AS UNSIGNED) AS ubig,
      CAST(-9223372036854775808 AS SIGNED) AS low, CAST(-0.5 AS DECIMAL(10,2)) AS neg, UNHEX('00FF') AS bin,
      b'1' AS bit1, 1.5e0 AS dbl, CAST('23:59:59.5' AS TIME(6)) AS tm, CAST('-01:00:00' AS TIME) AS duration`);
    expect(rows).toEqual([{
      ubig: 18446744073709551615n, low: -9223372036854775808n, neg: '-0.50', bin: new Uint8Array([0, 255]),
      bit1: new Uint8Array([1]), dbl: 1.5, tm: '23:59:59.500000', duration: '-01:00:00',
    }]);
    expect(columns.find((c) => c.name === 'neg')).toEqual({ name: 'neg', type: 'decimal', precision: 10, scale: 2 });
  });

  it('streams with backpressure in chunks of at most chunkSize rows', async () => {
    await expectBoundedChunks(source, `SELECT * FROM ${PREFIX}_series ORDER BY i`, 5000, 777);
  });

  it('yields one empty chunk with columns for an empty result', async () => {
    const result = await readAll(source, `SELECT i FROM ${PREFIX}_series WHERE i < 0`);
    expect(result.chunkSizes).toEqual([0]);
    expect(result.columns).toEqual([{ name: 'i', type: 'integer' }]);
  });

  it('binds the cursor value as ?, escaped by the driver', async () => {
    const sql = `SELECT id FROM (${source.tableQuery(`${PREFIX}_events`)}) m WHERE ${source.quoteIdentifier('updated_at')} > ${source.placeholder(1)} ORDER BY id`;
    expect((await readAll(source, sql, 100, ['2024-03-01T10:00:00.000003Z'])).rows).toEqual([{ id: 4 }, { id: 5 }]);
    const injection = `SELECT count(*) AS n FROM ${PREFIX}_events WHERE note = ?`;
    expect((await readAll(source, injection, 100, ["n1' OR '1'='1"])).rows).toEqual([{ n: 0 }]);
    expect((await readAll(source, 'SELECT ? + 0 AS big', 10, [9007199254740993n])).rows).toEqual([{ big: 9007199254740993n }]);
  });

  it('a query error names the source', async () => {
    await expect(readAll(source, `SELECT * FROM ${PREFIX}_missing`)).rejects.toThrow(/source "shop_db": the query failed: .*lm_mysrc_missing/);
  });

  it('an abort mid-read stops it, and the source stays usable', async () => {
    const controller = new AbortController();
    const read = async () => {
      for await (const _ of source.read(`SELECT * FROM ${PREFIX}_series`, { chunkSize: 10, signal: controller.signal })) {
        controller.abort(new Error('stopped by test'));
      }
    };
    await expect(read()).rejects.toThrow('stopped by test');
    await expect(source.check(new AbortController().signal)).resolves.toBeUndefined();
  });

  it('loads exactly what staging the rows of read() gives: canonical row, literals and declared column types', async () => {
    await expectBulkLoadEqualsStaging(source, { sql: `SELECT * FROM ${PREFIX}_canonical` });
    await expectBulkLoadEqualsStaging(source, { sql: `SELECT CAST(18446744073709551615 AS UNSIGNED) AS ubig,
      CAST(-9223372036854775808 AS SIGNED) AS low, CAST(-0.5 AS DECIMAL(10,2)) AS neg, UNHEX('00FF') AS bin, b'1' AS bit1,
      1.5e0 AS dbl, CAST('23:59:59.5' AS TIME(6)) AS tm, TRUE AS yes, '' AS empty, NULL AS nothing, 'a,"b"\nc' AS text,
      JSON_OBJECT('a', 1, 'b', 2.50) AS doc, CAST('2024-03-01 10:00:00.5' AS DATETIME(6)) AS dt` });
    const rows = await expectBulkLoadEqualsStaging(source, { sql: `SELECT * FROM ${PREFIX}_types ORDER BY id` });
    expect(rows[0]).toMatchObject({ tiny1: true, bit1: true, zero_date: null, zero_dt: null, zero_ts: null, doc: { a: 'é\n', b: [1, 2.5] } });
    expect(rows[1]).toMatchObject({ tiny1: false, bit1: false, bin: new Uint8Array([]), txt: '' });
  });

  it('a dead server is an error naming the source and address, never the password', async () => {
    const dead = mysqlSourceType.create({ name: 'gone', type: 'mysql', url: 'mysql://root:hunter2@127.0.0.1:1/test' }, '/');
    const error = await dead.check(new AbortController().signal).then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/^source "gone": cannot connect to MySQL at 127\.0\.0\.1:1\/test: /);
    expect(error?.message).not.toContain('hunter2');
    await dead.close();
  });
});

describe.skipIf(!up)('MySQL source (MariaDB): loading a model in bulk (CSV)', () => {
  let admin: mysql.Connection;
  let source: BulkLoadSource;
  const signal = new AbortController().signal;

  beforeAll(async () => {
    admin = await mysql.createConnection({ uri: SERVICES.mariadb.url, multipleStatements: true });
    await admin.query(`DROP TABLE IF EXISTS ${PREFIX}_bulk`);
    await admin.query(`CREATE TABLE ${PREFIX}_bulk (id INT PRIMARY KEY, updated_at TIMESTAMP(6) NULL, note VARCHAR(20))`);
    await admin.query(`SET time_zone = '+00:00'`);
    await admin.query(`INSERT INTO ${PREFIX}_bulk SELECT seq, TIMESTAMP'2024-03-01 10:00:00' + INTERVAL seq MICROSECOND, CONCAT('n', seq) FROM seq_1_to_5`);
    source = mysqlSourceType.create({ name: 'shop_db', type: 'mysql', url: SERVICES.mariadb.url }, '/') as BulkLoadSource;
  });

  afterAll(async () => {
    await source?.close();
    await admin?.query(`DROP TABLE IF EXISTS ${PREFIX}_bulk`);
    await admin?.end();
  });

  it('loads rows larger than one CSV file, in order', async () => {
    const rows = await expectBulkLoadEqualsStaging(source, { sql: `SELECT seq AS i, REPEAT('a,"b"\n', seq % 40) AS text, MD5(seq) AS h
      FROM seq_1_to_60000 ORDER BY seq` });
    expect(rows).toHaveLength(60000);
  });

  it('in cursor mode, binds the mark as ?, escaped by the driver', async () => {
    const table = source.tableQuery(`${PREFIX}_bulk`);
    const ids = async (column: string, value: string) =>
      (await expectBulkLoadEqualsStaging(source, { sql: table, since: { column, value } })).map((row) => row.id);
    expect(await ids('updated_at', '2024-03-01T10:00:00.000003Z')).toEqual([3, 4, 5]);
    expect(await ids('note', "n4' OR 'a'='a")).toEqual([5]);
  });

  it('a run loads the model in bulk; in cursor mode only the rows at or past the mark', async () => {
    const model = { name: 'events', source: 'shop_db', table: `${PREFIX}_bulk`, primaryKey: ['id'], cursor: 'updated_at' };
    expect(await readModelIds(source, model, null)).toEqual([1, 2, 3, 4, 5]);
    expect(await readModelIds(source, model, '2024-03-01T10:00:00.000003Z')).toEqual([3, 4, 5]);
  });

  it('a query error names the source', async () => {
    const { connection, close } = await scratchWorkspace();
    await expect(source.loadInto(connection, 't', { sql: `SELECT * FROM ${PREFIX}_missing` }, signal))
      .rejects.toThrow(/source "shop_db": the query failed: .*lm_mysrc_missing/);
    await close();
  });

  // The query sends 50,000 rows, then sleeps: the test kills it from another session, or aborts it.
  const pausing = { sql: `SELECT seq, IF(seq = 50000, SLEEP(30), 0) AS pause FROM seq_1_to_60000` };

  it('a server that kills the connection mid-load fails the load with a clear error, and the source stays usable', async () => {
    await expectLoadInterrupted(source, pausing, () => waitForQuery(admin), async () => admin.query(`KILL ${await waitForQuery(admin)}`),
      /^source "shop_db": (the query failed|lost the connection mid-read): /);
  });

  it('an abort mid-load stops it at once, and the source stays usable', async () => {
    await expectLoadInterrupted(source, pausing, () => waitForQuery(admin), async (load) => load.abort(new Error('stopped by test')), /^stopped by test$/);
  });
});

/** Waits (at most 20 s) until the sleeping model query runs, and returns its connection id. */
async function waitForQuery(admin: mysql.Connection): Promise<number> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const [rows] = await admin.query(`SELECT id FROM information_schema.processlist WHERE info LIKE '%SLEEP(30)%' AND info NOT LIKE '%processlist%'`);
    const found = (rows as { id: number }[])[0];
    if (found) return found.id;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the query did not start within 20 s');
}
