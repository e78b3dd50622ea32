import { afterEach, describe, expect, it } from 'vitest';
import { engineFixture } from './engine-fixture.ts';
import { expectAccounted } from './accounting.ts';

const project = (mode = 'upsert', mapping = '{ price: amount, currency: currency }', extra = '') => (url: string) => `
sources:
  warehouse: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  engine: { type: http, url: "${url}/v2/bulk-update", batch: { size: 3 } }
models:
  prices:
    source: warehouse
    sql: SELECT sku, competitor, price, currency, note FROM prices
    primaryKey: sku
    ${extra}
syncs:
  prices_sync:
    model: prices
    destination: engine
    mode: ${mode}
    match: { sku: id }
    mapping: ${mapping}
`;

const seed = `CREATE TABLE prices (sku VARCHAR, competitor VARCHAR, price DECIMAL(10,2), currency VARCHAR, note VARCHAR);
  INSERT INTO prices VALUES ('A', 'acme', 10.00, 'EUR', 'x'), ('B', 'acme', 20.00, 'EUR', 'x'), ('C', 'globex', 30.00, 'USD', 'x'),
                            ('D', 'globex', 40.00, 'USD', 'x'), ('E', 'hooli', 50.00, 'GBP', 'x')`;

let fixture: Awaited<ReturnType<typeof engineFixture>>;
afterEach(async () => fixture?.close());

