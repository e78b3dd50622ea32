import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../src/server/serve.ts';
import { ADMIN_TOKEN, PRICING_TOKEN, startPricingApi } from './server-fixture.ts';

const MANIFEST = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/dbt/manifest.json');
const READ_TOKEN = 'lm_read_dbt_0123456789';

/** dbt's target/run_results.json after `dbt build`: orders rebuilt, customers failed, tests ran. */
const RUN_RESULTS = {
  metadata: { dbt_schema_version: 'https://schemas.getdbt.com/dbt/run-results/v6.json', dbt_version: '1.8.7', generated_at: '2026-12-01T06:00:00Z', invocation_id: 'x' },
  results: [
    { unique_id: 'model.shop.stg_orders', status: 'success', timing: [], thread_id: 'Thread-1', execution_time: 0.1, adapter_response: {}, message: 'OK', failures: null },
    { unique_id: 'model.shop.orders', status: 'success', timing: [], thread_id: 'Thread-1', execution_time: 0.2, adapter_response: { rows_affected: 3 }, message: 'OK', failures: null },
    { unique_id: 'test.shop.unique_orders_order_id.4a3b2c1d0e', status: 'pass', timing: [], thread_id: 'Thread-2', execution_time: 0.1, adapter_response: {}, message: null, failures: 0 },
    { unique_id: 'model.shop.customers', status: 'error', timing: [], thread_id: 'Thread-1', execution_time: 0.1, adapter_response: {}, message: 'Binder Error', failures: null },
  ],
  elapsed_time: 1.2,
  args: {},
};

describe('POST /api/triggers/dbt', () => {
  let dir: string;
  let api: Awaited<ReturnType<typeof startPricingApi>>;
  let server: Awaited<ReturnType<typeof serve>>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-dbt-'));
    api = await startPricingApi();
    await mkdir(path.join(dir, 'target'));
    await copyFile(MANIFEST, path.join(dir, 'target/manifest.json'));
    const instance = await DuckDBInstance.create(path.join(dir, 'dev.duckdb'));
    const db = await instance.connect();
    await db.run(`CREATE TABLE fct_orders AS SELECT 'O-' || i AS order_id, 'c' || (i % 2) || '@shop.test' AS customer_email, (i * 10.5)::DECIMAL(10,2) AS amount FROM range(1, 4) t(i)`);
    await db.run(`CREATE TABLE customers AS SELECT 'c' || i || '@shop.test' AS email, i AS orders FROM range(0, 2) t(i)`);
    await db.run(`CREATE TABLE order_lines AS SELECT 'L-' || i AS line_id, 5 AS amount FROM range(1, 3) t(i)`);
    db.closeSync();
    instance.closeSync();
    await writeFile(path.join(dir, 'lastmile.yml'), `sources:
  warehouse: { type: duckdb, path: ./dev.duckdb }
destinations:
  pricing:
    type: http
    url: ${api.url}/v2/bulk-update
    headers: { Authorization: "Bearer ${PRICING_TOKEN}" }
models:
  orders: { source: warehouse, dbt: { manifest: target/manifest.json, name: orders } }
  customers: { source: warehouse, dbt: { name: customers } }
  lines: { source: warehouse, sql: "SELECT line_id, amount FROM order_lines", primaryKey: line_id }
syncs:
  orders_to_pricing: { model: orders, destination: pricing, match: { order_id: id }, mapping: { amount: amount } }
  customers_to_pricing: { model: customers, destination: pricing, match: { email: id }, mapping: { orders: amount } }
  lines_to_pricing: { model: lines, destination: pricing, match: { line_id: id }, mapping: { amount: amount } }
tokens:
  - { token: ${READ_TOKEN}, role: read }
`);
    server = await serve({
      configPath: path.join(dir, 'lastmile.yml'), port: 0, ui: false,
      env: { LASTMILE_API_TOKEN: ADMIN_TOKEN, PATH: process.env.PATH },
      log: { level: 'warn', stream: new Writable({ write(_c, _e, cb) { cb(); } }) },
    });
  });

  afterAll(async () => {
    await server?.close();
    await api?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const post = async (body: unknown, token = ADMIN_TOKEN) => {
    const response = await fetch(`${server.url}/api/triggers/dbt`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() as any };
  };
  const waitFor = async (runId: string) => {
    for (let i = 0; i < 300; i++) {
      const response = await fetch(`${server.url}/api/runs/${runId}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const json = await response.json() as any;
      if (json?.summary && json.summary.status !== 'running') return json.summary;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`run ${runId} did not finish`);
  };

  it('runs exactly the syncs whose dbt models run_results.json says were rebuilt, and the dbt model syncs by name', async () => {
    const { status, json } = await post(RUN_RESULTS);
    expect(status).toBe(202);
    expect(json.runs.map((run: { sync: string }) => run.sync)).toEqual(['orders_to_pricing']);
    const summary = await waitFor(json.runs[0].runId);
    expect(summary.status).toBe('success');
    expect([...api.state.records.keys()].sort()).toEqual(['O-1', 'O-2', 'O-3']);
    expect(api.state.records.get('O-2')).toMatchObject({ amount: '21.00' });
  });

  it('accepts a list of model names or unique_ids', async () => {
    const { status, json } = await post({ models: ['customers', 'model.shop.stg_orders'] });
    expect(status).toBe(202);
    expect(json.runs.map((run: { sync: string }) => run.sync)).toEqual(['customers_to_pricing']);
    expect((await waitFor(json.runs[0].runId)).status).toBe('success');
    expect(api.state.records.has('c1@shop.test')).toBe(true);
    expect(api.state.records.has('L-1')).toBe(false);
  });

  it('needs an admin token and a body naming models', async () => {
    expect((await post({ models: ['orders'] }, READ_TOKEN)).status).toBe(403);
    expect((await post({ nothing: true })).status).toBe(400);
  });
});
