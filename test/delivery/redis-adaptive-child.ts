/**
 * One process delivering to a rate-limited endpoint with nothing configured (the adaptive
 * search), its budget shared with others in Redis (redis-adaptive-processes.test.ts).
 * Args: redis url, prefix, endpoint url, ms to send. Prints `sent` when its time is up, waits
 * for a line on stdin (every process has stopped), then prints one JSON line: { rate, estimate, delivered }.
 */
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { deliver } from '../../src/delivery/deliver.ts';
import { useBudgetProvider } from '../../src/delivery/budgets.ts';
import { RedisBudgets, type RedisRateBudget } from '../../src/delivery/redis-rate-budget.ts';
import type { Change } from '../../src/destinations/destination.ts';
import { httpDestination } from './delivery-kit.ts';

const [url, prefix, endpoint, forMs] = process.argv.slice(2);
const redis = new Redis(url);
const budgets = new RedisBudgets(redis, prefix);
useBudgetProvider(budgets);
const destination = httpDestination(endpoint);
const signal = AbortSignal.timeout(Number(forMs));

async function* endless(): AsyncGenerator<Change[]> {
  for (let i = 0; !signal.aborted; i += 100) {
    yield Array.from({ length: 100 }, (_, j) => ({ key: `p${process.pid}-${i + j}`, op: 'upsert' as const, match: { id: `${process.pid}-${i + j}` }, fields: { id: `${process.pid}-${i + j}` } }));
  }
}

let delivered = 0;
try {
  await deliver(endless(), { destination, batchSize: 10, rateLimit: { concurrency: 8 }, signal }, {
    async onSettled(_batch, outcomes) {
      delivered += outcomes.filter((o) => o.outcome === 'delivered').length;
    },
    trace() {},
  });
} catch (error) {
  if (!signal.aborted) throw error;
}
process.stdout.write('sent\n');
process.stdin.resume();
await once(process.stdin, 'data');
const budget = budgets.budget(destination.budgetKey) as RedisRateBudget;
await budget.refresh();
process.stdout.write(JSON.stringify({ rate: budget.requestsPerSecond, estimate: budget.limitEstimate, delivered }) + '\n');
budgets.close();
await destination.close();
await redis.quit();
process.exit(0);
