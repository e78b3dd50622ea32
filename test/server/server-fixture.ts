import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { Writable } from 'node:stream';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { serve, type ServeOptions } from '../../src/server/serve.ts';

/** The secrets of the fixture's project: they must never leave the server in any form. */
export const PRICING_TOKEN = 'prc_live_9f8e7d6c5b4a39281716';
export const ADMIN_TOKEN = 'lm_admin_0123456789abcdef';
export const READ_TOKEN = 'lm_read_fedcba9876543210';
export const EVENTS_TOKEN = 'lm_events_5a4b3c2d1e0f9988';

/**
 * A pricing API like the one PRODUCT.md syncs to: takes JSON arrays of `{ op, key, id, ... }`
 * with a bearer token, answers 200 with per-record errors for prices above its ceiling, 401
 * (echoing the token it got, as careless APIs do) when the token is wrong. `delayMs` slows
 * each answer so a run's progress can be watched.
 */
export async function startPricingApi() {
  const state = { delayMs: 0, authFails: false, unavailable: false, gate: undefined as Promise<void> | undefined, requests: 0, records: new Map<string, Record<string, unknown>>(), received: [] as Record<string, unknown>[], alerts: [] as any[] };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
      if (req.method === 'HEAD') {
        // Like many APIs, the endpoint answers a probe without checking credentials.
        res.writeHead(200).end();
        return;
      }
      if (req.url === '/alerts') {
        state.alerts.push(body);
        res.writeHead(204).end();
        return;
      }
      if (Array.isArray(body)) state.requests++;
      if (state.unavailable) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ error: 'unavailable', message: 'down for maintenance' }));
        return;
      }
      // A gate set by a test holds every answer until it opens.
      void Promise.resolve(state.gate).then(() => setTimeout(() => {
        const auth = req.headers.authorization ?? '';
        if (state.authFails || auth !== `Bearer ${PRICING_TOKEN}`) {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'unauthorized', message: `token not recognised: ${auth}` }));
          return;
        }
        const errors: { key: string; code: string; message: string }[] = [];
        const records: { key: string; amount: string }[] = Array.isArray(body) ? body : [];
        for (const record of records) {
          if (Number(record.amount) > 990) {
            errors.push({ key: record.key, code: 'PRICE_OUT_OF_RANGE', message: `amount ${record.amount} is above the ceiling of 990.00` });
          } else {
            state.records.set(record.key, record);
            state.received.push(record);
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ accepted: records.length - errors.length, errors }));
      }, state.delayMs));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, state, close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

export interface FixtureOptions {
  rows?: number;
  batchSize?: number;
  /** Extra YAML under `models:` (indented two spaces). */
  extraModels?: string;
  /** Extra YAML under `syncs:` (indented two spaces). */
  extraSyncs?: string;
  alerts?: boolean;
  /** Serve the web UI too (builds it when missing). */
  ui?: boolean;
  /** The distributed mode's queue (runs are enqueued for workers; `GET /api/workers` lists them). */
  queue?: { redis: string; prefix: string };
  /** The state store (default: the embedded one in .lastmile). */
  state?: string;
}

/**
 * YAML for `extraSyncs`: a sync of the competitor prices into the pricing engine (upsert by sku,
 * price and currency mapped) that takes events with these settings (a flow mapping's inside).
 */
export function eventsSync(name: string, events: string): string {
  return `  ${name}:
    model: competitor_prices
    destination: pricing_engine
    mode: upsert
    match: { sku: id }
    mapping: { price: amount, currency: currency }
    events: { ${events} }
`;
}

/**
 * A whole project served by `lastmile serve`: a DuckDB warehouse of competitor prices, the
 * pricing API above as an http destination, a sync that cannot run (its table is missing),
 * an admin token from LASTMILE_API_TOKEN and a read token from the config, all via ${ENV}.
 */
