import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needService, SERVICES } from '../helpers/services.ts';
import { seeded } from '../helpers/seeded-random.ts';
import { fingerprintExpression, keyExpression, keyOfRow, rowFingerprinter } from '../../src/diff/fingerprint/fingerprint-v1.ts';
import { MysqlSource } from '../../src/sources/mysql/mysql-source.ts';
import type { Column, Row } from '../../src/sources/source.ts';

const up = await needService('mariadb');
const TABLE = `lm_fp_mysql_${process.pid}`;
const SIGNATURE = 'm1:mysql-agreement';
const ROWS = 5000;

const COLUMNS_SQL = `id INT PRIMARY KEY, tag VARCHAR(40) NULL, n INT NULL, big BIGINT NULL, amount DECIMAL(18,4) NULL, whole DECIMAL(12,0) NULL,
  label VARCHAR(200) NULL, flag BOOLEAN NULL, day DATE NULL, at_time TIME(6) NULL, local_ts DATETIME(6) NULL, instant TIMESTAMP(6) NULL, bytes VARBINARY(16) NULL`;

/** Values MySQL holds for each column, drawn from edge cases and random ones, ~5 % nulls. */
function generate(count: number): string[] {
  const random = seeded(20261201);
  const pick = <T>(values: T[]) => values[Math.floor(random() * values.length)]!;
  const maybe = (text: string) => (random() < 0.05 ? 'NULL' : text);
  const quote = (text: string) => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
  const int = (max: number) => Math.floor(random() * max) - Math.floor(max / 2);
  const texts = ['', 'plain', 'a|b', 'back\\slash', '\\N', 'héllo wörld', '日本語', 'tab\there', 'ends with |', '\\|', 'quote "x"', ' lead', 'trail '];
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const rows: string[] = [];
  for (let id = 1; id <= count; id++) {
    const year = 1950 + Math.floor(random() * 100);
    const date = `${year}-${pad(1 + Math.floor(random() * 12))}-${pad(1 + Math.floor(random() * 28))}`;
    const time = `${pad(Math.floor(random() * 24))}:${pad(Math.floor(random() * 60))}:${pad(Math.floor(random() * 60))}.${pad(Math.floor(random() * 1e6), 6)}`;
    const instantYear = 1971 + Math.floor(random() * 60); // TIMESTAMP holds 1970–2038
    const instant = `${Math.min(instantYear, 2037)}-${pad(1 + Math.floor(random() * 12))}-${pad(1 + Math.floor(random() * 28))} ${time}`;
    const amount = pick(['0.0000', '-0.5000', '12.5000', '100.0000', '-99999999999999.9999', `${int(1e9)}.${pad(Math.floor(random() * 1e4), 4)}`]);
    const hex = Array.from({ length: Math.floor(random() * 8) }, () => pad(Math.floor(random() * 256).toString(16) as unknown as number)).join('');
    rows.push(`(${[
      id, maybe(quote(pick(texts) + (random() < 0.5 ? String(id % 7) : ''))), maybe(String(int(2 ** 31))),
      maybe(pick(['9223372036854775807', '-9223372036854775808', '0', String(int(2 ** 53))])), maybe(amount),
      maybe(pick(['0', '-1', '123456789012', String(int(1e6))])), maybe(quote(pick(texts) + pick(texts))),
      maybe(pick(['TRUE', 'FALSE'])), maybe(quote(date)), maybe(quote(time)), maybe(quote(`${date} ${time}`)), maybe(quote(instant)),
      maybe(hex ? `X'${hex}'` : `X''`),
    ].join(', ')})`);
  }
  return rows;
}

describe.skipIf(!up)('fingerprint recipe v1 in MySQL SQL', () => {
  let admin: mysql.Connection;
  let source: MysqlSource;
  let columns: Column[];

  beforeAll(async () => {
    admin = await mysql.createConnection({ uri: SERVICES.mariadb.url });
    await admin.query(`SET time_zone = '+00:00'`);
    await admin.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await admin.query(`CREATE TABLE ${TABLE} (${COLUMNS_SQL}) CHARACTER SET utf8mb4`);
    const rows = generate(ROWS);
    for (let i = 0; i < rows.length; i += 1000) await admin.query(`INSERT INTO ${TABLE} VALUES ${rows.slice(i, i + 1000).join(', ')}`);
    source = new MysqlSource('warehouse', { url: SERVICES.mariadb.url });
    for await (const chunk of source.read(`SELECT * FROM ${TABLE} LIMIT 0`, { chunkSize: 1, signal: new AbortController().signal })) columns = chunk.columns;
  }, 120_000);

  afterAll(async () => {
    await source?.close();
    await admin?.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await admin?.end();
  });

  it('gives the rows the MySQL source reads the keys and fingerprints TypeScript gives them', async () => {
    const signal = new AbortController().signal;
    const inputs = columns.filter((c) => c.name !== 'id').sort((a, b) => a.name.localeCompare(b.name));
    const key = columns.filter((c) => c.name === 'id' || c.name === 'tag');
    expect(inputs.map((c) => c.type).sort()).toEqual(['bigint', 'blob', 'boolean', 'date', 'decimal', 'decimal', 'integer', 'time', 'timestamp', 'timestamptz', 'varchar', 'varchar']);
    const fingerprint = rowFingerprinter(SIGNATURE, inputs);
    const sql = `SELECT CAST(${fingerprintExpression('mysql', SIGNATURE, inputs)} AS CHAR) AS lm_fp, ${keyExpression('mysql', key)} AS lm_key, t.* FROM ${TABLE} AS t`;
    const disagreements: unknown[] = [];
    let count = 0;
    for await (const chunk of source.read(sql, { chunkSize: 1000, signal })) {
      for (const row of chunk.rows) {
        count++;
        const values = row as Row;
        const expected = { fp: fingerprint(values), key: keyOfRow(key, values) };
        const actual = { fp: String(values.lm_fp), key: values.lm_key === null ? null : String(values.lm_key) };
        if (expected.fp !== actual.fp || expected.key !== actual.key) disagreements.push({ row: values, expected, actual });
      }
    }
    expect(count).toBe(ROWS);
    expect(disagreements.slice(0, 5)).toEqual([]);
  }, 120_000);
});
