import type { FastifyInstance } from 'fastify';
import type { ServerContext } from './server-context.ts';
import { RowNotFoundError, testRow } from '../engine/test-row.ts';
import { ConfigError, RunError, SyncError } from '../errors.ts';
import * as schemas from './api-schemas.ts';
import { testRowResult } from './inspector-schemas.ts';
import { parkedRowCount } from './sync-health.ts';

/** `POST /api/syncs/{sync}/test-row`: one row by key through the sync's mapping and delivery, its requests shown. */
export async function testRowRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.post<{ Params: { sync: string }; Body: { key: string } }>('/api/syncs/:sync/test-row', {
    preHandler: ctx.auth.require('admin'),
    schema: {
      summary: 'Send one row (by primary key) now, even if unchanged, and answer its requests and the destination\'s answers (admin token). The row\'s state moves as a run\'s would; no run is recorded.',
      tags: ['syncs'],
      params: { type: 'object', required: ['sync'], properties: { sync: { type: 'string' } } },
      body: { type: 'object', required: ['key'], additionalProperties: false, properties: {
        key: { type: 'string', minLength: 1, description: 'the primary key value; a composite key as a JSON array' } } },
      response: { 200: testRowResult, 400: schemas.error, 403: schemas.error, 409: schemas.error, 502: schemas.error, ...schemas.errors },
    },
  }, async (request, reply) => {
    const { sync } = request.params;
    if (!ctx.project.syncs[sync]) {
      const known = Object.keys(ctx.project.syncs).join(', ') || 'none';
      return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no sync named "${sync}" (syncs: ${known})` });
    }
    try {
      const result = await testRow({ project: ctx.project, store: ctx.store }, sync, request.body.key, { signal: AbortSignal.timeout(5 * 60_000) });
      // The row's state moved: the event path compares against it from now on.
      if (result.stateUpdated) {
        await ctx.events.stateMoved(sync).catch((error: Error) => request.log.warn(`sync "${sync}": events could not read its state again (${error.message})`));
        ctx.metrics.rejectedRowsNow(sync, await parkedRowCount(ctx.project, ctx.store, sync));
      }
      return result;
    } catch (error) {
      if (error instanceof RowNotFoundError) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: error.message });
      // The lock: a run of this sync is in progress.
      if (error instanceof RunError) return reply.code(409).send({ statusCode: 409, error: 'Conflict', message: error.message });
      if (error instanceof ConfigError) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: error.message });
      // The source or the destination failed before the row could be sent (unreachable, credentials refused).
      if (error instanceof SyncError) return reply.code(502).send({ statusCode: 502, error: 'Bad Gateway', message: error.message });
      throw error;
    }
  });
}
