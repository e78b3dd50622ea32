import type { FastifyInstance } from 'fastify';
import type { ServerContext } from './server-context.ts';
import type { RejectedRow } from '../state/run-record.ts';
import type { StateStore } from '../state/state-store.ts';
import * as schemas from './api-schemas.ts';
import { findSync, syncParam } from './find-sync.ts';
import { currentRejections } from './current-rejections.ts';
import { groupRejected } from '../state/rejected-groups.ts';
import { rejectedCsv } from './rejected-csv.ts';
import { RunConflictError } from './run-manager.ts';

const page = { type: 'object', properties: {
  offset: { type: 'integer', minimum: 0, default: 0 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } } as const;

/** The rows a sync has rejected now (over its runs), as JSON and CSV, a retry of them, and a run's rejected rows as CSV. */
export async function rejectedRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { project, auth, store } = ctx;
  const read = auth.require('read');

  app.get<{ Params: { sync: string }; Querystring: { offset: number; limit: number } }>('/api/syncs/:sync/rejected', {
    preHandler: read,
    schema: { summary: 'Rows the sync rejects now, over all its runs, with the values sent and the reason; grouped by code and message', tags: ['syncs'],
      params: syncParam, querystring: page, response: { 200: schemas.currentRejected, ...schemas.errors } },
  }, async (request, reply) => {
    if (!findSync(project, request.params.sync, reply)) return reply;
    const rows = await currentRejections(store, request.params.sync);
    const { offset, limit } = request.query;
    return { total: rows.length, offset, limit, groups: groupRejected(rows), rows: rows.slice(offset, offset + limit) };
  });

  app.get<{ Params: { sync: string } }>('/api/syncs/:sync/rejected.csv', {
    preHandler: read,
    schema: { summary: 'Rows the sync rejects now, as CSV (key, category, code, field, message, retry, sent, run_id, at)', tags: ['syncs'], params: syncParam },
  }, async (request, reply) => {
    if (!findSync(project, request.params.sync, reply)) return reply;
    return csvReply(reply, `${request.params.sync}-rejected.csv`, await currentRejections(store, request.params.sync));
  });

  app.post<{ Params: { sync: string } }>('/api/syncs/:sync/rejected/retry', {
    preHandler: auth.require('admin'),
    schema: { summary: 'Start a run that sends the rejected rows again, changed or not (as `sync --retry-rejected`) (admin token)', tags: ['runs'],
      params: syncParam, response: { 202: { type: 'object', properties: { runId: { type: 'string' } } }, 403: schemas.error, 409: schemas.error, ...schemas.errors } },
  }, async (request, reply) => {
    if (!findSync(project, request.params.sync, reply)) return reply;
    try {
      return reply.code(202).send({ runId: await ctx.manager.start(request.params.sync, { trigger: 'api', retryRejected: true }) });
    } catch (error) {
      if (!(error instanceof RunConflictError)) throw error;
      return reply.code(409).send({ statusCode: 409, error: 'Conflict', message: error.message });
    }
  });

  app.get<{ Params: { id: string } }>('/api/runs/:id/rejected.csv', {
    preHandler: read,
    schema: { summary: 'Every rejected row of a run, as CSV', tags: ['runs'],
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } },
  }, async (request, reply) => {
    const { id } = request.params;
    if (!(await store.getRun(id))) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no run with id "${id}"` });
    return csvReply(reply, `${id}-rejected.csv`, await allRejected(store, id));
  });
}

function csvReply(reply: import('fastify').FastifyReply, file: string, rows: RejectedRow[]) {
  return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${file.replace(/[^\w.-]/g, '_')}"`).send(rejectedCsv(rows));
}

async function allRejected(store: StateStore, runId: string): Promise<RejectedRow[]> {
  const rows: RejectedRow[] = [];
  for (;;) {
    const next = await store.listRejected(runId, { offset: rows.length, limit: 1000 });
    rows.push(...next.rows);
    if (next.rows.length < 1000) return rows;
  }
}
