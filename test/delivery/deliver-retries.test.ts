import { afterEach, describe, expect, it } from 'vitest';
import { SyncError } from '../../src/errors.ts';
import { FakeHttpServer, type FakeHttpOptions } from '../fakes/http/fake-http-server.ts';
import { changes, httpDestination, outcomes, run } from './delivery-kit.ts';

const servers: FakeHttpServer[] = [];
const closers: (() => Promise<void>)[] = [];
async function setup(options: FakeHttpOptions = {}, settings: Record<string, unknown> = {}) {
  const server = await new FakeHttpServer(options).start();
  servers.push(server);
  const destination = httpDestination(`${server.url}/v2/bulk-update`, settings);
  closers.push(() => destination.close());
  return { server, destination };
}
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

const fast = { requestsPerSecond: 1000, concurrency: 4 };

describe('deliver: retries and throttling', () => {
  it('honours Retry-After in seconds, and traces it in the reference format', async () => {
    const { server, destination } = await setup();
    server.inject({ status: 429, retryAfter: '1' });
    const d = await run(changes(500), { destination, batchSize: 500, rateLimit: fast });
    expect(outcomes(d)).toEqual({ delivered: 500, rejected: 0 });
    const [throttled, retried] = server.log;
    expect(throttled.status).toBe(429);
    expect(retried.status).toBe(200);
    expect(retried.at - throttled.at).toBeGreaterThanOrEqual(990);
    expect(d.traces).toContain('batch 1: 429 Too Many Requests, retry in 1000 ms');
    expect(d.traces).toContain('batch 1 retry: 200 OK [500]');
    expect(d.stats).toMatchObject({ requests: 2, apiCalls: 2, retries: 1, throttled: 1, delivered: 500, rejected: 0, batches: 1 });
  });

  it('honours Retry-After as an HTTP date', async () => {
    const { server, destination } = await setup();
    const until = Math.ceil((Date.now() + 1500) / 1000) * 1000; // dates carry whole seconds
    server.inject({ status: 429, retryAfter: new Date(until).toUTCString() });
    const d = await run(changes(10), { destination, rateLimit: fast });
    expect(outcomes(d).delivered).toBe(10);
    expect(server.log).toHaveLength(2);
    expect(server.log[1].wall).toBeGreaterThanOrEqual(until - 5);
    const said = d.traces.map((t) => /^batch 1: 429 Too Many Requests, retry in (\d+) ms$/.exec(t)?.[1]).find(Boolean);
    expect(Number(said)).toBeGreaterThan(1000);
    expect(Number(said)).toBeLessThanOrEqual(2500);
  });

  it('does not spend attempts on 429s', async () => {
    const { server, destination } = await setup();
    server.inject({ status: 429, retryAfter: '0' }, { status: 429, retryAfter: '0' }, { status: 429, retryAfter: '0' }, { status: 503 });
    const d = await run(changes(5), { destination, rateLimit: fast, maxAttempts: 2 });
    expect(outcomes(d)).toEqual({ delivered: 5, rejected: 0 });
    expect(server.log.map((r) => r.status)).toEqual([429, 429, 429, 503, 200]);
    expect(d.stats).toMatchObject({ throttled: 3, retries: 4 });
  });

  it('retries 5xx, timeouts and resets with jittered backoff within its bounds', async () => {
    const { server, destination } = await setup({}, { timeoutMs: 300 });
    server.inject({ status: 503 }, 'hang', 'reset');
    const d = await run(changes(20), { destination, batchSize: 20, rateLimit: fast, maxAttempts: 4 });
    expect(outcomes(d)).toEqual({ delivered: 20, rejected: 0 });
    expect(server.log.map((r) => r.status)).toEqual([503, 'hang', 'reset', 200]);
    // Waits are full jitter under 500, 1000, 2000 ms (the hang adds its 300 ms timeout).
    const gaps = server.log.slice(1).map((r, i) => r.at - server.log[i].at);
    expect(gaps[0]).toBeLessThan(500 + 100);
    expect(gaps[1]).toBeLessThan(300 + 1000 + 100);
    expect(gaps[2]).toBeLessThan(2000 + 100);
    expect(d.traces.some((t) => /^batch 1: 503 Service Unavailable, retry in \d+ ms \(attempt 2 of 4\)$/.test(t))).toBe(true);
    expect(d.traces.some((t) => /^batch 1 retry: TIMEOUT, retry in \d+ ms/.test(t))).toBe(true);
    expect(d.traces).toContain('batch 1 retry: 200 OK [20]');
  });

  it('defers the batch to the next run when transient attempts run out', async () => {
    const { server, destination } = await setup();
    server.inject({ status: 502 }, { status: 502 }, { status: 502 });
    const d = await run(changes(30), { destination, batchSize: 30, rateLimit: fast, maxAttempts: 3 });
    expect(d.error).toBeUndefined();
    expect(server.log).toHaveLength(3);
    expect(outcomes(d)).toEqual({ delivered: 0, rejected: 0, deferred: 30 });
    const r = d.results.get('k7');
    expect(r?.outcome === 'deferred' && r.reason).toMatch(/gave up after 3 attempts/);
    expect(d.traces).toContain('batch 1 retry: 502 Bad Gateway, gave up after 3 attempts [30 deferred to the next run]');
  });

  it('stops at once on a config error: no retry, no new batch, a message that names what to fix', async () => {
    const { server } = await setup({ token: 'Bearer right' });
    const wrong = httpDestination(`${server.url}/v2/bulk-update?api_key=query-secret-456`, { headers: { Authorization: 'Bearer wrong-secret-123' } });
    closers.push(() => wrong.close());
    const d = await run(changes(250), { destination: wrong, batchSize: 50, rateLimit: { requestsPerSecond: 1000, concurrency: 1 } });
    expect(server.log).toHaveLength(1);
    expect(d.error).toBeInstanceOf(SyncError);
    const err = d.error as SyncError;
    expect(err.kind).toBe('config');
    expect(err.message).toContain('destination "pricing_engine"');
    expect(err.message).toContain(`${server.url}/v2/bulk-update`);
    expect(err.message).toContain('401');
    expect(err.message).toContain('250 rows wait for the next run');
    expect(err.message).not.toContain('query-secret-456');
    expect(err.message).not.toContain('wrong-secret-123');
    expect(d.traces.join('\n')).not.toContain('wrong-secret-123');
    expect(d.stats).toMatchObject({ requests: 1, delivered: 0, deferred: 250 });
    expect(d.results.size).toBe(0);
  });
});
