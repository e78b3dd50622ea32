import type { FastifyInstance } from 'fastify';
import type { ServerContext } from './server-context.ts';
import * as schemas from './api-schemas.ts';
import { findSync, syncParam } from './find-sync.ts';
import { syncDefinition } from './sync-definition.ts';

/** `/api/syncs/{sync}/definition|pause|resume`: what a sync is, and holding its runs back. */
export async function syncControlRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { project, auth, store, scheduler } = ctx;
  const pauseState = { type: 'object', properties: {
    sync: { type: 'string' }, pausedAt: { type: ['string', 'null'], format: 'date-time' }, nextRunAt: { type: ['string', 'null'], format: 'date-time' } } } as const;

  app.get<{ Params: { sync: string } }>('/api/syncs/:sync/definition', {
    preHandler: auth.require('read'),
    schema: { summary: 'What the sync is: its model (SQL or table), destination, mode, match, mapping, schedule', tags: ['syncs'], params: syncParam,
      response: { 200: schemas.syncDefinition, ...schemas.errors } },
  }, async (request, reply) => {
    const sync = findSync(project, request.params.sync, reply);
    return sync ? syncDefinition(project, sync) : reply;
  });

  app.post<{ Params: { sync: string } }>('/api/syncs/:sync/pause', {
    preHandler: auth.require('admin'),
    schema: { summary: 'Pause the sync: no scheduled, dependent, dbt or API run starts until it is resumed; a run in progress goes on (admin token)',
      tags: ['syncs'], params: syncParam, response: { 200: pauseState, 403: schemas.error, ...schemas.errors } },
  }, async (request, reply) => {
    const sync = findSync(project, request.params.sync, reply);
    if (!sync) return reply;
    await store.setPaused(sync.name, new Date().toISOString());
    scheduler.paused(sync.name);
    request.log.info({ sync: sync.name }, `sync "${sync.name}" paused`);
    return { sync: sync.name, pausedAt: await store.pausedAt(sync.name), nextRunAt: null };
  });

  app.post<{ Params: { sync: string } }>('/api/syncs/:sync/resume', {
    preHandler: auth.require('admin'),
    schema: { summary: 'Resume the sync: its schedule goes on (a tick missed while paused runs once, now) (admin token)',
      tags: ['syncs'], params: syncParam, response: { 200: pauseState, 403: schemas.error, ...schemas.errors } },
  }, async (request, reply) => {
    const sync = findSync(project, request.params.sync, reply);
    if (!sync) return reply;
    await store.setPaused(sync.name, null);
    await scheduler.resumed(sync.name);
    request.log.info({ sync: sync.name }, `sync "${sync.name}" resumed`);
    return { sync: sync.name, pausedAt: null, nextRunAt: scheduler.nextRunAt(sync.name) };
  });
}
