import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { engineFixture } from './engine-fixture.ts';
import { SnowflakeFake } from '../fakes/snowflake/snowflake-fake.ts';
import { BigqueryFake } from '../fakes/bigquery/bigquery-fake.ts';

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
process.env.LM_TEST_WAREHOUSE_KEY = privateKey;
process.env.LM_TEST_BQ_CREDENTIALS = JSON.stringify({ client_email: 'lastmile@acme.iam.gserviceaccount.com', private_key: privateKey, project_id: 'acme' });

const seed = `CREATE TABLE prices ("sku" VARCHAR, "price" DECIMAL(10,2), "updated_at" TIMESTAMPTZ);
  INSERT INTO prices SELECT 'S' || i, i * 1.25, TIMESTAMPTZ '2024-03-01 00:00:00+00' + i * INTERVAL 1 MINUTE FROM range(1, 6) t(i)`;

const project = (source: string) => (url: string) => `
sources:
  wh: ${source}
destinations:
  engine: { type: http, url: "${url}/v2/bulk-update", batch: { size: 2 } }
models:
  prices: { source: wh, table: prices, primaryKey: sku }
syncs:
  prices_sync: { model: prices, destination: engine, mode: upsert, match: { sku: id }, mapping: { price: amount, updated_at: at } }
`;

let fixture: Awaited<ReturnType<typeof engineFixture>> | undefined;
let stopFake: (() => Promise<void>) | undefined;
afterEach(async () => {
  await fixture?.close();
  await stopFake?.();
});

async function syncTwiceAndChange(engine: { run(sql: string): Promise<void> }) {
  const first = await fixture!.run('prices_sync');
  expect(first).toMatchObject({ status: 'success', fetched: 5, added: 5, delivered: 5 });
  expect(fixture!.takeSent().find((r) => r.key === 'S1')).toMatchObject({ id: 'S1', amount: '1.25', at: '2024-03-01T00:01:00.000000Z' });
  expect(await fixture!.run('prices_sync')).toMatchObject({ fetched: 5, unchanged: 5, delivered: 0 });
  await engine.run(`UPDATE prices SET "price" = 99.5 WHERE "sku" = 'S3'`);
  expect(await fixture!.run('prices_sync')).toMatchObject({ changed: 1, unchanged: 4, delivered: 1 });
  expect(fixture!.takeSent()).toEqual([expect.objectContaining({ key: 'S3', amount: '99.50' })]);
}

describe('a sync reads its model from a warehouse API', () => {
  it('Snowflake: sends every row once, then only the changed one', async () => {
    const fake = await new SnowflakeFake({ account: 'ACME', user: 'LASTMILE', publicKey: keys.publicKey, partitionRows: 2 }).start();
    stopFake = () => fake.stop();
    await fake.engine.run(seed);
    fixture = await engineFixture(project(`{ type: snowflake, account: acme, user: lastmile, auth: { privateKey: "\${LM_TEST_WAREHOUSE_KEY}" }, url: "${fake.url}" }`));
    await syncTwiceAndChange(fake.engine);
  });

  it('BigQuery: sends every row once, then only the changed one', async () => {
    const fake = await new BigqueryFake({ project: 'acme', clientEmail: 'lastmile@acme.iam.gserviceaccount.com', publicKey: keys.publicKey, pageRows: 2 }).start();
    stopFake = () => fake.stop();
    await fake.engine.run(seed);
    fixture = await engineFixture(project(`{ type: bigquery, credentials: "\${LM_TEST_BQ_CREDENTIALS}", url: "${fake.url}", tokenUrl: "${fake.tokenUrl}" }`));
    await syncTwiceAndChange(fake.engine);
  });
});
