import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { engineFixture } from './engine-fixture.ts';
import { expectAccounted } from './accounting.ts';
import { needService, SERVICES } from '../helpers/services.ts';

const pgUp = await needService('postgres');
const PG_SCHEMA = 'lm_freshness';

/** A project whose model `prices` has freshness on scraped_at (maxAge 2h), read from `source`. */
const project = (source: string, syncExtra = '') => (url: string) => `
sources:
  warehouse: ${source}
destinations:
  engine: { type: http, url: "${url}/v2/bulk-update", batch: { size: 2 } }
models:
  prices:
    source: warehouse
    sql: SELECT sku, price, scraped_at FROM ${source.includes('postgres') ? `${PG_SCHEMA}.prices` : 'prices'}
    primaryKey: sku
    freshness: { column: scraped_at, maxAge: 2h }
syncs:
  prices_sync:
    model: prices
    destination: engine
    mode: upsert
    match: { sku: id }
    mapping: { price: amount }
    ${syncExtra}
`;

const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();

let fixture: Awaited<ReturnType<typeof engineFixture>>;
afterEach(async () => fixture?.close());

describe('freshness guard on a DuckDB source', () => {
  const seed = (ages: number[]) => `CREATE OR REPLACE TABLE prices (sku VARCHAR, price INTEGER, scraped_at TIMESTAMPTZ);
    INSERT INTO prices VALUES ${ages.map((age, i) => `('S${i}', ${i}, '${hoursAgo(age)}')`).join(', ')}`;

  it('stops a run before sending anything when the newest row is older than maxAge', async () => {
    fixture = await engineFixture(project('{ type: duckdb, path: ./warehouse.duckdb }'));
    await fixture.sql(seed([3, 5, 26]));
    const run = await fixture.run('prices_sync');
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^stale_data: model "prices" is stale: newest scraped_at .*, 3 h old \(maxAge 2 h\); nothing was sent/);
    expect(run.delivered).toBe(0);
    expect(run.freshness).toMatchObject({ column: 'scraped_at', maxAgeMs: 7_200_000, stale: true });
    expect(run.freshness!.ageMs).toBeGreaterThanOrEqual(3 * 3_600_000);
    expect(run.freshness!.ageMs).toBeLessThan(3 * 3_600_000 + 60_000);
    expect(fixture.takeSent()).toEqual([]);

    // Once the warehouse is loaded again, the same sync sends everything.
    await fixture.sql(`UPDATE prices SET scraped_at = now() WHERE sku = 'S0'`);
    const next = await fixture.run('prices_sync');
    expect(next).toMatchObject({ status: 'success', delivered: 3, freshness: { stale: false } });
    expect(fixture.takeSent().map((r) => r.key).sort()).toEqual(['S0', 'S1', 'S2']);
  });

  it('an empty model is stale: nothing proves the data is current', async () => {
    fixture = await engineFixture(project('{ type: duckdb, path: ./warehouse.duckdb }'));
    await fixture.sql(`CREATE TABLE prices (sku VARCHAR, price INTEGER, scraped_at TIMESTAMP)`);
    const run = await fixture.run('prices_sync');
    expect(run).toMatchObject({ status: 'failed', freshness: { newestAt: null, ageMs: null, stale: true } });
    expect(run.error).toContain('no row has a scraped_at');
  });

  it('onStale hold sends the fresh rows and holds only the stale ones back as stale_data, for the next run', async () => {
    fixture = await engineFixture(project('{ type: duckdb, path: ./warehouse.duckdb }', 'freshness: { onStale: hold }'));
    await fixture.sql(seed([0.5, 5, 1, 30]));
    const run = await fixture.run('prices_sync');
    // The newest row is fresh, so the model is not stale; rows past maxAge are still held back.
    expect(run).toMatchObject({ status: 'partial', toSync: 4, rejectedRetryable: 2 });
    expectAccounted(run, { delivered: 2, rejected: 2 });
    expect(fixture.takeSent().map((r) => r.key).sort()).toEqual(['S0', 'S2']);
    const { store } = await fixture.env();
    const rejected = await store.listRejected(run.runId, { limit: 10 });
    expect(rejected.rows.map((r) => [r.key, r.category, r.retryable]).sort()).toEqual([['S1', 'stale_data', true], ['S3', 'stale_data', true]]);

    // The held rows are looked at again: once re-scraped they go out.
    await fixture.sql(`UPDATE prices SET scraped_at = now() WHERE sku = 'S1'`);
    const next = await fixture.run('prices_sync');
    expect(next).toMatchObject({ delivered: 1, rejected: 1 });
    expect(fixture.takeSent().map((r) => r.key)).toEqual(['S1']);
  });

  it('onStale hold with a stale model holds every row', async () => {
    fixture = await engineFixture(project('{ type: duckdb, path: ./warehouse.duckdb }', 'freshness: { onStale: hold }'));
    await fixture.sql(seed([3, 4]));
    const run = await fixture.run('prices_sync');
    expect(run).toMatchObject({ status: 'partial', delivered: 0, rejected: 2, freshness: { stale: true, held: 2 } });
    expect(fixture.takeSent()).toEqual([]);
  });

  it('plan shows the age of the newest row and the estimated L', async () => {
    fixture = await engineFixture(project('{ type: duckdb, path: ./warehouse.duckdb }'));
    await fixture.sql(seed([3, 5]));
    const plan = await fixture.plan('prices_sync');
    expect(plan.freshness).toMatchObject({ column: 'scraped_at', stale: true });
    expect(plan.latency).toMatchObject({ column: 'scraped_at', syncMs: 100 }); // 1 request of 2 at the assumed 10/s
    expect(plan.latency!.estimatedMs).toBe(plan.latency!.newestAgeMs! + 100);
    expect(plan.latency!.newestAgeMs).toBeGreaterThanOrEqual(3 * 3_600_000);
  });
});

describe.skipIf(!pgUp)('freshness guard on a Postgres source', () => {
  let admin: pg.Client;
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: SERVICES.postgres.url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${PG_SCHEMA} CASCADE; CREATE SCHEMA ${PG_SCHEMA}`);
    await admin.query(`CREATE TABLE ${PG_SCHEMA}.prices (sku text, price int, scraped_at timestamptz)`);
  });
  afterAll(async () => {
    await admin?.query(`DROP SCHEMA IF EXISTS ${PG_SCHEMA} CASCADE`);
    await admin?.end();
  });

  it('stops before sending when the newest row is stale, and sends once it is fresh', async () => {
    await admin.query(`TRUNCATE ${PG_SCHEMA}.prices; INSERT INTO ${PG_SCHEMA}.prices VALUES ('A', 1, now() - interval '3 hours'), ('B', 2, now() - interval '1 day')`);
    fixture = await engineFixture(project(`{ type: postgres, url: "${SERVICES.postgres.url}" }`));
    const run = await fixture.run('prices_sync');
    expect(run).toMatchObject({ status: 'failed', delivered: 0, freshness: { stale: true } });
    expect(run.error).toMatch(/^stale_data: .*3 h old \(maxAge 2 h\)/);
    expect(fixture.takeSent()).toEqual([]);

    await admin.query(`UPDATE ${PG_SCHEMA}.prices SET scraped_at = now() - interval '10 minutes' WHERE sku = 'A'`);
    const next = await fixture.run('prices_sync');
    expect(next).toMatchObject({ status: 'success', delivered: 2, freshness: { stale: false } });
    expect(next.freshness!.ageMs).toBeGreaterThanOrEqual(600_000);
  });
});
