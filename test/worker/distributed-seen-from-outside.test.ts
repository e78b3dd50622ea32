import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccounted } from '../engine/accounting.ts';
import type { RunSummary } from '../../src/state/run-record.ts';
import { FakeHttpServer } from '../fakes/http/fake-http-server.ts';
import { runCli } from '../helpers/run-cli.ts';
import { needService, SERVICES } from '../helpers/services.ts';
import { duckRows, warehouseSql } from '../helpers/temp-project.ts';
import { startWorkerWithMetrics, stopped } from './worker-processes.ts';

const ROWS = 400;
const SCHEMA = `lm_workers_logs_${process.pid}`;
const PREFIX = `lm-test-workers-logs-${process.pid}`;
const up = (await needService('postgres')) && (await needService('redis'));

describe.skipIf(!up)('distributed mode seen from outside: a run settled by three workers, its latency, sync logs and each worker\'s /metrics', () => {
  let dir: string;
  let receiver: FakeHttpServer;
  const workers: ChildProcess[] = [];
  const metricsUrls: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-workers-logs-'));
    receiver = await new FakeHttpServer({ latencyMs: 20 }).start();
    const state = new URL(SERVICES.postgres.url);
    state.searchParams.set('schema', SCHEMA);
    await writeFile(path.join(dir, 'lastmile.yml'), `version: 1
state: "${state}"
queue: { redis: "${SERVICES.redis.url}", prefix: ${PREFIX}, stalledAfter: 3s }
sources:
  warehouse: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  engine: { type: http, url: "${receiver.url}/bulk", batch: { size: 20 }, rateLimit: { requestsPerSecond: 500, concurrency: 6 } }
models:
  prices: { source: warehouse, table: prices, primaryKey: sku, eventTime: scraped_at }
syncs:
  prices_sync: { model: prices, destination: engine, mode: upsert, match: { sku: id }, mapping: { price: amount } }
logs: { source: warehouse, schema: lastmile_logs }
`);
    await warehouseSql(path.join(dir, 'warehouse.duckdb'),
      `CREATE TABLE prices AS SELECT 'SKU-' || i AS sku, i AS price, now() - INTERVAL 5 MINUTE AS scraped_at FROM range(${ROWS}) t(i)`);
    for (const { child, metricsUrl } of await Promise.all([1, 2, 3].map(() => startWorkerWithMetrics(dir)))) {
      workers.push(child);
      metricsUrls.push(metricsUrl);
    }
  }, 240_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => stopped(w, 'SIGTERM')));
    await receiver?.stop();
    const db = new pg.Pool({ connectionString: SERVICES.postgres.url });
    await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await db.end();
    const redis = new Redis(SERVICES.redis.url);
    const keys = await redis.keys(`${PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('the summary carries L for every delivered row, and the warehouse gets the run, its changes and their L', async () => {
    const result = await runCli(['sync', 'prices_sync', '--queue', '--json', '--config', 'lastmile.yml'], dir);
    expect(result.stderr).toBe('');
    const summary = result.json as { runId: string; status: string; delivered: number; latency?: { rows: number; p50Ms: number; p95Ms: number; maxMs: number } };
    expectAccounted(result.json as unknown as RunSummary, { status: 'success', toSync: ROWS, delivered: ROWS, deferred: 0 });
    expect(summary.latency?.rows).toBe(ROWS);
    expect(summary.latency!.p50Ms).toBeGreaterThanOrEqual(5 * 60_000);
    expect(summary.latency!.maxMs).toBeGreaterThanOrEqual(summary.latency!.p95Ms);

    const shown = await runCli(['runs', 'show', summary.runId, '--config', 'lastmile.yml'], dir);
    expect(shown.stdout).toMatch(/latency \(scraped_at -> acknowledged, 400 rows\): L p50/);

    const warehouse = path.join(dir, 'warehouse.duckdb');
    const runs = await duckRows(warehouse, `SELECT run_id, status, delivered, latency_p95_ms FROM lastmile_logs.runs`);
    expect(runs).toEqual([expect.objectContaining({ run_id: summary.runId, status: 'success', delivered: String(ROWS) })]);
    expect(Number(runs[0]!.latency_p95_ms)).toBe(summary.latency!.p95Ms);
    const changes = await duckRows(warehouse, `SELECT count(*) AS n, count(DISTINCT key) AS keys, min(latency_ms) AS least FROM lastmile_logs.changes WHERE outcome = 'delivered'`);
    expect(changes[0]).toMatchObject({ n: String(ROWS), keys: String(ROWS) });
    expect(Number(changes[0]!.least)).toBeGreaterThanOrEqual(5 * 60_000);
  }, 180_000);

  it('each worker serves its own /metrics, labelled with its id; the rows they delivered add up to the run\'s', async () => {
    const bodies = await Promise.all(metricsUrls.map(async (url) => (await fetch(url)).text()));
    const delivered = (body: string) => [...body.matchAll(/^lastmile_worker_rows_total\{worker="([^"]+)",sync="prices_sync",outcome="delivered"\} (\d+)/gm)];
    const ids = new Set<string>();
    let total = 0;
    for (const body of bodies) {
      for (const [, worker, n] of delivered(body)) {
        ids.add(worker);
        total += Number(n);
      }
      if (delivered(body).length === 0) continue; // a worker that took no batch knows no budget
      expect(body).toMatch(/^lastmile_worker_jobs_in_progress\{worker="[^"]+",kind="batch"\} 0$/m);
      expect(body).toMatch(/^# TYPE lastmile_worker_rate_budget_requests_per_second gauge$/m); // values while a delivery holds the budget
    }
    expect(total).toBe(ROWS); // the run above, delivered by whichever workers took its batches
    expect(ids.size).toBeGreaterThanOrEqual(2); // more than one worker delivered, each under its own id
  });
});
