import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeHttpServer } from '../fakes/http/fake-http-server.ts';
import { runCli } from '../helpers/run-cli.ts';
import { needService, SERVICES } from '../helpers/services.ts';
import { warehouseSql } from '../helpers/temp-project.ts';
import { startWorker, stopped } from './worker-processes.ts';

const ROWS = 2_000;
const SCHEMA = `lm_redis_restart_${process.pid}`;
const up = await needService('postgres');

/** A Redis of this test's own (it restarts it), keeping nothing on disk, as .ci/run starts the shared one. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server did not start on port ${port}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}



describe.skipIf(!up)('distributed mode: Redis restarted mid-run (it keeps nothing on disk)', () => {
  let dir: string;
  let port: number;
  let redis: ChildProcess;
  let receiver: FakeHttpServer;
  let db: pg.Pool;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-redis-restart-'));
    receiver = await new FakeHttpServer({ latencyMs: 150 }).start();
    db = new pg.Pool({ connectionString: SERVICES.postgres.url });
    const state = new URL(SERVICES.postgres.url);
    state.searchParams.set('schema', SCHEMA);
    await writeFile(path.join(dir, 'lastmile.yml'), `version: 1
state: "${state}"
queue: { redis: "redis://127.0.0.1:${port}", stalledAfter: 3s }
sources:
  warehouse: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  engine: { type: http, url: "${receiver.url}/bulk", batch: { size: 20 }, rateLimit: { concurrency: 4 } }
models:
  items: { source: warehouse, table: items, primaryKey: id }
syncs:
  items_sync: { model: items, destination: engine, mode: upsert, match: { id: id }, mapping: { value: value } }
`);
    await warehouseSql(path.join(dir, 'warehouse.duckdb'), `CREATE TABLE items AS SELECT i AS id, 'v1-' || i AS value FROM range(${ROWS}) t(i)`);
    workers.push(...(await Promise.all([startWorker(dir), startWorker(dir)])));
  }, 240_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => stopped(w, 'SIGTERM')));
    if (redis) await stopped(redis, 'SIGKILL');
    await receiver?.stop();
    await db?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await db?.end();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('the run in flight fails with a message naming the queue, state keeps what was delivered, the next run converges', async () => {
    const run = runCli(['sync', 'items_sync', '--queue', '--json', '--config', 'lastmile.yml'], dir);
    await expect.poll(() => receiver.log.length, { timeout: 120_000, interval: 20 }).toBeGreaterThan(8);
    await stopped(redis, 'SIGKILL');
    redis = await startRedis(port);

    const first = await run;
    expect(first.code).toBe(1);
    expect(first.stderr + first.stdout).toMatch(/queue lost .*was Redis restarted\?/);
    await expect.poll(async () => {
      const { rows } = await db.query<{ status: string }>(`SELECT summary->>'status' AS status FROM ${SCHEMA}.runs ORDER BY started_at DESC LIMIT 1`).catch(() => ({ rows: [] as { status: string }[] }));
      return rows[0]?.status;
    }, { timeout: 60_000, interval: 500 }).toBe('failed');

    const deliveredBefore = new Set(receiver.store.keys());
    const next = await runCli(['sync', 'items_sync', '--queue', '--json', '--config', 'lastmile.yml'], dir);
    expect(next.json).toMatchObject({ status: 'success', deferred: 0 });
    expect(receiver.store.size).toBe(ROWS);
    // state kept what the first run delivered: the next run sent only the rest (and what was in flight)
    expect(Number(next.json!.toSync)).toBeLessThanOrEqual(ROWS - deliveredBefore.size + 4 * 2 * 20);
  }, 300_000);
});
