import { afterEach, describe, expect, it } from 'vitest';
import { engineFixture } from './engine-fixture.ts';
import { expectAccounted } from './accounting.ts';

/** A mirror sync into an endpoint that answers per record and refuses negative amounts for good. */
const project = (mode: string) => (url: string) => `
sources:
  warehouse: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  engine:
    type: http
    url: "${url}/v2/bulk-update"
    batch: { size: 10 }
    results: { path: results, keyField: key, errorField: error }
models:
  prices:
    source: warehouse
    sql: SELECT sku, price FROM prices
    primaryKey: sku
syncs:
  prices_sync:
    model: prices
    destination: engine
    mode: ${mode}
    match: { sku: id }
    mapping: { price: amount }
`;

const refuseNegative = {
  rejectMode: 'record' as const,
  rejectWhen: (r: Record<string, unknown>) => (Number(r.amount) < 0 ? { code: 'NEGATIVE_PRICE', message: 'amount must not be negative', field: 'amount' } : undefined),
};

let fixture: Awaited<ReturnType<typeof engineFixture>>;
afterEach(async () => fixture?.close());

describe('rows the destination refused for good', () => {
  it('mirror still deletes a delivered row whose later update was refused, once it leaves the model', async () => {
    fixture = await engineFixture(project('mirror'), { fake: refuseNegative });
    await fixture.sql(`CREATE TABLE prices (sku VARCHAR, price DECIMAL(10,2)); INSERT INTO prices VALUES ('A', 1), ('B', 2), ('C', 3)`);
    expectAccounted(await fixture.run('prices_sync'), { delivered: 3 });
    expect([...fixture.records.keys()].sort()).toEqual(['A', 'B', 'C']);

    await fixture.sql(`UPDATE prices SET price = -1 WHERE sku = 'A'`);
    const refused = await fixture.run('prices_sync');
    expectAccounted(refused, { status: 'partial', changed: 1, rejected: 1 });
    expect(fixture.records.get('A')).toMatchObject({ amount: '1.00' }); // the destination still holds the old version

    await fixture.sql(`DELETE FROM prices WHERE sku = 'A'`);
    const removed = await fixture.run('prices_sync');
    expectAccounted(removed, { status: 'success', removed: 1, delivered: 1 });
    expect([...fixture.records.keys()].sort()).toEqual(['B', 'C']);
  });

  it('a refused update does not resend while the row stays the same, and the old record keeps its identifier', async () => {
    fixture = await engineFixture(project('mirror'), { fake: refuseNegative });
    await fixture.sql(`CREATE TABLE prices (sku VARCHAR, price DECIMAL(10,2)); INSERT INTO prices VALUES ('A', 1), ('B', 2)`);
    await fixture.run('prices_sync');
    await fixture.sql(`UPDATE prices SET price = -5 WHERE sku = 'A'`);
    expectAccounted(await fixture.run('prices_sync'), { status: 'partial', rejected: 1 });
    fixture.takeSent();
    // Parked: the same refused values are not sent again.
    expectAccounted(await fixture.run('prices_sync'), { status: 'success', unchanged: 2 });
    expect(fixture.takeSent()).toEqual([]);
    // A fix of the row sends it again, and it lands.
    await fixture.sql(`UPDATE prices SET price = 7 WHERE sku = 'A'`);
    expectAccounted(await fixture.run('prices_sync'), { status: 'success', changed: 1, delivered: 1 });
    expect(fixture.records.get('A')).toMatchObject({ amount: '7.00' });
  });

  it('a row refused on its first delivery is never deleted (the destination never held it): skipped, not sent', async () => {
    fixture = await engineFixture(project('mirror'), { fake: refuseNegative });
    await fixture.sql(`CREATE TABLE prices (sku VARCHAR, price DECIMAL(10,2)); INSERT INTO prices VALUES ('A', -1), ('B', 2)`);
    expectAccounted(await fixture.run('prices_sync'), { status: 'partial', delivered: 1, rejected: 1 });
    fixture.takeSent();
    await fixture.sql(`DELETE FROM prices WHERE sku = 'A'`);
    expectAccounted(await fixture.run('prices_sync'), { status: 'success', removed: 1, skipped: 1 });
    expect(fixture.takeSent()).toEqual([]);
  });
});

describe('a run stopped by the user', () => {
  it('ends cancelled with its real counts and API calls; the next run sends exactly what it left', async () => {
    fixture = await engineFixture((url) => project('upsert')(url).replace('batch: { size: 10 }', 'batch: { size: 10 }\n    rateLimit: { concurrency: 1 }'), { fake: { latencyMs: 50 } });
    await fixture.sql(`CREATE TABLE prices (sku VARCHAR, price DECIMAL(10,2)); INSERT INTO prices SELECT 'k' || i, i FROM range(200) t(i)`);
    const controller = new AbortController();
    const cancelled = expectAccounted(await fixture.run('prices_sync', {
      signal: controller.signal,
      onProgress: (p) => { if (p.delivered >= 30) controller.abort(new Error('interrupted (SIGINT/SIGTERM)')); },
    }), { status: 'cancelled', added: 200, delivered: expect.any(Number), deferred: expect.any(Number) });
    expect(cancelled.delivered).toBeGreaterThanOrEqual(30);
    expect(cancelled.deferred).toBeGreaterThan(0);
    expect(cancelled.apiCalls).toBeGreaterThanOrEqual(cancelled.delivered / 10);
    expect(cancelled.error).toMatch(/cancelled/);
    const { store } = await fixture.env();
    expect((await store.listRuns({ sync: 'prices_sync' }))[0]).toMatchObject({ status: 'cancelled', apiCalls: cancelled.apiCalls });

    const next = expectAccounted(await fixture.run('prices_sync'), { status: 'success', added: cancelled.deferred, delivered: cancelled.deferred });
    expect(next.unchanged).toBe(cancelled.delivered);
    expect(fixture.records.size).toBe(200);
  });
});
