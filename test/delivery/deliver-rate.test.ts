import { afterEach, describe, expect, it } from 'vitest';
import { FakeHttpServer } from '../fakes/http/fake-http-server.ts';
import { maxInWindow, startFakeProcess } from '../fakes/http/fake-http-process.ts';
import { changes, httpDestination, outcomes, run } from './delivery-kit.ts';

const servers: FakeHttpServer[] = [];
async function fake(options: ConstructorParameters<typeof FakeHttpServer>[0] = {}): Promise<FakeHttpServer> {
  const server = await new FakeHttpServer(options).start();
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe('deliver: rate and concurrency', () => {
  it('never starts more than the configured requests per second, counted by the destination', async () => {
    const server = await startFakeProcess();
    try {
      const destination = httpDestination(`${server.url}/bulk`);
      const started = performance.now();
      const d = await run(changes(600), { destination, batchSize: 10, rateLimit: { requestsPerSecond: 20, concurrency: 8 } });
      const seconds = (performance.now() - started) / 1000;
      expect(d.error).toBeUndefined();
      const log = await server.log();
      expect(log.length).toBe(60);
      expect(maxInWindow(log, 1000)).toBeLessThanOrEqual(20);
      // Used, not merely respected: 60 requests at 20/s take about 3 s (59 gaps of 50 ms).
      expect(seconds).toBeGreaterThan(2.5);
      expect(seconds).toBeLessThan(4.5);
      await destination.close();
    } finally {
      await server.stop();
    }
  });

  it('keeps at most `concurrency` requests in flight, a separate setting from the rate', async () => {
    const server = await fake({ latencyMs: 150 });
    const destination = httpDestination(`${server.url}/bulk`);
    const d = await run(changes(400), { destination, batchSize: 20, rateLimit: { requestsPerSecond: 1000, concurrency: 3 } });
    expect(d.error).toBeUndefined();
    expect(server.maxInFlight).toBe(3);
    expect(outcomes(d)).toEqual({ delivered: 400, rejected: 0 });
    await destination.close();
  });

  it('without a configured rate, rises to the limit of the destination and holds near it', async () => {
    const server = await fake({ limit: { rate: 20, retryAfter: 'seconds' } });
    const destination = httpDestination(`${server.url}/bulk`);
    const d = await run(changes(170), { destination, batchSize: 1, rateLimit: { concurrency: 4 } });
    expect(d.error).toBeUndefined();
    expect(outcomes(d)).toEqual({ delivered: 170, rejected: 0 });
    const ok = server.log.filter((r) => r.status === 200).map((r) => r.at);
    // After the climb (the first 429), it served close to 20/s with few 429s.
    const first429 = server.log.find((r) => r.status === 429)?.at ?? 0;
    const after = ok.filter((t) => t > first429 + 1000);
    const rate = (after.length - 1) / ((after.at(-1)! - after[0]) / 1000);
    expect(rate).toBeGreaterThan(20 * 0.75);
    expect(server.count(429) / server.log.length).toBeLessThan(0.1);
    await destination.close();
  });

  it('shares one budget between two deliveries to the same credential', async () => {
    const server = await startFakeProcess();
    try {
      const a = httpDestination(`${server.url}/bulk`, { headers: { Authorization: 'Bearer same' } }, 'one');
      const b = httpDestination(`${server.url}/other`, { headers: { Authorization: 'Bearer same' } }, 'two');
      expect(a.budgetKey).toBe(b.budgetKey);
      const options = { batchSize: 10, rateLimit: { requestsPerSecond: 10 } };
      const [x, y] = await Promise.all([
        run(changes(200), { destination: a, ...options }),
        run(changes(200, undefined, 1000), { destination: b, ...options }),
      ]);
      expect(x.error ?? y.error).toBeUndefined();
      const log = await server.log();
      expect(log.length).toBe(40);
      expect(log.filter((r) => r.path === '/other').length).toBe(20);
      // Together, not each: 10 per second over both syncs.
      expect(maxInWindow(log, 1000)).toBeLessThanOrEqual(10);
      const other = httpDestination(`${server.url}/bulk`, { headers: { Authorization: 'Bearer another' } });
      expect(other.budgetKey).not.toBe(a.budgetKey);
      await Promise.all([a.close(), b.close(), other.close()]);
    } finally {
      await server.stop();
    }
  });

  it('paces to the rolling window the destination reports in its limit headers', async () => {
    // 10 per 2 s, announced in RateLimit-Policy; no rate configured.
    const server = await fake({ limit: { rate: 5, burst: 10 }, limitHeaders: true });
    const destination = httpDestination(`${server.url}/bulk`);
    const d = await run(changes(25), { destination, batchSize: 1, rateLimit: { concurrency: 2 } });
    expect(d.error).toBeUndefined();
    expect(outcomes(d).delivered).toBe(25);
    expect(server.count(429)).toBeLessThanOrEqual(1);
    await destination.close();
  });
});
