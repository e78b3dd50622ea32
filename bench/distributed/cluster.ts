import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import pg from 'pg';
import { Redis } from 'ioredis';
import { withDb } from '../diff/bench-project.ts';
import { loadProject } from '../../src/config/load-project.ts';
import { enqueueRun } from '../../src/worker/enqueue-run.ts';
import type { RunSummary } from '../../src/state/run-record.ts';
import { SERVICES } from '../../test/helpers/services.ts';
import { startWorker, stopped } from '../../test/worker/worker-processes.ts';

/** One sync of the bench project: its destination's URL, batch size and rate settings. */
export interface BenchSync {
  name: string;
  url: string;
  batch: number;
  rateLimit?: { requestsPerSecond?: number; concurrency?: number };
}

/**
 * A project for the distributed benches: a DuckDB model of `rows` rows, state in a Postgres
 * schema of its own, queues under a Redis prefix of its own, one destination per sync.
 * Workers are separate `lastmile worker` processes, as users start them.
 */
export class BenchCluster {
  private workers: ChildProcess[] = [];

  private constructor(readonly dir: string, readonly schema: string, readonly prefix: string) {}

  static async create(rows: number, syncs: BenchSync[]): Promise<BenchCluster> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-bench-workers-'));
    const tag = `${process.pid}_${Date.now()}`;
    const cluster = new BenchCluster(dir, `lm_bench_workers_${tag}`, `lm-bench-workers-${tag}`);
    const state = new URL(SERVICES.postgres.url);
    state.searchParams.set('schema', cluster.schema);
    const limit = (r: BenchSync['rateLimit']) => (r ? `, rateLimit: { ${Object.entries(r).map(([k, v]) => `${k}: ${v}`).join(', ')} }` : '');
    await writeFile(path.join(dir, 'lastmile.yml'), `version: 1
state: "${state}"
queue: { redis: "${SERVICES.redis.url}", prefix: ${cluster.prefix} }
sources: { warehouse: { type: duckdb, path: ./warehouse.duckdb } }
destinations:
${syncs.map((s) => `  ${s.name}_out: { type: http, url: "${s.url}", batch: { size: ${s.batch} }${limit(s.rateLimit)} }`).join('\n')}
models: { prices: { source: warehouse, table: prices, primaryKey: sku } }
syncs:
${syncs.map((s) => `  ${s.name}: { model: prices, destination: ${s.name}_out, mode: upsert, match: { sku: id }, mapping: { price: amount, currency: currency } }`).join('\n')}
`);
    await withDb(path.join(dir, 'warehouse.duckdb'), (db) => db.run(`
      CREATE TABLE prices AS SELECT 'SKU-' || i AS sku, CAST((i % 100000) / 100.0 AS DECIMAL(10,2)) AS price, 'EUR' AS currency FROM range(${rows}) t(i)`));
    return cluster;
  }

  /** Exactly `count` worker processes, each delivering up to `batches` batches at once. */
  async startWorkers(count: number, batches: number): Promise<void> {
    await this.stopWorkers();
    this.workers = await Promise.all(Array.from({ length: count }, () => startWorker(this.dir, batches)));
  }

  async stopWorkers(): Promise<void> {
    await Promise.all(this.workers.map((w) => stopped(w, 'SIGTERM')));
    this.workers = [];
  }

  /** A first sync of `sync` through the queue; answers its summary and its wall time. */
  async sync(sync: string): Promise<{ summary: RunSummary; seconds: number }> {
    const project = await loadProject(path.join(this.dir, 'lastmile.yml'));
    const started = performance.now();
    const summary = await enqueueRun(project, sync, { trigger: 'cli' });
    return { summary, seconds: (performance.now() - started) / 1000 };
  }

  /** Sizes of this cluster's Redis keys, added up (MEMORY USAGE of each key under its prefix). */
  async redisKeyBytes(redis: Redis): Promise<{ keys: number; bytes: number }> {
    let cursor = '0';
    let keys = 0;
    let bytes = 0;
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of found) {
        keys++;
        bytes += Number(await redis.memory('USAGE', key)) || 0;
      }
    } while (cursor !== '0');
    return { keys, bytes };
  }

  async close(): Promise<void> {
    await this.stopWorkers();
    const db = new pg.Pool({ connectionString: SERVICES.postgres.url });
    await db.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`).catch(() => undefined);
    await db.end();
    const redis = new Redis(SERVICES.redis.url);
    const keys = await redis.keys(`${this.prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await rm(this.dir, { recursive: true, force: true });
  }
}
