import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needService, SERVICES } from '../helpers/services.ts';
import { mysqlSourceType } from '../../src/sources/mysql/mysql-type.ts';
import type { Source } from '../../src/sources/source.ts';
import { expectBoundedChunks, expectCanonicalRow, expectStagedRoundTrip, readAll } from './source-conformance.ts';

const up = await needService('mariadb');
const PREFIX = 'lm_mysrc';

describe.skipIf(!up)('MySQL source (MariaDB)', () => {
  let admin: mysql.Connection;
  let source: Source;

  beforeAll(async () => {
    admin = await mysql.createConnection({ uri: SERVICES.mariadb.url, multipleStatements: true });
    // The writer's session is at +02:00: TIMESTAMP values must still come out as UTC instants.
    await admin.query(`SET time_zone = '+02:00'`);
    await admin.query(`DROP TABLE IF EXISTS ${PREFIX}_canonical, ${PREFIX}_events, ${PREFIX}_series`);
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
    source = mysqlSourceType.create({ name: 'shop_db', type: 'mysql', url: SERVICES.mariadb.url }, '/');
  });

  afterAll(async () => {
    await source?.close();
    await admin?.query(`DROP TABLE IF EXISTS ${PREFIX}_canonical, ${PREFIX}_events, ${PREFIX}_series`);
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

  it('a dead server is an error naming the source and address, never the password', async () => {
    const dead = mysqlSourceType.create({ name: 'gone', type: 'mysql', url: 'mysql://root:hunter2@127.0.0.1:1/test' }, '/');
    const error = await dead.check(new AbortController().signal).then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/^source "gone": cannot connect to MySQL at 127\.0\.0\.1:1\/test: /);
    expect(error?.message).not.toContain('hunter2');
    await dead.close();
  });
});
