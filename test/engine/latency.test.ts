import { afterEach, describe, expect, it } from 'vitest';
import { engineFixture } from './engine-fixture.ts';
import { formatTrace } from '../../src/engine/trace-format.ts';
import { runShowCommand } from '../../src/cli/commands/runs-command.ts';

const project = (url: string) => `
sources:
  warehouse: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  engine: { type: http, url: "${url}/v2/bulk-update", batch: { size: 5 } }
models:
  prices:
    source: warehouse
    sql: SELECT sku, price, scraped_at FROM prices
    primaryKey: sku
    eventTime: scraped_at
syncs:
  prices_sync: { model: prices, destination: engine, mode: upsert, match: { sku: id }, mapping: { price: amount } }
`;

const MIN = 60_000;
let fixture: Awaited<ReturnType<typeof engineFixture>>;
afterEach(async () => fixture?.close());

describe('end-to-end latency per row (eventTime)', () => {
  it('measures L from each row\'s event time to its acknowledgement: p50, p95 and max of the delivered rows', async () => {
    fixture = await engineFixture(project);
    // 20 rows scraped 10, 20, … 200 minutes ago (naive timestamps are UTC).
    const seededAt = Date.now();
    const rows = Array.from({ length: 20 }, (_, i) => `('S${i}', ${i}, '${new Date(seededAt - (i + 1) * 10 * MIN).toISOString().replace('Z', '')}'::TIMESTAMP)`);
    await fixture.sql(`CREATE TABLE prices (sku VARCHAR, price INTEGER, scraped_at TIMESTAMP); INSERT INTO prices VALUES ${rows.join(', ')}`);
    const before = Date.now();
    const run = await fixture.run('prices_sync');
    const after = Date.now();
    expect(run).toMatchObject({ status: 'success', delivered: 20 });
    const l = run.latency!;
    expect(l.rows).toBe(20);
    // Nearest rank over 20 rows: p50 is the 10th (100 min), p95 the 19th (190 min), max the 20th (200 min);
    // each plus the time from seeding to the acknowledgement, which lies inside the run.
    const within = (ms: number, minutes: number) => {
      expect(ms).toBeGreaterThanOrEqual(minutes * MIN + (before - seededAt) - 1);
      expect(ms).toBeLessThanOrEqual(minutes * MIN + (after - seededAt) + 1);
    };
    within(l.p50Ms, 100);
    within(l.p95Ms, 190);
    within(l.maxMs, 200);
    // The split: warehouse load (event -> read) + sync (read -> acknowledged).
    within(l.warehouseLoad.p95Ms, 190);
    expect(l.sync.maxMs).toBeGreaterThanOrEqual(0);
    expect(l.sync.maxMs).toBeLessThanOrEqual(after - before + 1);

    const { store } = await fixture.env();
    const trace = formatTrace((await store.getRun(run.runId))!.trace);
    // `lastmile runs show` puts it under the run's header too.
    const said: string[] = [];
    const { project: loaded } = await fixture.env();
    await runShowCommand({ project: loaded, store, json: false, say: (t) => said.push(t), emit: () => {}, log: () => {}, close: async () => {} }, run.runId, 10);
    expect(said.join('\n')).toMatch(/\n {2}latency: L p50 1 h 40 min {2}p95 3 h 10 min {2}max 3 h 20 min \(warehouse load/);
    expect(trace).toMatch(/latency \(scraped_at -> acknowledged, 20 rows\): L p50 1 h 40 min {2}p95 3 h 10 min {2}max 3 h 20 min \(warehouse load p95 3 h 10 min \+ sync p95 [^)]+\)/);
  });

  it('counts only delivered rows: a run with nothing to send has no latency', async () => {
    fixture = await engineFixture(project);
    await fixture.sql(`CREATE TABLE prices (sku VARCHAR, price INTEGER, scraped_at TIMESTAMPTZ); INSERT INTO prices VALUES ('A', 1, now())`);
    expect((await fixture.run('prices_sync')).latency?.rows).toBe(1);
    const second = await fixture.run('prices_sync');
    expect(second.delivered).toBe(0);
    expect(second.latency).toBeUndefined();
  });
});
