/**
 * Whether writing a run's sync logs into a DuckDB file grows with what the file already holds:
 * a 100,000-change run written (begin, then write and commit, as a run's SyncLogs does) into a
 * file whose changes table is empty, and into files already holding 1M and 5M changes (10 and 50
 * earlier runs of one day), alternated in one process, median of LASTMILE_BENCH_ROUNDS (5 unless
 * set) after one round not counted.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import type { BenchTable } from './run.ts';
import { withDb } from './diff/bench-project.ts';
import { median, signedMs } from './databases/bench-databases.ts';
import { settledRows, writeRun } from '../test/helpers/duckdb-log-run.ts';

const RUN_ROWS = 100_000;
const HELD = [0, 1_000_000, 5_000_000];
const ROUNDS = Number(process.env.LASTMILE_BENCH_ROUNDS ?? 5);

export default async function run(): Promise<BenchTable[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-bench-sync-logs-'));
  try {
    const files = HELD.map((held) => ({ held, file: path.join(dir, `held-${held}.duckdb`), ms: [] as number[] }));
    for (const { held, file } of files) {
      await writeRun(file, 'setup', settledRows('setup', 1)); // creates the tables as the writer does
      await withDb(file, (db) => db.run(`INSERT INTO lastmile_logs.changes
        SELECT '20261202T' || lpad(CAST(i // ${RUN_ROWS} AS VARCHAR), 6, '0') || '-0a1b2c3d', 'prices_sync', 'SKU-' || (i % ${RUN_ROWS}), 'upsert', 'delivered',
               TIMESTAMPTZ '2026-12-02 00:00:00+00' + to_seconds(i // ${RUN_ROWS}), NULL, NULL
        FROM range(${held}) t(i)`));
    }
    for (let round = 0; round <= ROUNDS; round++) {
      for (const f of files.map((_, i) => files[(round + i) % files.length]!)) {
        const runId = `20261202T2359${String(round).padStart(2, '0')}-ffffffff`;
        const changes = settledRows(runId, RUN_ROWS);
        const started = performance.now();
        await writeRun(f.file, runId, changes);
        if (round > 0) f.ms.push(performance.now() - started);
      }
    }
    const empty = median(files[0]!.ms);
    const rows = files.map(({ held, ms }) => ({
      'changes already in the file': held.toLocaleString('en-US'),
      'write a 100,000-change run, median (ms)': Math.round(median(ms)),
      runs: ms.map(Math.round).join(', '),
      'vs empty file': held === 0 ? '' : signedMs(median(ms) - empty),
    }));
    return [{ title: `Sync logs into DuckDB: a ${RUN_ROWS.toLocaleString('en-US')}-change run into a file already holding changes (median of ${ROUNDS}, alternated)`, rows }];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
