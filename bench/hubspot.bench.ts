/**
 * HubSpot pacing: upserts of contacts through deliver() against the local fake's rolling
 * window (100 requests per 10 s, like a Starter private app; 190 for Professional), with
 * no rate in the config, so the destination's declared limit and the X-HubSpot-RateLimit-*
 * headers pace it. Measures how much of the window was used and how many 429s came back.
 */
import os from 'node:os';
import path from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { FieldMapping, SyncConfig } from '../src/config/project.ts';
import type { Change } from '../src/destinations/destination.ts';
import { hubspotDestinationType } from '../src/destinations/hubspot/hubspot-type.ts';
import { deliver } from '../src/delivery/deliver.ts';
import { budgetFor } from '../src/delivery/budgets.ts';
import type { HubspotFakeOptions, RecordedRequest } from '../test/fakes/hubspot/hubspot-fake.ts';
import type { BenchTable } from './run.ts';

const quick = process.env.LASTMILE_BENCH_QUICK === '1';
/** Seconds of sending per scenario: several windows, so the start does not flatter the result. */
const SECONDS = quick ? 25 : 65;
/** HubSpot takes a few hundred ms to answer a batch of 100 upserts. */
const LATENCY_MS = 250;
const WINDOW_MS = 10_000;

interface Scenario {
  name: string;
  windowMax: number;
  syncs: number;
}

const scenarios: Scenario[] = [
  { name: 'Starter private app, one sync', windowMax: 100, syncs: 1 },
  { name: 'Starter private app, two syncs on one token', windowMax: 100, syncs: 2 },
  { name: 'Professional private app, one sync', windowMax: 190, syncs: 1 },
];

export default async function run(): Promise<BenchTable[]> {
  const rows: BenchTable['rows'] = [];
  for (const scenario of scenarios) rows.push(await measure(scenario));
  return [
    { title: `HubSpot: share of the rolling window used, ${SECONDS} s of upserts per scenario (${LATENCY_MS} ms answers)`, rows },
    { title: 'For comparison: a configured 10 requests/s (a per-second ceiling, never 11 in any second), the rate budget alone, no HTTP', rows: [await budgetBaseline()] },
  ];
}

/** A rate set in the config is counted per second, where the slack kept for answer lag costs a tenth of it. */
async function budgetBaseline(): Promise<BenchTable['rows'][number]> {
  const { budget, release } = budgetFor(`bench-baseline-${process.pid}`, { requestsPerSecond: 10 });
  const signal = new AbortController().signal;
  const starts: number[] = [];
  const until = Date.now() + (quick ? 10_000 : 20_000);
  try {
    while (Date.now() < until) {
      const permit = await budget.acquire(signal);
      starts.push(Date.now());
      setTimeout(() => permit.release('success'), LATENCY_MS);
    }
  } finally {
    release();
  }
  const perSecond = ((starts.length - 1) * 1000) / (starts.at(-1)! - starts[0]!);
  return { 'requests / s': perSecond.toFixed(2), '% of 10 / s': (perSecond * 10).toFixed(1), 'load (1 min)': os.loadavg()[0]!.toFixed(1) };
}

async function measure({ name, windowMax, syncs }: Scenario): Promise<BenchTable['rows'][number]> {
  const fake = await startPortal({ limits: { windowMax, windowMs: WINDOW_MS }, latencyMs: LATENCY_MS });
  try {
    // Enough rows for SECONDS at the full window, split between the syncs.
    const perSync = Math.ceil((windowMax * 100 * SECONDS * 1000) / WINDOW_MS / syncs);
    const started = Date.now();
    const stats = await Promise.all(Array.from({ length: syncs }, (_, s) => deliverContacts(fake, `s${s}`, perSync)));
    const wallMs = Date.now() - started;
    const requests = await fake.requests();
    const accepted = requests.filter((r) => r.method === 'POST' && r.status < 300);
    const throttled = requests.filter((r) => r.status === 429).length;
    const span = accepted.at(-1)!.at - accepted[0]!.at;
    const perWindow = ((accepted.length - 1) * WINDOW_MS) / span;
    return {
      scenario: name,
      'window (requests / 10 s)': windowMax,
      rows: syncs * perSync,
      requests: requests.length,
      'wall (s)': (wallMs / 1000).toFixed(1),
      'requests / 10 s': perWindow.toFixed(1),
      '% of window used': ((100 * perWindow) / windowMax).toFixed(1),
      '429s': throttled,
      delivered: stats.reduce((sum, s) => sum + s.delivered, 0),
      // Pacing rides on timers: a busy machine (load above its cores) makes them late.
      'load (1 min)': os.loadavg()[0]!.toFixed(1),
      'target': '≥ 95 %, zero 429s',
    };
  } finally {
    await fake.close();
  }
}

interface Portal {
  url: string;
  token: string;
  requests(): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

async function startPortal(options: HubspotFakeOptions): Promise<Portal> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'hubspot', 'fake-portal-process.ts');
  const child: ChildProcess = fork(script, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = async <T>(message: unknown, answer: string): Promise<T> => {
    child.send(message as object);
    for (;;) {
      const [reply] = (await once(child, 'message')) as [{ type: string } & T];
      if (reply.type === answer) return reply;
    }
  };
  const { url, token } = await ask<{ url: string; token: string }>({ type: 'start', options }, 'started');
  return {
    url,
    token,
    requests: async () => (await ask<{ requests: RecordedRequest[] }>({ type: 'requests' }, 'requests')).requests,
    close: async () => {
      child.send({ type: 'close' });
      await once(child, 'exit');
    },
  };
}

async function deliverContacts(fake: Portal, prefix: string, count: number) {
  const mapping: Record<string, FieldMapping> = { firstname: { kind: 'column', column: 'firstname' }, lifetime_value: { kind: 'column', column: 'ltv' } };
  const sync: SyncConfig = { name: `contacts_${prefix}`, model: 'contacts', destination: 'marketing', mode: 'upsert', match: { email: 'email' }, mapping, options: { object: 'contacts' } };
  const destination = hubspotDestinationType.create({
    connection: { name: 'marketing', type: 'hubspot', token: fake.token, baseUrl: fake.url },
    options: { object: 'contacts' },
    sync,
    rootDir: process.cwd(),
  });
  await destination.check(new AbortController().signal);
  async function* changes(): AsyncIterable<Change[]> {
    for (let i = 0; i < count; i += 5_000) {
      yield Array.from({ length: Math.min(5_000, count - i) }, (_, j) => {
        const email = `${prefix}-${i + j}@example.com`;
        return { key: email, op: 'upsert', match: { email }, fields: { email, firstname: 'Bench', lifetime_value: i + j } } satisfies Change;
      });
    }
  }
  return deliver(changes(), { destination, batchSize: 100, signal: new AbortController().signal }, {
    onSettled: async () => {},
    trace: () => {},
  });
}
