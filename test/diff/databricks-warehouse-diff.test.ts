import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabricksSource } from '../../src/sources/databricks/databricks-source.ts';
import { databricksFingerprint, databricksKey } from '../../src/diff/fingerprint/databricks-fingerprint.ts';
import { databricksDialect } from '../../src/diff/warehouse/databricks-dialect.ts';
import type { Column } from '../../src/sources/source.ts';
import { COVERED, loadCoveredRows, sqlAgreement } from './sql-agreement.ts';
import { DatabricksFake } from '../fakes/databricks/databricks-fake.ts';
import { diffConformance, expectedOf, MAPPED, row, SIGNATURE } from '../conformance/diff-conformance.ts';
import { openWarehouseDiff } from '../../src/diff/warehouse/warehouse-diff.ts';
import { openEngineDiff } from '../../src/diff/engine/engine-diff.ts';
import { WarehouseRowState } from '../../src/diff/warehouse/warehouse-row-state.ts';
import { EmbeddedStateStore } from '../../src/state/embedded/embedded-state-store.ts';
import type { DiffRequest } from '../../src/diff/diff.ts';
import { literal, serverFixture, type Server } from './server-diff-fixture.ts';

const TOKEN = 'dapi0123456789abcdef0123456789abcd';
const WAREHOUSE = '1a2b3c4d5e6f7a8b';
const settings = (fake: DatabricksFake, disposition: 'INLINE' | 'EXTERNAL_LINKS' = 'EXTERNAL_LINKS') =>
  ({ host: fake.url, token: TOKEN, warehouseId: WAREHOUSE, waitTimeout: 10, disposition });

describe('recipe v1 in Databricks SQL (through the Databricks fake)', () => {
  let fake: DatabricksFake;
  beforeAll(async () => { fake = await new DatabricksFake({ token: TOKEN, warehouseId: WAREHOUSE, rowsPerChunk: 1000 }).start(); });
  afterAll(async () => { await fake?.stop(); });

  it('gives rows of every covered type the keys and fingerprints TypeScript gives them', async () => {
    const loaded = await loadCoveredRows((sql) => fake.sql(sql), 3000, 20261204);
    const source = new DatabricksSource('dbx', settings(fake, 'INLINE'));
    const keys = [['id'], ['tag'], ['day'], ['id', 'n']].map((names) => names.map((n) => COVERED.find((c) => c.name === n)!) as Column[]);
    const inputs = COVERED.filter((c) => c.name !== 'id') as Column[];
    const { count, disagreements } = await sqlAgreement(source, databricksDialect, 't', inputs, keys);
    expect(count).toBe(loaded);
    expect(count).toBeGreaterThan(2500);
    expect(disagreements).toEqual([]);
  }, 120_000);

  it('refuses a column it does not cover, naming it', () => {
    expect(() => databricksFingerprint('s', [{ name: 'local', type: 'timestamp' }])).toThrow(/"local" \(timestamp\).*diff: workspace/);
    expect(() => databricksKey([{ name: 'at', type: 'timestamptz' }])).toThrow(/"at" \(timestamptz\)/);
  });
});

describe('diff inside Databricks: only the changed rows leave the warehouse', () => {
  const ROWS = 5000;
  const CHANGED = 50;
  let fake: DatabricksFake;
  let source: DatabricksSource;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lm-dbxdiff-egress-'));
  const inner = new EmbeddedStateStore(path.join(dir, '.lastmile'));
  const signal = new AbortController().signal;

  beforeAll(async () => {
    fake = await new DatabricksFake({ token: TOKEN, warehouseId: WAREHOUSE, rowsPerChunk: 1000 }).start();
    source = new DatabricksSource('warehouse', settings(fake));
    await fake.sql(`CREATE TABLE items AS SELECT 'SKU-' || lpad(CAST(i AS VARCHAR), 5, '0') AS sku, CAST(i + 0.5 AS DECIMAL(10,2)) AS price,
      CAST(i AS INTEGER) AS qty, TIMESTAMPTZ '2026-03-01 10:00:00+00' AS seen, 'n' AS note FROM range(1, ${ROWS + 1}) t(i)`);
  }, 60_000);
  afterAll(async () => {
    await fake?.stop();
    await inner.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const method of ['warehouse', 'engine'] as const) {
    it(`diff: ${method} sends only the changed rows (counted by the fake)`, async () => {
      const state = method === 'warehouse' ? await WarehouseRowState.open(source.openSession(), 'lastmile', inner) : inner;
      const sync = `egress-${method}`;
      await state.commitRows(sync, Array.from({ length: ROWS }, (_, n) => {
        const { key, fp } = expectedOf(row(n + 1, { sku: `SKU-${String(n + 1).padStart(5, '0')}`, seen: '2026-03-01T10:00:00.000000Z' }));
        return { key: key!, fp, status: 'delivered' as const, destId: null, match: null };
      }));
      await fake.sql(`UPDATE items SET qty = qty + 1000000 WHERE CAST(substr(sku, 5) AS INTEGER) <= ${CHANGED}`);
      try {
        const before = fake.rowsReturned;
        const diff = await (method === 'warehouse' ? openWarehouseDiff : openEngineDiff)({
          sync, state, source, model: { name: 'items', source: 'warehouse', table: 'items', primaryKey: ['sku'] },
          fingerprint: () => ({ signature: SIGNATURE, columns: MAPPED }), since: null, retryRejected: false, fullResync: false, persist: true, signal,
        } as DiffRequest);
        try {
          expect(diff.counts).toMatchObject({ fetched: ROWS, added: 0, changed: CHANGED, removed: 0, unchanged: ROWS - CHANGED });
          let sent = 0;
          for await (const chunk of diff.changes(['added', 'changed', 'removed'], { chunkSize: 100, signal })) sent += chunk.length;
          expect(sent).toBe(CHANGED);
        } finally {
          await diff.close();
        }
        const left = fake.rowsReturned - before;
        expect(left).toBeGreaterThanOrEqual(CHANGED);
        // diff: warehouse: the changed rows and a few rows of counts; diff: engine: also every (key, fingerprint) pair.
        if (method === 'warehouse') expect(left).toBeLessThanOrEqual(CHANGED + ROWS / 100);
        else expect(left).toBeLessThanOrEqual(ROWS + CHANGED + ROWS / 100);
      } finally {
        await fake.sql(`UPDATE items SET qty = qty - 1000000 WHERE qty > 1000000`);
      }
    }, 120_000);
  }
});

const fake = await new DatabricksFake({ token: TOKEN, warehouseId: WAREHOUSE, rowsPerChunk: 7 }).start();
const server: Server = {
  makeSource: () => new DatabricksSource('warehouse', settings(fake)),
  exec: (sql) => fake.sql(sql),
  create: 'CREATE TABLE items (sku VARCHAR, price DECIMAL(10,2) NOT NULL, qty INTEGER NOT NULL, seen TIMESTAMPTZ, note VARCHAR)',
  tuple: (r) => `(${[r.sku, r.price, r.qty, r.seen, r.note].map(literal).join(', ')})`,
};
for (const method of ['warehouse', 'engine'] as const) {
  const f = serverFixture(server, method, `lastmile_${method}`);
  diffConformance(`${method} diff, Databricks (fake)`, f.fixture, async () => {
    await f.teardown();
    if (method === 'engine') await fake.stop();
  });
}
