import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ServerContext } from './server-context.ts';
import * as schemas from './api-schemas.ts';
import { EventInputError, EventQueueFullError } from '../events/event-errors.ts';
import { EVENT_STATUSES } from '../events/event-journal.ts';

const syncParam = { type: 'object', required: ['sync'], properties: { sync: { type: 'string' } } } as const;
const outcome = {
  type: 'object', required: ['id', 'key', 'status'],
  properties: {
    id: { type: 'string' }, key: { type: 'string' },
    status: { type: 'string', enum: ['pending', ...EVENT_STATUSES], description: 'pending: accepted, not settled yet; unchanged: the destination holds these values (nothing sent); superseded: a newer value of the key was sent instead' },
    reason: { type: 'string', description: 'why it was rejected (the destination\'s own words) or not sent' },
    category: { type: 'string' }, acceptedAt: { type: 'string' }, settledAt: { type: 'string' },
  },
} as const;

/** `/api/syncs/{sync}/events`: push rows through a sync now, and see how they ended. */
export async function eventRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { project, auth, events } = ctx;
  const findSync = (name: string, reply: FastifyReply) => {
    const sync = project.syncs[name];
    if (!sync) void reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no sync named "${name}" (syncs: ${Object.keys(project.syncs).join(', ') || 'none'})` });
    return sync;
  };

  app.post<{ Params: { sync: string }; Body: unknown }>('/api/syncs/:sync/events', {
    preHandler: auth.require('events'),
    schema: {
      summary: 'Push one row (object) or many (array) of the model\'s columns through the sync now (events or admin token)',
      description: 'Answers 202 once the rows are journaled on disk: each then ends delivered, unchanged, superseded or rejected (GET …/events/{id}). A row that is not one of the model (unknown column, key missing, a value of the wrong type) makes the whole request 400, nothing taken. A full queue answers 429 with Retry-After, nothing taken.',
      tags: ['events'], params: syncParam,
      response: {
        202: { type: 'object', properties: { accepted: { type: 'integer' }, ids: { type: 'array', items: { type: 'string' } } } },
        400: schemas.error, 403: schemas.error, 429: schemas.error, 503: schemas.error, ...schemas.errors,
      },
    },
  }, async (request, reply) => {
    if (!findSync(request.params.sync, reply)) return reply;
    const body = request.body;
    const rows = Array.isArray(body) ? body : [body];
    if (body === undefined || body === null || rows.length === 0) {
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: 'send a JSON object (one row) or an array of rows' });
    }
    let pipeline;
    try {
      pipeline = await events.pipeline(request.params.sync);
    } catch (error) {
      // The model or the destination cannot be reached now: nothing was taken, the caller tries again.
      request.log.warn({ err: error }, 'events pipeline could not open');
      return reply.code(503).header('retry-after', '5').send({ statusCode: 503, error: 'Service Unavailable', message: `sync "${request.params.sync}" cannot take events now: ${(error as Error).message}; nothing was taken` });
    }
    try {
      const ids = await pipeline.accept(rows);
      return reply.code(202).send({ accepted: ids.length, ids });
    } catch (error) {
      if (error instanceof EventInputError) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: error.message });
      if (error instanceof EventQueueFullError) {
        ctx.metrics.eventsRefused(request.params.sync);
        return reply.code(429).header('retry-after', String(error.retryAfterSeconds)).send({ statusCode: 429, error: 'Too Many Requests', message: error.message });
      }
      throw error;
    }
  });

  app.get<{ Params: { sync: string } }>('/api/syncs/:sync/events', {
    preHandler: auth.require('read'),
    schema: {
      summary: 'Events of a sync: waiting, in flight, counts by outcome, latency from acceptance to the destination\'s acknowledgement, latest rejections',
      tags: ['events'], params: syncParam,
      response: { 200: { type: 'object', properties: {
        open: { type: 'boolean' }, queued: { type: 'integer' }, inFlight: { type: 'integer' }, queueSize: { type: 'integer' },
        counts: { type: 'object' }, latencyMs: { type: 'object' }, rejected: { type: 'array', items: outcome },
      } }, ...schemas.errors },
    },
  }, async (request, reply) => {
    if (!findSync(request.params.sync, reply)) return reply;
    const pipeline = await events.opened(request.params.sync);
    if (!pipeline) return { open: false, queued: 0, inFlight: 0, counts: {}, latencyMs: {}, rejected: [] };
    const { held: _held, ...summary } = pipeline.summary();
    return { open: true, ...summary };
  });

  app.get<{ Params: { sync: string; id: string } }>('/api/syncs/:sync/events/:id', {
    preHandler: auth.require('read'),
    schema: {
      summary: 'How one event ended (or that it is still pending)', tags: ['events'],
      params: { type: 'object', required: ['sync', 'id'], properties: { sync: { type: 'string' }, id: { type: 'string' } } },
      response: { 200: outcome, ...schemas.errors },
    },
  }, async (request, reply) => {
    if (!findSync(request.params.sync, reply)) return reply;
    const pipeline = await events.opened(request.params.sync);
    const found = pipeline?.ledger.outcome(request.params.id) ?? pipeline?.pending(request.params.id);
    if (!found) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no event "${request.params.id}" of sync "${request.params.sync}" is known (outcomes are kept for the latest 100,000 events)` });
    return found;
  });
}
