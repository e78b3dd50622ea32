import { afterEach, describe, expect, it } from 'vitest';
import { splitBudget } from '../../src/delivery/bisection.ts';
import { SyncError } from '../../src/errors.ts';
import { FakeHttpServer, type FakeHttpOptions } from '../fakes/http/fake-http-server.ts';
import { allDelivered, changes, httpDestination, outcomes, run, ScriptedDestination } from './delivery-kit.ts';

const servers: FakeHttpServer[] = [];
const closers: (() => Promise<void>)[] = [];
async function setup(options: FakeHttpOptions, settings: Record<string, unknown> = {}) {
  const server = await new FakeHttpServer(options).start();
  servers.push(server);
  const destination = httpDestination(`${server.url}/bulk`, settings);
  closers.push(() => destination.close());
  return { server, destination };
}
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

const fast = { requestsPerSecond: 1000, concurrency: 4 };
const refuse = (bad: (name: string) => boolean): FakeHttpOptions['rejectWhen'] => (r) =>
  bad(String(r.name)) ? { code: 'INVALID_PRICE', message: 'price must be positive', field: 'amount' } : undefined;

describe('deliver: refused rows', () => {
  it('splits a batch the destination refused whole, and rejects only the bad row with its message', async () => {
    const { server, destination } = await setup({ rejectWhen: refuse((n) => n === 'bad') });
    const d = await run(changes(100, (i) => (i === 37 ? 'bad' : `row ${i}`)), { destination, batchSize: 100, rateLimit: fast });
    expect(d.error).toBeUndefined();
    expect(outcomes(d)).toEqual({ delivered: 99, rejected: 1 });
    const bad = d.results.get('k37');
    expect(bad?.outcome === 'rejected' && bad.rejection).toEqual({
      // A rule of the destination refused it (the field's type is right): not a schema mismatch.
      category: 'invalid_row', code: 'INVALID_PRICE', field: 'amount', retryable: false, message: 'record k37: price must be positive',
    });
    expect(server.store.size).toBe(99);
    // One request, then two per level down to the bad row: 1 + 2 × ceil(log2 100).
    expect(server.log.length).toBeLessThanOrEqual(1 + 2 * 7);
    expect(d.traces[0]).toBe('batch 1: 400 Bad Request (record k37: price must be positive), splitting into 50 + 50');
    expect(d.traces).toContain('batch 1.2: 200 OK [50]');
  });

  it('isolates every bad row even when all are bad, in no more calls than halving down to every row', async () => {
    const { server, destination } = await setup({ rejectWhen: refuse(() => true) });
    const d = await run(changes(64), { destination, batchSize: 64, rateLimit: fast });
    expect(outcomes(d)).toEqual({ delivered: 0, rejected: 64 });
    expect([...d.results.values()].every((r) => r.outcome === 'rejected' && !r.rejection.retryable)).toBe(true);
    expect(server.log.length).toBeLessThanOrEqual(2 * 64 - 1);
  });

  it('isolates every bad row within the run when 1.8 % of rows are bad in batches of 200, with bounded, traced extra calls', async () => {
    // 36 bad rows of 2,000, scattered (a fixed pseudo-random pick), as an adversarial run found them.
    const bad = new Set<number>();
    for (let x = 7; bad.size < 36; ) bad.add(1 + ((x = (x * 48271) % 2147483647) % 2000));
    const { server, destination } = await setup({ rejectWhen: refuse((n) => n === 'bad') });
    const d = await run(changes(2000, (i) => (bad.has(i) ? 'bad' : `row ${i}`)), { destination, batchSize: 200, rateLimit: { requestsPerSecond: 1000, concurrency: 4 } });
    expect(d.error).toBeUndefined();
    expect(outcomes(d)).toEqual({ delivered: 1964, rejected: 36 });
    expect(server.store.size).toBe(1964);
    // Extra calls stay within the split budgets of the batches sent, and the trace says how many.
    const budgets = d.stats!.batches * splitBudget(200) + 36 * 2 * Math.ceil(Math.log2(200));
    expect(d.stats!.splitCalls).toBeLessThanOrEqual(budgets);
    expect(d.traces.at(-1)).toMatch(new RegExp(`\\(${d.stats!.splitCalls.toLocaleString('en-US')} to isolate refused rows\\)`));
  });

  it('defers, saying why, rows it could not isolate after giving them back once', async () => {
    // Refuses any request of two or more rows, while every row alone is fine: no row is ever
    // found at fault, so the split budget runs dry twice.
    const destination = new ScriptedDestination('picky', `picky-${Math.random()}`, (batch) => {
      if (batch.length > 1) throw new SyncError('terminal', 'the batch conflicts with itself', { status: 400, code: 'CONFLICT' });
      return allDelivered(batch);
    }, { perRecordResults: false });
    const d = await run(changes(64), { destination, batchSize: 64, rateLimit: fast });
    const { delivered, deferred } = outcomes(d);
    expect(delivered + (deferred ?? 0)).toBe(64);
    expect(deferred).toBeGreaterThan(0);
    for (const r of d.results.values()) if (r.outcome === 'deferred') expect(r.reason).toMatch(/could not be isolated within the split budget/);
    expect(d.traces.some((t) => /split budget used up \[\d+ back to the queue, to go out in smaller batches\]$/.test(t))).toBe(true);
    expect(destination.calls).toBeLessThanOrEqual(2 * (1 + splitBudget(64)) + 64);
  });

  it('passes per-record results through: one request, bad rows rejected with their code', async () => {
    const { server, destination } = await setup(
      { rejectWhen: refuse((n) => n.startsWith('bad')), rejectMode: 'record' },
      { results: { path: 'results', keyField: 'key', errorField: 'error' } },
    );
    const d = await run(changes(50, (i) => (i % 10 === 0 ? 'bad' : `row ${i}`)), { destination, batchSize: 50, rateLimit: fast });
    expect(server.log).toHaveLength(1);
    expect(outcomes(d)).toEqual({ delivered: 45, rejected: 5 });
    const r = d.results.get('k20');
    expect(r?.outcome === 'rejected' && r.rejection).toMatchObject({ code: 'INVALID_PRICE', field: 'amount', retryable: false });
    expect(d.traces).toContain('batch 1: 200 OK [45 delivered, 5 rejected]');
  });

  it('defers to the next run records the destination returned no result for', async () => {
    const destination = new ScriptedDestination('buggy', `buggy-${Math.random()}`, (batch) => allDelivered(batch).filter((r) => r.key !== 'k3'));
    const d = await run(changes(10), { destination, rateLimit: fast });
    expect(outcomes(d)).toEqual({ delivered: 9, rejected: 0, deferred: 1 });
    const r = d.results.get('k3');
    expect(r?.outcome === 'deferred' && r.reason).toMatch(/returned no result for this record/);
  });

  it('gives every row exactly one outcome under mixed failures', async () => {
    const { server, destination } = await setup({ rejectWhen: refuse((n) => n === 'bad') });
    server.inject({ status: 503 }, { status: 429, retryAfter: '0' }, { status: 500 }, 'reset', { status: 429, retryAfter: '0' }, { status: 503 });
    const all = changes(1000, (i) => (i % 97 === 0 ? 'bad' : `row ${i}`));
    const d = await run(all, { destination, batchSize: 50, rateLimit: { requestsPerSecond: 500, concurrency: 6 }, maxAttempts: 6 });
    expect(d.error).toBeUndefined();
    const { delivered, rejected } = outcomes(d);
    expect(delivered + rejected).toBe(1000);
    expect([...d.settledTimes.values()].every((n) => n === 1)).toBe(true);
    expect(d.stats).toMatchObject({ delivered, rejected, batches: 20 });
    expect(rejected).toBe(all.filter((c) => c.fields.name === 'bad').length);
    expect(server.store.size).toBe(delivered);
  });

  it('treats an unexpected destination error as a bug: the run stops and names it', async () => {
    const destination = new ScriptedDestination('broken', `broken-${Math.random()}`, () => {
      throw new TypeError("Cannot read properties of undefined (reading 'id')");
    });
    const d = await run(changes(10), { destination, rateLimit: fast });
    expect(d.error).toBeInstanceOf(Error);
    expect((d.error as Error).message).toMatch(/destination "broken" failed unexpectedly on batch 1 \(TypeError: Cannot read/);
    expect((d.error as Error).message).toMatch(/10 rows wait for the next run/);
    expect(d.error).not.toBeInstanceOf(SyncError);
  });
});
