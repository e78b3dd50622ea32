import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { WorkerRegistry } from '../worker/worker-registry.ts';
import type { ServerContext } from './server-context.ts';
import * as schemas from './api-schemas.ts';

/** `GET /api/workers`: the distributed mode's workers, alive or not, their jobs and last heartbeat (none without `queue:`). */
export async function workerRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const queue = ctx.project.queue;
  const redis = queue ? new Redis(queue.redis, { lazyConnect: true, maxRetriesPerRequest: 1 }) : undefined;
  redis?.on('error', () => undefined); // a Redis down answers an error on the route, not a crash
  const registry = redis && queue ? new WorkerRegistry(redis, queue.prefix) : undefined;
  if (redis) app.addHook('onClose', async () => void redis.disconnect());
  app.get('/api/workers', {
    preHandler: ctx.auth.require('read'),
    schema: { summary: 'Workers of the distributed mode: alive, current jobs, last heartbeat', tags: ['workers'],
      response: { 200: { type: 'object', properties: { workers: { type: 'array', items: {
        type: 'object', properties: {
          id: { type: 'string' }, host: { type: 'string' }, pid: { type: 'integer' }, configVersion: { type: 'string' },
          startedAt: { type: 'string' }, lastHeartbeat: { type: 'string' }, alive: { type: 'boolean' }, jobs: { type: 'array', items: { type: 'string' } },
        } } } } }, ...schemas.errors } },
  }, async () => ({ workers: registry ? await registry.list() : [] }));
}
