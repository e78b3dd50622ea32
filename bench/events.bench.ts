/**
 * The event path under load: `lastmile serve` (a process of its own) receives events by POST
 * at a fixed rate, open loop, and delivers them to the fake HTTP endpoint (another process).
 * Latency is from the moment the POST is sent to the moment the destination's acknowledgement
 * is settled (the event's settledAt), for a sample of about 2,000 POSTs spread over the run.
 * - 50 events/s: the latency of the path itself, nothing queued;
 * - 1,000 events/s, one per POST, into an endpoint answering in 5 ms;
 * - 10,000 events/s, ten per POST, same endpoint;
 * - 1,000 events/s into an endpoint limited to 20 requests/s in any second, as the delivery
 *   bench's (batches of 25, so the input outruns it): 429s go back to the caller, which sends
 *   again after Retry-After; nothing lost.
 * The endpoint's rate is declared (rateLimit.requestsPerSecond: 500, or 20), as a user who
 * knows it writes; undeclared, the adaptive rate starts at 4 requests/s and grows.
 * Each scenario is preceded by a warm-up at its rate (3 s, not measured, drained before the
 * measured part starts): cold, the client's and the server's first-second stalls queue POSTs.
 * LASTMILE_BENCH_QUICK=1: 5 s each instead of 20 / 60 / 20 / 20; LASTMILE_BENCH_EVENTS_SCENARIO=N runs the N-th only.
 */
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { Agent, fetch } from 'undici';
import type { BenchTable } from './run.ts';
import { startFakeProcess } from '../test/fakes/http/fake-http-process.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const SERVE = path.join(here, '..', 'test', 'events', 'serve-process.ts');
const quick = process.env.LASTMILE_BENCH_QUICK === '1';
const WARM_UP_SECONDS = quick ? 1 : 3;
const TOKEN = 'bench-token';
/** A client's connection pool, as a real caller has: requests beyond it wait on the client (and that wait counts). */
const dispatcher = new Agent({ connections: 64 });

interface Scenario { name: string; perSecond: number; perPost: number; seconds: number; latencyMs?: number; limit?: number; batch: number }

const SCENARIOS: Scenario[] = [
  { name: '50 events/s (the path unloaded), endpoint answers in 5 ms', perSecond: 50, perPost: 1, seconds: quick ? 5 : 20, latencyMs: 5, batch: 100 },
  { name: '1,000 events/s, endpoint answers in 5 ms', perSecond: 1_000, perPost: 1, seconds: quick ? 5 : 60, latencyMs: 5, batch: 100 },
  { name: '10,000 events/s (10 per POST), endpoint answers in 5 ms', perSecond: 10_000, perPost: 10, seconds: quick ? 5 : 20, latencyMs: 5, batch: 500 },
  { name: '1,000 events/s into 20 requests/s (batches of 25)', perSecond: 1_000, perPost: 1, seconds: quick ? 5 : 20, limit: 20, batch: 25 },
];

export default async function run(): Promise<BenchTable[]> {
  const rows: Record<string, string | number>[] = [];
  const only = process.env.LASTMILE_BENCH_EVENTS_SCENARIO; // e.g. 1: run that one only
  for (const [i, scenario] of SCENARIOS.entries()) if (!only || Number(only) === i + 1) rows.push(await measure(scenario));
  return [{ title: 'event path: POST → destination acknowledgement (lastmile serve and the fake endpoint in processes of their own)', rows }];
}

