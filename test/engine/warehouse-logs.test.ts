import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectAccounted } from './accounting.ts';
import { engineFixture } from './engine-fixture.ts';
import { duckRows } from '../helpers/temp-project.ts';
import { needService, SERVICES } from '../helpers/services.ts';

const pgUp = await needService('postgres');
const PG_SCHEMA = 'lm_logs_src';
const PG_LOGS = 'lm_logs_h';
const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Prices scraped 5 minutes ago synced into an endpoint that refuses negative amounts for good;
 * the sync logs go into `logsSource` (the warehouse itself, or a Postgres source).
 */
const project = (warehouse: string, logs: string, batch = 2) => (url: string) => `
sources:
  warehouse: ${warehouse}
  app_db: { type: postgres, url: "${SERVICES.postgres.url}" }
destinations:
  engine:
    type: http
    url: "${url}/v2/bulk-update"
    batch: { size: ${batch} }
    results: { path: results, keyField: key, errorField: error }
models:
  prices:
    source: warehouse
    sql: SELECT sku, price, scraped_at FROM ${warehouse.includes('postgres') ? `${PG_SCHEMA}.prices` : 'prices'}
    primaryKey: sku
    eventTime: scraped_at
syncs:
  prices_sync: { model: prices, destination: engine, mode: upsert, match: { sku: id }, mapping: { price: amount } }
logs: ${logs}
`;

const refuseNegative = {
  rejectMode: 'record' as const,
  rejectWhen: (r: Record<string, unknown>) => (Number(r.amount) < 0 ? { code: 'NEGATIVE_PRICE', message: 'amount must not be negative', field: 'amount' } : undefined),
};

/** What `sql` reads from a DuckDB file opened read-only by another process, or that process's error. */
function readInOtherProcess(file: string, sql: string): string {
  const script = `const { DuckDBInstance } = require('@duckdb/node-api');
    DuckDBInstance.create(process.argv[1], { access_mode: 'READ_ONLY' }).then((db) => db.connect()).then((c) => c.runAndReadAll(process.argv[2]))
      .then((r) => console.log(String(r.getRows()[0][0])), (e) => { console.log(e.message); process.exitCode = 1; });`;
  const child = spawnSync(process.execPath, ['-e', script, file, sql], { encoding: 'utf8', cwd: PROJECT_ROOT });
  return (child.stdout || child.stderr).trim();
}

let fixture: Awaited<ReturnType<typeof engineFixture>>;
afterEach(async () => fixture?.close());

