import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickhouseSource } from '../../src/sources/clickhouse/clickhouse-source.ts';
import { clickhouseFingerprint } from '../../src/diff/fingerprint/clickhouse-fingerprint.ts';
import { sqlAgreement } from './sql-agreement.ts';
import { isWarehouseSource } from '../../src/diff/warehouse/warehouse-session.ts';
import type { Column } from '../../src/sources/source.ts';
import { quoteIdentifier } from '../../src/sql-identifier.ts';
import { ClickhouseFake } from '../fakes/clickhouse/clickhouse-fake.ts';
import { diffConformance } from '../conformance/diff-conformance.ts';
import { COLUMNS, generateRows } from './fingerprint-rows.ts';
import { literal, serverFixture, type Server } from './server-diff-fixture.ts';

const PASSWORD = 'ch-secret-7f3a9b2c1d';
const settings = (fake: ClickhouseFake) => ({ url: fake.url, user: 'lastmile', password: PASSWORD });

describe('recipe v1 in ClickHouse SQL (through the ClickHouse fake)', () => {
  let fake: ClickhouseFake;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lm-chfp-'));
  beforeAll(async () => { fake = await new ClickhouseFake({ user: 'lastmile', password: PASSWORD }).start(); });
  afterAll(async () => {
    await fake?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives rows of every covered type the keys and fingerprints TypeScript gives them', async () => {
    // ClickHouse reads every DateTime as an instant: the zoneless column is left out.
    const covered = COLUMNS.filter((c) => ['bigint', 'integer', 'varchar', 'decimal', 'boolean', 'date', 'timestamptz'].includes(c.type));
    // No infinite dates or instants in ClickHouse; a leading U+FEFF is dropped by the fake's
    // DuckDB decoder (fingerprint-agreement.test.ts): such rows would test the fake.
    const generated = generateRows(3000, 20261205)
      .filter((g) => !Object.values(g.text).some((t) => t?.startsWith('\ufeff') || t === 'infinity' || t === '-infinity'));
    const file = path.join(dir, 'rows.json');
    writeFileSync(file, generated.map((g) => JSON.stringify(g.text)).join('\n'));
    const record = covered.map((c) => `${quoteIdentifier(c.name)}: 'VARCHAR'`).join(', ');
    const casts = covered.map((c) => `CAST(${quoteIdentifier(c.name)} AS ${c.duckdb}) AS ${quoteIdentifier(c.name)}`).join(', ');
    await fake.sql(`CREATE TABLE t AS SELECT ${casts} FROM read_json('${file}', format = 'newline_delimited', columns = {${record}})`);
    const source = new ClickhouseSource('ch', settings(fake));
    const keys = [['id'], ['tag'], ['day'], ['instant'], ['id', 'n']].map((names) => names.map((n) => covered.find((c) => c.name === n)!) as Column[]);
    const inputs = covered.filter((c) => c.name !== 'id') as Column[];
    const { count, disagreements } = await sqlAgreement(source, source.fingerprintSql, 't', inputs, keys);
    expect(count).toBe(generated.length);
    expect(count).toBeGreaterThan(2500);
    expect(disagreements).toEqual([]);
  }, 120_000);

  it('fingerprints rows but keeps no state: diff: warehouse is not offered', () => {
    expect(isWarehouseSource(new ClickhouseSource('ch', settings(fake)))).toBe(false);
    expect(() => clickhouseFingerprint('s', [{ name: 'score', type: 'double' }])).toThrow(/"score" \(double\).*diff: workspace/);
  });
});

const fake = await new ClickhouseFake({ user: 'lastmile', password: PASSWORD }).start();
const server: Server = {
  makeSource: () => new ClickhouseSource('warehouse', settings(fake)),
  exec: (sql) => fake.sql(sql),
  create: 'CREATE TABLE items (sku VARCHAR, price DECIMAL(10,2) NOT NULL, qty INTEGER NOT NULL, seen TIMESTAMPTZ, note VARCHAR)',
  tuple: (r) => `(${[r.sku, r.price, r.qty, r.seen, r.note].map(literal).join(', ')})`,
};
const f = serverFixture(server, 'engine', 'unused');
diffConformance('engine diff, ClickHouse (fake)', f.fixture, async () => {
  await f.teardown();
  await fake.stop();
});
