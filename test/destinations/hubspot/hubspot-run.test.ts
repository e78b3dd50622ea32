import { afterEach, describe, expect, it } from 'vitest';
import { startHubspotFake, type HubspotFake } from '../../fakes/hubspot/hubspot-fake.ts';
import { tempProject, type TempProject } from '../../helpers/temp-project.ts';

/** Whole runs, from lastmile.yml and a DuckDB warehouse to the fake portal, through the real engine. */
let fake: HubspotFake;
let current: TempProject | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
  await fake?.close();
});

async function project() {
  fake = await startHubspotFake();
  current = await tempProject(`sources:
  warehouse: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  marketing: { type: hubspot, token: "\${LM_HS_RUN_TOKEN}", baseUrl: ${fake.url} }
models:
  people:
    source: warehouse
    sql: SELECT email, first_name, stage, ltv, born FROM people
    primaryKey: email
syncs:
  people_to_hs:
    model: people
    destination: marketing
    object: contacts
    mode: mirror
    match: { email: email }
    mapping: { first_name: firstname, stage: lifecyclestage, ltv: lifetime_value, born: date_of_birth }
`, { LM_HS_RUN_TOKEN: fake.token });
  const { sql, store } = current;
  return { sql, store, run: () => current!.run('people_to_hs') };
}

const rows = (count: number) =>
  Array.from({ length: count }, (_, i) => `('p${i}@example.com', 'Person ${i}', 'lead', ${i}.5, DATE '1990-01-01' + ${i})`).join(', ');

describe('HubSpot runs through the engine', () => {
  it('upserts by email, refuses rows the property types forbid before sending, then archives by the remembered id', async () => {
    const { sql, run, store } = await project();
    await sql(`CREATE TABLE people (email VARCHAR, first_name VARCHAR, stage VARCHAR, ltv DOUBLE, born DATE);
      INSERT INTO people VALUES ${rows(150)}, ('bad-email', 'Nobody', 'lead', 1, NULL), ('odd@example.com', 'Odd', 'prospect', 1, NULL)`);
    const first = await run();
    expect(first).toMatchObject({ status: 'partial', added: 152, delivered: 150, rejected: 2 });
    const rejected = (await store.listRejected(first.runId)).rows;
    expect(rejected.map((r) => [r.key, r.category, r.field]).sort()).toEqual([
      ['bad-email', 'schema_mismatch', 'email'], ['odd@example.com', 'schema_mismatch', 'lifecyclestage'],
    ]);
    expect(fake.store.list('contacts')).toHaveLength(150);
    // describe() gave the engine each property's type and options: the bad rows cost no request.
    const upserts = fake.requests.filter((r) => r.path === '/crm/v3/objects/contacts/batch/upsert');
    expect(upserts.map((r) => `${r.status} [${r.inputs}]`).sort()).toEqual(['200 [100]', '200 [50]']);
    expect(fake.store.findBy('contacts', 'email', 'p7@example.com')!.properties).toMatchObject({
      firstname: 'Person 7', lifecyclestage: 'lead', lifetime_value: '7.5', date_of_birth: String(Date.UTC(1990, 0, 8)),
    });

    await sql(`DELETE FROM people WHERE email IN ('p0@example.com', 'p1@example.com'); UPDATE people SET first_name = 'Renamed' WHERE email = 'p2@example.com'`);
    const before = fake.requests.length;
    const second = await run();
    // the parked rows did not change: they are not sent again
    expect(second).toMatchObject({ status: 'success', removed: 2, changed: 1, delivered: 3, rejected: 0 });
    expect(fake.store.list('contacts')).toHaveLength(148);
    expect(fake.store.findBy('contacts', 'email', 'p2@example.com')!.properties.firstname).toBe('Renamed');
    // Deletes used the ids remembered from the first run: no batch/read lookup.
    expect(fake.requests.slice(before).map((r) => r.path).filter((p) => p.includes('/batch/'))).toEqual(
      expect.not.arrayContaining(['/crm/v3/objects/contacts/batch/read']),
    );
  });
});
