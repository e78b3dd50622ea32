import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickhouseSource } from '../../src/sources/clickhouse/clickhouse-source.ts';
import { clickhouseFingerprint } from '../../src/diff/fingerprint/clickhouse-fingerprint.ts';
import { COVERED, loadCoveredRows, sqlAgreement } from './sql-agreement.ts';
import { isWarehouseSource } from '../../src/diff/warehouse/warehouse-session.ts';
import type { Column } from '../../src/sources/source.ts';
import { ClickhouseFake } from '../fakes/clickhouse/clickhouse-fake.ts';
import { diffConformance } from '../conformance/diff-conformance.ts';
import { literal, serverFixture, type Server } from './server-diff-fixture.ts';

const PASSWORD = 'ch-secret-7f3a9b2c1d';
const settings = (fake: ClickhouseFake) => ({ url: fake.url, user: 'lastmile', password: PASSWORD });

describe('recipe v1 in ClickHouse SQL (through the ClickHouse fake)', () => {
  let fake: ClickhouseFake;
  beforeAll(async () => { fake = await new ClickhouseFake({ user: 'lastmile', password: PASSWORD }).start(); });
  afterAll(async () => { await fake?.stop(); });

  it('gives rows of every covered type the keys and fingerprints TypeScript gives them', async () => {
    // ClickHouse reads every DateTime as an instant: the zoneless column is left out (COVERED).
    const loaded = await loadCoveredRows((sql) => fake.sql(sql), 3000, 20261205);
    const source = new ClickhouseSource('ch', settings(fake));
    const keys = [['id'], ['tag'], ['day'], ['instant'], ['id', 'n']].map((names) => names.map((n) => COVERED.find((c) => c.name === n)!) as Column[]);
    const inputs = COVERED.filter((c) => c.name !== 'id') as Column[];
    const { count, disagreements } = await sqlAgreement(source, source.fingerprintSql, 't', inputs, keys);
    expect(count).toBe(loaded);
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
