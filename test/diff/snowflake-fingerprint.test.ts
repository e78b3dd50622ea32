import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seeded } from '../helpers/seeded-random.ts';
import { keyOfRow, rowFingerprinter } from '../../src/diff/fingerprint/fingerprint-v1.ts';
import { snowflakeFingerprint, snowflakeKey } from '../../src/diff/fingerprint/snowflake-fingerprint.ts';
import { SnowflakeSource } from '../../src/sources/snowflake/snowflake-source.ts';
import type { Column, Row } from '../../src/sources/source.ts';
import { SnowflakeFake } from '../fakes/snowflake/snowflake-fake.ts';

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const SIGNATURE = 'm1:snowflake-agreement';
const ROWS = 3000;

const COLUMNS_SQL = `"id" INTEGER, "tag" VARCHAR, "n" INTEGER, "big" BIGINT, "amount" DECIMAL(18,4), "whole" DECIMAL(12,0), "label" VARCHAR,
  "flag" BOOLEAN, "day" DATE, "at_time" TIME, "local_ts" TIMESTAMP, "instant" TIMESTAMPTZ, "bytes" BLOB`;

/** Values of every covered type, edge cases and random ones, ~5 % nulls (DuckDB literals: the fake's engine). */
function generate(count: number): string[] {
  const random = seeded(20261202);
  const pick = <T>(values: T[]) => values[Math.floor(random() * values.length)]!;
  const maybe = (text: string) => (random() < 0.05 ? 'NULL' : text);
  const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;
  const int = (max: number) => Math.floor(random() * max) - Math.floor(max / 2);
  const texts = ['', 'plain', 'a|b', 'back\\slash', '\\N', 'héllo wörld', '日本語', 'tab\there', 'ends with |', '\\|', 'quote "x"', ' lead', 'trail '];
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const rows: string[] = [];
  for (let id = 1; id <= count; id++) {
    const date = `${1900 + Math.floor(random() * 200)}-${pad(1 + Math.floor(random() * 12))}-${pad(1 + Math.floor(random() * 28))}`;
    const time = `${pad(Math.floor(random() * 24))}:${pad(Math.floor(random() * 60))}:${pad(Math.floor(random() * 60))}.${pad(Math.floor(random() * 1e6), 6)}`;
    const offset = pick(['+00', '+02', '-05:30', '+14']);
    const amount = pick(['0.0000', '-0.5000', '12.5000', '100.0000', '-99999999999999.9999', `${int(1e9)}.${pad(Math.floor(random() * 1e4), 4)}`]);
    const hex = Array.from({ length: Math.floor(random() * 8) }, () => Math.floor(random() * 256).toString(16).padStart(2, '0')).join('');
    rows.push(`(${[
      id, maybe(quote(pick(texts) + (random() < 0.5 ? String(id % 7) : ''))), maybe(String(int(2 ** 31))),
      maybe(pick(['9223372036854775807', '-9223372036854775808', '0', String(int(2 ** 53))])), maybe(amount),
      maybe(pick(['0', '-1', '123456789012', String(int(1e6))])), maybe(quote(pick(texts) + pick(texts))),
      maybe(pick(['TRUE', 'FALSE'])), maybe(`DATE '${date}'`), maybe(`TIME '${time}'`), maybe(`TIMESTAMP '${date} ${time}'`),
      maybe(`TIMESTAMPTZ '${date} ${time}${offset}'`), maybe(`unhex('${hex}')`),
    ].join(', ')})`);
  }
  return rows;
}

describe('fingerprint recipe v1 in Snowflake SQL (through the Snowflake fake)', () => {
  let fake: SnowflakeFake;
  let source: SnowflakeSource;
  let columns: Column[];
  const signal = new AbortController().signal;

  beforeAll(async () => {
    fake = await new SnowflakeFake({ account: 'MYORG-ACCT', user: 'LASTMILE', publicKey: keys.publicKey, partitionRows: 1000 }).start();
    await fake.engine.run(`CREATE TABLE items (${COLUMNS_SQL}); INSERT INTO items VALUES ${generate(ROWS).join(', ')}`);
    const privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    source = new SnowflakeSource('wh', { account: 'myorg-acct', user: 'lastmile', auth: { privateKey }, url: fake.url });
    for await (const chunk of source.read('SELECT * FROM items LIMIT 0', { chunkSize: 1, signal })) columns = chunk.columns;
  }, 60_000);

  afterAll(async () => {
    await source?.close();
    await fake?.stop();
  });

  it('gives the rows the Snowflake source reads the keys and fingerprints TypeScript gives them', async () => {
    const inputs = columns.filter((c) => c.name !== 'id').sort((a, b) => a.name.localeCompare(b.name));
    expect(inputs.map((c) => c.type).sort()).toEqual(['bigint', 'bigint', 'bigint', 'blob', 'boolean', 'date', 'decimal', 'time', 'timestamp', 'timestamptz', 'varchar', 'varchar']);
    const fingerprint = rowFingerprinter(SIGNATURE, inputs);
    const composite = columns.filter((c) => c.name === 'id' || c.name === 'tag');
    const byDay = columns.filter((c) => c.name === 'instant');
    const sql = `SELECT TO_VARCHAR(${snowflakeFingerprint(SIGNATURE, inputs)}) AS lm_fp, ${snowflakeKey(composite)} AS lm_key,
      ${snowflakeKey(byDay)} AS lm_instant_key, t.* FROM items AS t`;
    const disagreements: unknown[] = [];
    let count = 0;
    for await (const chunk of source.read(sql, { chunkSize: 1000, signal })) {
      for (const row of chunk.rows as Row[]) {
        count++;
        const expected = { fp: fingerprint(row), key: keyOfRow(composite, row), instantKey: keyOfRow(byDay, row) };
        const actual = { fp: String(row.lm_fp), key: row.lm_key === null ? null : String(row.lm_key), instantKey: row.lm_instant_key === null ? null : String(row.lm_instant_key) };
        if (expected.fp !== actual.fp || expected.key !== actual.key || expected.instantKey !== actual.instantKey) disagreements.push({ row, expected, actual });
      }
    }
    expect(count).toBe(ROWS);
    expect(disagreements.slice(0, 3)).toEqual([]);
  }, 60_000);

  it('refuses a double or VARIANT column, naming it, rather than fingerprint it unverified', () => {
    expect(() => snowflakeFingerprint(SIGNATURE, [{ name: 'score', type: 'double' }])).toThrow(/"score" \(double\).*diff: workspace/);
    expect(() => snowflakeKey([{ name: 'doc', type: 'json' }])).toThrow(/"doc" \(json\)/);
  });
});
