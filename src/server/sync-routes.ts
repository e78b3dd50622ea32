import type { FastifyInstance, FastifyReply } from 'fastify';
import { findSync as lookUp, syncParam } from './find-sync.ts';
import type { ServerContext } from './server-context.ts';
import * as schemas from './api-schemas.ts';
import { syncOverview } from './sync-overview.ts';
import { RunConflictError } from './run-manager.ts';
import { PlansBusyError } from './plan-gate.ts';

/** `/api/syncs…`: the syncs, their history, their plan, and starting a run. */
export async function syncRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { project, auth } = ctx;
  const read = auth.require('read');

  const findSync = (name: string, reply: FastifyReply) => lookUp(project, name, reply);

  app.get('/api/syncs', {
    preHandler: read,
    schema: { summary: 'Every sync with its health, last and next run', tags: ['syncs'],
      response: { 200: { type: 'object', properties: { syncs: { type: 'array', items: schemas.syncOverview } } }, ...schemas.errors } },
  }, async () => ({ syncs: await Promise.all(Object.values(project.syncs).map((sync) => syncOverview(ctx, sync))) }));

  app.get<{ Params: { sync: string } }>('/api/syncs/:sync', {
    preHandler: read,
    schema: { summary: 'One sync: health, last run, next run, rows delivered', tags: ['syncs'], params: syncParam,
      response: { 200: schemas.syncOverview, ...schemas.errors } },
  }, async (request, reply) => {
    const sync = findSync(request.params.sync, reply);
    return sync ? syncOverview(ctx, sync) : reply;
  });

  app.get<{ Params: { sync: string }; Querystring: { limit: number; before?: string } }>('/api/syncs/:sync/runs', {
    preHandler: read,
    schema: { summary: 'Run history of a sync, newest first', tags: ['runs'], params: syncParam,
      querystring: { type: 'object', properties: {
        limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
        before: { type: 'string', description: 'only runs started before this ISO time (next page: the last startedAt)' } } },
      response: { 200: { type: 'object', properties: { runs: { type: 'array', items: schemas.runSummary } } }, ...schemas.errors } },
  }, async (request, reply) => {
    if (!findSync(request.params.sync, reply)) return reply;
    const { limit, before } = request.query;
    return { runs: await ctx.store.listRuns({ sync: request.params.sync, limit, ...(before ? { before } : {}) }) };
  });

  app.post<{ Params: { sync: string }; Body: { fullResync?: boolean; dryRun?: boolean; retryRejected?: boolean } | undefined }>('/api/syncs/:sync/runs', {
    preHandler: auth.require('admin'),
    schema: { summary: 'Start a run in the background (admin token); 409 while it runs or is paused', tags: ['runs'], params: syncParam,
      body: { type: ['object', 'null'], additionalProperties: false, properties: {
        fullResync: { type: 'boolean' }, dryRun: { type: 'boolean' }, retryRejected: { type: 'boolean' } } },
      response: { 202: { type: 'object', properties: { runId: { type: 'string' } } }, 403: schemas.error, 409: schemas.error, ...schemas.errors } },
  }, async (request, reply) => {
    if (!findSync(request.params.sync, reply)) return reply;
    try {
      const runId = await ctx.manager.start(request.params.sync, { trigger: 'api', ...(request.body ?? {}) });
      return reply.code(202).send({ runId });
    } catch (error) {
      if (error instanceof RunConflictError) {
        return reply.code(409).send({ statusCode: 409, error: 'Conflict', message: error.message });
      }
      throw error;
    }
  });

  app.get<{ Params: { sync: string } }>('/api/syncs/:sync/plan', {
    preHandler: read,
    schema: { summary: 'What a run would send now, and how long it would take; writes nothing', tags: ['syncs'], params: syncParam,
      response: { 200: schemas.plan, 429: schemas.error, ...schemas.errors } },
  }, async (request, reply) => {
    if (!findSync(request.params.sync, reply)) return reply;
    try {
      return await ctx.plans.plan(request.params.sync);
    } catch (error) {
      if (!(error instanceof PlansBusyError)) throw error;
      ctx.metrics.planRefused();
      return reply.code(429).header('retry-after', String(error.retryAfterSeconds))
        .send({ statusCode: 429, error: 'Too Many Requests', message: error.message });
    }
  });
}
