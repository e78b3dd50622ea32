import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Change } from '../../src/destinations/destination.ts';
import { deliver } from '../../src/delivery/deliver.ts';
import { SyncError } from '../../src/errors.ts';
import { allDelivered, changes, chunks, outcomes, run, ScriptedDestination } from './delivery-kit.ts';

const key = () => `stop-${Math.random()}`;
const fast = { requestsPerSecond: 1000, concurrency: 4 };

describe('deliver: stopping', () => {
  it('stops before a daily quota runs out, settles what is in flight, and counts the rows left', async () => {
    // The destination reports 60 calls left of 1,000; 2% (20) stay in reserve.
    let left = 60;
    const destination = new ScriptedDestination('crm', key(), async (batch, ctx) => {
      await sleep(5);
      ctx.observeLimits({ dailyLimit: 1000, dailyRemaining: --left });
      return allDelivered(batch);
    });
    const d = await run(changes(10_000), { destination, batchSize: 100, rateLimit: fast });
    expect(d.error).toBeInstanceOf(SyncError);
    const err = d.error as SyncError;
    expect(err.kind).toBe('quota');
    expect(destination.calls).toBeLessThanOrEqual(40 + 4);
    expect(destination.calls).toBeGreaterThanOrEqual(36);
    const settled = d.results.size;
    expect(settled).toBe(destination.calls * 100);
    expect(err.message).toContain('destination "crm": the daily API quota is nearly used up');
    expect(err.message).toContain(`${(10_000 - settled).toLocaleString('en-US')} rows wait for the next run`);
  });

  it('stops on a quota error the destination raises, like a config error', async () => {
    const destination = new ScriptedDestination('crm', key(), (batch, _ctx, call) => {
      if (call === 3) throw new SyncError('quota', 'Salesforce answered REQUEST_LIMIT_EXCEEDED (daily API quota used: 100000/100000)', { code: 'REQUEST_LIMIT_EXCEEDED' });
      return allDelivered(batch);
    });
    const d = await run(changes(1000), { destination, batchSize: 100, rateLimit: { requestsPerSecond: 1000, concurrency: 1 } });
    expect(destination.calls).toBe(3);
    expect((d.error as SyncError).kind).toBe('quota');
    expect((d.error as Error).message).toBe('destination "crm": Salesforce answered REQUEST_LIMIT_EXCEEDED (daily API quota used: 100000/100000); the run stopped, 800 rows wait for the next run');
    expect(outcomes(d)).toEqual({ delivered: 200, rejected: 0 });
  });

  it('on abort: sends nothing new, lets requests in flight settle, then throws', async () => {
    const controller = new AbortController();
    const destination = new ScriptedDestination('hooks', key(), async (batch, _ctx, call) => {
      if (call === 5) controller.abort(new Error('shutting down'));
      await sleep(50);
      return allDelivered(batch);
    });
    const d = await run(changes(5000), { destination, batchSize: 100, rateLimit: fast, signal: controller.signal });
    expect(d.error).toBeInstanceOf(Error);
    expect((d.error as Error).message).toMatch(/delivery cancelled; the run stopped, [\d,]+ rows wait for the next run/);
    // The requests already sent (5, at most 4 at once + the one that aborted) all settled.
    expect(d.results.size).toBe(destination.calls * 100);
    expect(destination.calls).toBeLessThanOrEqual(8);
    const waiting = Number(/stopped, ([\d,]+) rows/.exec((d.error as Error).message)![1].replace(/,/g, ''));
    expect(waiting + d.results.size).toBe(5000);
  });

  it('stops when committing a batch fails: that batch is not counted, the rest wait', async () => {
    const destination = new ScriptedDestination('hooks', key(), (batch) => allDelivered(batch));
    let commits = 0;
    let committed = 0;
    const attempt = deliver(chunks(changes(1000)), { destination, batchSize: 100, rateLimit: { requestsPerSecond: 1000, concurrency: 1 }, signal: new AbortController().signal }, {
      async onSettled(batch) {
        if (++commits === 3) throw new Error('state store is read-only');
        committed += batch.length;
      },
      trace() {},
    });
    const err = await attempt.then(() => undefined, (e: Error) => e);
    // The batch sent alongside the failing one still settles and commits; nothing new is sent.
    expect(committed).toBeGreaterThanOrEqual(200);
    expect(committed).toBeLessThanOrEqual(300);
    expect(destination.calls * 100).toBe(committed + 100);
    expect(err?.message).toBe(`state store is read-only; the run stopped, ${1000 - committed} rows wait for the next run`);
  });

  it('pulls changes only as fast as it delivers them (bounded memory)', async () => {
    let pulled = 0;
    let settled = 0;
    let mostAhead = 0;
    async function* source(): AsyncGenerator<Change[]> {
      for await (const chunk of chunks(changes(3000), 10)) {
        pulled += chunk.length;
        mostAhead = Math.max(mostAhead, pulled - settled);
        yield chunk;
      }
    }
    const destination = new ScriptedDestination('slow', key(), async (batch) => {
      await sleep(10);
      return allDelivered(batch);
    });
    await deliver(source(), { destination, batchSize: 50, rateLimit: { requestsPerSecond: 1000, concurrency: 2 }, signal: new AbortController().signal }, {
      async onSettled(batch) {
        settled += batch.length;
      },
      trace() {},
    });
    expect(settled).toBe(3000);
    // At most concurrency + 1 batches in hand, plus the chunk being cut.
    expect(mostAhead).toBeLessThanOrEqual((2 + 1) * 50 + 10);
    expect(destination.maxInFlight).toBe(2);
  });

  it('re-batches chunks of any size to the batch size, clamped to what the destination accepts', async () => {
    const sizes: number[] = [];
    const destination = new ScriptedDestination('small', key(), (batch) => {
      sizes.push(batch.length);
      return allDelivered(batch);
    }, { maxBatchSize: 40 });
    async function* odd(): AsyncGenerator<Change[]> {
      const all = changes(205);
      yield all.slice(0, 3);
      yield all.slice(3, 150);
      yield [];
      yield all.slice(150);
    }
    const d = await run(odd(), { destination, batchSize: 500, rateLimit: { requestsPerSecond: 1000, concurrency: 1 } });
    expect(sizes).toEqual([40, 40, 40, 40, 40, 5]);
    expect(d.stats?.batches).toBe(6);
  });

  it('keeps the trace bounded on huge runs: every line first, then summaries', async () => {
    const destination = new ScriptedDestination('big', key(), (batch) => allDelivered(batch));
    const d = await run(changes(1000), { destination, batchSize: 1, rateLimit: { requestsPerSecond: 100_000, concurrency: 8 } });
    expect(d.traces.length).toBeLessThan(200 + 10 + 2);
    expect(d.traces[0]).toBe('batch 1: OK [1]');
    expect(d.traces.some((t) => /^batches \d+–\d+: 100 delivered, 0 rejected \(100 ok\)$/.test(t))).toBe(true);
    expect(d.traces.at(-1)).toBe('delivered 1,000, rejected 0 in 1,000 batches: 1,000 requests, 0 retries, 0 throttled');
  });
});
