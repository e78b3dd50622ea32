import { afterEach, describe, expect, it } from 'vitest';
import { SyncError } from '../../src/errors.ts';
import { parseRetryAfter } from '../../src/delivery/retry-after.ts';
import { TIMEOUTS_TO_OPEN } from '../../src/delivery/circuit-breaker.ts';
import type { Change } from '../../src/destinations/destination.ts';
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

const oneAtATime = { requestsPerSecond: 1000, concurrency: 1 };

describe('deliver: a destination that cannot take more now', () => {
  for (const [what, retryAfter] of [
    ['an hour', '3600'],
    ['past the timer range', '9999999999'],
    ['an HTTP date in 2100', 'Fri, 01 Jan 2100 00:00:00 GMT'],
  ] as const) {
    it(`stops at once when a Retry-After asks for ${what}, and defers every row with the reason`, async () => {
      const { server, destination } = await setup();
      server.inject({ status: 429, retryAfter });
      const d = await run(changes(300), { destination, batchSize: 100, rateLimit: oneAtATime });
      expect(d.error).toBeInstanceOf(SyncError);
      expect((d.error as SyncError).kind).toBe('unavailable');
      expect((d.error as Error).message).toMatch(/asked to wait [\d,]+ (s|years) \(Retry-After\), past the cap of 60 s \(rateLimit\.maxRetryAfter\); the run stopped, 300 rows wait for the next run/);
      expect(server.log).toHaveLength(1);
      expect(outcomes(d)).toEqual({ delivered: 0, rejected: 0, deferred: 100 });
      expect(d.stats!.deferred).toBe(300);
      expect(d.traces.some((t) => /^batch 1: 429 Too Many Requests, asked to wait .* \[100 deferred to the next run\]$/.test(t))).toBe(true);
    });
  }

  it('waits out a Retry-After within the cap the destination sets', async () => {
    const { server, destination } = await setup();
    server.inject({ status: 429, retryAfter: '2' });
    const d = await run(changes(100), { destination, batchSize: 100, rateLimit: { ...oneAtATime, maxRetryAfter: 5_000 } });
    expect(d.error).toBeUndefined();
    expect(outcomes(d)).toEqual({ delivered: 100, rejected: 0 });
    expect(d.traces).toContain('batch 1: 429 Too Many Requests, retry in 2000 ms');
  });

  it('reads a Retry-After of any size without overflowing timers', () => {
    expect(parseRetryAfter('9999999999')).toBe(9_999_999_999_000);
    expect(parseRetryAfter('Fri, 01 Jan 2100 00:00:00 GMT', Date.parse('2026-12-01T00:00:00Z'))).toBe(Date.parse('2100-01-01T00:00:00Z') - Date.parse('2026-12-01T00:00:00Z'));
  });

  it('opens the circuit after repeated timeouts: the run stops early with the rest deferred', async () => {
    const { server, destination } = await setup({}, { timeoutMs: 300 });
    server.inject(...Array.from({ length: 50 }, () => 'hang' as const));
    const d = await run(changes(500), { destination, batchSize: 100, rateLimit: { requestsPerSecond: 1000, concurrency: 2 } });
    expect(d.error).toBeInstanceOf(SyncError);
    expect((d.error as SyncError).kind).toBe('unavailable');
    expect((d.error as Error).message).toMatch(new RegExp(`circuit open: ${TIMEOUTS_TO_OPEN} requests in a row timed out .*; the run stopped, 500 rows wait for the next run`));
    // Without the breaker: 5 batches ÷ 2 in flight × 6 attempts, each a timeout. With it: the
    // timeouts that open it, plus at most one request per slot already let through meanwhile.
    expect(server.log.length).toBeLessThanOrEqual(TIMEOUTS_TO_OPEN + 2);
    expect(d.stats!.deferred).toBe(500);
    expect(d.stats!.delivered).toBe(0);
  });

  it('does not retry an insert after a timeout where the endpoint cannot deduplicate (it may have been applied), but does retry an upsert', async () => {
    const { server, destination } = await setup({}, { timeoutMs: 300, idempotencyKey: false });
    server.inject('hang');
    const inserts: Change[] = changes(10).map((c) => ({ ...c, op: 'insert' }));
    const d = await run(inserts, { destination, batchSize: 10, rateLimit: oneAtATime });
    expect(d.error).toBeUndefined();
    expect(server.log).toHaveLength(1);
    expect(outcomes(d)).toEqual({ delivered: 0, rejected: 0, deferred: 10 });
    expect(d.traces[0]).toMatch(/^batch 1: TIMEOUT; the destination may have applied this insert already, and a retry could apply it twice: not retried \[10 deferred to the next run\]$/);

    server.inject('hang');
    const upserts = await run(changes(10, undefined, 100), { destination, batchSize: 10, rateLimit: oneAtATime });
    expect(outcomes(upserts)).toEqual({ delivered: 10, rejected: 0 });
  });

  it('retries an insert after a timeout with the same Idempotency-Key, so the endpoint can drop the repeat', async () => {
    const { server, destination } = await setup({}, { timeoutMs: 300 });
    server.inject('hang', 'reset');
    const inserts: Change[] = changes(10).map((c) => ({ ...c, op: 'insert' }));
    const d = await run(inserts, { destination, batchSize: 10, rateLimit: oneAtATime });
    expect(outcomes(d)).toEqual({ delivered: 10, rejected: 0 });
    const keys = server.log.map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(3);
    expect(keys[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(keys).size).toBe(1);
  });
});
