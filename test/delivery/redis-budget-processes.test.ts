import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisBudgets } from '../../src/delivery/redis-rate-budget.ts';
import type { BudgetLimits } from '../../src/delivery/rate-budget.ts';
import { maxInWindow } from '../fakes/http/fake-http-process.ts';
import { needService, SERVICES } from '../helpers/services.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'redis-budget-child.ts');
const PREFIX = `lm-test-procs-${process.pid}`;
const up = await needService('redis');

interface ChildResult { starts: { at: number; end: number }[]; taken: number; refused?: string }
interface Child { ready: Promise<void>; done: Promise<ChildResult> }

/** A separate Node process drawing from the budget `key` with `scenario`. */
function budgetProcess(key: string, scenario: { limits: BudgetLimits; loops: number; permits?: number; holdMs?: number; forMs?: number }): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, SERVICES.redis.url, PREFIX, key, JSON.stringify(scenario)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready\n')) onReady();
  });
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.once('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`budget process exited ${code}: ${out}`));
      else resolve(JSON.parse(last) as ChildResult);
    });
  });
  return { ready, done };
}

/** Most intervals open at once. */
function maxOverlap(intervals: { at: number; end: number }[]): number {
  const events = intervals.flatMap(({ at, end }) => [[at, 1], [end, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, delta] of events) most = Math.max(most, (open += delta));
  return most;
}

describe.skipIf(!up)('one Redis rate budget shared by several processes', () => {
  const redis = new Redis(SERVICES.redis.url);
  const budgets = new RedisBudgets(redis, PREFIX);
  afterAll(async () => {
    budgets.close();
    await redis.quit();
  });
  const key = (name: string) => `${name}-${Date.now()}`;

  it('a configured rate is never exceeded in any second across three processes, and is used', async () => {
    const k = key('rate');
    const results = await Promise.all([1, 2, 3].map(() => budgetProcess(k, { limits: { requestsPerSecond: 20, concurrency: 8 }, loops: 4, permits: 25 }).done));
    const starts = results.flatMap((r) => r.starts);
    expect(starts).toHaveLength(75);
    expect(maxInWindow(starts, 1_000)).toBe(20);
  });

  it('the concurrency cap is global: never more permits held at once than it, across all processes', async () => {
    const k = key('slots');
    const results = await Promise.all([1, 2, 3].map(() => budgetProcess(k, { limits: { requestsPerSecond: 10_000, concurrency: 2 }, loops: 3, permits: 15, holdMs: 20 }).done));
    const held = results.flatMap((r) => r.starts);
    expect(held).toHaveLength(45);
    expect(maxOverlap(held)).toBeLessThanOrEqual(2);
  });

  it('a 429 in one process pauses every other process on the credential', async () => {
    const k = key('pause');
    const children = [1, 2, 3].map(() => budgetProcess(k, { limits: { requestsPerSecond: 50 }, loops: 2, forMs: 6_000 }));
    await Promise.all(children.map((c) => c.ready));
    const mine = budgets.budget(k);
    const wait = mine.throttled(1_500);
    await redis.ping(); // same connection: the pause is in Redis once this answers
    const landed = Date.now();
    const pauseEnd = landed - 50 + wait; // the pause counts from before the ping went out
    const starts = (await Promise.all(children.map((c) => c.done))).flatMap((r) => r.starts.map((s) => s.at));
    // a permit granted just before the pause landed may be seen a moment later: 100 ms of grace
    expect(starts.filter((at) => at > landed + 100 && at < pauseEnd)).toEqual([]);
    expect(starts.filter((at) => at >= pauseEnd).length).toBeGreaterThan(0);
  });

  it('a daily quota is shared: the processes together stop at its reserve, exactly', async () => {
    const k = key('daily');
    const mine = budgets.budget(k);
    mine.observe({ dailyLimit: 1_000, dailyRemaining: 120 }); // 20 in reserve: 100 for everyone together
    await redis.ping();
    const results = await Promise.all([1, 2, 3].map(() => budgetProcess(k, { limits: { requestsPerSecond: 10_000 }, loops: 2 }).done));
    expect(results.reduce((n, r) => n + r.taken, 0)).toBe(100);
    for (const r of results) expect(r.refused).toContain('1,000 used, 20 kept in reserve');
  });

  it('a window the destination reported to one process paces all of them', async () => {
    const k = key('reported');
    budgets.budget(k).observe({ limit: 10, remaining: 10, intervalMs: 1_000 });
    await redis.ping();
    const results = await Promise.all([1, 2, 3].map(() => budgetProcess(k, { limits: { concurrency: 8 }, loops: 2, permits: 8 }).done));
    const starts = results.flatMap((r) => r.starts);
    expect(starts).toHaveLength(24);
    expect(maxInWindow(starts, 1_000)).toBeLessThanOrEqual(10);
  });
});
