/**
 * One process sharing a Redis rate budget with others (redis-budget-processes.test.ts).
 * Args: redis url, prefix, budget key, scenario JSON { limits, loops, permits?, holdMs?, forMs?, untilQuota? }.
 * Prints `ready` after its first permit, then one JSON line: { starts: [{at, end}], taken, refused }
 * (`at`: the grant, on Redis's clock).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisBudgets } from '../../src/delivery/redis-rate-budget.ts';
import type { BudgetLimits } from '../../src/delivery/rate-budget.ts';

interface Scenario { limits: BudgetLimits; loops: number; permits?: number; holdMs?: number; forMs?: number; untilQuota?: boolean }

const [url, prefix, key, json] = process.argv.slice(2);
const scenario = JSON.parse(json) as Scenario;
const redis = new Redis(url);
const budgets = new RedisBudgets(redis, prefix);
const budget = budgets.budget(key);
budget.lease(scenario.limits);
const signal = new AbortController().signal;
const starts: { at: number; end: number }[] = [];
let taken = 0;
let claimed = 0;
let refused: string | undefined;
let ready = false;
const until = scenario.forMs === undefined ? Infinity : Date.now() + scenario.forMs;

async function loop(): Promise<void> {
  while (Date.now() < until && claimed < (scenario.permits ?? Infinity) && refused === undefined) {
    claimed++;
    let permit;
    try {
      permit = await budget.acquire(signal);
    } catch (error) {
      refused = (error as Error).message;
      return;
    }
    taken++;
    // Redis's clock at the grant: this process may run late after it (a busy machine), the count may not.
    const at = permit.grantedAt ?? Date.now();
    if (!ready) {
      ready = true;
      process.stdout.write('ready\n');
    }
    if (scenario.holdMs) await sleep(scenario.holdMs);
    starts.push({ at, end: Date.now() }); // `end` is taken before the release reaches Redis
    permit.release('success');
  }
}

await Promise.all(Array.from({ length: scenario.loops }, loop));
process.stdout.write(JSON.stringify({ starts, taken, refused }) + '\n');
budgets.close();
await sleep(50); // releases in flight reach Redis
await redis.quit();