async function measure(s: Scenario): Promise<Record<string, string | number>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-bench-events-'));
  const fake = await startFakeProcess({ latencyMs: s.latencyMs, ...(s.limit ? { limit: { rate: s.limit, burst: s.limit } } : {}) });
  const instance = await DuckDBInstance.create(path.join(dir, 'warehouse.duckdb'));
  const db = await instance.connect();
  await db.run('CREATE TABLE prices (sku VARCHAR, price DECIMAL(10,2), currency VARCHAR)');
  db.closeSync();
  instance.closeSync();
  const config = path.join(dir, 'lastmile.yml');
  await writeFile(config, `version: 1
state: .lastmile
sources: { warehouse: { type: duckdb, path: ./warehouse.duckdb } }
destinations:
  endpoint:
    type: http
    url: ${fake.url}/bulk
    batch: { size: ${s.batch} }
    rateLimit: { requestsPerSecond: ${s.limit ?? 500}, concurrency: ${s.limit ? 2 : 4} }
models:
  prices: { source: warehouse, sql: "SELECT sku, price, currency FROM prices", primaryKey: sku }
syncs:
  live_prices:
    model: prices
    destination: endpoint
    mode: upsert
    match: { sku: id }
    mapping: { price: amount, currency: currency }
    events: { maxWaitMs: 50, queueSize: ${Math.max(2_000, s.perSecond)} }
`);
  const child = spawn(process.execPath, ['--import', 'tsx', SERVE, config], { env: { ...process.env, LASTMILE_API_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`serve exited (${code})`)));
  });
  const endpoint = `${url}/api/syncs/live_prices/events`;
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  try {
    await post(endpoint, headers, [{ sku: 'warm-up', price: '1.00', currency: 'EUR' }]); // opens the pipeline

    // Warm-up at the scenario's rate, not measured: the client and the server compile their hot
    // paths and open their connections. Cold, the first second's stalls (the client's own, up to
    // ~200 ms) queue POSTs that take two or three seconds to drain.
    const warm = await drive(s, WARM_UP_SECONDS, 'W', endpoint, headers, () => undefined);
    await drained(endpoint, headers);
    const warmUpRequests = (await fake.log()).length;

    networkErrors = 0;
    const sent: { ids: string[]; at: number }[] = [];
    // Latency comes from a sample of about 2,000 POSTs, read while the run goes: the server keeps
    // the outcomes of its latest 100,000 events only, so a 200,000-event run forgets its first half.
    const sampleEvery = Math.max(1, Math.floor((s.perSecond * s.seconds) / s.perPost / 2_000));
    const sample: { id: string; at: number }[] = [];
    const latencies: number[] = [];
    let lost = 0;
    let reading = true;
    const readSample = async () => {
      const open = sample.splice(0);
      for (const item of open) {
        const outcome = await (await fetch(`${endpoint}/${item.id}`, { headers, dispatcher })).json() as { status?: string; settledAt?: string };
        if (outcome.status === 'pending') sample.push(item);
        else if (outcome.status === 'delivered') latencies.push(Date.parse(outcome.settledAt!) - item.at);
        else lost++;
      }
    };
    const sampler = (async () => { while (reading) { await readSample(); await new Promise((r) => setTimeout(r, 500)); } })();
    const started = performance.now();
    const { refused, sentFor } = await drive(s, s.seconds, 'E', endpoint, headers, (ids, at) => {
      if (sent.length % sampleEvery === 0) sample.push({ id: ids[0]!, at });
      sent.push({ ids, at });
    });
    // Wait until the server has settled everything it accepted.
    const accepted = sent.reduce((n, p) => n + p.ids.length, 0);
    await drained(endpoint, headers);
    const finished = (performance.now() - started) / 1000;
    reading = false;
    await sampler;
    await readSample();
    const summary = await (await fetch(endpoint, { headers, dispatcher })).json() as { counts: Record<string, number> };
    const log = (await fake.log()).slice(warmUpRequests);
    const requests = log.filter((r) => r.status === 200);
    const received = requests.reduce((n, r) => n + r.records, 0);
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
    const activeSeconds = requests.length ? (requests.at(-1)!.at - requests[0]!.at) / 1000 : 0;
    return {
      scenario: s.name,
      'events accepted': accepted,
      'achieved input (events/s)': Math.round(accepted / sentFor),
      'p50 ms': pct(50), 'p95 ms': pct(95), 'p99 ms': pct(99),
      'requests to endpoint': requests.length,
      'rows/request': requests.length ? Math.round(received / requests.length) : 0,
      'endpoint requests/s': activeSeconds ? Math.round((requests.length / activeSeconds) * 10) / 10 : 0,
      '429s to caller': refused,
      'network errors (sent again)': networkErrors,
      'delivered (server)': summary.counts.delivered ?? 0,
      lost: accepted + warm.accepted + 1 - (summary.counts.delivered ?? 0) + lost,
      'drained after (s)': Math.round((finished - sentFor) * 10) / 10,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await fake.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Sends POSTs of `s.perPost` rows at `s.perSecond` rows/s for `seconds`, open loop (a POST leaves
 * on time whether or not earlier ones were answered); a 429 is sent again after its Retry-After.
 * `sentFor`: seconds until the last POST first left (the resends of 429s come after).
 */
async function drive(
  s: Scenario, seconds: number, prefix: string, endpoint: string, headers: Record<string, string>,
  onAccepted: (ids: string[], at: number) => void,
): Promise<{ accepted: number; refused: number; sentFor: number }> {
  let accepted = 0;
  let refused = 0;
  const posts = Math.round((s.perSecond * seconds) / s.perPost);
  const inFlight = new Set<Promise<void>>();
  const send = (n: number): Promise<void> => {
    const rows = Array.from({ length: s.perPost }, (_, i) => ({ sku: `${prefix}-${n}-${i}`, price: `${(n % 900) + 1}.${String(i).padStart(2, '0')}`, currency: 'EUR' }));
    const at = Date.now();
    return post(endpoint, headers, rows).then(async (answer) => {
      if (answer.status === 202) {
        accepted += answer.ids.length;
        onAccepted(answer.ids, at);
      } else if (answer.status === 429) {
        refused++;
        await new Promise((r) => setTimeout(r, answer.retryAfter * 1000)); // as a well-behaved caller does
        await send(n);
      } else throw new Error(`POST answered ${answer.status}`);
    });
  };
  const started = performance.now();
  for (let next = 0; next < posts;) {
    const due = Math.min(posts, Math.floor(((performance.now() - started) / 1000) * (s.perSecond / s.perPost)));
    for (; next < due; next++) {
      const p = send(next).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const sentFor = (performance.now() - started) / 1000;
  while (inFlight.size) await Promise.all(inFlight);
  return { accepted, refused, sentFor };
}

/** Resolves once the server has nothing queued or in flight for the sync. */
async function drained(endpoint: string, headers: Record<string, string>): Promise<void> {
  for (;;) {
    const summary = await (await fetch(endpoint, { headers, dispatcher })).json() as { queued: number; inFlight: number };
    if (summary.queued === 0 && summary.inFlight === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Network errors (a reset, a refused connect on a starved machine) are counted and the POST sent again, as a caller would. */
let networkErrors = 0;

async function post(url: string, headers: Record<string, string>, rows: unknown[]): Promise<{ status: number; ids: string[]; retryAfter: number }> {
  let response;
  for (let attempt = 1; ; attempt++) {
    try {
      response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(rows), dispatcher });
      break;
    } catch (error) {
      if (attempt >= 5) throw error;
      networkErrors++;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
  const body = await response.json() as { ids?: string[] };
  return { status: response.status, ids: body.ids ?? [], retryAfter: Number(response.headers.get('retry-after') ?? 1) };
}
