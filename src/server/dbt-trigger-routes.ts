import type { FastifyInstance } from 'fastify';
import type { ServerContext } from './server-context.ts';
import * as schemas from './api-schemas.ts';
import { RunConflictError } from './run-manager.ts';
import { rebuiltModels, syncsOfRebuilt, type DbtTriggerBody } from './dbt-rebuilt-syncs.ts';

/** `POST /api/triggers/dbt`: dbt finished; run the syncs whose models it rebuilt, and only those. */
export async function dbtTriggerRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.post<{ Body: DbtTriggerBody }>('/api/triggers/dbt', {
    preHandler: ctx.auth.require('admin'),
    schema: {
      summary: 'dbt finished: start the syncs whose dbt models it rebuilt (admin token)', tags: ['runs'],
      description: 'The body is dbt\'s target/run_results.json as written (results with status success count), or { "models": [...] } with unique_ids or model names.',
      body: { type: 'object', properties: {
        results: { type: 'array', items: { type: 'object', properties: { unique_id: { type: 'string' }, status: { type: 'string' } } } },
        models: { type: 'array', items: { type: 'string', minLength: 1 } } },
        anyOf: [{ required: ['results'] }, { required: ['models'] }] },
      response: {
        202: { type: 'object', properties: {
          runs: { type: 'array', items: { type: 'object', properties: { sync: { type: 'string' }, runId: { type: 'string' } } } },
          busy: { type: 'array', items: { type: 'object', properties: { sync: { type: 'string' }, message: { type: 'string' } } } },
          rebuilt: { type: 'array', items: { type: 'string' } } } },
        403: schemas.error, ...schemas.errors },
    },
  }, async (request, reply) => {
    const rebuilt = rebuiltModels(request.body);
    const runs: { sync: string; runId: string }[] = [];
    const busy: { sync: string; message: string }[] = [];
    for (const sync of syncsOfRebuilt(ctx.project, rebuilt)) {
      try {
        runs.push({ sync, runId: await ctx.manager.start(sync, { trigger: 'dbt' }) });
      } catch (error) {
        // A sync already running reads the rebuilt model soon enough, a paused one waits; the others still start.
        if (!(error instanceof RunConflictError)) throw error;
        busy.push({ sync, message: error.message });
      }
    }
    return reply.code(202).send({ runs, busy, rebuilt: [...rebuilt] });
  });
}
