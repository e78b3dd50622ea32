/**
 * CPU per row of a templated JSON destination (http-request) against the built-in bulk HTTP
 * destination, in the same run, into the same unlimited local endpoint (its own process, so
 * its CPU is not counted): the same rows, batches of 500, 8 in flight. Five rounds, each
 * starting with another variant, garbage collected before every measurement; the median is
 * kept (the machine is shared). A third variant forces the same template through liquidjs
 * (an `assign` keeps it out of the compiled subset), to show what compiling the template buys.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Change, Destination } from '../src/destinations/destination.ts';
import { httpRequestDestinationType } from '../src/destinations/http-request/http-request-type.ts';
import { deliver } from '../src/delivery/deliver.ts';
import { httpDestination } from '../test/delivery/delivery-kit.ts';
import { startFakeProcess } from '../test/fakes/http/fake-http-process.ts';

const quick = process.env.LASTMILE_BENCH_QUICK === '1';
const ROWS = quick ? 40_000 : 200_000;
const ROUNDS = quick ? 2 : 5;
const BATCH = 500;
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const BODY = '[{% for r in records %}{{ r.fields | merge: op: r.op, key: r.key | json }}{% unless forloop.last %},{% endunless %}{% endfor %}]';

function templated(url: string, body: string): Destination {
  const connection = httpRequestDestinationType.connection.parse({ baseUrl: url, operations: { upsert: { url: '/v2/bulk-update', batchSize: 1000, body } } });
  return httpRequestDestinationType.create({
    connection: { name: 'pricing_engine', type: 'http-request', ...connection }, options: {},
    sync: { name: 'prices', model: 'm', destination: 'pricing_engine', mode: 'upsert', match: { id: 'id' }, mapping: {}, options: {} },
    rootDir: process.cwd(),
  });
}

async function* chunks(all: Change[]): AsyncGenerator<Change[]> {
  for (let i = 0; i < all.length; i += 5_000) yield all.slice(i, i + 5_000);
}

/** CPU microseconds this process spent per row delivering `rows` through `destination`. */
async function cpuPerRow(destination: Destination, rows: Change[]): Promise<{ us: number; delivered: number; seconds: number }> {
  let delivered = 0;
  gc(); // the garbage of the variant before is not this one's to collect
  const started = performance.now();
  const before = process.cpuUsage();
  await deliver(chunks(rows), { destination, batchSize: BATCH, rateLimit: { requestsPerSecond: 1_000_000, concurrency: 8 }, signal: AbortSignal.timeout(600_000) }, {
    async onSettled(_batch, results) {
      for (const r of results) if (r.outcome === 'delivered') delivered++;
    },
    trace() {},
  });
  const used = process.cpuUsage(before);
  await destination.close();
  return { us: (used.user + used.system) / rows.length, delivered, seconds: (performance.now() - started) / 1000 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export default async function run() {
  const server = await startFakeProcess({});
  const url = `${server.url}/v2/bulk-update`;
  const rows: Change[] = Array.from({ length: ROWS }, (_, i) => ({
    key: `k${i}`, op: 'upsert', match: { id: `id-${i}` },
    fields: { id: `id-${i}`, price: (i % 997) + 0.99, currency: 'EUR', competitor: `shop-${i % 13}`, label: `SKU-${i} @ shop "${i % 13}"` },
  }));
  const variants: Record<string, () => Destination> = {
    'built-in http (JSON array)': () => httpDestination(url),
    'http-request, Liquid template (compiled)': () => templated(server.url, BODY),
    'http-request, same template through liquidjs': () => templated(server.url, `{% assign unused = 1 %}${BODY}`),
  };
  const samples: Record<string, { us: number[]; delivered: number; seconds: number[] }> = {};
  await cpuPerRow(httpDestination(url), rows.slice(0, 20_000)); // warm up the JIT and the connections
  await cpuPerRow(templated(server.url, BODY), rows.slice(0, 20_000));
  for (let round = 0; round < ROUNDS; round++) {
    // Each round starts with another variant, so none always runs right after another.
    const order = Object.entries(variants);
    for (const [name, make] of [...order.slice(round % order.length), ...order.slice(0, round % order.length)]) {
      const m = await cpuPerRow(make(), rows);
      const s = (samples[name] ??= { us: [], delivered: 0, seconds: [] });
      s.us.push(m.us);
      s.seconds.push(m.seconds);
      s.delivered = m.delivered;
    }
  }
  await server.stop();
  const base = median(samples['built-in http (JSON array)']!.us);
  return [{
    title: `CPU per row: templated JSON destination vs built-in bulk HTTP (${ROWS.toLocaleString('en-US')} rows, batches of ${BATCH}, 8 in flight, unlimited local endpoint, median of ${ROUNDS} alternated rounds)`,
    rows: Object.entries(samples).map(([name, s]) => ({
      destination: name,
      'CPU µs / row': median(s.us).toFixed(2),
      'vs built-in': `${(median(s.us) / base).toFixed(2)}×`,
      'rows delivered': s.delivered,
      'wall s (median)': median(s.seconds).toFixed(1),
      target: name.includes('compiled') ? '≤ 1.30×' : '',
    })),
  }];
}
