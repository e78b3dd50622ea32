import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ADMIN_TOKEN, startServerFixture } from '../server/server-fixture.ts';
import { ARTIFACTS, haveChromium, launchChromium } from './chromium.ts';


let fx: Awaited<ReturnType<typeof startServerFixture>>;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;

const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

beforeAll(async () => {
  if (!haveChromium) return;
  fx = await startServerFixture({ ui: true });
  const { json } = await fx.call('POST', '/api/syncs/prices_to_engine/runs', ADMIN_TOKEN, {});
  await fx.waitForRun(json.runId);
  browser = await launchChromium({ acceptDownloads: true });
  page = browser.page;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await fx?.close();
});

describe.skipIf(!haveChromium)('sync page in Chromium: definition, pause, rows rejected now, retry', () => {
  it('shows the sync\'s definition, what triggered each run, and the rows rejected now with the values sent', async () => {
    await page.goto(`${fx.server.url}/?token=${ADMIN_TOKEN}`);
    await page.getByTestId('sync-table').getByText('prices_to_engine').waitFor();
    await shot('sync-page-1-overview');
    await page.getByTestId('sync-table').getByRole('link', { name: 'prices_to_engine' }).click();

    const definition = page.getByTestId('sync-definition');
    await definition.waitFor();
    const text = await definition.innerText();
    expect(text).toContain('SELECT sku, competitor, price, currency, updated_at FROM competitor_prices');
    expect(text).toMatch(/primary key\s+sku/);
    expect(text).toMatch(/mode\s+upsert/);
    expect(text).toMatch(/schedule\s+manual/);
    expect(text).toMatch(/id\s+match\s+sku/);
    expect(text).toMatch(/amount\s+price/);
    expect(text).toMatch(/source\s+"scraper" \(static\)/);

    expect(await page.getByTestId('run-history').locator('tbody tr').first().innerText()).toMatch(/Partial\s+API \/ UI/);

    const rejected = page.getByTestId('current-rejected');
    await rejected.waitFor();
    expect(await rejected.innerText()).toContain('10 rows over all runs');
    const groups = await rejected.getByTestId('rejected-groups').locator('tbody tr').allInnerTexts();
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatch(/^10\s+invalid_row\s+PRICE_OUT_OF_RANGE\s+amount … is above the ceiling of …$/);
    const rows = rejected.getByTestId('current-rejected-rows').locator('tbody > tr');
    expect(await rows.count()).toBe(10);
    expect(await rows.first().innerText()).toMatch(/^SKU-00990\s+id\s+SKU-00990\s+amount\s+990\.99\s+currency\s+EUR\s+source\s+scraper\s+PRICE_OUT_OF_RANGE/);
    await shot('sync-page-2-sync');
    await rejected.screenshot({ path: path.join(ARTIFACTS, 'sync-page-3-rejected-now.png') });
  });

  it('exports the rows rejected now as CSV', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('current-rejected').getByTestId('export-csv').click()]);
    expect(download.suggestedFilename()).toBe('prices_to_engine-rejected.csv');
    const lines = (await readFile((await download.path())!, 'utf8')).trimEnd().split('\r\n');
    expect(lines[0]).toBe('key,category,code,field,message,retry,sent,run_id,at');
    expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(Array.from({ length: 10 }, (_, i) => `SKU-0099${i}`));
  });

  it('pauses: Run now is off and the retry answers that the sync is paused; resumed, the retry re-sends the rejected rows', async () => {
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('.badge.paused').waitFor();
    expect(await page.getByRole('button', { name: 'Run now' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Retry rejected rows' }).click();
    await page.getByText(/sync "prices_to_engine" is paused \(since .*\); resume it to run it/).waitFor();
    await shot('sync-page-4-paused');
    await page.getByRole('link', { name: 'Syncs' }).click();
    expect(await page.getByTestId('sync-table').locator('tr', { hasText: 'prices_to_engine' }).locator('.badge.paused').innerText()).toBe('paused');
    await page.getByTestId('sync-table').getByRole('link', { name: 'prices_to_engine' }).click();

    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => page.locator('.badge.paused').count()).toBe(0);
    await page.getByRole('button', { name: 'Retry rejected rows' }).click();
    const progress = page.getByTestId('run-progress');
    await expect.poll(() => progress.getAttribute('data-state'), { timeout: 30_000 }).toBe('partial');
    expect(await progress.innerText()).toContain('Finished: 0 delivered, 10 rejected, 0 deferred, 0 skipped of 10 to sync');
    await expect.poll(() => page.getByTestId('run-history').locator('tbody tr').count()).toBe(2);
  });

  it('opens the retry run: ranked by category and by code, grouped by code and message', async () => {
    await page.getByTestId('run-history').locator('tbody tr').first().click();
    const ranking = page.getByTestId('rejected-ranking');
    await ranking.waitFor();
    expect(await ranking.innerText()).toMatch(/Invalid rows\s+invalid_row\s+10\s+100%/);
    await ranking.getByRole('button', { name: 'By code' }).click();
    expect(await ranking.innerText()).toMatch(/PRICE_OUT_OF_RANGE\s+invalid_row\s+10\s+100%/);
    expect(await page.locator('.sub').innerText()).toContain('triggered by API / UI');
    await shot('sync-page-5-run');
    await page.getByTestId('rejected-table').screenshot({ path: path.join(ARTIFACTS, 'sync-page-6-rejected-rows.png') });
  });

  it('previews the plan from the sync page', async () => {
    await page.goto(`${fx.server.url}/#/syncs/prices_to_engine`);
    await page.getByRole('button', { name: 'Preview plan' }).click();
    await page.getByTestId('plan').waitFor();
    await shot('sync-page-7-plan');
  });
});
