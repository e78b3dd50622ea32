import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { engineFixture } from './engine-fixture.ts';
import { SnowflakeFake } from '../fakes/snowflake/snowflake-fake.ts';

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
process.env.LM_TEST_SF_DIFF_KEY = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const seed = `CREATE TABLE prices ("sku" VARCHAR, "price" DECIMAL(10,2), "updated_at" TIMESTAMPTZ);
  INSERT INTO prices SELECT 'S' || i, i * 1.25, TIMESTAMPTZ '2024-03-01 00:00:00+00' + i * INTERVAL 1 MINUTE FROM range(1, 21) t(i)`;

const project = (diff: string, fakeUrl: string) => (url: string) => `
sources:
  wh: { type: snowflake, account: acme, user: lastmile, auth: { privateKey: "\${LM_TEST_SF_DIFF_KEY}" }, url: "${fakeUrl}", diff: ${diff}, stateSchema: lm_state }
destinations:
  engine: { type: http, url: "${url}/v2/bulk-update", batch: { size: 5 } }
models:
  prices: { source: wh, table: prices, primaryKey: sku }
syncs:
  prices_sync: { model: prices, destination: engine, mode: upsert, match: { sku: id }, mapping: { price: amount, updated_at: at } }
`;

let fixture: Awaited<ReturnType<typeof engineFixture>> | undefined;
let fake: SnowflakeFake | undefined;
afterEach(async () => {
  await fixture?.close();
  await fake?.stop();
});

async function stateRows(): Promise<number> {
  const result = await fake!.engine.execute('SELECT count(*) AS n FROM lm_state.lastmile_row_state', [], (_type, quoted) => `CAST(${quoted} AS VARCHAR)`);
  return Number(result.rows[0]![0]);
}

describe('a sync from Snowflake with the diff in the warehouse or beside the engine (fake)', () => {
  for (const diff of ['warehouse', 'engine'] as const) {
    it(`diff: ${diff}: sends every row once, then only the changed one, and the run says which diff it used`, async () => {
      fake = await new SnowflakeFake({ account: 'ACME', user: 'LASTMILE', publicKey: keys.publicKey, partitionRows: 7 }).start();
      await fake.engine.run(seed);
      fixture = await engineFixture(project(diff, fake.url));
      expect(await fixture.run('prices_sync')).toMatchObject({ status: 'success', fetched: 20, added: 20, delivered: 20 });
      expect(fixture.takeSent().find((r) => r.key === 'S1')).toMatchObject({ id: 'S1', amount: '1.25', at: '2024-03-01T00:01:00.000000Z' });
      if (diff === 'warehouse') expect(await stateRows()).toBe(20);
      expect(await fixture.run('prices_sync')).toMatchObject({ fetched: 20, unchanged: 20, delivered: 0 });
      await fake.engine.run(`UPDATE prices SET "price" = 99.5 WHERE "sku" = 'S3'`);
      const before = fake.rowsReturned;
      const third = await fixture.run('prices_sync');
      expect(third).toMatchObject({ changed: 1, unchanged: 19, delivered: 1 });
      expect(fixture.takeSent()).toEqual([expect.objectContaining({ key: 'S3', amount: '99.50' })]);
      const left = fake.rowsReturned - before;
      const { store } = await fixture.env();
      expect((await store.getRun(third.runId))?.profile).toMatchObject({ diff });
      // warehouse: the changed row and status or count rows; engine: also the 20 (key, fingerprint) pairs.
      if (diff === 'warehouse') expect(left).toBeLessThan(20);
      else expect(left).toBeGreaterThanOrEqual(21);
    }, 60_000);
  }
});
