/**
 * Delivery against a local endpoint that allows R = 20 requests/s (token bucket, burst R,
 * 429 + Retry-After beyond it), batches of 100, 60 s per run (LASTMILE_BENCH_QUICK=1: 10 s):
 * - rate configured at R: share of R used, requests over R in any sliding second (the
 *   endpoint's own log, in its own process);
 * - nothing configured (adaptive): share of R reached, share of requests answered 429;
 * - raw: rows/s through deliver() into an endpoint with no limit;
 * - faults: nothing configured, the endpoint allows R/s with a burst of 2 and also answers 5 % of
 *   requests 503 and resets 2 % of connections: share of R used, share answered 429, rows left;
 * - storm: 60 answers of 429 with Retry-After: 1, then normal service at R/s: 10,000 rows in
 *   batches of 100, seconds from the storm's end to the last row delivered.
 */
import type { Change } from '../src/destinations/destination.ts';
import { deliver } from '../src/delivery/deliver.ts';
import { httpDestination } from '../test/delivery/delivery-kit.ts';
import { startFakeProcess } from '../test/fakes/http/fake-http-process.ts';
import type { FakeHttpOptions } from '../test/fakes/http/fake-http-server.ts';

const R = 20;
const BATCH = 100;
const quick = process.env.LASTMILE_BENCH_QUICK === '1';
const SECONDS = quick ? 10 : 60;

type Log = Awaited<ReturnType<Awaited<ReturnType<typeof startFakeProcess>>['log']>>;

/** Endless upserts until `signal` aborts, in chunks of 1,000 (as the engine hands them). */
async function* endless(signal: AbortSignal): AsyncGenerator<Change[]> {
  for (let i = 0; !signal.aborted; ) {
    const chunk: Change[] = [];
    for (let j = 0; j < 1000; j++, i++) chunk.push({ key: `k${i}`, op: 'upsert', match: { id: `id-${i}` }, fields: { id: `id-${i}`, price: i % 997, currency: 'EUR' } });
    yield chunk;
  }
}

/** `rows` upserts in chunks of 1,000. */
async function* finite(rows: number): AsyncGenerator<Change[]> {
  const all = [];
  for (let i = 0; i < rows; i++) all.push({ key: `k${i}`, op: 'upsert' as const, match: { id: `id-${i}` }, fields: { id: `id-${i}`, price: i % 997, currency: 'EUR' } });
  for (let i = 0; i < rows; i += 1000) yield all.slice(i, i + 1000);
}

/** Runs deliver() for `seconds` (or over `rows` rows); answers the endpoint's log, the rows delivered and the rows deferred. */
async function timedRun(options: {
  limit?: boolean; fake?: FakeHttpOptions; rateLimit?: { requestsPerSecond?: number; concurrency?: number }; seconds: number; rows?: number;
}) {
  const server = await startFakeProcess(options.fake ?? (options.limit ? { limit: { rate: R, burst: R, retryAfter: 'seconds' } } : {}));
  const destination = httpDestination(`${server.url}/v2/bulk-update`);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('bench time is up')), options.seconds * 1000);
  let rows = 0;
  let deferred = 0;
  const started = performance.now();
  try {
    const changes = options.rows === undefined ? endless(controller.signal) : finite(options.rows);
    await deliver(changes, { destination, batchSize: BATCH, rateLimit: options.rateLimit, signal: controller.signal }, {
      async onSettled(_batch, outcomes) {
        for (const o of outcomes) o.outcome === 'delivered' ? rows++ : deferred++;
      },
      trace() {},
    });
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
  }
  const elapsed = (performance.now() - started) / 1000;
  const log = await server.log();
  await destination.close();
  await server.stop();
  return { log, rows, deferred, elapsed };
}

/** Requests that found R others in the second before them (the endpoint's view). */
function overLimit(log: Log, limit: number): number {
  const times = log.map((r) => r.at).sort((a, b) => a - b);
  let over = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j] - times[i] >= 1000) i++;
    if (j - i + 1 > limit) over++;
  }
  return over;
}

