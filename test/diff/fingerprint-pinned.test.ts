import pg from 'pg';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needService, SERVICES } from '../helpers/services.ts';
import {
  fingerprintExpression, fingerprintRow, keyExpression, keyOfRow, type FingerprintColumn, type FingerprintDialect,
} from '../../src/diff/fingerprint/fingerprint-v1.ts';
import { canonicalField } from '../../src/diff/fingerprint/row-fingerprint.ts';
import { signatureMask } from '../../src/diff/fingerprint/fingerprint-recipe.ts';
import type { Row } from '../../src/sources/source.ts';
import { PINNED, SIGNATURE } from './fingerprint-pinned-cases.ts';

const up = await needService('postgres');

describe.skipIf(!up)('fingerprint recipe v1: known values', () => {
  let duck: DuckDBConnection;
  let closeDuck: () => void;
  let client: pg.Client;

  beforeAll(async () => {
    const instance = await DuckDBInstance.create(':memory:');
    duck = await instance.connect();
    closeDuck = () => { duck.closeSync(); instance.closeSync(); };
    client = new pg.Client({ connectionString: SERVICES.postgres.url });
    await client.connect();
  });

  afterAll(async () => {
    closeDuck?.();
    await client?.end();
  });

  /** Key and fingerprint of one row given as `SELECT <literal> AS name, …`, in one engine. */
  async function inSql(dialect: FingerprintDialect, selectList: string, columns: FingerprintColumn[], key = columns): Promise<{ key: string | null; fp: string }> {
    const sql = `SELECT ${keyExpression(dialect, key)} AS key, CAST(${fingerprintExpression(dialect, SIGNATURE, columns)} AS ${dialect === 'duckdb' ? 'VARCHAR' : 'text'}) AS fp
      FROM (SELECT ${selectList}) AS row_values`;
    if (dialect === 'postgres') return (await client.query(sql)).rows[0];
    return (await duck.runAndReadAll(sql)).getRowObjectsJS()[0] as { key: string | null; fp: string };
  }

  it.each(PINNED)('$what: the same field, key and fingerprint in TypeScript, DuckDB and Postgres', async (c) => {
    const row: Row = { x: c.value };
    expect(canonicalField(c.column, c.value)).toBe(c.field);
    expect({ key: keyOfRow([c.column], row), fp: fingerprintRow(SIGNATURE, [c.column], row) }).toEqual({ key: c.key, fp: c.fp });
    expect(await inSql('duckdb', `${c.duckdb} AS x`, [c.column])).toEqual({ key: c.key, fp: c.fp });
    expect(await inSql('postgres', `${c.postgres} AS x`, [c.column])).toEqual({ key: c.key, fp: c.fp });
  });

  it('writes null as \\N for every type, so null and empty text differ, and the key is null', async () => {
    const byType = new Map(PINNED.map((c) => [c.column.type, c]));
    for (const c of byType.values()) {
      expect(canonicalField(c.column, null)).toBe('\\N');
      const nullFp = fingerprintRow(SIGNATURE, [c.column], { x: null });
      expect(await inSql('duckdb', `CAST(NULL AS ${duckType(c.duckdb)}) AS x`, [c.column])).toEqual({ key: null, fp: nullFp });
      expect(await inSql('postgres', `NULL::${pgType(c.postgres)} AS x`, [c.column])).toEqual({ key: null, fp: nullFp });
    }
    const text: FingerprintColumn = { name: 'x', type: 'varchar' };
    expect(fingerprintRow(SIGNATURE, [text], { x: null })).not.toBe(fingerprintRow(SIGNATURE, [text], { x: '' }));
    expect(fingerprintRow(SIGNATURE, [text], { x: null })).not.toBe(fingerprintRow(SIGNATURE, [text], { x: '\\N' }));
  });

  it('keeps column boundaries: moving a separator or a backslash between columns changes the fingerprint', () => {
    const columns: FingerprintColumn[] = [{ name: 'a', type: 'varchar' }, { name: 'b', type: 'varchar' }];
    const rows: Row[] = [{ a: 'x|', b: 'y' }, { a: 'x', b: '|y' }, { a: 'x\\', b: '|y' }, { a: 'x\\|', b: 'y' }, { a: 'x', b: null }, { a: 'x|\\N', b: '' }];
    const fps = rows.map((row) => fingerprintRow(SIGNATURE, columns, row));
    expect(new Set(fps).size).toBe(rows.length);
  });

  it('builds a composite key as a JSON array of the parts, the same in every engine', async () => {
    const columns: FingerprintColumn[] = [{ name: 'id', type: 'bigint' }, { name: 'day', type: 'date' }, { name: 'name', type: 'varchar' }];
    const row: Row = { id: 9007199254740993n, day: '2024-03-01', name: 'O"Brien\\ \u001f|' };
    const expected = { key: '["9007199254740993","2024-03-01","O\\"Brien\\\\ \\u001f|"]', fp: fingerprintRow(SIGNATURE, columns, row) };
    expect(keyOfRow(columns, row)).toBe(expected.key);
    expect(await inSql('duckdb', `9007199254740993::BIGINT AS id, DATE '2024-03-01' AS day, 'O"Brien\\ ' || chr(31) || '|' AS name`, columns)).toEqual(expected);
    expect(await inSql('postgres', `9007199254740993::int8 AS id, DATE '2024-03-01' AS day, 'O"Brien\\ ' || chr(31) || '|' AS name`, columns)).toEqual(expected);
    expect(keyOfRow(columns, { ...row, day: null })).toBeNull();
    expect(await inSql('duckdb', `1::BIGINT AS id, NULL::DATE AS day, 'x' AS name`, columns)).toMatchObject({ key: null });
  });

  it('normalizes by logical class: 12 and 12.00 agree, and one instant agrees in any offset', () => {
    const integer = fingerprintRow(SIGNATURE, [{ name: 'x', type: 'integer' }], { x: 12 });
    expect(fingerprintRow(SIGNATURE, [{ name: 'x', type: 'decimal', scale: 2 }], { x: '12.00' })).toBe(integer);
    expect(fingerprintRow(SIGNATURE, [{ name: 'x', type: 'decimal', scale: 4 }], { x: '12.0000' })).toBe(integer);
    const tz: FingerprintColumn = { name: 'x', type: 'timestamptz' };
    expect(fingerprintRow(SIGNATURE, [tz], { x: '2024-03-01T12:00:00.5+02:00' })).toBe(fingerprintRow(SIGNATURE, [tz], { x: '2024-03-01T10:00:00.500000Z' }));
  });

  it('mixes in the signature: another mapping gives another fingerprint; no column gives the mask itself', () => {
    const columns: FingerprintColumn[] = [{ name: 'x', type: 'varchar' }];
    expect(fingerprintRow('m1:other', columns, { x: 'a' })).not.toBe(fingerprintRow(SIGNATURE, columns, { x: 'a' }));
    expect(fingerprintRow(SIGNATURE, [], {})).toBe((signatureMask(SIGNATURE) ^ 0x04b2008fd98c1dd4n).toString());
  });
});

const duckType = (literal: string) => /::(\w+(\(\d+,\d+\))?)$/.exec(literal)?.[1] ?? literalType(literal);
const pgType = (literal: string) => /::(\w+(\(\d+,\d+\))?)$/.exec(literal)?.[1] ?? literalType(literal);

/** The type of a literal written without a cast (`DATE '…'`, `true`). */
function literalType(literal: string): string {
  if (literal === 'true' || literal === 'false') return 'BOOLEAN';
  const typed = /^(DATE|TIME|TIMESTAMPTZ|TIMESTAMP)\s/.exec(literal);
  if (typed) return typed[1]!;
  return literal.startsWith('to_json') ? 'JSON' : 'VARCHAR';
}
