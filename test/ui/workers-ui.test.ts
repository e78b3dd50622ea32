import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { WorkerRegistry } from '../../src/worker/worker-registry.ts';
import { ADMIN_TOKEN, startServerFixture } from '../server/server-fixture.ts';
import { ARTIFACTS, haveChromium, launchChromium } from './chromium.ts';
import { needService, SERVICES } from '../helpers/services.ts';

const up = haveChromium && (await needService('redis')) && (await needService('postgres'));
const PREFIX = `lm-test-ui-workers-${process.pid}`;
const SCHEMA = `lm_ui_workers_${process.pid}`;

let fx: Awaited<ReturnType<typeof startServerFixture>>;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
let redis: Redis;
let leave: (() => Promise<void>) | undefined;

beforeAll(async () => {
  if (!up) return;
  const state = new URL(SERVICES.postgres.url);
  state.searchParams.set('schema', SCHEMA);
  fx = await startServerFixture({ ui: true, rows: 10, alerts: false, queue: { redis: SERVICES.redis.url, prefix: PREFIX }, state: state.toString() });
  redis = new Redis(SERVICES.redis.url);
  // This process beats as a worker delivering one batch; another one stopped beating two minutes ago.
  leave = new WorkerRegistry(redis, PREFIX).join('abc123def456', () => ['batch 20261201-r1-b7']);
  const lost = new Date(Date.now() - 120_000).toISOString();
  await redis.hset(`${PREFIX}:workers`, 'lost-host:4242', JSON.stringify({
    id: 'lost-host:4242', host: 'lost-host', pid: 4242, configVersion: 'abc123def456', startedAt: lost, lastHeartbeat: lost, jobs: ['batch 20261201-r1-b3'],
  }));
  browser = await launchChromium();
  page = browser.page;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await leave?.();
  await redis?.del(`${PREFIX}:workers`);
  await redis?.quit();
  await fx?.close();
  if (up) {
    const db = new pg.Pool({ connectionString: SERVICES.postgres.url });
    await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await db.end();
  }
});

describe.skipIf(!up)('the workers of the distributed mode in the web UI', () => {
  it('the overview lists each worker: alive or not heard from, its current jobs, its last heartbeat', async () => {
    await page.goto(`${fx.server.url}/?token=${ADMIN_TOKEN}#/`);
    const table = page.getByTestId('workers-table');
    await table.locator('tbody tr').nth(1).waitFor();
    const me = table.locator(`tr[data-worker="${os.hostname()}:${process.pid}"]`);
    expect(await me.locator('[data-alive]').getAttribute('data-alive')).toBe('true');
    expect(await me.innerText()).toContain('batch 20261201-r1-b7');
    const lost = table.locator('tr[data-worker="lost-host:4242"]');
    expect(await lost.locator('[data-alive]').getAttribute('data-alive')).toBe('false');
    expect(await lost.innerText()).toMatch(/Not heard from[\s\S]*batch 20261201-r1-b3[\s\S]*2 min/);
    expect(await page.getByText('1 alive of 2').count()).toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'workers-overview.png'), fullPage: true });
  });
});
