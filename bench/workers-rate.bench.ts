/**
 * Distributed mode, one rate for everybody: three `lastmile worker` processes (4 batches in
 * flight each) against an endpoint in its own process that allows 50 requests/s (token bucket,
 * burst 50, 429 + Retry-After beyond it) and answers in 100 ms; batches of 10 rows, ~30 s of
 * sending per scenario (quick: ~12 s). From the endpoint's own log:
 * - rate configured at 50/s: share of 50/s accepted, whole seconds with more than 50 requests;
 * - nothing configured (adaptive): share of 50/s accepted, share of requests answered 429.
 */
import type { BenchTable } from './run.ts';
import { BenchCluster } from './distributed/cluster.ts';
import { maxInWindow, startFakeProcess } from '../test/fakes/http/fake-http-process.ts';

const R = 50;
const BATCH = 10;
const quick = process.env.LASTMILE_BENCH_QUICK === '1';
const ROWS = (quick ? 12 : 30) * R * BATCH;

type Log = Awaited<ReturnType<Awaited<ReturnType<typeof startFakeProcess>>['log']>>;

/** Whole seconds (counted from the first request) in which more than `limit` requests arrived. */
function secondsOver(log: Log, limit: number): number {
  const first = Math.min(...log.map((r) => r.at));
  const perSecond = new Map<number, number>();
  for (const r of log) {
    const s = Math.floor((r.at - first) / 1000);
    perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
  }
  return [...perSecond.values()].filter((n) => n > limit).length;
}

export default async function run(): Promise<BenchTable[]> {
  const scenarios = [
    { name: 'configured', label: 'rate configured: 50/s', rateLimit: { requestsPerSecond: R, concurrency: 12 } },
    { name: 'adaptive', label: 'nothing configured (adaptive)', rateLimit: { concurrency: 12 } },
  ];
  const rows: BenchTable['rows'] = [];
  for (const scenario of scenarios) {
    const endpoint = await startFakeProcess({ limit: { rate: R, burst: R, retryAfter: 'seconds' }, latencyMs: 100 });
    const cluster = await BenchCluster.create(ROWS, [{ name: `${scenario.name}_sync`, url: `${endpoint.url}/bulk`, batch: BATCH, rateLimit: scenario.rateLimit }]);
    try {
      await cluster.startWorkers(3, 4);
      const { summary, seconds } = await cluster.sync(`${scenario.name}_sync`);
      const log = (await endpoint.log()).filter((r) => r.method === 'POST');
      const accepted = log.filter((r) => r.status === 200);
      const span = (Math.max(...log.map((r) => r.at)) - Math.min(...log.map((r) => r.at))) / 1000;
      rows.push({
        scenario: scenario.label, status: summary.status, rows: ROWS, delivered: summary.delivered, 'run (s)': seconds.toFixed(1),
        requests: log.length, 'accepted/s': (accepted.length / span).toFixed(1), [`% of ${R}/s used`]: `${((100 * accepted.length) / span / R).toFixed(1)} %`,
        'answered 429': `${log.length - accepted.length} (${((100 * (log.length - accepted.length)) / log.length).toFixed(1)} %)`,
        [`seconds over ${R}`]: secondsOver(log, R), 'most in any sliding second': maxInWindow(log, 1000),
      });
    } finally {
      await cluster.close();
      await endpoint.stop();
    }
  }
  return [{ title: `distributed: three worker processes against an endpoint allowing ${R} requests/s (100 ms answers, batches of ${BATCH}, 4 in flight per worker)`, rows }];
}
