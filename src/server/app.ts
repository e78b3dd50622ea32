import { STATUS_CODES } from 'node:http';
import Fastify from 'fastify';
import swagger from '@fastify/swagger';
import fastifyStatic from '@fastify/static';
import { redactDeep } from '../config/redact.ts';
import type { ServerContext } from './server-context.ts';
import { syncRoutes } from './sync-routes.ts';
import { runRoutes } from './run-routes.ts';
import { syncControlRoutes } from './sync-control-routes.ts';
import { rejectedRoutes } from './rejected-routes.ts';
import { workerRoutes } from './worker-routes.ts';
import { dbtTriggerRoutes } from './dbt-trigger-routes.ts';
import { eventRoutes } from './event-routes.ts';
import { inspectorRoutes } from './inspector-routes.ts';
import { testRowRoutes } from './test-row-routes.ts';
import { securityHeaders } from './security-headers.ts';
import { RequestLogs } from './request-logs.ts';

const VERSION = '0.1.0';

/**
 * The HTTP side of `lastmile serve`: the REST API under /api (bearer tokens), the OpenAPI
 * document, Prometheus metrics and the web UI. Every answer is redacted on its way out.
 */
export async function buildApp(ctx: ServerContext) {
  const app = Fastify({ loggerInstance: ctx.log, logController: new RequestLogs(), ajv: { customOptions: { removeAdditional: false } } });

  // Response schemas document the answers; JSON.stringify sends them whole (no silent trimming).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addHook('preSerialization', async (_request, _reply, payload) => redactDeep(payload, ctx.redact));
  app.addHook('onSend', async (_request, _reply, payload) => (typeof payload === 'string' ? ctx.redact(payload) : payload));
  app.addHook('onSend', securityHeaders);
  app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send({
      statusCode: status,
      // A 413 says Payload Too Large, a 415 Unsupported Media Type: each status its own name.
      error: status >= 500 ? 'Internal Server Error' : STATUS_CODES[status] ?? 'Bad Request',
      message: error.message,
    });
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Lastmile API', version: VERSION,
        description: [
          'Syncs, runs, plans and rejected rows of a Lastmile project.',
          'Every /api route needs `Authorization: Bearer <token>`: LASTMILE_API_TOKEN (admin) or a token listed under `tokens` in the config (admin, read, or events: read and push events). No or unknown token: 401; a read token starting a run or pushing events: 403.',
          'A run started with POST /api/syncs/{sync}/runs goes on in the background; poll GET /api/runs/{id}, whose `progress` holds the live counts until the summary leaves `running`.',
          'The web UI at / is a static page that asks for a token and keeps it in the browser (localStorage); opening /?token=<token> once stores it and removes it from the address. /metrics (Prometheus) and /openapi.json need no token.',
        ].join('\n\n'),
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'LASTMILE_API_TOKEN or a token from the config' } } },
      security: [{ bearer: [] }],
      tags: [{ name: 'syncs' }, { name: 'runs' }, { name: 'events' }, { name: 'destinations' }],
    },
  });

  await app.register(async (api) => {
    await syncRoutes(api, ctx);
    await runRoutes(api, ctx);
    await syncControlRoutes(api, ctx);
    await rejectedRoutes(api, ctx);
    await workerRoutes(api, ctx);
    await dbtTriggerRoutes(api, ctx);
    await eventRoutes(api, ctx);
    await inspectorRoutes(api, ctx);
    await testRowRoutes(api, ctx);
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Open like most exporters: counts per sync, no row data, nothing secret.
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const { contentType, body } = await ctx.metrics.render();
    return reply.type(contentType).send(body);
  });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));

  if (ctx.uiDir) {
    // The UI shell holds no data: it asks for a token and calls the API with it.
    await app.register(fastifyStatic, {
      root: ctx.uiDir, prefix: '/', index: ['index.html'], wildcard: false,
      setHeaders: (reply, path) => {
        reply.header('cache-control', path.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
      },
    });
  } else {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/html').send('<!doctype html><title>Lastmile</title><p>The web UI is not built. Run <code>npx tsx src/server/build-ui.ts</code> (needs the dev dependencies: vite, @vitejs/plugin-react), then restart <code>lastmile serve</code>. The API is at <a href="/openapi.json">/openapi.json</a>.</p>'));
  }
  return app;
}
