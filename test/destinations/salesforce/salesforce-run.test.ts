import { afterEach, describe, expect, it } from 'vitest';
import type { FakeSalesforce } from '../../fakes/salesforce/fake-salesforce.ts';
import { tempProject, type TempProject } from '../../helpers/temp-project.ts';
import { CLIENT, startOrg } from './salesforce-harness.ts';

/** Whole runs, from lastmile.yml and a DuckDB warehouse to the fake org, through the real engine. */
let fake: FakeSalesforce;
let current: TempProject | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
  await fake?.close();
});

async function project(syncOptions: string) {
  current = await tempProject(`sources:
  warehouse: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  crm:
    type: salesforce
    instanceUrl: ${fake.url}
    loginUrl: ${fake.url}
    auth: { clientId: "${CLIENT.clientId}", clientSecret: "\${LM_SF_RUN_SECRET}" }
models:
  people:
    source: warehouse
    sql: SELECT email, last_name, level, score FROM people
    primaryKey: email
syncs:
  people_to_sf:
    model: people
    destination: crm
    object: Contact
    mode: mirror
    match: { email: Email }
    mapping: { last_name: LastName, level: Level__c, score: Score__c }
    ${syncOptions}
`, { LM_SF_RUN_SECRET: CLIENT.clientSecret });
  const { sql, store } = current;
  return { sql, store, run: () => current!.run('people_to_sf') };
}

const rows = (count: number, from = 0) =>
  Array.from({ length: count }, (_, index) => `('p${from + index}@example.com', 'Person ${from + index}', 'Primary', ${index % 100}.5)`).join(', ');

describe('Salesforce runs through the engine', () => {
  it('upserts, refuses rows that can only fail before sending, then deletes by the remembered Id', async () => {
    ({ fake } = await startOrg());
    const { sql, run, store } = await project('api: rest');
    await sql(`CREATE TABLE people (email VARCHAR, last_name VARCHAR, level VARCHAR, score DOUBLE);
      INSERT INTO people VALUES ${rows(250)}, ('bad-email', 'Nobody', 'Primary', 1), ('long@example.com', '${'z'.repeat(81)}', 'Primary', 1)`);
    const first = await run();
    expect(first).toMatchObject({ status: 'partial', added: 252, delivered: 250, rejected: 2 });
    expect(fake.records('Contact')).toHaveLength(250);
    // The describe told the engine Email's type and LastName's length: those rows never cost an API call.
    const rejected = (await store.listRejected(first.runId)).rows;
    expect(rejected.map((row) => [row.key, row.category, row.field]).sort()).toEqual([
      ['bad-email', 'schema_mismatch', 'Email'], ['long@example.com', 'schema_mismatch', 'LastName'],
    ]);
    expect(fake.calls(/\/composite\//)).toHaveLength(2); // 200 + 50

    await sql(`DELETE FROM people WHERE email IN ('p0@example.com', 'p1@example.com'); UPDATE people SET last_name = 'Renamed' WHERE email = 'p2@example.com'`);
    const before = fake.calls().length;
    const second = await run();
    expect(second).toMatchObject({ removed: 2, changed: 1, delivered: 3 });
    expect(fake.records('Contact')).toHaveLength(248);
    expect(fake.records('Contact').find((record) => record.Email === 'p2@example.com')?.LastName).toBe('Renamed');
    // Deletes used the Ids remembered from the first run: no SOQL lookup.
    expect(fake.calls().slice(before).filter((request) => request.path.endsWith('/query'))).toHaveLength(0);
  });

  it('api auto sends a large run as a Bulk job', async () => {
    ({ fake } = await startOrg({ bulkPollsToComplete: 1 }));
    const { sql, run } = await project('api: auto\n    bulkThreshold: 100');
    await sql(`CREATE TABLE people (email VARCHAR, last_name VARCHAR, level VARCHAR, score DOUBLE); INSERT INTO people VALUES ${rows(300)}`);
    const summary = await run();
    expect(summary).toMatchObject({ status: 'success', delivered: 300 });
    expect(fake.bulk.jobs.size).toBe(1);
    expect(fake.calls(/\/composite\//)).toHaveLength(0);
    expect(fake.records('Contact')).toHaveLength(300);
  });
});
