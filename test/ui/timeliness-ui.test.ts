import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ADMIN_TOKEN, startServerFixture } from '../server/server-fixture.ts';
import { ARTIFACTS, haveChromium, launchChromium } from './chromium.ts';


let fx: Awaited<ReturnType<typeof startServerFixture>>;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
const runIds: string[] = [];

beforeAll(async () => {
  if (!haveChromium) return;
  fx = await startServerFixture({
    ui: true, rows: 200, alerts: false,
    // Every row's event happened 2 minutes before the run read it; the newest row may be 1 hour old.
    extraModels: `  timed_prices:
    source: warehouse
    sql: SELECT sku, price, now()::TIMESTAMPTZ - INTERVAL 2 MINUTE AS scraped_at FROM competitor_prices
    primaryKey: sku
    eventTime: scraped_at
    freshness: { column: scraped_at, maxAge: 1h }`,
    extraSyncs: `  timed_to_engine: { model: timed_prices, destination: pricing_engine, mode: upsert, match: { sku: id }, mapping: { price: amount }, schedule: { every: 1d } }`,
  });
  // Two runs with rows to deliver: the second after a price change.
  for (const change of [undefined, `UPDATE competitor_prices SET price = price + 1 WHERE sku < 'SKU-00100'`]) {
    if (change) await fx.sql([change]);
    const { json } = await fx.call('POST', '/api/syncs/timed_to_engine/runs', ADMIN_TOKEN, {});
    await fx.waitForRun(json.runId);
    runIds.push(json.runId);
  }
  browser = await launchChromium();
  page = browser.page;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await fx?.close();
});

describe.skipIf(!haveChromium)('freshness and latency in the web UI', () => {
  it('the sync page charts L over time and lists L p95 per run', async () => {
    await page.goto(`${fx.server.url}/?token=${ADMIN_TOKEN}#/syncs/timed_to_engine`);
    const chart = page.getByTestId('latency-chart');
    await chart.waitFor();
    expect(await chart.locator('[data-series="p95"] circle').count()).toBe(2);
    expect(await chart.locator('[data-series="age"] circle').count()).toBe(2);
    expect(await chart.innerText()).toContain('End-to-end latency L, last 2 runs');
    const history = page.getByTestId('run-history');
    await history.locator('tbody tr').nth(1).waitFor();
    // L p95 is 2 minutes plus the run's own seconds.
    expect(await history.locator('tbody tr').first().locator('td').last().innerText()).toMatch(/^2 min \d+ s$/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'timeliness-sync.png'), fullPage: true });
  });

  it('the run page shows the newest row\'s age against its max age, and L with its split', async () => {
    await page.goto(`${fx.server.url}/#/runs/${runIds[1]}`);
    const card = page.getByTestId('timeliness');
    await card.waitFor();
    const text = await card.innerText();
    expect(text).toMatch(/age of newest row\s+(1|2) min \d+ s/);
    expect(text).toMatch(/max age\s+60 min 0 s|max age\s+1 h 0 min/);
    expect(text).toMatch(/freshness\s+fresh/);
    expect(text).toMatch(/L p50\s+2 min \d+ s/);
    expect(text).toMatch(/warehouse load p95\s+(1|2) min \d+ s/);
    expect(text).toContain('over 100 delivered rows');
    await page.screenshot({ path: path.join(ARTIFACTS, 'timeliness-run.png'), fullPage: true });
  });

  it('the plan preview shows the newest row\'s age and the estimated L', async () => {
    await page.goto(`${fx.server.url}/#/syncs/timed_to_engine`);
    await page.getByRole('button', { name: 'Preview plan' }).click();
    const timeliness = page.getByTestId('plan-timeliness');
    await timeliness.waitFor();
    expect(await timeliness.innerText()).toMatch(/Newest scraped_at (1|2) min \d+ s old \(max age .*\) fresh · estimated L (1|2) min \d+ s \(age \+ sync\)/);
  });
});
