import { afterEach, describe, expect, it } from 'vitest';
import { IterableFake } from '../../fakes/iterable/iterable-fake.ts';
import { tempProject, type TempProject } from '../../helpers/temp-project.ts';

/** A whole run from lastmile.yml and a DuckDB warehouse to the Iterable fake, through the real engine. */
let iterable: IterableFake | undefined;
let current: TempProject | undefined;
afterEach(async () => {
  await current?.close();
  await iterable?.server.stop();
  current = undefined;
  iterable = undefined;
});

describe('an http-request preset in a real run', () => {
  it('Iterable: field types from getFields coerce values before sending, refused users are rejected with Iterable\'s reason, mirror deletes', async () => {
    iterable = new IterableFake({ bulkRate: 50 });
    await iterable.server.start();
    current = await tempProject(`sources:
  warehouse: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  iterable: { type: http-request, preset: iterable, settings: { apiKey: "\${LM_ITERABLE_KEY}", apiUrl: "${iterable.url}" } }
models:
  users: { source: warehouse, sql: "SELECT email, first_name, amount FROM users", primaryKey: email }
syncs:
  users_to_iterable:
    model: users
    destination: iterable
    mode: mirror
    match: { email: email }
    mapping: { first_name: firstName, amount: amount }
`, { LM_ITERABLE_KEY: iterable.apiKey });
    await current.sql(`CREATE TABLE users (email VARCHAR, first_name VARCHAR, amount VARCHAR);
      INSERT INTO users VALUES ('a@example.com', 'Ada', '12'), ('b@example.com', 'Bob', 'lots'), ('c@example', 'Cy', '3'), ('d@example.com', 'Di', NULL)`);
    const first = await current.run('users_to_iterable');
    expect(first).toMatchObject({ status: 'partial', added: 4, delivered: 2, rejected: 2 });
    const rejected = (await current.store.listRejected(first.runId)).rows.map((r) => [r.key, r.category, r.code ?? null]).sort();
    expect(rejected).toEqual([['b@example.com', 'schema_mismatch', null], ['c@example', 'invalid_row', 'invalidEmails']]);
    // "12" went as the integer Iterable's amount field (long) takes; "lots" was never sent.
    expect(iterable.users.get('a@example.com')).toEqual({ email: 'a@example.com', firstName: 'Ada', amount: 12 });
    expect(iterable.server.requestsTo('/api/users/bulkUpdate').some((r) => r.body.includes('lots'))).toBe(false);

    await current.sql(`DELETE FROM users WHERE email = 'a@example.com'`);
    const second = await current.run('users_to_iterable');
    expect(second).toMatchObject({ removed: 1, delivered: 1 });
    expect(iterable.users.has('a@example.com')).toBe(false);
    expect(iterable.server.log.at(-1)).toMatchObject({ method: 'DELETE', path: '/api/users/a%40example.com', status: 200 });
  });
});
