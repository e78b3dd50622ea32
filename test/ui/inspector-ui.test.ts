import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ADMIN_TOKEN, PRICING_TOKEN, startServerFixture } from '../server/server-fixture.ts';
import { ARTIFACTS, haveChromium, launchChromium } from './chromium.ts';

let fx: Awaited<ReturnType<typeof startServerFixture>>;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;

const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

beforeAll(async () => {
  if (!haveChromium) return;
  fx = await startServerFixture({ ui: true, rows: 300, batchSize: 50, alerts: false });
  const { json } = await fx.call('POST', '/api/syncs/prices_to_engine/runs', ADMIN_TOKEN, {});
  await fx.waitForRun(json.runId);
  browser = await launchChromium();
  page = browser.page;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await fx?.close();
});

describe.skipIf(!haveChromium)('request inspector and "Test one row" in Chromium', () => {
  it('tests one row from the sync page and shows the request and the answer', async () => {
    await page.goto(`${fx.server.url}/?token=${ADMIN_TOKEN}#/syncs/prices_to_engine`);
    const panel = page.getByTestId('test-row');
    await panel.getByLabel('Primary key').fill('SKU-00042');
    await panel.getByRole('button', { name: 'Test one row' }).click();
    const result = page.getByTestId('test-row-result');
    await result.getByText('delivered').waitFor();
    await expect.poll(() => result.innerText()).toContain('state updated');
    await result.getByText('headers, request and answer').click();
    expect(await result.getByTestId('request-body').innerText()).toContain('"key":"SKU-00042"');
    expect(await result.getByTestId('response-body').innerText()).toContain('"accepted":1');
    expect(await result.innerText()).toContain('Authorization: ***');
    expect(fx.api.state.records.get('SKU-00042')).toMatchObject({ amount: '42.99' });
    await result.scrollIntoViewIfNeeded();
    await shot('test-one-row');
  });

  it('lists the destination\'s last requests, newest first, secrets hidden', async () => {
    await page.getByRole('link', { name: 'Recent requests to pricing_engine' }).click();
    await page.getByRole('heading', { name: 'Requests to pricing_engine' }).waitFor();
    const rows = page.getByTestId('request-list').locator('tbody tr');
    // The run's check (a HEAD) and its 6 batches, then the row test: newest first.
    await expect.poll(() => rows.count()).toBe(8);
    expect(await rows.last().innerText()).toMatch(/HEAD http:\/\/127\.0\.0\.1:\d+\/v2\/bulk-update\s+200/);
    expect(await rows.first().innerText()).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/v2\/bulk-update\s+200/);
    await rows.first().getByText('headers, request and answer').click();
    expect(await rows.first().getByTestId('request-body').innerText()).toContain('SKU-00042');
    expect(await page.content()).not.toContain(PRICING_TOKEN);
    await shot('request-inspector');
  });
});
