import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { runEventsFromNow } from '../../src/worker/enqueue-run.ts';
import { redisConnection, RUNS_QUEUE, runsQueue } from '../../src/worker/queues.ts';
import { needService, SERVICES } from '../helpers/services.ts';

const up = await needService('redis');
const queue = { redis: SERVICES.redis.url, prefix: `lm-test-run-events-${process.pid}` };

describe.skipIf(!up)('the wait for a queued run', () => {
  const connections: Redis[] = [];
  const connect = () => {
    const c = redisConnection(queue);
    connections.push(c);
    return c;
  };

  afterAll(async () => {
    const redis = new Redis(SERVICES.redis.url);
    const keys = await redis.keys(`${queue.prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    for (const c of connections) c.disconnect();
  });

  it('hears that its run was refused even when the refusal came before it began to listen', async () => {
    const runs = runsQueue(queue, connect());
    const refusing = new Worker(RUNS_QUEUE, async () => {
      throw new UnrecoverableError('refused: another config version');
    }, { connection: connect(), prefix: queue.prefix });
    const events = await runEventsFromNow(queue, connect(), { autorun: false });
    try {
      const job = await runs.add('run', { sync: 's', runId: 'r1', trigger: 'cli', configVersion: 'v0' }, { jobId: 'r1' });
      await expect.poll(() => job.getState(), { timeout: 10_000 }).toBe('failed');

      const heard = new Promise<{ jobId: string; failedReason: string }>((resolve) => events.once('failed', resolve));
      void events.run();
      expect(await heard).toMatchObject({ jobId: 'r1', failedReason: 'refused: another config version' });
    } finally {
      await refusing.close();
      await events.close();
      await runs.close();
    }
  }, 30_000);
});