describe('runSync', () => {
  it('sends every row on the first run and nothing on a second run of the same data', async () => {
    fixture = await engineFixture(project());
    await fixture.sql(seed);
    const first = await fixture.run('prices_sync');
    expect(first).toMatchObject({ status: 'success', fetched: 5, added: 5, changed: 0, removed: 0, unchanged: 0, delivered: 5, rejected: 0 });
    const sent = fixture.takeSent();
    expect(sent.map((r) => r.key).sort()).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(sent.find((r) => r.key === 'A')).toMatchObject({ op: 'upsert', id: 'A', amount: '10.00', currency: 'EUR' });
    expect(first.apiCalls).toBe(2); // batch size 3: 3 + 2

    const second = await fixture.run('prices_sync');
    expect(second).toMatchObject({ status: 'success', fetched: 5, added: 0, changed: 0, unchanged: 5, delivered: 0 });
    expect(fixture.takeSent()).toEqual([]);
  });

  it('sends a change to a mapped column, and nothing for a change to an unmapped one', async () => {
    fixture = await engineFixture(project());
    await fixture.sql(seed);
    await fixture.run('prices_sync');
    fixture.takeSent();
    await fixture.sql(`UPDATE prices SET price = 11.00 WHERE sku = 'A'; UPDATE prices SET note = 'changed', competitor = 'other' WHERE sku = 'B'`);
    const run = await fixture.run('prices_sync');
    expect(run).toMatchObject({ added: 0, changed: 1, unchanged: 4, delivered: 1 });
    expect(fixture.takeSent()).toEqual([expect.objectContaining({ key: 'A', amount: '11.00' })]);
  });

  it('re-sends the rows a mapping change touches', async () => {
    fixture = await engineFixture(project());
    await fixture.sql(seed);
    await fixture.run('prices_sync');
    fixture.takeSent();
    await fixture.rewrite(project('upsert', '{ price: amount, currency: currency, source: { static: scraper } }'));
    const run = await fixture.run('prices_sync');
    expect(run).toMatchObject({ changed: 5, delivered: 5 });
    expect(fixture.takeSent().every((r) => r.source === 'scraper')).toBe(true);
  });

  it('mirror deletes rows that left the model; upsert only counts them', async () => {
    fixture = await engineFixture(project('mirror'));
    await fixture.sql(seed);
    await fixture.run('prices_sync');
    fixture.takeSent();
    await fixture.sql(`DELETE FROM prices WHERE sku IN ('D', 'E'); INSERT INTO prices VALUES ('F', 'acme', 60.00, 'EUR', 'x')`);
    const run = await fixture.run('prices_sync');
    expect(run).toMatchObject({ added: 1, removed: 2, delivered: 3 });
    const sent = fixture.takeSent();
    expect(sent.filter((r) => r.op === 'delete').map((r) => r.key).sort()).toEqual(['D', 'E']);
    expect(sent.filter((r) => r.op === 'upsert').map((r) => r.key)).toEqual(['F']);
    expect([...fixture.records.keys()].sort()).toEqual(['A', 'B', 'C', 'F']);
    // The deletes were acknowledged: a third run has nothing to do.
    expect(await fixture.run('prices_sync')).toMatchObject({ removed: 0, added: 0, changed: 0, delivered: 0 });
  });

  it('insert sends only added rows; update sends added and changed as updates', async () => {
    fixture = await engineFixture(project('insert'));
    await fixture.sql(seed);
    await fixture.run('prices_sync');
    fixture.takeSent();
    await fixture.sql(`UPDATE prices SET price = 99 WHERE sku = 'A'; INSERT INTO prices VALUES ('F', 'acme', 60.00, 'EUR', 'x'); DELETE FROM prices WHERE sku = 'E'`);
    const insertRun = await fixture.run('prices_sync');
    expect(insertRun).toMatchObject({ added: 1, changed: 1, removed: 1, delivered: 1 });
    expect(fixture.takeSent().map((r) => [r.op, r.key])).toEqual([['insert', 'F']]);

    await fixture.rewrite(project('update'));
    await fixture.sql(`UPDATE prices SET price = 98 WHERE sku = 'B'`);
    const updateRun = await fixture.run('prices_sync');
    expect(fixture.takeSent().map((r) => [r.op, r.key]).sort()).toEqual([['update', 'A'], ['update', 'B']]);
    expect(updateRun).toMatchObject({ changed: 2, delivered: 2 });
  });

  it('rejects rows with a null or duplicated key as invalid_row and syncs the rest', async () => {
    fixture = await engineFixture(project());
    await fixture.sql(`${seed}; INSERT INTO prices VALUES (NULL, 'acme', 1, 'EUR', 'x'), ('C', 'dup', 2, 'EUR', 'x')`);
    const run = await fixture.run('prices_sync');
    expect(run).toMatchObject({ status: 'partial', fetched: 7, added: 4, delivered: 4, rejected: 3 });
    expect(fixture.takeSent().map((r) => r.key).sort()).toEqual(['A', 'B', 'D', 'E']);
    const { store } = await fixture.env();
    const rejected = await store.listRejected(run.runId);
    expect(rejected.total).toBe(3);
    expect(rejected.rows.every((r) => r.category === 'invalid_row')).toBe(true);
    expect(rejected.rows.filter((r) => r.key === 'C')).toHaveLength(2);
    expect(rejected.rows.find((r) => r.key !== 'C')!.message).toMatch(/primary key \(sku\) is null/);
  });

  it('finds a duplicated key even when one copy is unchanged and the other changed', async () => {
    fixture = await engineFixture(project());
    await fixture.sql(seed);
    await fixture.run('prices_sync');
    fixture.takeSent();
    await fixture.sql(`INSERT INTO prices VALUES ('C', 'globex', 31.00, 'USD', 'x')`);
    const run = await fixture.run('prices_sync');
    expect(run).toMatchObject({ status: 'partial', fetched: 6, added: 0, changed: 0, removed: 0, unchanged: 4, delivered: 0, rejected: 2 });
    expect(fixture.takeSent()).toEqual([]);
    const { store } = await fixture.env();
    expect((await store.listRejected(run.runId)).rows.map((r) => [r.key, r.category])).toEqual([['C', 'invalid_row'], ['C', 'invalid_row']]);
  });

  it('plan counts exactly what a run then sends, and writes nothing', async () => {
    fixture = await engineFixture(project('mirror'));
    await fixture.sql(seed);
    await fixture.run('prices_sync');
    fixture.takeSent();
    await fixture.sql(`UPDATE prices SET price = 1 WHERE sku = 'A'; DELETE FROM prices WHERE sku = 'B'; INSERT INTO prices VALUES ('F', 'acme', 60.00, 'EUR', 'x')`);
    const { store } = await fixture.env();
    const runsBefore = await store.listRuns({ sync: 'prices_sync' });
    const plan = await fixture.plan('prices_sync');
    expect(plan).toMatchObject({ added: 1, changed: 1, removed: 1, unchanged: 3, toSync: 3 });
    expect(plan.samples.changed[0]).toMatchObject({ key: 'A', amount: '1.00' });
    expect(plan.samples.removed[0]).toMatchObject({ key: 'B', id: 'B' });
    expect(plan.estimatedSeconds).toBeGreaterThan(0);
    expect(fixture.takeSent()).toEqual([]);
    expect(await store.listRuns({ sync: 'prices_sync' })).toEqual(runsBefore);
    // …and the plan did not move state: the run sends exactly what it announced.
    expect(await fixture.run('prices_sync')).toMatchObject({ added: 1, changed: 1, removed: 1, delivered: 3 });
  });

  it('--full-resync sends every row again', async () => {
    fixture = await engineFixture(project());
    await fixture.sql(seed);
    await fixture.run('prices_sync');
    fixture.takeSent();
    const run = await fixture.run('prices_sync', { fullResync: true });
    expect(run).toMatchObject({ changed: 5, delivered: 5 });
    expect(fixture.takeSent()).toHaveLength(5);
  });

  it('a dead source fails the run and leaves state untouched', async () => {
    fixture = await engineFixture(project());
    await fixture.sql(seed);
    await fixture.run('prices_sync');
    await fixture.sql(`DROP TABLE prices`);
    const failed = await fixture.run('prices_sync');
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/source "warehouse"/);
    await fixture.sql(seed);
    fixture.takeSent();
    expect(await fixture.run('prices_sync')).toMatchObject({ status: 'success', unchanged: 5, delivered: 0 });
  });

  it('cursor mode reads only rows at or past the last high-water mark', async () => {
    const cursorProject = (url: string) => project('upsert', '{ price: amount }', 'cursor: updated_at')(url)
      .replace('SELECT sku, competitor, price, currency, note FROM prices', 'SELECT sku, price, updated_at FROM prices');
    fixture = await engineFixture(cursorProject);
    await fixture.sql(`CREATE TABLE prices (sku VARCHAR, price DOUBLE, updated_at TIMESTAMPTZ);
      INSERT INTO prices VALUES ('A', 1, '2026-01-01 10:00:00+00'), ('B', 2, '2026-01-01 11:00:00+00')`);
    expect(await fixture.run('prices_sync')).toMatchObject({ fetched: 2, added: 2, delivered: 2 });
    await fixture.sql(`INSERT INTO prices VALUES ('C', 3, '2026-01-02 10:00:00.000001+00'); UPDATE prices SET price = 5 WHERE sku = 'A'`);
    const second = await fixture.run('prices_sync');
    // A's price changed but its cursor did not move: cursor mode does not see it (as documented).
    // B, at the mark, is read again and found unchanged.
    expect(second).toMatchObject({ fetched: 2, added: 1, unchanged: 1, delivered: 1 });
    fixture.takeSent();
    expect(await fixture.run('prices_sync')).toMatchObject({ fetched: 1, unchanged: 1, delivered: 0 });
  });

  it('cursor mode delivers a row committed late with the high-water mark\'s own value, and nothing twice', async () => {
    const cursorProject = (url: string) => project('upsert', '{ price: amount }', 'cursor: updated_at')(url)
      .replace('SELECT sku, competitor, price, currency, note FROM prices', 'SELECT sku, price, updated_at FROM prices');
    fixture = await engineFixture(cursorProject);
    await fixture.sql(`CREATE TABLE prices (sku VARCHAR, price DOUBLE, updated_at TIMESTAMPTZ);
      INSERT INTO prices VALUES ('A', 1, '2026-01-01 10:00:00+00'), ('B', 2, '2026-01-01 11:00:00+00')`);
    expectAccounted(await fixture.run('prices_sync'), { delivered: 2 });
    fixture.takeSent();
    // Another writer commits a row stamped with the same instant as the mark, after the run.
    await fixture.sql(`INSERT INTO prices VALUES ('late', 3, '2026-01-01 11:00:00+00')`);
    const run = expectAccounted(await fixture.run('prices_sync'), { added: 1, unchanged: 1, delivered: 1 });
    expect(run.fetched).toBe(2);
    expect(fixture.takeSent().map((r) => r.key)).toEqual(['late']);
  });
});
