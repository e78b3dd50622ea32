import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccounted } from '../engine/accounting.ts';
import { ADMIN_TOKEN, PRICING_TOKEN, READ_TOKEN, startServerFixture } from './server-fixture.ts';

let fx: Awaited<ReturnType<typeof startServerFixture>>;
beforeAll(async () => { fx = await startServerFixture(); });
afterAll(async () => { await fx?.close(); });

const SYNC = '/api/syncs/prices_to_engine';
/** Prices of SKU-00990 … SKU-00999 (990.99 … 999.99) are above the pricing API's ceiling: it refuses those 10 rows. */
const REFUSED = Array.from({ length: 10 }, (_, i) => `SKU-0099${i}`);

async function runAndWait(route: string) {
  const started = await fx.call('POST', route, ADMIN_TOKEN, {});
  expect(started.status, started.text).toBe(202);
  return fx.waitForRun(started.json.runId);
}

describe('the sync page\'s API', () => {
  it('gives the sync\'s definition: model SQL, destination, mode, match, mapping, schedule, where it is written', async () => {
    const { status, json } = await fx.call('GET', `${SYNC}/definition`, READ_TOKEN);
    expect(status).toBe(200);
    expect(json).toMatchObject({
      name: 'prices_to_engine', mode: 'upsert', schedule: null, after: [],
      model: { name: 'competitor_prices', source: 'warehouse', sourceType: 'duckdb', sql: 'SELECT sku, competitor, price, currency, updated_at FROM competitor_prices', primaryKey: ['sku'] },
      destination: { name: 'pricing_engine', type: 'http' },
      match: { sku: 'id' },
      mapping: [{ field: 'amount', from: 'column', value: 'price' }, { field: 'currency', from: 'column', value: 'currency' }, { field: 'source', from: 'static', value: '"scraper"' }],
    });
    expect(json.location).toMatch(/^lastmile\.yml:\d+$/);
  });

  it('lists the rows rejected now with the values sent, grouped, as JSON and CSV; a run names its trigger', async () => {
    const run = await runAndWait(`${SYNC}/runs`);
    expectAccounted(run.summary, { status: 'partial', toSync: 1_500, delivered: 1_490, rejected: 10, trigger: 'api' });
    // Ten messages that differ only in the amount: one group.
    expect(run.rejectedGroups).toEqual([{ category: 'invalid_row', code: 'PRICE_OUT_OF_RANGE', message: 'amount … is above the ceiling of …', count: 10 }]);

    const now = await fx.call('GET', `${SYNC}/rejected`, READ_TOKEN);
    expect(now.json.total).toBe(10);
    expect(now.json.rows.map((r: any) => r.key)).toEqual(REFUSED);
    expect(now.json.rows[0]).toMatchObject({
      runId: run.summary.runId, category: 'invalid_row', code: 'PRICE_OUT_OF_RANGE', message: 'amount 990.99 is above the ceiling of 990.00',
      sent: { id: 'SKU-00990', amount: '990.99', currency: 'EUR', source: 'scraper' },
    });

    const csv = await fx.call('GET', `${SYNC}/rejected.csv`, READ_TOKEN);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="prices_to_engine-rejected.csv"');
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('key,category,code,field,message,retry,sent,run_id,at');
    expect(lines).toHaveLength(11);
    expect(lines[1]).toBe(`SKU-00990,invalid_row,PRICE_OUT_OF_RANGE,,amount 990.99 is above the ceiling of 990.00,when the row changes,` +
      `"{""id"":""SKU-00990"",""amount"":""990.99"",""currency"":""EUR"",""source"":""scraper""}",${run.summary.runId},${now.json.rows[0].at}`);
    const runCsv = await fx.call('GET', `/api/runs/${run.summary.runId}/rejected.csv`, READ_TOKEN);
    expect(runCsv.text).toBe(csv.text.replace('prices_to_engine-rejected', ''));
    expect(csv.text + runCsv.text).not.toContain(PRICING_TOKEN);
    expect((await fx.call('GET', `${SYNC}/rejected.csv`, null)).status).toBe(401);
  });

  it('pauses: runs from the API and the retry button are refused with a clear answer; resumed, the retry re-sends exactly the rejected rows', async () => {
    expect((await fx.call('POST', `${SYNC}/pause`, READ_TOKEN)).status).toBe(403);
    const paused = await fx.call('POST', `${SYNC}/pause`, ADMIN_TOKEN);
    expect(paused.status).toBe(200);
    expect(Date.parse(paused.json.pausedAt)).toBeGreaterThan(0);
    expect((await fx.call('GET', SYNC, READ_TOKEN)).json.pausedAt).toBe(paused.json.pausedAt);

    const manual = await fx.call('POST', `${SYNC}/runs`, ADMIN_TOKEN, {});
    expect(manual.status).toBe(409);
    expect(manual.json.message).toBe(`sync "prices_to_engine" is paused (since ${paused.json.pausedAt}); resume it to run it (POST /api/syncs/prices_to_engine/resume, "Resume" on its page, or lastmile resume prices_to_engine)`);
    expect((await fx.call('POST', `${SYNC}/rejected/retry`, ADMIN_TOKEN, {})).status).toBe(409);
    // A plan writes nothing: it is allowed while paused.
    expect((await fx.call('GET', `${SYNC}/plan`, READ_TOKEN)).status).toBe(200);

    const resumed = await fx.call('POST', `${SYNC}/resume`, ADMIN_TOKEN);
    expect(resumed.json).toMatchObject({ sync: 'prices_to_engine', pausedAt: null });
    const requestsBefore = fx.api.state.requests;
    const retry = await runAndWait(`${SYNC}/rejected/retry`);
    expectAccounted(retry.summary, { toSync: 10, delivered: 0, rejected: 10, unchanged: 1_490, trigger: 'api' });
    expect(fx.api.state.requests).toBeGreaterThan(requestsBefore);
    const now = await fx.call('GET', `${SYNC}/rejected`, READ_TOKEN);
    expect(now.json.rows.map((r: any) => [r.key, r.runId])).toEqual(REFUSED.map((key) => [key, retry.summary.runId]));
  });

  it('a row delivered later no longer stands rejected', async () => {
    await fx.sql([`UPDATE competitor_prices SET price = 10 WHERE sku IN ('SKU-00990', 'SKU-00991')`]);
    const run = await runAndWait(`${SYNC}/runs`);
    expectAccounted(run.summary, { changed: 2, delivered: 2, rejected: 0 });
    const now = await fx.call('GET', `${SYNC}/rejected`, READ_TOKEN);
    expect(now.json.rows.map((r: any) => r.key)).toEqual(REFUSED.slice(2));
    expect(now.json.groups.reduce((n: number, g: any) => n + g.count, 0)).toBe(8);
  });
});