describe('sync logs written back into a DuckDB source', () => {
  it('fills runs, changes and rejections after each run, with L per delivered row', async () => {
    fixture = await engineFixture(project('{ type: duckdb, path: ./warehouse.duckdb }', '{ source: warehouse, schema: lastmile_logs }'), { fake: refuseNegative });
    await fixture.sql(`CREATE TABLE prices (sku VARCHAR, price INTEGER, scraped_at TIMESTAMPTZ);
      INSERT INTO prices VALUES ('A', 1, now() - INTERVAL 5 MINUTE), ('B', -2, now() - INTERVAL 5 MINUTE), ('C', 3, now() - INTERVAL 5 MINUTE), ('D', 4, NULL)`);
    const run = await fixture.run('prices_sync');
    expectAccounted(run, { status: 'partial', delivered: 3, rejected: 1 });

    const runs = await duckRows(fixture.warehouse, `SELECT run_id, sync, status, delivered, rejected, latency_p95_ms, epoch_ms(started_at) AS started FROM lastmile_logs.runs`);
    expect(runs).toEqual([expect.objectContaining({ run_id: run.runId, sync: 'prices_sync', status: 'partial', delivered: '3', rejected: '1' })]);
    expect(Number(runs[0]!.started)).toBe(Date.parse(run.startedAt));
    expect(Number(runs[0]!.latency_p95_ms)).toBe(run.latency!.p95Ms);

    const changes = await duckRows(fixture.warehouse, `SELECT key, op, outcome, latency_ms, event_at, epoch_ms(settled_at) - epoch_ms(event_at) AS span FROM lastmile_logs.changes ORDER BY key`);
    expect(changes.map((c) => [c.key, c.op, c.outcome])).toEqual([['A', 'upsert', 'delivered'], ['B', 'upsert', 'rejected'], ['C', 'upsert', 'delivered'], ['D', 'upsert', 'delivered']]);
    expect(changes.find((c) => c.key === 'B')!.latency_ms).toBeNull(); // a rejected row has no L
    expect(changes.find((c) => c.key === 'D')).toMatchObject({ event_at: null, latency_ms: null }); // no event time, no L
    for (const c of changes.filter((c) => c.outcome === 'delivered' && c.key !== 'D')) {
      expect(Number(c.latency_ms)).toBeGreaterThanOrEqual(5 * 60_000);
      expect(Math.abs(Number(c.span) - Number(c.latency_ms))).toBeLessThanOrEqual(1);
    }
    const rejections = await duckRows(fixture.warehouse, `SELECT key, category, code, field, message, retryable FROM lastmile_logs.rejections`);
    expect(rejections).toEqual([{ key: 'B', category: 'schema_mismatch', code: 'NEGATIVE_PRICE', field: 'amount', message: 'amount must not be negative', retryable: false }]
      .map((r) => expect.objectContaining({ ...r, category: expect.any(String) })));

    // A second run adds its own run row; the model is read as before (the log tables sit beside it).
    const second = await fixture.run('prices_sync');
    expectAccounted(second, { status: 'success', toSync: 0 });
    expect(await duckRows(fixture.warehouse, `SELECT count(*)::INT AS n FROM lastmile_logs.runs`)).toEqual([{ n: 2 }]);
    const { store } = await fixture.env();
    expect((await store.getRun(second.runId))!.trace.at(-1)!.text).toMatch(/^sync logs: written to warehouse\.lastmile_logs \(1 run, 0 changes, 0 rejections\) in \d+ ms|s$/);
  });

  it('a run staged in several chunks (25,000 rows) lands every row once, each with its L', async () => {
    fixture = await engineFixture(project('{ type: duckdb, path: ./warehouse.duckdb }', '{ source: warehouse, schema: lastmile_logs }', 1_000), { fake: refuseNegative });
    await fixture.sql(`CREATE TABLE prices AS SELECT 'SKU-' || i AS sku, (i % 100)::INTEGER AS price, now() - INTERVAL 5 MINUTE AS scraped_at FROM range(25000) t(i)`);
    const run = await fixture.run('prices_sync');
    expectAccounted(run, { status: 'success', delivered: 25_000 });
    const [logged] = await duckRows(fixture.warehouse, `SELECT count(*)::INT AS n, count(DISTINCT key)::INT AS keys, count(latency_ms)::INT AS with_l,
      min(latency_ms) >= 300000 AS l_from_event_time FROM lastmile_logs.changes WHERE run_id = '${run.runId}' AND outcome = 'delivered'`);
    expect(logged).toEqual({ n: 25_000, keys: 25_000, with_l: 25_000, l_from_event_time: true });
  });

  it('while the run delivers, another process can still read the warehouse: the file is opened for writing only once the delivery has ended', async () => {
    const readers: string[] = [];
    fixture = await engineFixture(project('{ type: duckdb, path: ./warehouse.duckdb }', '{ source: warehouse, schema: lastmile_logs }'), {
      fake: {
        ...refuseNegative,
        rejectWhen: (record) => {
          // A reader in another process, from inside the delivery (DuckDB locks a file between processes).
          if (readers.length === 0) readers.push(readInOtherProcess(fixture.warehouse, 'SELECT count(*) FROM prices'));
          return refuseNegative.rejectWhen(record);
        },
      },
    });
    await fixture.sql(`CREATE TABLE prices (sku VARCHAR, price INTEGER, scraped_at TIMESTAMPTZ);
      INSERT INTO prices VALUES ('A', 1, now()), ('B', 2, now()), ('C', 3, now())`);
    const run = await fixture.run('prices_sync');
    expectAccounted(run, { status: 'success', delivered: 3 });
    expect(readers).toEqual(['3']);
    expect(await duckRows(fixture.warehouse, `SELECT count(*)::INT AS n FROM lastmile_logs.changes WHERE run_id = '${run.runId}'`)).toEqual([{ n: 3 }]);
  });

  it('a failed run is logged too', async () => {
    fixture = await engineFixture(project('{ type: duckdb, path: ./warehouse.duckdb }', '{ source: warehouse }'));
    await fixture.sql(`CREATE TABLE other (x INTEGER)`);
    const failed = await fixture.run('prices_sync'); // no prices table
    expectAccounted(failed, { status: 'failed', toSync: 0 });
    expect(await duckRows(fixture.warehouse, `SELECT status, error IS NOT NULL AS has_error FROM lastmile_logs.runs`)).toEqual([{ status: 'failed', has_error: true }]);
  });

  it('a log source that cannot be reached is told in the trace; the run keeps its outcome', async () => {
    fixture = await engineFixture((url) => project('{ type: duckdb, path: ./warehouse.duckdb }', '{ source: gone }')(url)
      .replace('sources:\n', 'sources:\n  gone: { type: postgres, url: "postgres://postgres@127.0.0.1:1/nowhere" }\n'), { fake: refuseNegative });
    await fixture.sql(`CREATE TABLE prices (sku VARCHAR, price INTEGER, scraped_at TIMESTAMPTZ); INSERT INTO prices VALUES ('A', 1, now())`);
    const run = await fixture.run('prices_sync');
    expectAccounted(run, { status: 'success', delivered: 1 });
    const { store } = await fixture.env();
    expect((await store.getRun(run.runId))!.trace.at(-1)!.text).toMatch(/^sync logs: could not be written to gone\.lastmile_logs: .*ECONNREFUSED/);
  });
});

