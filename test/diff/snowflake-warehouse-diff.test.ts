import os from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnowflakeSource } from '../../src/sources/snowflake/snowflake-source.ts';
import { openWarehouseDiff } from '../../src/diff/warehouse/warehouse-diff.ts';
import { openEngineDiff } from '../../src/diff/engine/engine-diff.ts';
import { WarehouseRowState } from '../../src/diff/warehouse/warehouse-row-state.ts';
import { EmbeddedStateStore } from '../../src/state/embedded/embedded-state-store.ts';
import type { StateStore } from '../../src/state/state-store.ts';
import type { DiffRequest } from '../../src/diff/diff.ts';
import { SnowflakeFake } from '../fakes/snowflake/snowflake-fake.ts';
import { diffConformance, expectedOf, MAPPED, row, SIGNATURE, type DiffFixture, type ModelRow } from '../conformance/diff-conformance.ts';

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const CREATE = 'CREATE TABLE items ("sku" VARCHAR, "price" DECIMAL(10,2), "qty" INTEGER, "seen" TIMESTAMPTZ, "note" VARCHAR)';
const literal = (v: string | number | null) => (v === null ? 'NULL' : `'${v}'`);
const tuple = (r: ModelRow) => `(${[r.sku, r.price, r.qty, r.seen, r.note].map(literal).join(', ')})`;

async function startFake(partitionRows = 1000): Promise<SnowflakeFake> {
  return new SnowflakeFake({ account: 'MYORG-ACCT', user: 'LASTMILE', publicKey: keys.publicKey, partitionRows }).start();
}

function makeSource(fake: SnowflakeFake): SnowflakeSource {
  return new SnowflakeSource('warehouse', { account: 'myorg-acct', user: 'lastmile', auth: { privateKey }, url: fake.url });
}