export async function startServerFixture(options: FixtureOptions = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-server-'));
  const api = await startPricingApi();
  const warehouse = path.join(dir, 'warehouse.duckdb');
  const sql = async (statements: string[]) => {
    const instance = await DuckDBInstance.create(warehouse);
    const db = await instance.connect();
    try {
      for (const statement of statements) await db.run(statement);
    } finally {
      db.closeSync();
      instance.closeSync();
    }
  };
  const rows = options.rows ?? 1_500;
  await sql([
    `CREATE TABLE competitor_prices AS SELECT 'SKU-' || lpad(i::VARCHAR, 5, '0') AS sku, 'acme' AS competitor,
       ((i % 1000) + 0.99)::DECIMAL(10,2) AS price, 'EUR' AS currency, TIMESTAMP '2026-03-01 10:00:00' AS updated_at
     FROM range(${rows}) t(i)`,
  ]);
  const configPath = path.join(dir, 'lastmile.yml');
  await writeFile(configPath, `version: 1
state: "${options.state ?? '.lastmile'}"
${options.queue ? `queue: { redis: "${options.queue.redis}", prefix: ${options.queue.prefix} }\n` : ''}sources:
  warehouse: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  pricing_engine:
    type: http
    url: ${api.url}/v2/bulk-update
    headers: { Authorization: "Bearer \${PRICING_TOKEN}" }
    batch: { size: ${options.batchSize ?? 100} }
    rateLimit: { requestsPerSecond: 50, concurrency: 2 }
    results: { path: errors, keyField: key, errorField: message, codeField: code }
models:
  competitor_prices:
    source: warehouse
    sql: SELECT sku, competitor, price, currency, updated_at FROM competitor_prices
    primaryKey: sku
  discontinued:
    source: warehouse
    sql: SELECT sku, price FROM discontinued_products
    primaryKey: sku
${options.extraModels ?? ''}
syncs:
  prices_to_engine:
    model: competitor_prices
    destination: pricing_engine
    mode: upsert
    match: { sku: id }
    mapping: { price: amount, currency: currency, source: { static: scraper } }
  discontinued_to_engine:
    model: discontinued
    destination: pricing_engine
    mode: upsert
    match: { sku: id }
    mapping: { price: amount }
${options.extraSyncs ?? ''}
tokens:
  - { token: "\${READ_TOKEN}", role: read, name: dashboard }
  - { token: "\${EVENTS_TOKEN}", role: events, name: price-feed }
${options.alerts === false ? '' : `alerts:
  - { type: webhook, url: ${api.url}/alerts, on: [failed, rejected], rejectedThreshold: 5 }
`}`);

  const logLines: string[] = [];
  const env = { PRICING_TOKEN, READ_TOKEN, EVENTS_TOKEN, LASTMILE_API_TOKEN: ADMIN_TOKEN, PATH: process.env.PATH };
  const start = (extra: Partial<ServeOptions> = {}) => serve({
    configPath, port: 0, env,
    log: { level: 'debug', stream: new Writable({ write(chunk, _e, cb) { logLines.push(chunk.toString()); cb(); } }) },
    ...extra,
  });
  const server = await start({ ui: options.ui ?? false });

  const answers: string[] = [];
  const call = async (method: string, route: string, token: string | null = ADMIN_TOKEN, body?: unknown) => {
    const response = await fetch(server.url + route, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    answers.push(text);
    let json: any;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: response.status, json, text, headers: response.headers };
  };

  /** Waits (bounded) until the run is no longer running, polling the API as the UI does. */
  const waitForRun = async (runId: string, timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const { json } = await call('GET', `/api/runs/${runId}`);
      if (json?.summary && json.summary.status !== 'running') return json;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`run ${runId} did not finish within ${timeoutMs} ms`);
  };

  return {
    dir, configPath, env, api, server, sql, logLines, answers, call, waitForRun, start,
    async close() {
      await server.close();
      await api.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
