import type { FastifyInstance } from 'fastify';
import type { ServerContext } from './server-context.ts';
import { REQUESTS_KEPT, requestInspector } from '../delivery/request-inspector.ts';
import * as schemas from './api-schemas.ts';
import { inspectedRequest } from './inspector-schemas.ts';

/** `/api/destinations/{name}/requests`: the request inspector, the last requests a destination sent and their answers. */
export async function inspectorRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get<{ Params: { destination: string } }>('/api/destinations/:destination/requests', {
    preHandler: ctx.auth.require('read'),
    schema: {
      summary: `The last ${REQUESTS_KEPT} requests this server sent to a destination and their answers, newest first (secrets replaced, bodies cut)`,
      tags: ['destinations'],
      params: { type: 'object', required: ['destination'], properties: { destination: { type: 'string' } } },
      response: {
        200: { type: 'object', required: ['destination', 'kept', 'requests'], properties: {
          destination: { type: 'string' }, type: { type: 'string' },
          kept: { type: 'integer', description: 'how many requests are kept per destination' },
          requests: { type: 'array', items: inspectedRequest } } },
        ...schemas.errors,
      },
    },
  }, async (request, reply) => {
    const { destination } = request.params;
    const config = ctx.project.destinations[destination];
    if (!config) {
      const known = Object.keys(ctx.project.destinations).join(', ') || 'none';
      return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no destination named "${destination}" (destinations: ${known})` });
    }
    return { destination, type: config.type, kept: REQUESTS_KEPT, requests: requestInspector.list(destination) };
  });
}
