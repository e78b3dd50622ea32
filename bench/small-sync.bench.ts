/**
 * A Postgres table synced into a Postgres table, against the script a user would write with
 * `pg` (databases/upsert-script.mjs: read the table, upsert in batches of 1,000, no state, no
 * diff), both run as processes, in turn, in the same run:
 * - a first sync of 10,000 rows (target: Lastmile at most 1.2× the script);
 * - 1,000,000 rows with 1 % changed (target: Lastmile at least 10× faster; the script rewrites every row).
 * Then where Lastmile's time goes at 10,000 rows.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { BenchTable } from './run.ts';
import { createPgPrices, median, PG_URL, pgRun, seconds, timeProcess } from './databases/bench-databases.ts';
import { loadProject } from '../src/config/load-project.ts';
import { openStateStore } from '../src/state/open-state-store.ts';
import { runSync } from '../src/engine/run-sync.ts';
import { openWorkspace } from '../src/diff/workspace/workspace.ts';
import { readModel } from '../src/diff/workspace/read-model.ts';
import { createDestination, createSource, resolveSync } from '../src/engine/resolve-sync.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(here, '..', 'bin', 'lastmile.js');
const SCRIPT = path.join(here, 'databases', 'upsert-script.mjs');
const quick = process.env.LASTMILE_BENCH_QUICK === '1';
const SMALL = 10_000;
const LARGE = quick ? 100_000 : 1_000_000;
const REPEATS = 3;
const SOURCE = 'lastmile_bench_small_src';
const BY_SCRIPT = 'lastmile_bench_small_script';
const BY_LASTMILE = 'lastmile_bench_small_lastmile';
const SYNC = 'prices_to_table';

const project = `version: 1
state: .lastmile
sources: { app: { type: postgres, url: "${PG_URL}" } }
destinations: { app_db: { type: postgres, url: "${PG_URL}" } }
models:
  prices: { source: app, sql: "SELECT id, sku, competitor, price, currency, updated_at FROM ${SOURCE}", primaryKey: id }
syncs:
  ${SYNC}:
    model: prices
    destination: app_db
    mode: upsert
    table: ${BY_LASTMILE}
    match: { id: id }
    mapping: { sku: sku, competitor: competitor, price: price, currency: currency, updated_at: updated_at }
`;

export default async function run(): Promise<BenchTable[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-bench-small-'));
  const config = path.join(dir, 'lastmile.yml');
  await writeFile(config, project);
  try {
    const small = await firstSyncs(dir, SMALL);
    const breakdown = await whereTimeGoes(dir, config, small.cliRunMs);
    const large = await changedSyncs(dir, LARGE);
    return [
      { title: 'small syncs: Postgres table → Postgres table, Lastmile CLI vs a 30-line pg script (processes, median, in turn)', rows: [small.row, ...large] },
      { title: `where a first sync of ${SMALL.toLocaleString('en-US')} rows spends its time (ms, median of ${REPEATS})`, rows: breakdown },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
    await pgRun(`DROP TABLE IF EXISTS ${SOURCE}, ${BY_SCRIPT}, ${BY_LASTMILE}`);
  }
}

async function resetTargets(dir: string): Promise<void> {
  for (const table of [BY_SCRIPT, BY_LASTMILE]) {
    await pgRun(`DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} (id int8 PRIMARY KEY, sku text, competitor text,
      price numeric(10,2), currency text, updated_at timestamptz)`);
  }
  await rm(path.join(dir, '.lastmile'), { recursive: true, force: true });
}

async function lastmileSync(dir: string): Promise<{ ms: number; runMs: number; status: string; sent: number }> {
  const { ms, stdout } = await timeProcess(process.execPath, [CLI, 'sync', SYNC, '--json', '--config', path.join(dir, 'lastmile.yml')], { cwd: dir });
  const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as { status: string; durationMs: number; added: number; changed: number };
  return { ms, runMs: summary.durationMs, status: summary.status, sent: summary.added + summary.changed };
}

async function scriptSync(): Promise<number> {
  return (await timeProcess(process.execPath, [SCRIPT, PG_URL, SOURCE, BY_SCRIPT])).ms;
}

/** First syncs of `rows` rows, in turn, each into empty tables with no state. */
async function firstSyncs(dir: string, rows: number) {
  await createPgPrices(SOURCE, rows);
  const lastmile: number[] = [];
  const runs: number[] = [];
  const script: number[] = [];
  let status = '';
  for (let i = 0; i < REPEATS; i++) {
    await resetTargets(dir);
    const sync = await lastmileSync(dir);
    lastmile.push(sync.ms);
    runs.push(sync.runMs);
    status = sync.status;
    script.push(await scriptSync());
  }
  const ratios = lastmile.map((ms, i) => ms / script[i]!);
  return {
    cliRunMs: median(runs),
    row: {
      run: `first sync of ${rows.toLocaleString('en-US')} rows`, status,
      'Lastmile (s)': seconds(median(lastmile)), 'of which the run (s)': seconds(median(runs)), 'script (s)': seconds(median(script)),
      'Lastmile / script': `${median(ratios).toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(', ')})`, target: '≤ 1.2',
    },
  };
}

