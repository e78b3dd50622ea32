/**
 * Distributed mode, Redis memory during a large first sync: three worker processes deliver
 * first syncs of 1M and 3M rows (quick: 100k, 300k) into an unlimited local endpoint (batches
 * of 1,000, 4 in flight per worker), while Redis is sampled every 500 ms:
 * - the bytes of this cluster's keys (MEMORY USAGE of every key under its prefix), at peak;
 * - used_memory of the whole server (INFO memory) above what it was before, at peak (other
 *   users of the server move it too: the first column is the exact one).
 * What Redis holds by design: per run, jobs of at most 64 batches (ids, no rows), the queues'
 * event streams (BullMQ trims them to ~10,000 entries) and each credential's budget keys.
 */
import { Redis } from 'ioredis';
import type { BenchTable } from './run.ts';
import { BenchCluster } from './distributed/cluster.ts';
import { startSink } from './http-sink.ts';
import { SERVICES } from '../test/helpers/services.ts';

const quick = process.env.LASTMILE_BENCH_QUICK === '1';
/** LASTMILE_BENCH_REDIS_ROWS=10000000: that one size instead (about half an hour per 10M rows here). */
const SIZES = process.env.LASTMILE_BENCH_REDIS_ROWS ? [Number(process.env.LASTMILE_BENCH_REDIS_ROWS)] : quick ? [100_000, 300_000] : [1_000_000, 3_000_000];
const SAMPLE_MS = 500;

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

export default async function run(): Promise<BenchTable[]> {
  const rows: BenchTable['rows'] = [];
  const redis = new Redis(SERVICES.redis.url);
  try {
    for (const size of SIZES) {
      const sink = await startSink();
      const cluster = await BenchCluster.create(size, [{ name: 'big_sync', url: `${sink.url}/bulk`, batch: 1000, rateLimit: { requestsPerSecond: 100_000, concurrency: 12 } }]);
      try {
        await cluster.startWorkers(3, 4);
        const baseline = await usedMemory(redis);
        const peak = { keys: 0, bytes: 0, used: 0 };
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            const mine = await cluster.redisKeyBytes(redis);
            if (mine.bytes > peak.bytes) Object.assign(peak, mine);
            peak.used = Math.max(peak.used, (await usedMemory(redis)) - baseline);
            await new Promise((r) => setTimeout(r, SAMPLE_MS));
          }
        })();
        const { summary, seconds } = await cluster.sync('big_sync').finally(() => (sampling = false));
        await sampler;
        const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
        rows.push({
          rows: size, status: summary.status, delivered: summary.delivered, 'run (s)': seconds.toFixed(0), 'rows/s': Math.round(summary.delivered / seconds),
          'keys at peak': peak.keys, 'peak of the run\'s keys': kib(peak.bytes), 'peak used_memory above before': kib(Math.max(0, peak.used)),
        });
      } finally {
        await cluster.close();
        await sink.close();
      }
    }
  } finally {
    await redis.quit();
  }
  return [{ title: 'distributed: Redis memory during a first sync, 3 worker processes, unlimited local endpoint, batches of 1,000', rows }];
}