describe.skipIf(!pgUp)('sync logs written back into a Postgres source', () => {
  let admin: pg.Client;
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: SERVICES.postgres.url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${PG_SCHEMA} CASCADE; DROP SCHEMA IF EXISTS ${PG_LOGS} CASCADE; CREATE SCHEMA ${PG_SCHEMA}`);
    await admin.query(`CREATE TABLE ${PG_SCHEMA}.prices (sku text, price int, scraped_at timestamptz)`);
    await admin.query(`INSERT INTO ${PG_SCHEMA}.prices SELECT CASE WHEN i = 7 THEN 'S7-größe-✓' ELSE 'S' || i END, CASE WHEN i % 10 = 0 THEN -i ELSE i END, now() - interval '1 hour' FROM generate_series(1, 30) i`);
  });
  afterAll(async () => {
    await admin?.query(`DROP SCHEMA IF EXISTS ${PG_SCHEMA} CASCADE; DROP SCHEMA IF EXISTS ${PG_LOGS} CASCADE`);
    await admin?.end();
  });

  it('fills the tables in the Postgres schema, and retention drops old log rows', async () => {
    fixture = await engineFixture(project(`{ type: postgres, url: "${SERVICES.postgres.url}" }`, `{ source: warehouse, schema: ${PG_LOGS}, retention: 30d }`), { fake: refuseNegative });
    const run = await fixture.run('prices_sync');
    expectAccounted(run, { status: 'partial', delivered: 27, rejected: 3 });
    const runs = await admin.query(`SELECT run_id, status, delivered, rejected, latency_p50_ms, started_at FROM ${PG_LOGS}.runs`);
    expect(runs.rows).toEqual([expect.objectContaining({ run_id: run.runId, status: 'partial', delivered: '27', rejected: '3', latency_p50_ms: run.latency!.p50Ms })]);
    expect(runs.rows[0].started_at.toISOString()).toBe(run.startedAt);
    const changes = await admin.query(`SELECT outcome, op, count(*)::int AS n, count(event_at)::int AS with_event, count(latency_ms)::int AS with_l, min(latency_ms) AS min_l,
      max(abs(extract(epoch FROM settled_at - event_at) * 1000 - latency_ms)) AS off FROM ${PG_LOGS}.changes WHERE run_id = $1 GROUP BY outcome, op ORDER BY outcome`, [run.runId]);
    expect(changes.rows.map((r) => [r.outcome, r.op, r.n, r.with_event, r.with_l])).toEqual([['delivered', 'upsert', 27, 27, 27], ['rejected', 'upsert', 3, 3, 0]]);
    expect(changes.rows[0].min_l).toBeGreaterThanOrEqual(3_600_000);
    expect(Number(changes.rows[0].off)).toBeLessThanOrEqual(1); // L is event time -> settled_at
    // Every key once, as the model has it (one is not ASCII: the COPY writes its UTF-8 another way).
    const keys = await admin.query(`SELECT key FROM ${PG_LOGS}.changes WHERE run_id = $1 EXCEPT ALL SELECT sku FROM ${PG_SCHEMA}.prices`, [run.runId]);
    expect(keys.rows).toEqual([]);
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${PG_LOGS}.changes WHERE key = 'S7-größe-✓'`)).rows).toEqual([{ n: 1 }]);
    const rejections = await admin.query(`SELECT key, code FROM ${PG_LOGS}.rejections ORDER BY key`);
    expect(rejections.rows).toEqual([{ key: 'S10', code: 'NEGATIVE_PRICE' }, { key: 'S20', code: 'NEGATIVE_PRICE' }, { key: 'S30', code: 'NEGATIVE_PRICE' }]);

    // A run logged 40 days ago is past the 30 days of retention: the next run's write removes it.
    await admin.query(`UPDATE ${PG_LOGS}.runs SET started_at = started_at - interval '40 days'`);
    await fixture.run('prices_sync');
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${PG_LOGS}.runs`)).rows).toEqual([{ n: 1 }]);
  });
});
