import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempProject, type TempProject } from '../helpers/temp-project.ts';
import { runCli } from '../helpers/run-cli.ts';
import { needService, SERVICES } from '../helpers/services.ts';

/** `sync --only` to a destination that speaks SQL, not HTTP: the write is shown as one entry with the database's answer. */
const pgUp = await needService('postgres');
const SCHEMA = 'lm_only_rows';
let project: TempProject;
let db: pg.Client;
const cli = (...args: string[]) => runCli(['--config', path.join(project.dir, 'lastmile.yml'), ...args], project.dir);

beforeAll(async () => {
  if (!pgUp) return;
  db = new pg.Client({ connectionString: SERVICES.postgres.url });
  await db.connect();
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA};
    CREATE TABLE ${SCHEMA}.people (email text PRIMARY KEY, first_name text, score integer CHECK (score >= 0))`);
  project = await tempProject(`sources:
  warehouse: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  app_db: { type: postgres, url: "${SERVICES.postgres.url}" }
models:
  people:
    source: warehouse
    sql: SELECT email, first_name, score FROM people
    primaryKey: email
syncs:
  people_to_pg:
    model: people
    destination: app_db
    table: ${SCHEMA}.people
    mode: upsert
    match: { email: email }
    mapping: { first_name: first_name, score: score }
`);
  await project.sql(`CREATE TABLE people (email VARCHAR, first_name VARCHAR, score INTEGER);
    INSERT INTO people VALUES ('ada@example.com', 'Ada', 10), ('neg@example.com', 'Neg', -1)`);
  await project.store.close();
}, 60_000);
afterAll(async () => {
  await project?.close().catch(() => undefined);
  await db?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await db?.end();
});

describe.skipIf(!pgUp)('lastmile sync SYNC --only KEY to Postgres', () => {
  it('shows the row written and the database\'s answer', async () => {
    const { code, stdout } = await cli('sync', 'people_to_pg', '--only', 'ada@example.com');
    expect(code).toBe(0);
    expect(stdout).toContain('row ada@example.com: upsert DELIVERED');
    expect(stdout).toContain('UPSERT postgres destination "app_db", 1 row -> done in');
    expect(stdout).toContain('sent:     [{"key":"ada@example.com","op":"upsert","fields":{"email":"ada@example.com","first_name":"Ada","score":10}}]');
    expect(stdout).toContain('answered: delivered 1, rejected 0');
    expect((await db.query(`SELECT first_name, score FROM ${SCHEMA}.people`)).rows).toEqual([{ first_name: 'Ada', score: 10 }]);
  });

  it('shows the database\'s refusal (exit 2)', async () => {
    const { code, stdout } = await cli('sync', 'people_to_pg', '--only', 'neg@example.com');
    expect(code).toBe(2);
    expect(stdout).toContain('row neg@example.com: upsert REJECTED');
    expect(stdout).toMatch(/answered: delivered 0, rejected 1 \(first: 23514: .*check constraint/);
    expect((await db.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.people`)).rows[0].n).toBe(1);
  });
});
