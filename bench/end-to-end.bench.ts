/**
 * End to end from a DuckDB model into an unlimited local HTTP endpoint: rows per second of a
 * whole run (read, diff, map, batch, deliver, commit state), first sync and a 10 %-changed sync,
 * beside the floor of the same machine (bench/floor-pipeline.ts).
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { BenchTable } from './run.ts';
import { withDb } from './diff/bench-project.ts';
import { loadProject } from '../src/config/load-project.ts';
import { openStateStore } from '../src/state/open-state-store.ts';
import { runSync } from '../src/engine/run-sync.ts';
import { floorPipeline } from './floor-pipeline.ts';
import { startSink } from './http-sink.ts';

const ROWS = process.env.LASTMILE_BENCH_QUICK === '1' ? 200_000 : 1_000_000;

export default async function run(): Promise<BenchTable[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-bench-e2e-'));
  const sink = await startSink();
  try {
    const warehouse = path.join(dir, 'warehouse.duckdb');
    await withDb(warehouse, (db) => db.run(`
      CREATE TABLE prices AS SELECT 'SKU-' || i AS sku, (['acme','globex','hooli'])[1 + i % 3] AS competitor,
             CAST((i % 100000) / 100.0 AS DECIMAL(10,2)) AS price, 'EUR' AS currency FROM range(${ROWS}) t(i)`));
    await writeFile(path.join(dir, 'lastmile.yml'), `version: 1
state: .lastmile
sources: { warehouse: { type: duckdb, path: ./warehouse.duckdb } }
destinations:
  sink: { type: http, url: "${sink.url}/bulk", batch: { size: 1000 }, rateLimit: { requestsPerSecond: 100000, concurrency: 4 } }
models: { prices: { source: warehouse, table: prices, primaryKey: sku } }
syncs:
  prices_sync: { model: prices, destination: sink, mode: upsert, match: { sku: id }, mapping: { price: amount, currency: currency, competitor: competitor } }
`);
    const project = await loadProject(path.join(dir, 'lastmile.yml'));
    const store = await openStateStore(project.state);
    const rows: BenchTable['rows'] = [];
    const row = (run: string, status: string, sent: number, delivered: number, took: Took) =>
      rows.push({ run, status, 'rows sent': sent, delivered, 'duration (ms)': Math.round(took.ms), 'CPU (s)': took.cpuS.toFixed(1), 'rows/s end to end': Math.round(sent / (took.ms / 1000)) });
    const measure = async (label: string) => {
      const { value: summary, took } = await timed(() => runSync({ project, store }, 'prices_sync', { trigger: 'cli' }));
      row(label, summary.status + (summary.error ? `: ${summary.error.split('\n')[0]}` : ''), summary.added + summary.changed, summary.delivered, took);
      return took;
    };
    // The floor before and after the first sync (the better one counts): the same rows, the same sink, the same batches.
    const floorRun = () => timed(() => floorPipeline(warehouse, `${sink.url}/bulk`, 1000, 4));
    const floorBefore = await floorRun();
    const first = await measure(`first sync of ${ROWS.toLocaleString('en-US')} rows`);
    const floorAfter = await floorRun();
    const floor = floorBefore.took.ms < floorAfter.took.ms ? floorBefore : floorAfter;
    row('floor: DuckDB builds the JSON bodies, a minimal sender posts them', 'success', floor.value.rows, floor.value.rows, floor.took);
    rows.push({ run: 'first sync ÷ floor', 'rows/s end to end': `${(floor.took.ms / first.ms).toFixed(2)}× the floor's rate (CPU ${(first.cpuS / floor.took.cpuS).toFixed(1)}× the floor's)` });
    await withDb(warehouse, (db) => db.run(`UPDATE prices SET price = price + 1 WHERE hash(sku) % 10 = 0`));
    await measure('10 % changed');
    await store.close();
    return [{ title: 'end to end: DuckDB model → unlimited local HTTP endpoint (batch 1,000, 4 in flight)', rows }];
  } finally {
    await sink.close();
    await rm(dir, { recursive: true, force: true });
  }
}

interface Took {
  ms: number;
  /** CPU time of the whole process (DuckDB's threads and the sink included), less sensitive to a busy machine than wall time. */
  cpuS: number;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; took: Took }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await fn();
  const used = process.cpuUsage(cpu);
  return { value, took: { ms: performance.now() - started, cpuS: (used.user + used.system) / 1e6 } };
}
