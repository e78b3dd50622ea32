/**
 * What measuring L per row and writing the sync logs back cost: a 100,000-change run (full resync)
 * from a DuckDB model into an unlimited local HTTP endpoint, with both off, L only, and both on
 * (logs into the DuckDB warehouse itself, and into Postgres when it is reachable), alternated in
 * the same process (median of LASTMILE_BENCH_ROUNDS, 3 unless set, after one round not counted),
 * and each against the run with both off of the same round (the median of those ratios); and the
 * time from the end of the delivery to the run's return, where the logs do their work.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { BenchTable } from './run.ts';
import { withDb } from './diff/bench-project.ts';
import { loadProject } from '../src/config/load-project.ts';
import type { Project } from '../src/config/project.ts';
import type { StateStore } from '../src/state/state-store.ts';
import { openStateStore } from '../src/state/open-state-store.ts';
import { runSync } from '../src/engine/run-sync.ts';
import { startSink } from './http-sink.ts';
import { median, PG_URL, pgRun, signedMs } from './databases/bench-databases.ts';

const ROWS = 100_000;
const ROUNDS = Number(process.env.LASTMILE_BENCH_ROUNDS ?? 3);

const PG_LOGS = 'lastmile_bench_logs';

const config = (url: string, state: string, on: boolean, logs: 'warehouse' | 'app_db' | undefined) => `version: 1
state: ${state}
sources: { warehouse: { type: duckdb, path: ./warehouse.duckdb }, app_db: { type: postgres, url: "${PG_URL}" } }
destinations:
  sink: { type: http, url: "${url}/bulk", batch: { size: 1000 }, rateLimit: { requestsPerSecond: 100000, concurrency: 4 } }
models: { prices: { source: warehouse, table: prices, primaryKey: sku${on ? ', eventTime: scraped_at' : ''} } }
syncs:
  prices_sync: { model: prices, destination: sink, mode: upsert, match: { sku: id }, mapping: { price: amount, currency: currency } }
${logs ? `logs: { source: ${logs}, schema: ${logs === 'app_db' ? PG_LOGS : 'lastmile_logs'} }` : ''}
`;

export default async function run(): Promise<BenchTable[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-bench-timeliness-'));
  const sink = await startSink();
  try {
    await withDb(path.join(dir, 'warehouse.duckdb'), (db) => db.run(`
      CREATE TABLE prices AS SELECT 'SKU-' || i AS sku, CAST((i % 100000) / 100.0 AS DECIMAL(10,2)) AS price, 'EUR' AS currency,
             now()::TIMESTAMPTZ - to_seconds(i % 3600) AS scraped_at FROM range(${ROWS}) t(i)`));
    const pgUp = await pgRun(`DROP SCHEMA IF EXISTS ${PG_LOGS} CASCADE`).then(() => true, () => false);
    const variants: { name: 'off' | 'latency' | 'on' | 'pg'; project: Project; store: StateStore; ms: number[]; afterDelivery: number[] }[] = [];
    const all = [['off', false, undefined], ['latency', true, undefined], ['on', true, 'warehouse'], ['pg', true, 'app_db']] as const;
    for (const [name, on, logs] of all.filter(([name]) => name !== 'pg' || pgUp)) {
      const file = path.join(dir, `${name}.yml`);
      await writeFile(file, config(sink.url, `.state-${name}`, on, logs));
      const project = await loadProject(file);
      variants.push({ name, project, store: await openStateStore(project.state), ms: [], afterDelivery: [] });
    }
    // Round 0 is not counted: each variant's first run adds every row to an empty state, the
    // rounds after it change every row (a full resync), and the two take different paths.
    // Each round starts with the next variant: a run pays for some of what the one before it left
    // (garbage, files still being written out), and no variant should always follow the same one.
    for (let round = 0; round <= ROUNDS; round++) {
      for (const v of variants.map((_, i) => variants[(round + i) % variants.length]!)) {
        const started = performance.now();
        const summary = await runSync({ project: v.project, store: v.store }, 'prices_sync', { trigger: 'cli', fullResync: true });
        const [ms, ended] = [performance.now() - started, Date.now()];
        if (summary.delivered !== ROWS) throw new Error(`bench run delivered ${summary.delivered}: ${summary.error ?? summary.status}`);
        const { trace } = (await v.store.getRun(summary.runId))!;
        if (round > 0) v.ms.push(ms);
        if (round > 0) v.afterDelivery.push(ended - Date.parse(trace.find((line) => line.step === 3 && line.text.startsWith('delivered '))!.at));
        if (process.env.LASTMILE_BENCH_TRACE) console.error(trace.slice(-3).map((l) => l.text).join('\n'));
      }
    }
    const percent = (ratio: number) => `${((ratio - 1) * 100).toFixed(1)} %`;
    const off = median(variants[0]!.ms);
    const rows = variants.map((v) => ({
      run: {
        off: 'both off', latency: 'eventTime (L per row) only', on: 'eventTime (L per row) + logs written back (DuckDB warehouse)',
        pg: 'eventTime (L per row) + logs written back (Postgres)',
      }[v.name],
      'median (ms)': Math.round(median(v.ms)),
      runs: v.ms.map(Math.round).join(', '),
      'vs off': v.name === 'off' ? '' : percent(median(v.ms) / off),
      // Each round's runs are side by side: their ratio is less at the mercy of a slow minute than the medians'.
      'vs off, by round': v.name === 'off' ? '' : percent(median(v.ms.map((ms, round) => ms / variants[0]!.ms[round]!))),
      // From the trace's line that ends the delivery to the run's return: where the logs do their
      // work, apart from the delivery, which is most of the run and of its noise.
      'after the delivery (ms)': Math.round(median(v.afterDelivery)),
      'after the delivery vs off, by round': v.name === 'off' ? '' : signedMs(median(v.afterDelivery.map((ms, round) => ms - variants[0]!.afterDelivery[round]!))),
    }));
    for (const v of variants) await v.store.close();
    if (pgUp) await pgRun(`DROP SCHEMA IF EXISTS ${PG_LOGS} CASCADE`);
    return [{ title: `L per row and sync logs: ${ROWS.toLocaleString('en-US')}-change run into a local endpoint (median of ${ROUNDS}, alternated)`, rows }];
  } finally {
    await sink.close();
    await rm(dir, { recursive: true, force: true });
  }
}