/** `diff: warehouse` (state in `lastmile` in the fake) or `diff: engine` (state in the engine's store) over `items` in the Snowflake fake. */
function fakeFixture(method: 'warehouse' | 'engine') {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lm-sfdiff-'));
  let fake: SnowflakeFake | undefined;
  let source: SnowflakeSource;
  let state: StateStore;
  const inner = new EmbeddedStateStore(path.join(dir, '.lastmile'));
  const fixture = async (): Promise<DiffFixture> => {
    fake ??= await startFake();
    source = makeSource(fake);
    state = method === 'warehouse' ? await WarehouseRowState.open(source.openSession(), 'lastmile', inner) : inner;
    const open = method === 'warehouse' ? openWarehouseDiff : openEngineDiff;
    return {
      async setModel(rows: ModelRow[]) {
        await fake!.engine.run(`DROP TABLE IF EXISTS items; ${CREATE}`);
        if (rows.length) await fake!.engine.run(`INSERT INTO items VALUES ${rows.map(tuple).join(', ')}`);
      },
      open: (sync, options = {}) => open({
        sync, state, source,
        model: { name: 'items', source: 'warehouse', table: 'items', primaryKey: ['sku'], cursor: options.cursor },
        fingerprint: () => ({ signature: SIGNATURE, columns: MAPPED }),
        since: options.since ?? null, retryRejected: options.retryRejected ?? false, fullResync: options.fullResync ?? false,
        persist: options.persist ?? true, signal: new AbortController().signal,
      } as DiffRequest),
      commit: (sync, updates) => state.commitRows(sync, updates),
    };
  };
  const teardown = async () => {
    if (state !== inner) await state?.close();
    await source?.close();
    await inner.close();
    await fake?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { fixture, teardown };
}

for (const method of ['warehouse', 'engine'] as const) {
  const f = fakeFixture(method);
  diffConformance(`${method} diff, Snowflake (fake)`, f.fixture, f.teardown);
}

describe('diff inside Snowflake: only the changed rows leave the warehouse', () => {
  const ROWS = 5000;
  const CHANGED = 50;
  let fake: SnowflakeFake;
  let source: SnowflakeSource;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lm-sfdiff-egress-'));
  const inner = new EmbeddedStateStore(path.join(dir, '.lastmile'));
  const signal = new AbortController().signal;

  beforeAll(async () => {
    fake = await startFake(1000);
    source = makeSource(fake);
    await fake.engine.run(`${CREATE}; INSERT INTO items SELECT 'SKU-' || lpad(CAST(i AS VARCHAR), 5, '0'), i + 0.5, i,
      TIMESTAMPTZ '2026-03-01 10:00:00+00', 'n' FROM range(1, ${ROWS + 1}) t(i)`);
  }, 60_000);
  afterAll(async () => {
    await source?.close();
    await fake?.stop();
    await inner.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A state of every row as the model holds it, then `CHANGED` rows changed in the warehouse. */
  async function seed(state: StateStore, sync: string) {
    const updates = Array.from({ length: ROWS }, (_, n) => {
      const i = n + 1;
      const { key, fp } = expectedOf(row(i, { sku: `SKU-${String(i).padStart(5, '0')}`, seen: '2026-03-01T10:00:00.000000Z' }));
      return { key: key!, fp, status: 'delivered' as const, destId: null, match: null };
    });
    await state.commitRows(sync, updates);
  }

  const request = (sync: string, state: StateStore): DiffRequest => ({
    sync, state, source,
    model: { name: 'items', source: 'warehouse', table: 'items', primaryKey: ['sku'] },
    fingerprint: () => ({ signature: SIGNATURE, columns: MAPPED }),
    since: null, retryRejected: false, fullResync: false, persist: true, signal,
  } as DiffRequest);

  for (const method of ['warehouse', 'engine'] as const) {
    it(`diff: ${method} sends only the changed rows (counted by the fake)`, async () => {
      const state = method === 'warehouse' ? await WarehouseRowState.open(source.openSession(), 'lastmile', inner) : inner;
      const sync = `egress-${method}`;
      await seed(state, sync);
      await fake.engine.run(`UPDATE items SET "qty" = "qty" + 1000000 WHERE CAST(substr("sku", 5) AS INTEGER) <= ${CHANGED}`);
      try {
        const before = fake.rowsReturned;
        const diff = await (method === 'warehouse' ? openWarehouseDiff : openEngineDiff)(request(sync, state));
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
        await fake.engine.run(`UPDATE items SET "qty" = "qty" - 1000000 WHERE "qty" > 1000000`);
        if (state !== inner) await state.close();
      }
    }, 60_000);
  }
});

describe('Snowflake row state in the warehouse', () => {
  let fake: SnowflakeFake;
  let source: SnowflakeSource;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lm-sfstate-'));
  const inner = new EmbeddedStateStore(path.join(dir, '.lastmile'));

  beforeAll(async () => {
    fake = await startFake();
    source = makeSource(fake);
  });
  afterAll(async () => {
    await source?.close();
    await fake?.stop();
    await inner.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps keys and values with quotes, backslashes, ? and | as they were committed', async () => {
    const state = await WarehouseRowState.open(source.openSession(), 'lastmile', inner);
    const odd = [`it's`, 'back\\slash', 'why?', 'a|b', `"quoted"`, '\\N'];
    await state.commitRows('odd', odd.map((key, i) => ({ key, fp: String(i + 1), status: 'delivered' as const, destId: `${key}?`, match: { k: key } })));
    const read = [];
    for await (const rows of state.readRowState('odd')) read.push(...rows);
    expect(read.map((r) => [r.key, r.fp, r.destId, r.match]).sort()).toEqual(odd.map((key, i) => [key, String(i + 1), `${key}?`, { k: key }]).sort());
  });

  it('commits a batch whole or not at all: a statement the warehouse refuses inside it leaves the state as it was', async () => {
    // A state table that refuses one key (a CHECK the fake enforces), so the batch's second statement fails.
    await fake.engine.run(`CREATE SCHEMA atomic; CREATE TABLE atomic.lastmile_row_state (sync_name VARCHAR NOT NULL, row_key VARCHAR NOT NULL,
      fp DECIMAL(20,0) NOT NULL, status VARCHAR NOT NULL, dest_id VARCHAR, match_json VARCHAR, PRIMARY KEY (sync_name, row_key), CHECK (row_key <> 'k550'))`);
    const state = await WarehouseRowState.open(source.openSession(), 'atomic', inner);
    await state.commitRows('atomic', [{ key: 'a', fp: '1', status: 'delivered', destId: null, match: null }]);
    const batch = Array.from({ length: 600 }, (_, i) => ({ key: `k${i}`, fp: String(i + 2), status: 'delivered' as const, destId: null, match: null }));
    await expect(state.commitRows('atomic', [{ key: 'a', deleted: true as const }, ...batch])).rejects.toThrow(/the statements failed/);
    const read = [];
    for await (const rows of state.readRowState('atomic')) read.push(...rows);
    expect(read.map((r) => [r.key, r.fp])).toEqual([['a', '1']]);
    // The same batch without the refused key commits whole.
    await state.commitRows('atomic', [{ key: 'a', deleted: true as const }, ...batch.filter((u) => u.key !== 'k550')]);
    const after = [];
    for await (const rows of state.readRowState('atomic')) after.push(...rows);
    expect(after).toHaveLength(599);
  });
});
