import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccounted } from '../engine/accounting.ts';
import { ADMIN_TOKEN, PRICING_TOKEN, READ_TOKEN, startServerFixture } from './server-fixture.ts';

let fx: Awaited<ReturnType<typeof startServerFixture>>;
let firstRun: any;

async function run(sync: string, body: object = {}) {
  const started = await fx.call('POST', `/api/syncs/${sync}/runs`, ADMIN_TOKEN, body);
  expect(started.status).toBe(202);
  return fx.waitForRun(started.json.runId);
}

/** A run that just ended lets go of the sync's lock a moment after it saved its end: a 409 then is waited out (bounded). */
async function testRow(key: string, token = ADMIN_TOKEN) {
  const until = Date.now() + 10_000;
  for (;;) {
    const answer = await fx.call('POST', '/api/syncs/prices_to_engine/test-row', token, { key });
    if (answer.status !== 409 || Date.now() > until) return answer;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function metric(text: string, name: string, sync: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`sync="${sync}"`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

beforeAll(async () => {
  // 1,500 rows in batches of 10: 150 requests, more than the inspector keeps.
  fx = await startServerFixture({ batchSize: 10 });
  firstRun = await run('prices_to_engine');
  await run('discontinued_to_engine'); // fails: its table is missing
}, 120_000);
afterAll(async () => { await fx?.close(); });

describe('request inspector: GET /api/destinations/{name}/requests', () => {
  it('keeps the last 100 requests with their answers, newest first, secrets replaced', async () => {
    expectAccounted(firstRun.summary, { delivered: 1_490, rejected: 10 });
    expect(firstRun.summary.apiCalls).toBe(150);
    const { status, json, text } = await fx.call('GET', '/api/destinations/pricing_engine/requests', READ_TOKEN);
    expect(status).toBe(200);
    expect(json).toMatchObject({ destination: 'pricing_engine', type: 'http', kept: 100 });
    expect(json.requests).toHaveLength(100);
    const times = json.requests.map((r: any) => Date.parse(r.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    for (const r of json.requests) {
      expect(r).toMatchObject({ method: 'POST', url: `${fx.api.url}/v2/bulk-update`, status: 200 });
      expect(r.ms).toBeGreaterThanOrEqual(0);
      expect(r.requestHeaders.Authorization).toBe('***');
      expect(JSON.parse(r.requestBody)).toHaveLength(10);
      expect(JSON.parse(r.responseBody)).toHaveProperty('accepted');
    }
    // The refused prices (SKU-00990…00999) went in the same batch: its answer names them.
    const refused = json.requests.find((r: any) => r.responseBody.includes('PRICE_OUT_OF_RANGE'));
    expect(refused?.requestBody).toContain('SKU-00990');
    expect(text).not.toContain(PRICING_TOKEN);
  });

  it('answers 404 for a destination that does not exist, and 401 without a token', async () => {
    const missing = await fx.call('GET', '/api/destinations/nowhere/requests');
    expect(missing.status).toBe(404);
    expect(missing.json.message).toContain('destinations: pricing_engine');
    expect((await fx.call('GET', '/api/destinations/pricing_engine/requests', null)).status).toBe(401);
  });
});

describe('test one row: POST /api/syncs/{sync}/test-row', () => {
  it('sends exactly that row, even though it is unchanged, and shows the request and the answer', async () => {
    const before = fx.api.state.requests;
    const { status, json } = await testRow('SKU-00005');
    expect(status).toBe(200);
    expect(json).toMatchObject({ sync: 'prices_to_engine', key: 'SKU-00005', outcome: 'delivered', operation: 'upsert', stateUpdated: true,
      fields: { id: 'SKU-00005', amount: '5.99', currency: 'EUR', source: 'scraper' } });
    expect(fx.api.state.requests - before).toBe(1);
    expect(json.requests).toHaveLength(1);
    expect(JSON.parse(json.requests[0].requestBody)).toEqual([{ op: 'upsert', key: 'SKU-00005', id: 'SKU-00005', amount: '5.99', currency: 'EUR', source: 'scraper' }]);
    expect(json.requests[0]).toMatchObject({ status: 200, requestHeaders: { Authorization: '***' } });
    // It is in the inspector too, as the newest request.
    const { json: inspector } = await fx.call('GET', '/api/destinations/pricing_engine/requests');
    expect(inspector.requests[0].requestBody).toBe(json.requests[0].requestBody);
  });

  it('moves the row\'s state as a run would: the next run does not send the changed row again', async () => {
    await fx.sql([`UPDATE competitor_prices SET price = 7.5 WHERE sku = 'SKU-00007'`]);
    const { json } = await testRow('SKU-00007');
    expect(json).toMatchObject({ outcome: 'delivered', stateUpdated: true, fields: { amount: '7.50' } });
    expect(fx.api.state.records.get('SKU-00007')).toMatchObject({ amount: '7.50' });
    const next = await run('prices_to_engine');
    expectAccounted(next.summary, { changed: 0 });
    expect(next.summary.toSync).toBe(0);
  });

  it('shows a refusal with the destination\'s code, and an answer that echoes the token has it replaced', async () => {
    const refused = await testRow('SKU-00995');
    expect(refused.json).toMatchObject({ outcome: 'rejected', code: 'PRICE_OUT_OF_RANGE', stateUpdated: true });
    expect(refused.json.reason).toContain('above the ceiling of 990.00');

    fx.api.state.authFails = true;
    try {
      const denied = await testRow('SKU-00006');
      expect(denied.status).toBe(200);
      expect(denied.json).toMatchObject({ outcome: 'deferred', stateUpdated: false });
      expect(denied.json.requests.at(-1)).toMatchObject({ status: 401 });
      expect(denied.json.requests.at(-1).responseBody).toContain('token not recognised: ***');
      expect(denied.text).not.toContain(PRICING_TOKEN);
    } finally {
      fx.api.state.authFails = false;
    }
  });

  it('says which key is missing, and needs an admin token', async () => {
    const missing = await testRow('SKU-99999');
    expect(missing.status).toBe(404);
    expect(missing.json.message).toContain('model "competitor_prices" has no row with sku = SKU-99999');
    expect((await testRow('SKU-00001', READ_TOKEN)).status).toBe(403);
  });
});

describe('a quieter serve with more useful metrics', () => {
  it('/metrics has each sync\'s last success and the rows it holds refused', async () => {
    const { text } = await fx.call('GET', '/metrics', null);
    const lastSuccess = metric(text, 'lastmile_sync_last_success_timestamp_seconds', 'prices_to_engine');
    const runs = (await fx.call('GET', '/api/syncs/prices_to_engine/runs')).json.runs;
    expect(lastSuccess).toBe(Date.parse(runs[0].finishedAt) / 1000);
    // The failed sync never succeeded: no timestamp to compare against.
    expect(metric(text, 'lastmile_sync_last_success_timestamp_seconds', 'discontinued_to_engine')).toBeUndefined();
    // The 10 prices above the ceiling are parked (SKU-00995 was refused again by the row test).
    expect(metric(text, 'lastmile_sync_rejected_rows', 'prices_to_engine')).toBe(10);
  });

  it('logs one start-up line, and each request at debug only', () => {
    const lines = fx.logLines.map((line) => JSON.parse(line));
    const startup = lines.filter((l) => /listening|serving/i.test(l.msg));
    expect(startup).toHaveLength(1);
    expect(startup[0]).toMatchObject({ level: 30, url: fx.server.url, syncs: 2 });
    expect(lines.some((l) => l.level >= 30 && /request completed|incoming request/.test(l.msg))).toBe(false);
    const requestLine = lines.find((l) => l.url === '/api/destinations/nowhere/requests');
    expect(requestLine).toMatchObject({ level: 20, method: 'GET', statusCode: 404 });
  });

  it('knows both gauges again after a restart, from the state', async () => {
    const runs = (await fx.call('GET', '/api/syncs/prices_to_engine/runs')).json.runs;
    await fx.server.close();
    const again = await fx.start({ ui: false });
    try {
      const scrape = async () => (await fetch(`${again.url}/metrics`)).text();
      await expect.poll(async () => metric(await scrape(), 'lastmile_sync_rejected_rows', 'prices_to_engine'), { timeout: 10_000 }).toBe(10);
      expect(metric(await scrape(), 'lastmile_sync_last_success_timestamp_seconds', 'prices_to_engine')).toBe(Date.parse(runs[0].finishedAt) / 1000);
    } finally {
      await again.close();
    }
  });
});