/** Requests per second the endpoint accepted between its first and last request. */
function acceptedRate(log: Log, from = 0): number {
  const ok = log.filter((r) => r.status === 200 && r.at >= from).map((r) => r.at);
  if (ok.length < 2) return 0;
  return (ok.length - 1) / ((ok.at(-1)! - ok[0]) / 1000);
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

export default async function run(): Promise<{ title: string; rows: Record<string, string | number>[] }[]> {
  const configured = await timedRun({ limit: true, rateLimit: { requestsPerSecond: R, concurrency: 4 }, seconds: SECONDS });
  const adaptive = await timedRun({ limit: true, seconds: SECONDS });
  const raw = await timedRun({ rateLimit: { requestsPerSecond: 1_000_000, concurrency: 8 }, seconds: quick ? 5 : 15 });
  const rawAdaptive = await timedRun({ seconds: quick ? 5 : 15 });
  const faulty = await timedRun({ fake: { limit: { rate: R, burst: 2, retryAfter: 'seconds' }, randomFaults: { share503: 0.05, shareReset: 0.02, seed: 7 } }, seconds: SECONDS });
  const storm = await timedRun({ fake: { limit: { rate: R, burst: 2, retryAfter: 'seconds' }, storm: { count: 60, retryAfter: '1' } }, seconds: 600, rows: 10_000 });
  const stormEnd = storm.log.filter((r) => r.status === 429)[59]?.at ?? 0;
  const lastDelivered = storm.log.filter((r) => r.status === 200).at(-1)?.at ?? 0;

  const first429 = adaptive.log.find((r) => r.status === 429)?.at ?? 0;
  const secondHalf = adaptive.log.length ? adaptive.log.at(-1)!.at / 2 : 0;
  return [
    {
      title: `Delivery against an endpoint allowing ${R} requests/s (batches of ${BATCH}, ${SECONDS} s per run)`,
      rows: [
        {
          run: `rate configured: ${R}/s, 4 in flight`,
          requests: configured.log.length,
          'rows delivered': configured.rows,
          'share of R used': pct(acceptedRate(configured.log) / R),
          'requests over R (sliding 1 s)': overLimit(configured.log, R),
          '429 answers': configured.log.filter((r) => r.status === 429).length,
        },
        {
          run: 'nothing configured (adaptive)',
          requests: adaptive.log.length,
          'rows delivered': adaptive.rows,
          'share of R used': `${pct(acceptedRate(adaptive.log) / R)} (after the climb: ${pct(acceptedRate(adaptive.log, first429) / R)}, second half: ${pct(acceptedRate(adaptive.log, secondHalf) / R)})`,
          'requests over R (sliding 1 s)': overLimit(adaptive.log, R),
          '429 answers': `${adaptive.log.filter((r) => r.status === 429).length} (${pct(adaptive.log.filter((r) => r.status === 429).length / adaptive.log.length)})`,
        },
      ],
    },
    {
      title: `Adaptive rate under faults (nothing configured; endpoint allows ${R} requests/s with a burst of 2, batches of ${BATCH})`,
      rows: [
        {
          run: `5 % answered 503, 2 % of connections reset; ${SECONDS} s`,
          requests: faulty.log.length,
          'rows delivered': faulty.rows,
          'rows deferred': faulty.deferred,
          'share of R used (200s)': `${pct(acceptedRate(faulty.log) / R)} (second half: ${pct(acceptedRate(faulty.log, faulty.log.length ? faulty.log.at(-1)!.at / 2 : 0) / R)})`,
          '429 answers': `${faulty.log.filter((r) => r.status === 429).length} (${pct(faulty.log.filter((r) => r.status === 429).length / Math.max(1, faulty.log.length))})`,
          target: '≥ 90 % of R, ≤ 3 % 429, every row delivered',
        },
        {
          run: '60 × 429 Retry-After: 1, then normal service; 10,000 rows',
          requests: storm.log.length,
          'rows delivered': storm.rows,
          'rows deferred': storm.deferred,
          'share of R used (200s)': `${pct(acceptedRate(storm.log, stormEnd) / R)} after the storm; last row ${((lastDelivered - stormEnd) / 1000).toFixed(1)} s after it`,
          '429 answers': storm.log.filter((r) => r.status === 429).length,
          target: 'done within 20 s of the storm\'s end',
        },
      ],
    },
    {
      title: 'Raw delivery throughput into an unlimited local endpoint (batches of 100, endpoint in its own process)',
      rows: [
        { run: 'rate unlimited, 8 in flight', 'rows/s': Math.round(raw.rows / raw.elapsed), 'requests/s': Math.round(raw.log.length / raw.elapsed), seconds: raw.elapsed.toFixed(1) },
        { run: 'nothing configured (adaptive, 8 in flight)', 'rows/s': Math.round(rawAdaptive.rows / rawAdaptive.elapsed), 'requests/s': Math.round(rawAdaptive.log.length / rawAdaptive.elapsed), seconds: rawAdaptive.elapsed.toFixed(1) },
      ],
    },
  ];
}