/** `rows` rows synced once; then 1 % of them change before each measured pair of runs. */
async function changedSyncs(dir: string, rows: number) {
  await createPgPrices(SOURCE, rows);
  await resetTargets(dir);
  const first = await lastmileSync(dir);
  const firstScript = await scriptSync();
  const table: BenchTable['rows'] = [{
    run: `first sync of ${rows.toLocaleString('en-US')} rows`, status: first.status,
    'Lastmile (s)': seconds(first.ms), 'of which the run (s)': seconds(first.runMs), 'script (s)': seconds(firstScript), 'Lastmile / script': (first.ms / firstScript).toFixed(2), target: '',
  }];
  const lastmile: number[] = [];
  const runs: number[] = [];
  const script: number[] = [];
  let status = '';
  let sent = 0;
  for (let i = 0; i < 2; i++) {
    await pgRun(`UPDATE ${SOURCE} SET price = price + 1 WHERE id % 100 = ${i}`);
    const sync = await lastmileSync(dir);
    lastmile.push(sync.ms);
    runs.push(sync.runMs);
    status = sync.status;
    sent = sync.sent;
    script.push(await scriptSync());
  }
  const speedups = script.map((ms, i) => ms / lastmile[i]!);
  table.push({
    run: `${rows.toLocaleString('en-US')} rows, 1 % changed (${sent.toLocaleString('en-US')} sent)`, status,
    'Lastmile (s)': seconds(median(lastmile)), 'of which the run (s)': seconds(median(runs)), 'script (s)': seconds(median(script)),
    'Lastmile / script': `${(1 / median(speedups)).toFixed(3)}: ${median(speedups).toFixed(1)}× faster (${speedups.map((r) => r.toFixed(1)).join(', ')})`,
    target: '≥ 10× faster',
  });
  return table;
}

/** Process start, CLI start under tsx, and the run's steps measured one by one in this (warm) process. */
async function whereTimeGoes(dir: string, config: string, cliRunMs: number): Promise<BenchTable['rows']> {
  const times: Record<string, number[]> = {};
  const time = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await fn();
    (times[label] ??= []).push(performance.now() - started);
    return result;
  };
  for (let i = 0; i < REPEATS; i++) {
    await resetTargets(dir);
    await time('node starts and exits (`node -e 0`)', () => timeProcess(process.execPath, ['-e', '0']));
    await time('CLI starts and exits under tsx (`lastmile help`)', () => timeProcess(process.execPath, [CLI, 'help']));
    const project = await time('load and validate lastmile.yml', () => loadProject(config));
    const store = await time('open the embedded state store', () => openStateStore(project.state));
    const resolved = resolveSync(project, SYNC);
    const workspace = await time('open the DuckDB workspace', () => openWorkspace());
    const source = createSource(project, resolved.sourceConfig);
    await time('read the model into the workspace (COPY)', () => readModel(workspace, source, resolved.model, null, new AbortController().signal));
    const destination = createDestination(project, resolved);
    await time('destination check + describe', async () => {
      await destination.check(new AbortController().signal);
      await destination.describe?.(new AbortController().signal);
    });
    await Promise.all([source.close(), destination.close(), workspace.close()]);
    const summary = await time('whole run, in process', () => runSync({ project, store }, SYNC, { trigger: 'cli' }));
    for (const [step, ms] of Object.entries(await runSteps(store, summary.runId))) (times[step] ??= []).push(ms);
    await time('close the state store', () => store.close());
  }
  return [
    ...Object.entries(times).map(([step, values]) => ({ step, ms: Math.round(median(values)) })),
    { step: 'whole run, as the CLI reports it (durationMs)', ms: Math.round(cliRunMs) },
  ];
}

/** How long each step of a run took, from the times of its trace lines. */
async function runSteps(store: Awaited<ReturnType<typeof openStateStore>>, runId: string): Promise<Record<string, number>> {
  const run = await store.getRun(runId);
  if (!run) return {};
  const at = (line?: { at: string }) => (line ? Date.parse(line.at) : Number.NaN);
  const started = Date.parse(run.summary.startedAt);
  const diffed = at(run.trace.findLast((line) => line.step === 2));
  const pushed = at(run.trace.findLast((line) => line.step === 3));
  const ended = started + run.summary.durationMs;
  return {
    '  of which: start, read the model, diff (to the diff trace line)': diffed - started,
    '  of which: describe the destination, write the rows, commit state (to the last push line)': pushed - diffed,
    '  of which: finalize (to the end)': ended - pushed,
  };
}
