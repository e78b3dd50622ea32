/**
 * `npm run bench -- snowflake-warehouse`: diff: warehouse on a 1,000,000-row model in the
 * Snowflake fake (100,000 with LASTMILE_BENCH_QUICK=1), state in the warehouse, 1 % of the rows
 * changed. The state is seeded in the fake with recipe v1 as a previous run would have left it.
 * Rows leaving the warehouse are counted by the fake (every result row it hands out).
 * Goal: rows leaving ≤ changed + 1 % of the model.
 */
import os from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { BenchTable } from './run.ts';
import { SnowflakeSource } from '../src/sources/snowflake/snowflake-source.ts';
import { openWarehouseDiff } from '../src/diff/warehouse/warehouse-diff.ts';
import { WarehouseRowState } from '../src/diff/warehouse/warehouse-row-state.ts';
import { EmbeddedStateStore } from '../src/state/embedded/embedded-state-store.ts';
import { snowflakeFingerprint, snowflakeKey } from '../src/diff/fingerprint/snowflake-fingerprint.ts';
import type { Column } from '../src/sources/source.ts';
import { SnowflakeFake } from '../test/fakes/snowflake/snowflake-fake.ts';
import { snowflakeToDuckdb } from '../test/fakes/snowflake/snowflake-functions.ts';

const ROWS = process.env.LASTMILE_BENCH_QUICK ? 100_000 : 1_000_000;
const SIGNATURE = 'bench:snowflake-warehouse-diff';
const MAPPED: Column[] = [
  { name: 'note', type: 'varchar' }, { name: 'price', type: 'decimal', precision: 12, scale: 2 }, { name: 'qty', type: 'bigint' },
  { name: 'seen', type: 'timestamptz' }, { name: 'sku', type: 'varchar' },
];

export default async function bench(): Promise<BenchTable[]> {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const fake = await new SnowflakeFake({ account: 'MYORG-ACCT', user: 'LASTMILE', publicKey: keys.publicKey, partitionRows: 10_000 }).start();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lm-bench-sfdiff-'));
  const inner = new EmbeddedStateStore(path.join(dir, '.lastmile'));
  const source = new SnowflakeSource('warehouse', { account: 'myorg-acct', user: 'lastmile', auth: { privateKey }, url: fake.url });
  try {
    await fake.engine.run(`CREATE TABLE items AS SELECT 'SKU-' || lpad(CAST(i AS VARCHAR), 7, '0') AS sku, CAST(i * 0.25 AS DECIMAL(12,2)) AS price,
      i AS qty, TIMESTAMPTZ '2026-03-01 00:00:00+00' + i * INTERVAL 1 SECOND AS seen, 'note ' || (i % 97) AS note FROM range(1, ${ROWS + 1}) t(i)`);
    const state = await WarehouseRowState.open(source.openSession(), 'lastmile', inner);
    await fake.engine.run(snowflakeToDuckdb(`INSERT INTO ${state.table} SELECT 'bench', ${snowflakeKey([MAPPED[4]!])},
      ${snowflakeFingerprint(SIGNATURE, MAPPED)}, 'delivered', NULL, NULL FROM items`));
    const changed = ROWS / 100;
    await fake.engine.run(`UPDATE items SET qty = qty + 1 WHERE qty % 100 = 0`);
    const before = fake.rowsReturned;
    const started = performance.now();
    const signal = new AbortController().signal;
    const diff = await openWarehouseDiff({
      sync: 'bench', state, source, signal, since: null, retryRejected: false, fullResync: false, persist: true,
      model: { name: 'items', source: 'warehouse', table: 'items', primaryKey: ['sku'] },
      fingerprint: () => ({ signature: SIGNATURE, columns: MAPPED.map((c) => c.name) }),
    } as Parameters<typeof openWarehouseDiff>[0]);
    let sent = 0;
    try {
      for await (const chunk of diff.changes(['added', 'changed', 'removed'], { chunkSize: 5000, signal })) sent += chunk.length;
    } finally {
      await diff.close();
    }
    const seconds = (performance.now() - started) / 1000;
    const left = fake.rowsReturned - before;
    await state.close();
    return [{
      title: 'diff: warehouse in the Snowflake fake (state in the warehouse, 1 % changed)',
      rows: [{
        'model rows': ROWS, changed, 'rows sent': sent, 'rows leaving the warehouse': left,
        'goal (changed + 1 %)': changed + ROWS / 100, met: left <= changed + ROWS / 100 && sent === changed ? 'yes' : 'no', seconds: seconds.toFixed(1),
      }],
    }];
  } finally {
    await source.close();
    await inner.close();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
