import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { engineFixture } from './engine-fixture.ts';
import { expectAccounted } from './accounting.ts';
import { SERVICES, needService } from '../helpers/services.ts';

// What a run does to state in the cases users meet less often, on both state stores.

const project = (mode: string, extra = '') => (url: string) => `
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
    sql: SELECT sku, price, updated_at FROM prices
    primaryKey: sku
${extra}
syncs:
  prices_sync:
    model: prices
    destination: engine
    mode: ${mode}
    match: { sku: id }
    mapping: { price: amount }
`;
const mirror = (maxDeletePercent: number) => (url: string) => `${project('mirror')(url)}    maxDeletePercent: ${maxDeletePercent}\n`;
const withCursor = (url: string) => project('upsert')(url).replace('    primaryKey: sku\n', '    primaryKey: sku\n    cursor: updated_at\n');

const pgUp = await needService('postgres');
const schemas: string[] = [];
/** A state schema of its own for each test. */
function pgState(): string {
  const schema = `lm_run_cases_${randomBytes(4).toString('hex')}`;
  schemas.push(schema);
  return `${SERVICES.postgres.url}${SERVICES.postgres.url.includes('?') ? '&' : '?'}schema=${schema}`;
}
afterAll(async () => {
  if (!pgUp) return;
  const client = new pg.Client(SERVICES.postgres.url);
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

const stores = [{ name: 'embedded', state: () => undefined, up: true }, { name: 'postgres', state: pgState, up: pgUp }];

for (const store of stores) {
  describe.skipIf(!store.up)(`run state cases (${store.name} state)`, () => {
    let fixture: Awaited<ReturnType<typeof engineFixture>>;
    afterEach(async () => fixture?.close());
    let refuse = true;
    const refuseNegative = {
      rejectMode: 'record' as const,
      rejectWhen: (r: Record<string, unknown>) => (refuse && Number(r.amount) < 0 ? { code: 'NEGATIVE_PRICE', message: 'amount must not be negative', field: 'amount' } : undefined),
    };
    const table = (rows: string) => `CREATE TABLE prices (sku VARCHAR, price DECIMAL(10,2), updated_at TIMESTAMP); INSERT INTO prices VALUES ${rows}`;

    it('mirror above maxDeletePercent fails before sending anything, and state stays as it was', async () => {
      fixture = await engineFixture(mirror(30), { fake: refuseNegative, state: store.state() });
      await fixture.sql(table(`('A', 1, '2026-01-01'), ('B', 2, '2026-01-01'), ('C', 3, '2026-01-01'), ('D', 4, '2026-01-01')`));
      expectAccounted(await fixture.run('prices_sync'), { delivered: 4 });
      fixture.takeSent();

      await fixture.sql(`DELETE FROM prices WHERE sku IN ('A', 'B')`);
      const stopped = await fixture.run('prices_sync');
      expect(stopped.status).toBe('failed');
      expect(stopped.error).toMatch(/2 of 4 synced rows \(50\.0 %\) would be deleted, above maxDeletePercent 30 %; nothing was sent/);
      expect(fixture.takeSent()).toEqual([]);
      expect([...fixture.records.keys()].sort()).toEqual(['A', 'B', 'C', 'D']);

      // The rows come back: nothing changed since the last delivered state, so nothing is sent.
      await fixture.sql(`INSERT INTO prices VALUES ('A', 1, '2026-01-01'), ('B', 2, '2026-01-01')`);
      expectAccounted(await fixture.run('prices_sync'), { status: 'success', unchanged: 4 });
      expect(fixture.takeSent()).toEqual([]);
    });

    it('--retry-rejected sends a parked row again though it did not change, and it lands once the destination takes it', async () => {
      refuse = true;
      fixture = await engineFixture(project('upsert'), { fake: refuseNegative, state: store.state() });
      await fixture.sql(table(`('A', -1, '2026-01-01'), ('B', 2, '2026-01-01')`));
      expectAccounted(await fixture.run('prices_sync'), { status: 'partial', delivered: 1, rejected: 1 });
      expectAccounted(await fixture.run('prices_sync'), { status: 'success', unchanged: 2 });
      fixture.takeSent();

      refuse = false; // the destination now accepts negative amounts
      expectAccounted(await fixture.run('prices_sync', { retryRejected: true }), { status: 'success', changed: 1, unchanged: 1, delivered: 1 });
      expect(fixture.takeSent().map((r) => r.key)).toEqual(['A']);
      expect(fixture.records.get('A')).toMatchObject({ amount: '-1.00' });
      expectAccounted(await fixture.run('prices_sync', { retryRejected: true }), { status: 'success', unchanged: 2 });
    });

    it('in cursor mode, the mark stays where it was while a row waits for a retry, so the row is read again', async () => {
      fixture = await engineFixture(withCursor, { fake: refuseNegative, state: store.state() });
      await fixture.sql(table(`('A', 1, '2026-01-01'), ('B', 2, '2026-01-01')`));
      expectAccounted(await fixture.run('prices_sync'), { delivered: 2 });

      // C appears twice (rejected as invalid_row, retried next run), D after it.
      await fixture.sql(`INSERT INTO prices VALUES ('C', 3, '2026-01-02'), ('C', 4, '2026-01-02'), ('D', 5, '2026-01-03')`);
      const held = expectAccounted(await fixture.run('prices_sync'), { status: 'partial', delivered: 1, rejected: 2 });
      expect(held.rejectedRetryable).toBe(2);
      fixture.takeSent();

      // The model is fixed: C is read again (the mark did not move past it) and delivered.
      await fixture.sql(`DELETE FROM prices WHERE sku = 'C' AND price = 4`);
      expectAccounted(await fixture.run('prices_sync'), { status: 'success', delivered: 1 });
      expect(fixture.takeSent().map((r) => r.key)).toEqual(['C']);
      expect(fixture.records.get('C')).toMatchObject({ amount: '3.00' });
    });
  });
}
