import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../src/server/serve.ts';
import { FakeHttpServer } from '../fakes/http/fake-http-server.ts';
import { runCli } from '../helpers/run-cli.ts';
import { needService, SERVICES } from '../helpers/services.ts';
import { warehouseSql } from '../helpers/temp-project.ts';
import { startWorker, stopped } from './worker-processes.ts';

const ROWS = 3_000;
const BATCH = 50;
const SCHEMA = `lm_workers_${process.pid}`;
const PREFIX = `lm-test-workers-${process.pid}`;
const up = (await needService('postgres')) && (await needService('redis'));



describe.skipIf(!up)('distributed mode: three `lastmile worker` processes on Redis and Postgres', () => {
  let dir: string;
  let receiver: FakeHttpServer;
  let db: pg.Pool;
  const workers: ChildProcess[] = [];
  const stateUrl = () => {
    const url = new URL(SERVICES.postgres.url);
    url.searchParams.set('schema', SCHEMA);
    return url.toString();
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-workers-'));
    receiver = await new FakeHttpServer({ latencyMs: 40 }).start();
    db = new pg.Pool({ connectionString: SERVICES.postgres.url });
    await writeFile(path.join(dir, 'lastmile.yml'), `version: 1
state: "${stateUrl()}"
queue: { redis: "${SERVICES.redis.url}", prefix: ${PREFIX}, stalledAfter: 3s }
sources:
  warehouse: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  engine: { type: http, url: "${receiver.url}/bulk", batch: { size: ${BATCH} }, rateLimit: { requestsPerSecond: 200, concurrency: 4 } }
models:
  items: { source: warehouse, table: items, primaryKey: id }
syncs:
  items_sync: { model: items, destination: engine, mode: upsert, match: { id: id }, mapping: { value: value } }
`);
    await warehouseSql(path.join(dir, 'warehouse.duckdb'), `CREATE TABLE items AS SELECT i AS id, 'v1-' || i AS value FROM range(${ROWS}) t(i)`);
    workers.push(...await Promise.all([1, 2, 3].map(() => startWorker(dir))));
  }, 240_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => stopped(w, 'SIGTERM')));
    await receiver?.stop();
    await db?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await db?.end();
    const redis = new Redis(SERVICES.redis.url);
    const keys = await redis.keys(`${PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  const values = () => new Map([...receiver.store.entries()].map(([id, record]) => [id, record.value]));

  it('`sync --queue`: one run, its batches delivered by several workers under one global concurrency cap, every row once', async () => {
    const result = await runCli(['sync', 'items_sync', '--queue', '--json', '--config', 'lastmile.yml'], dir);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.json).toMatchObject({ status: 'success', toSync: ROWS, delivered: ROWS, rejected: 0, deferred: 0 });
    const got = values();
    expect(got.size).toBe(ROWS);
    expect(got.get('2999')).toBe('v1-2999');
    expect(receiver.log.filter((r) => r.method === 'POST').reduce((n, r) => n + r.records, 0)).toBe(ROWS); // no row twice
    expect(receiver.maxInFlight).toBeGreaterThan(2); // one worker takes 2 batches at a time: several were at work
    expect(receiver.maxInFlight).toBeLessThanOrEqual(4); // the cap is global

    const again = await runCli(['sync', 'items_sync', '--queue', '--json', '--config', 'lastmile.yml'], dir);
    expect(again.json).toMatchObject({ status: 'success', toSync: 0, delivered: 0, unchanged: ROWS });
  }, 240_000);

  it('kill -9 of a worker mid-batch: its batches go to another worker, every row arrives, the run succeeds', async () => {
    await warehouseSql(path.join(dir, 'warehouse.duckdb'), `UPDATE items SET value = 'v2-' || id`);
    receiver.log.length = 0;
    const run = runCli(['sync', 'items_sync', '--queue', '--json', '--config', 'lastmile.yml'], dir);
    await expect.poll(() => receiver.log.length, { timeout: 60_000, interval: 20 }).toBeGreaterThan(6);
    const { rows } = await db.query<{ pid: number }>(`SELECT pid FROM ${SCHEMA}.locks WHERE sync = 'items_sync'`);
    const victim = workers.find((w) => w.pid !== rows[0]?.pid)!; // not the one that diffed: one that only delivers
    await stopped(victim, 'SIGKILL');
    workers.splice(workers.indexOf(victim), 1);

    const result = await run;
    expect(result.code).toBe(0);
    expect(result.json).toMatchObject({ status: 'success', toSync: ROWS, delivered: ROWS, deferred: 0 });
    const got = values();
    expect([...got.values()].filter((v) => !String(v).startsWith('v2-'))).toEqual([]);
    const sent = receiver.log.filter((r) => r.method === 'POST').reduce((n, r) => n + r.records, 0);
    expect(sent).toBeGreaterThanOrEqual(ROWS);
    expect(sent).toBeLessThanOrEqual(ROWS + 2 * BATCH); // duplicates: at most what the killed worker had in flight
  }, 240_000);

  it('`serve` hands a run started through the API to the workers; its summary is there when they are done', async () => {
    await warehouseSql(path.join(dir, 'warehouse.duckdb'), `UPDATE items SET value = 'v3-' || id WHERE id < 500`);
    const token = 'admin-token-for-workers';
    const server = await serve({ configPath: path.join(dir, 'lastmile.yml'), port: 0, ui: false, env: { LASTMILE_API_TOKEN: token }, log: { level: 'silent' } });
    try {
      const call = async (method: string, route: string) => {
        const response = await fetch(server.url + route, { method, headers: { authorization: `Bearer ${token}` } });
        return { status: response.status, json: (await response.json()) as Record<string, any> };
      };
      const started = await call('POST', '/api/syncs/items_sync/runs');
      expect(started.status).toBe(202);
      const runId = started.json.runId as string;
      await expect.poll(async () => (await call('GET', `/api/runs/${runId}`)).json.summary?.status, { timeout: 120_000, interval: 250 }).toBe('success');
      const run = (await call('GET', `/api/runs/${runId}`)).json;
      expect(run.summary).toMatchObject({ toSync: 500, delivered: 500, changed: 500 });
      expect(run.trace.map((l: { text: string }) => l.text).join('\n')).toContain('distributed: batches go to every worker on the queue');
      expect(values().get('499')).toBe('v3-499');
      const listed = (await call('GET', '/api/workers')).json.workers as { pid: number; alive: boolean; lastHeartbeat: string }[];
      const alive = listed.filter((w) => w.alive).map((w) => w.pid).sort();
      expect(alive).toEqual(expect.arrayContaining(workers.map((w) => w.pid)));
    } finally {
      await server.close();
    }
  }, 240_000);

  it('a run enqueued with another config version is refused by the workers with a message naming both', async () => {
    const config = (await readFile(path.join(dir, 'lastmile.yml'), 'utf8')).replace(`batch: { size: ${BATCH} }`, `batch: { size: ${BATCH - 10} }`);
    await writeFile(path.join(dir, 'changed.yml'), config);
    const result = await runCli(['sync', 'items_sync', '--queue', '--config', 'changed.yml'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/runs config version \w+, but run \S+ was enqueued with version \w+: start every worker \(and serve\) with the same lastmile.yml/);
  }, 240_000);

  it('kill -9 of the worker that diffed: the run ends (resumed or failed cleanly), and the next run converges', async () => {
    await warehouseSql(path.join(dir, 'warehouse.duckdb'), `UPDATE items SET value = 'v4-' || id`);
    receiver.log.length = 0;
    const run = runCli(['sync', 'items_sync', '--queue', '--json', '--config', 'lastmile.yml'], dir);
    await expect.poll(() => receiver.log.length, { timeout: 60_000, interval: 20 }).toBeGreaterThan(4);
    const { rows } = await db.query<{ pid: number }>(`SELECT pid FROM ${SCHEMA}.locks WHERE sync = 'items_sync'`);
    const differ = workers.find((w) => w.pid === rows[0]?.pid)!;
    expect(differ).toBeDefined();
    await stopped(differ, 'SIGKILL');
    workers.splice(workers.indexOf(differ), 1);

    const first = await run;
    expect(['success', 'failed']).toContain(first.json?.status);
    if (first.json?.status === 'failed') expect(first.json.error).toContain('the worker that diffed it stopped');

    const next = await runCli(['sync', 'items_sync', '--queue', '--json', '--config', 'lastmile.yml'], dir);
    expect(next.json).toMatchObject({ status: 'success', deferred: 0 });
    expect([...values().values()].filter((v) => !String(v).startsWith('v4-'))).toEqual([]);
  }, 240_000);
});

describe('distributed mode settings', () => {
  it('a worker without a Postgres state store is a config error that says what to set', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-workers-config-'));
    try {
      await writeFile(path.join(dir, 'lastmile.yml'), `version: 1\nstate: .lastmile\nqueue: { redis: "redis://127.0.0.1:6379" }\n`);
      const written = await runCli(['worker', '--config', 'lastmile.yml'], dir);
      expect(written.code).toBe(64);
      expect(written.stderr).toContain('lastmile.yml:3 queue: the distributed mode needs a state store every worker reaches: set state: postgres://');

      await writeFile(path.join(dir, 'lastmile.yml'), `version: 1\nstate: .lastmile\n`);
      const fromEnv = await runCli(['worker', '--config', 'lastmile.yml'], dir, { LASTMILE_REDIS_URL: 'redis://127.0.0.1:6379' });
      expect(fromEnv.code).toBe(64);
      expect(fromEnv.stderr).toContain('lastmile worker needs a state store every worker reaches: set state: postgres://');

      const noRedis = await runCli(['worker', '--config', 'lastmile.yml'], dir, { LASTMILE_REDIS_URL: '' });
      expect(noRedis.code).toBe(64);
      expect(noRedis.stderr).toContain('lastmile worker needs a Redis for its queues: add queue: { redis: redis://host:6379 }');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
