import type { FastifyInstance } from 'fastify';
import { REJECT_CATEGORIES, type RejectCategory } from '../destinations/destination.ts';
import { emptySummary } from '../state/run-record.ts';
import type { ServerContext } from './server-context.ts';
import * as schemas from './api-schemas.ts';

const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } as const;

/** `/api/runs/…`: one run's summary, profile, trace and live progress; its rejected rows. */
export async function runRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const read = ctx.auth.require('read');
  const notFound = (id: string) => ({ statusCode: 404, error: 'Not Found', message: `no run with id "${id}"; list runs with GET /api/syncs/{sync}/runs` });

  app.get<{ Params: { id: string } }>('/api/runs/:id', {
    preHandler: read,
    schema: { summary: 'One run: summary, profile, trace, rejections by category; live progress while it runs', tags: ['runs'],
      params: idParam, response: { 200: schemas.runDetail, ...schemas.errors } },
  }, async (request, reply) => {
    const { id } = request.params;
    const live = ctx.manager.liveRun(id);
    const stored = await ctx.store.getRun(id);
    if (!stored && !live) return reply.code(404).send(notFound(id));
    const progress = live && !live.summary ? live.progress ?? null : null;
    const summary = stored?.summary ?? live?.summary ?? emptySummary(live!.sync, id, live!.startedAt);
    return {
      summary,
      profile: stored?.profile ?? null,
      trace: stored?.trace ?? [],
      rejectedByCategory: stored ? await ctx.store.rejectedByCategory(id) : {},
      rejectedGroups: stored ? await ctx.store.rejectedGroups(id) : [],
      progress,
    };
  });

  app.get<{ Params: { id: string }; Querystring: { category?: RejectCategory; offset: number; limit: number } }>('/api/runs/:id/rejected', {
    preHandler: read,
    schema: { summary: 'Rejected rows of a run, with the destination\'s code and message; paginated', tags: ['runs'],
      params: idParam,
      querystring: { type: 'object', properties: {
        category: { type: 'string', enum: [...REJECT_CATEGORIES] },
        offset: { type: 'integer', minimum: 0, default: 0 },
        limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
      response: { 200: schemas.rejectedPage, ...schemas.errors } },
  }, async (request, reply) => {
    const { id } = request.params;
    if (!(await ctx.store.getRun(id)) && !ctx.manager.liveRun(id)) return reply.code(404).send(notFound(id));
    const { category, offset, limit } = request.query;
    const page = await ctx.store.listRejected(id, { offset, limit, ...(category ? { category } : {}) });
    return { total: page.total, offset, limit, rows: page.rows };
  });
}
