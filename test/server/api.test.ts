import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { openStateStore } from '../../src/state/open-state-store.ts';
import { ADMIN_TOKEN, READ_TOKEN, startServerFixture } from './server-fixture.ts';

let fx: Awaited<ReturnType<typeof startServerFixture>>;
beforeAll(async () => { fx = await startServerFixture(); });
afterAll(async () => { await fx?.close(); });

const READ_ROUTES = [
  '/api/syncs', '/api/syncs/prices_to_engine', '/api/syncs/prices_to_engine/runs',
  '/api/syncs/prices_to_engine/plan', '/api/runs/some-run', '/api/runs/some-run/rejected',
];

describe('REST API', () => {
  it('answers 401 without a token or with an unknown one, on every route', async () => {
    for (const route of READ_ROUTES) {
      const none = await fx.call('GET', route, null);
      expect(none.status, route).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(none.json.message).toMatch(/API token is required/);
      expect((await fx.call('GET', route, 'not-a-token')).status, route).toBe(401);
    }
    expect((await fx.call('POST', '/api/syncs/prices_to_engine/runs', null, {})).status).toBe(401);
  });

  it('lets a read token read but not start a run (403)', async () => {
    expect((await fx.call('GET', '/api/syncs', READ_TOKEN)).status).toBe(200);
    const post = await fx.call('POST', '/api/syncs/prices_to_engine/runs', READ_TOKEN, {});
    expect(post.status).toBe(403);
    expect(post.json.message).toMatch(/token "dashboard" has the read role/);
  });

  it('serves the OpenAPI document with every route of the product contract', async () => {
    const { status, json } = await fx.call('GET', '/openapi.json', null);
    expect(status).toBe(200);
    expect(json.openapi).toMatch(/^3\./);
    expect(Object.keys(json.paths).sort()).toEqual([
      '/api/destinations/{destination}/requests', '/api/runs/{id}', '/api/runs/{id}/rejected', '/api/runs/{id}/rejected.csv', '/api/syncs', '/api/syncs/{sync}',
      '/api/syncs/{sync}/definition', '/api/syncs/{sync}/events', '/api/syncs/{sync}/events/{id}', '/api/syncs/{sync}/pause', '/api/syncs/{sync}/plan',
      '/api/syncs/{sync}/rejected', '/api/syncs/{sync}/rejected.csv', '/api/syncs/{sync}/rejected/retry', '/api/syncs/{sync}/resume', '/api/syncs/{sync}/runs',
      '/api/syncs/{sync}/test-row',
      '/api/triggers/dbt', '/api/workers',
    ]);
    expect(Object.keys(json.paths['/api/syncs/{sync}/runs']).sort()).toEqual(['get', 'post']);
    expect(json.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('plans a sync: counts, samples and an estimate, writing nothing', async () => {
    const { status, json } = await fx.call('GET', '/api/syncs/prices_to_engine/plan', READ_TOKEN);
    expect(status).toBe(200);
    expect(json).toMatchObject({ sync: 'prices_to_engine', added: 1_500, changed: 0, removed: 0, unchanged: 0, toSync: 1_500 });
    expect(json.samples.added.length).toBeGreaterThan(0);
    expect(json.samples.added[0]).toMatchObject({ id: expect.stringMatching(/^SKU-/), currency: 'EUR', source: 'scraper' });
    expect(json.estimatedSeconds).toBeGreaterThan(0);
    expect(fx.api.state.requests).toBe(0);
    const runs = await fx.call('GET', '/api/syncs/prices_to_engine/runs');
    expect(runs.json.runs).toEqual([]);
  });

  it('starts a run (202), refuses a second one while it runs (409), shows live progress, then the result', async () => {
    fx.api.state.delayMs = 150;
    const started = await fx.call('POST', '/api/syncs/prices_to_engine/runs', ADMIN_TOKEN, {});
    expect(started.status).toBe(202);
    const { runId } = started.json;
    expect(typeof runId).toBe('string');

    const again = await fx.call('POST', '/api/syncs/prices_to_engine/runs', ADMIN_TOKEN, {});
    expect(again.status).toBe(409);
    expect(again.json.message).toContain('already running');

    // Live: the run is visible while it runs, with progress counts.
    let sawProgress = false;
    for (let i = 0; i < 100 && !sawProgress; i++) {
      const live = await fx.call('GET', `/api/runs/${runId}`, READ_TOKEN);
      if (live.json.summary.status !== 'running') break;
      sawProgress = live.json.progress !== null && live.json.progress.runId === runId;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(sawProgress).toBe(true);
    const running = await fx.call('GET', '/api/syncs/prices_to_engine', READ_TOKEN);
    expect(running.json.running).toBe(true);

    const done = await fx.waitForRun(runId);
    fx.api.state.delayMs = 0;
    expect(done.summary).toMatchObject({ runId, sync: 'prices_to_engine', status: 'partial', fetched: 1_500, added: 1_500, delivered: 1_490, rejected: 10 });
    expect(done.summary.apiCalls).toBeGreaterThanOrEqual(15);
    expect(done.profile).toMatchObject({ source: 'warehouse', sourceType: 'duckdb', destination: 'pricing_engine', destinationType: 'http', mode: 'upsert', trigger: 'api' });
    expect(done.trace.map((l: { step: number }) => l.step)).toEqual(expect.arrayContaining([1, 2, 3, 4]));
    expect(done.trace[0].text).toBe('records_fetched: 1,500');
    expect(Object.values(done.rejectedByCategory).reduce((a: number, b) => a + (b as number), 0)).toBe(10);
    expect(fx.api.state.records.size).toBe(1_490);
  });

  it('lists syncs with health, last run, next run and rows delivered', async () => {
    const { json } = await fx.call('GET', '/api/syncs', READ_TOKEN);
    const prices = json.syncs.find((s: { name: string }) => s.name === 'prices_to_engine');
    expect(prices).toMatchObject({
      health: 'partial', running: false, rowsDelivered: 1_490, nextRunAt: null, schedule: null,
      model: 'competitor_prices', destination: 'pricing_engine', destinationType: 'http', sourceType: 'duckdb', mode: 'upsert',
    });
    expect(prices.lastRun).toMatchObject({ status: 'partial', delivered: 1_490 });
    const other = json.syncs.find((s: { name: string }) => s.name === 'discontinued_to_engine');
    expect(other).toMatchObject({ health: 'never', lastRun: null, rowsDelivered: 0 });
  });

  it('pages and filters rejected rows, with the destination\'s code and message', async () => {
    const [run] = (await fx.call('GET', '/api/syncs/prices_to_engine/runs')).json.runs;
    const first = await fx.call('GET', `/api/runs/${run.runId}/rejected?limit=4`, READ_TOKEN);
    expect(first.json).toMatchObject({ total: 10, offset: 0, limit: 4 });
    expect(first.json.rows).toHaveLength(4);
    expect(first.json.rows[0]).toMatchObject({ code: 'PRICE_OUT_OF_RANGE', message: expect.stringMatching(/above the ceiling of 990.00/), key: expect.stringMatching(/^SKU-0099\d$/) });
    const rest = await fx.call('GET', `/api/runs/${run.runId}/rejected?limit=100&offset=4`, READ_TOKEN);
    expect(rest.json.rows).toHaveLength(6);
    const keys = new Set([...first.json.rows, ...rest.json.rows].map((r: { key: string }) => r.key));
    expect(keys.size).toBe(10);

    const category = first.json.rows[0].category;
    expect((await fx.call('GET', `/api/runs/${run.runId}/rejected?category=${category}`)).json.total).toBe(10);
    const other = category === 'stale_data' ? 'rate_limit' : 'stale_data';
    expect((await fx.call('GET', `/api/runs/${run.runId}/rejected?category=${other}`)).json).toMatchObject({ total: 0, rows: [] });
    const bad = await fx.call('GET', `/api/runs/${run.runId}/rejected?category=nonsense`);
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/category/);
  });

  it('records a failed run, with its error', async () => {
    const started = await fx.call('POST', '/api/syncs/discontinued_to_engine/runs', ADMIN_TOKEN, {});
    expect(started.status).toBe(202);
    const done = await fx.waitForRun(started.json.runId);
    expect(done.summary.status).toBe('failed');
    expect(done.summary.error).toMatch(/discontinued_products/);
    const sync = await fx.call('GET', '/api/syncs/discontinued_to_engine');
    expect(sync.json.health).toBe('failed');
  });

  it('lists a sync\'s runs newest first, with a limit', async () => {
    const all = (await fx.call('GET', '/api/syncs/prices_to_engine/runs', READ_TOKEN)).json.runs;
    expect(all).toHaveLength(1);
    const second = await fx.call('POST', '/api/syncs/prices_to_engine/runs', ADMIN_TOKEN, { dryRun: true });
    await fx.waitForRun(second.json.runId).catch(() => undefined);
    const third = await fx.call('POST', '/api/syncs/prices_to_engine/runs', ADMIN_TOKEN, {});
    await fx.waitForRun(third.json.runId);
    const runs = (await fx.call('GET', '/api/syncs/prices_to_engine/runs?limit=1')).json.runs;
    expect(runs).toHaveLength(1);
    expect(runs[0].runId).toBe(third.json.runId);
    expect(runs[0]).toMatchObject({ status: 'success', delivered: 0, rejected: 0 });
  });

  it('answers 409 when the sync is running in another process, and counts no run for it', async () => {
    const other = await openStateStore(path.join(fx.dir, '.lastmile'));
    // The last run here saves its end a moment before it lets go of the lock: retry briefly.
    let lock: Awaited<ReturnType<typeof other.acquireLock>> | undefined;
    for (let i = 0; i < 50 && !lock; i++) {
      lock = await other.acquireLock('prices_to_engine', 'run-from-the-cli').catch(() => undefined);
      if (!lock) await new Promise((r) => setTimeout(r, 50));
    }
    if (!lock) throw new Error('could not take the lock of prices_to_engine');
    try {
      const before = (await fx.call('GET', '/api/syncs/prices_to_engine/runs')).json.runs.length;
      const refused = await fx.call('POST', '/api/syncs/prices_to_engine/runs', ADMIN_TOKEN, {});
      expect(refused.status).toBe(409);
      expect(refused.json.message).toContain('run-from-the-cli');
      expect((await fx.call('GET', '/api/syncs/prices_to_engine/runs')).json.runs.length).toBe(before);
      const metrics = (await fx.call('GET', '/metrics', null)).text;
      expect(metrics).not.toMatch(/lastmile_runs_total\{sync="prices_to_engine",status="failed"\}/);
      expect(metrics).toMatch(/lastmile_runs_in_progress\{sync="prices_to_engine"\} 0/);
    } finally {
      await lock.release();
      await other.close();
    }
    const accepted = await fx.call('POST', '/api/syncs/prices_to_engine/runs', ADMIN_TOKEN, {});
    expect(accepted.status).toBe(202);
    await fx.waitForRun(accepted.json.runId);
  });

  it('answers 404 naming what is missing, and 400 for a bad body', async () => {
    const sync = await fx.call('GET', '/api/syncs/nope');
    expect(sync.status).toBe(404);
    expect(sync.json.message).toBe('no sync named "nope" (syncs: prices_to_engine, discontinued_to_engine)');
    expect((await fx.call('POST', '/api/syncs/nope/runs', ADMIN_TOKEN, {})).status).toBe(404);
    expect((await fx.call('GET', '/api/syncs/nope/plan')).status).toBe(404);
    expect((await fx.call('GET', '/api/runs/nope')).status).toBe(404);
    expect((await fx.call('POST', '/api/syncs/prices_to_engine/runs', ADMIN_TOKEN, { fullResync: 'yes' })).status).toBe(400);
  });
});
