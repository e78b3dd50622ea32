// Measures what the state stores cost the diff and the delivery loop. Not a test: run by hand,
//   node --import tsx test/state/measure-state-store.ts [ROWS=10000000] [postgres://… to include Postgres]
// 1. plan-time diff of ROWS rows: previous state as a plain DuckDB table vs the store's rowStateFiles (+ diff)
// 2. commitRows throughput with 100-row batches, one at a time and 8 in flight
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { EmbeddedStateStore } from '../../src/state/embedded/embedded-state-store.ts';
import { PostgresStateStore } from '../../src/state/postgres/postgres-state-store.ts';
import type { RowStateUpdate, StateStore } from '../../src/state/state-store.ts';
import { rowStateSql } from '../../src/state/row-state-sql.ts';

const rows = Number(process.argv[2] ?? 10_000_000);
const pgUrl = process.argv[3];
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lm-measure-'));
const instance = await DuckDBInstance.create(':memory:');
const ws = await instance.connect();

const time = async (work: () => Promise<unknown>) => { const t0 = performance.now(); await work(); return performance.now() - t0; };
/** CPU time of this process (DuckDB's threads included): steadier than wall time on a busy machine. */
const cpuTime = async (work: () => Promise<unknown>) => { const t0 = process.cpuUsage(); await work(); const d = process.cpuUsage(t0); return (d.user + d.system) / 1000; };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => `${Math.round(x).toLocaleString('en-US')} ms`;

/** The engine's diff: keep only added / changed / removed rows, then count them. */
const diff = (prev: string) => async () => {
  await ws.run(`CREATE OR REPLACE TEMP TABLE delta AS
    SELECT CASE WHEN p.key IS NULL THEN 'added' WHEN c.key IS NULL THEN 'removed' ELSE 'changed' END AS change,
           coalesce(c.key, p.key) AS key, c.fp, p.status, p.dest_id, p.match
    FROM cur AS c FULL OUTER JOIN ${prev} AS p ON c.key = p.key
    WHERE p.key IS NULL OR c.key IS NULL OR c.fp <> p.fp`);
  await ws.run(`SELECT change, count(*) FROM delta GROUP BY change`);
};

console.log(`rows: ${rows.toLocaleString('en-US')}  (cpus: ${os.cpus().length}, load: ${os.loadavg()[0].toFixed(1)})`);
await ws.run(`CREATE TABLE cur AS SELECT 'k' || i AS key, hash(i, i % 10 = 0) AS fp FROM range(${rows}) r(i) WHERE i % 100 <> 1`);
await ws.run(`CREATE TABLE prev_table AS SELECT 'k' || i AS key, hash(i, false) AS fp, 'delivered' AS status,
  'id-' || i AS dest_id, '{"sku":"k' || i || '"}' AS match FROM range(${rows}) r(i) WHERE i % 100 <> 2`);

const seed = path.join(root, 'seed.parquet');
await ws.run(`COPY prev_table TO '${seed}' (FORMAT parquet)`);
const embedded = new EmbeddedStateStore(root);
console.log(`embedded: seed snapshot (replaceRowState) ${ms(await time(() => embedded.replaceRowState('bench', { parquet: seed })))}`);
await report('embedded', embedded);
const journalRows = Math.min(100_000, rows / 10);
for (let i = 0; i < journalRows; i += 1000) await embedded.commitRows('bench', batch(i, 1000));
await ws.run(`CREATE OR REPLACE TEMP TABLE prev_table AS SELECT * FROM prev_table`); // keep the baseline identical
await report(`embedded + ${journalRows.toLocaleString('en-US')} journal rows`, embedded);
console.log(`embedded: compaction of ${rows.toLocaleString('en-US')} rows ${ms(await time(() => embedded.compactRowState('bench')))}`);
await throughput('embedded', embedded);
await embedded.close();

if (pgUrl) {
  const pg = await PostgresStateStore.open(pgUrl, { schema: 'lm_measure' });
  console.log(`postgres: seed (replaceRowState) ${ms(await time(() => pg.replaceRowState('bench', { parquet: seed })))}`);
  await report('postgres', pg, 1);
  await throughput('postgres', pg);
  await pg.close();
}
fs.rmSync(root, { recursive: true, force: true });

async function report(label: string, store: StateStore, repeat = 3): Promise<void> {
  const plain = { wall: [] as number[], cpu: [] as number[] };
  const exposed = { wall: [] as number[], cpu: [] as number[] };
  const withState = async () => {
    const files = await store.rowStateFiles('bench');
    await ws.run(`CREATE OR REPLACE TEMP ${files.base?.format === 'csv' ? 'TABLE' : 'VIEW'} prev_view AS ${rowStateSql(files)}`);
    await files.release();
    await diff('prev_view')();
  };
  for (let i = 0; i < repeat; i++) {
    plain.wall.push(await time(diff('prev_table')));
    exposed.wall.push(await time(withState));
    plain.cpu.push(await cpuTime(diff('prev_table')));
    exposed.cpu.push(await cpuTime(withState));
  }
  const line = (what: keyof typeof plain) =>
    `${ms(median(plain[what]))} plain table vs ${ms(median(exposed[what]))} rowStateFiles + diff = ${(median(exposed[what]) / median(plain[what])).toFixed(2)}x`;
  console.log(`${label}: wall ${line('wall')}; cpu ${line('cpu')}`);
}

async function throughput(label: string, store: StateStore): Promise<void> {
  for (const inFlight of [1, 8]) {
    let n = 0;
    const until = performance.now() + 3000;
    await Promise.all(Array.from({ length: inFlight }, async (_, lane) => {
      while (performance.now() < until) await store.commitRows('throughput', batch(1e9 + (n++ * 100) + lane, 100));
    }));
    console.log(`${label}: commitRows of 100-row batches, ${inFlight} in flight: ${Math.round(n / 3)} commits/s (${Math.round(n * 100 / 3).toLocaleString('en-US')} rows/s)`);
  }
}

function batch(first: number, size: number): RowStateUpdate[] {
  return Array.from({ length: size }, (_, i) => ({
    key: `k${first + i}`, fp: String(1000 + i), status: 'delivered', destId: `id-${first + i}`, match: { sku: `k${first + i}` },
  }));
}
