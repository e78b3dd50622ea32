import { Redis } from 'ioredis';
import { describe } from 'vitest';
import { RedisBudgets } from '../../src/delivery/redis-rate-budget.ts';
import { rateBudgetConformance } from '../conformance/rate-budget-conformance.ts';
import { needService, SERVICES } from '../helpers/services.ts';

const up = await needService('redis');

describe.skipIf(!up)('redis rate budget', () => {
  let redis: Redis | undefined;
  let budgets: RedisBudgets | undefined;
  rateBudgetConformance({
    name: 'in Redis (RedisBudgets)',
    provider: () => {
      redis = new Redis(SERVICES.redis.url);
      budgets = new RedisBudgets(redis, `lm-test-budget-${process.pid}`);
      return budgets;
    },
    cleanup: async () => {
      budgets?.close();
      await redis?.quit();
    },
  });
});
