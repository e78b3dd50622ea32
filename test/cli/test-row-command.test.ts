import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubspotFake, type HubspotFake } from '../fakes/hubspot/hubspot-fake.ts';
import { tempProject, type TempProject } from '../helpers/temp-project.ts';
import { runCli } from '../helpers/run-cli.ts';
import { expectAccounted } from '../engine/accounting.ts';
import type { RunSummary } from '../../src/state/run-record.ts';

/** `lastmile sync SYNC --only KEY` through the real CLI, against the HubSpot fake. */
let fake: HubspotFake;
let project: TempProject;
let env: Record<string, string>;
const cli = (...args: string[]) => runCli(['--config', path.join(project.dir, 'lastmile.yml'), ...args], project.dir, env);

beforeAll(async () => {
  fake = await startHubspotFake();
  env = { LM_HS_ONLY_TOKEN: fake.token };
  project = await tempProject(`sources:
  warehouse: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  marketing: { type: hubspot, token: "\${LM_HS_ONLY_TOKEN}", baseUrl: ${fake.url} }
models:
  people:
    source: warehouse
    sql: SELECT email, first_name, stage FROM people
    primaryKey: email
syncs:
  people_to_hs:
    model: people
    destination: marketing
    object: contacts
    mode: upsert
    match: { email: email }
    mapping: { first_name: firstname, stage: lifecyclestage }
`, env);
  await project.sql(`CREATE TABLE people (email VARCHAR, first_name VARCHAR, stage VARCHAR);
    INSERT INTO people SELECT 'p' || i || '@example.com', 'Person ' || i, 'lead' FROM range(20) t(i);
    INSERT INTO people VALUES ('odd@example.com', 'Odd', 'prospect')`);
  // The CLI opens the state itself: this process lets go of it.
  await project.store.close();
}, 60_000);
afterAll(async () => {
  await project?.close().catch(() => undefined);
  await fake?.close();
});

describe('lastmile sync SYNC --only KEY', () => {
  it('sends that one row and prints the request and HubSpot\'s answer, the token hidden', async () => {
    const { code, stdout, stderr } = await cli('sync', 'people_to_hs', '--only', 'p3@example.com');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('sync people_to_hs, row p3@example.com: upsert DELIVERED');
    expect(stdout).toContain('mapped fields: {"email":"p3@example.com","firstname":"Person 3","lifecyclestage":"lead"}');
    expect(stdout).toContain(`POST ${fake.url}/crm/v3/objects/contacts/batch/upsert -> 200 in`);
    expect(stdout).toContain('authorization: ***');
    expect(stdout).toMatch(/sent: +\{"inputs":\[\{"idProperty":"email","id":"p3@example.com"/);
    expect(stdout).toMatch(/answered: +\{"status":"COMPLETE"/);
    expect(stdout).toContain('state updated');
    expect(stdout + stderr).not.toContain(fake.token);
    expect(fake.store.list('contacts').map((c) => c.properties.email)).toEqual(['p3@example.com']);
  });

  it('moves the state as a delivery would: the next run sends the other rows only', async () => {
    const { code, json } = await cli('--json', 'sync', 'people_to_hs');
    const summary = json as unknown as RunSummary;
    expect(code).toBe(2); // odd@example.com: "prospect" is not a lifecycle stage HubSpot has
    expectAccounted(summary, { added: 20, unchanged: 1, delivered: 19, rejected: 1 });
    expect(fake.store.list('contacts')).toHaveLength(20);
  });

  it('shows a row the mapping refuses, without sending it (exit 2)', async () => {
    const before = fake.requests.length;
    const { code, stdout } = await cli('sync', 'people_to_hs', '--only', 'odd@example.com');
    expect(code).toBe(2);
    expect(stdout).toContain('row odd@example.com: REJECTED');
    expect(stdout).toContain('lifecyclestage');
    expect(stdout).toContain('no request was sent');
    // (learning the property types is a GET; nothing was written)
    expect(fake.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('prints the result as JSON under --json', async () => {
    const { code, json } = await cli('--json', 'sync', 'people_to_hs', '--only', 'p4@example.com');
    expect(code).toBe(0);
    expect(json).toMatchObject({ sync: 'people_to_hs', key: 'p4@example.com', outcome: 'delivered', operation: 'upsert', stateUpdated: true });
    expect((json!.requests as any[])[0]).toMatchObject({ method: 'POST', status: 200, requestHeaders: { authorization: '***' } });
  });

  it('names a key that is not in the model, and refuses flags that do not go with it (exit 64)', async () => {
    const missing = await cli('sync', 'people_to_hs', '--only', 'nobody@example.com');
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain('model "people" has no row with email = nobody@example.com');
    const mixed = await cli('sync', 'people_to_hs', '--only', 'p1@example.com', '--dry-run');
    expect(mixed.code).toBe(64);
    expect(mixed.stderr).toContain('--only sends one row now, as it is: it does not go with --dry-run');
  });
});
