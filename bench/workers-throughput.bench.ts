/**
 * Distributed mode, throughput: an endpoint that answers in 200 ms with no rate limit, every
 * worker delivering 4 batches at once (`lastmile worker --batches 4`, global cap 12). First
 * syncs of the same model by 1 worker process, then by 3, in one run: rows per second of the
 * whole run (the summary's delivered ÷ the wall time of `sync --queue`) and as the endpoint saw
 * them (rows delivered between its first request and its last answer). Target: 3 workers ≥ 2.7× one.
 */
import type { BenchTable } from './run.ts';
import { BenchCluster } from './distributed/cluster.ts';
import { startSink } from './http-sink.ts';

const quick = process.env.LASTMILE_BENCH_QUICK === '1';
/**
 * Per worker: 4 × 25 rows every 200 ms = 500 rows/s, each run ~20 s (quick: ~10 s). Small
 * batches, so the work per batch (queue, ledger, state) is measured, not the work per row.
 */
const ROWS_PER_WORKER = quick ? 5_000 : 10_000;
const BATCH = 25;
const IN_FLIGHT = 4;

export default async function run(): Promise<BenchTable[]> {
  const rows: BenchTable['rows'] = [];
  const measured: number[] = [];
  for (const workers of [1, 3]) {
    const endpoint = await startSink({ latencyMs: 200 });
    const total = ROWS_PER_WORKER * workers;
    const cluster = await BenchCluster.create(total, [{ name: 'prices_sync', url: `${endpoint.url}/bulk`, batch: BATCH, rateLimit: { requestsPerSecond: 100_000, concurrency: 12 } }]);
    try {
      await cluster.startWorkers(workers, IN_FLIGHT);
      const { summary, seconds } = await cluster.sync('prices_sync');
      const requests = endpoint.arrivals.length;
      const span = (Math.max(...endpoint.arrivals) - Math.min(...endpoint.arrivals) + 200) / 1000;
      const endToEnd = summary.delivered / seconds;
      measured.push(endToEnd);
      rows.push({
        workers, status: summary.status, rows: total, delivered: summary.delivered, requests,
        'run (s)': seconds.toFixed(1), 'rows/s end to end': Math.round(endToEnd), 'rows/s at the endpoint': Math.round(summary.delivered / span),
        'most in flight': IN_FLIGHT * workers,
      });
    } finally {
      await cluster.close();
      await endpoint.close();
    }
  }
  rows.push({ workers: '3 ÷ 1', 'rows/s end to end': `${(measured[1] / measured[0]).toFixed(2)}× (target ≥ 2.7×)` });
  return [{ title: `distributed: 1 vs 3 worker processes, endpoint answering in 200 ms, no rate limit, batches of ${BATCH}, ${IN_FLIGHT} in flight per worker`, rows }];
}
