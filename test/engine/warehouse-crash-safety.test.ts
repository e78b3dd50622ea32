import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeyCountingReceiver } from '../helpers/counting-receiver.ts';
import { spawnCli } from '../helpers/run-cli.ts';
import { needService, SERVICES } from '../helpers/services.ts';
import { REDSHIFT_STRTOL, redshiftStandInUrl } from '../helpers/redshift-stand-in.ts';

const ROWS = 1500;
const BATCH = 50;
const CONCURRENCY = 2;

const lastJson = (output: string) => JSON.parse(output.trim().split('\n').filter((l) => l.startsWith('{')).at(-1)!);

/** A server holding the model table and, in `schema`, the sync's state. */
interface Server {
  name: string;
  source: string;
  query(sql: string): Promise<Record<string, unknown>[]>;
  createItems(table: string): string;
  dropSchema(schema: string): string;
}

const servers: Server[] = [];
if (await needService('postgres')) {
  servers.push({
    name: 'Postgres',
    source: `type: postgres, url: "${SERVICES.postgres.url}"`,
    async query(sql) {
      const client = new pg.Client(SERVICES.postgres.url);
      await client.connect();
      try { return (await client.query(sql)).rows; } finally { await client.end(); }
    },
    createItems: (table) => `CREATE TABLE ${table} AS SELECT i AS id, 'v' || i AS value FROM generate_series(0, ${ROWS - 1}) AS t(i)`,
    dropSchema: (schema) => `DROP SCHEMA IF EXISTS ${schema} CASCADE`,
  });
}
if (await needService('postgres')) {
  // Redshift's wire protocol, on the Postgres standing in for it (test/helpers/redshift-stand-in.ts).
  const postgres = servers[0]!;
  servers.push({
    ...postgres,
    name: 'Redshift stand-in',
    source: `type: redshift, url: "${redshiftStandInUrl()}"`,
    async query(sql) {
      await postgres.query(REDSHIFT_STRTOL);
      return postgres.query(sql);
    },
  });
}
if (await needService('mariadb')) {
  servers.push({
    name: 'MariaDB',
    source: `type: mysql, url: "${SERVICES.mariadb.url}"`,
    async query(sql) {
      const connection = await mysql.createConnection({ uri: SERVICES.mariadb.url });
      try { return (await connection.query(sql))[0] as Record<string, unknown>[]; } finally { await connection.end(); }
    },
    createItems: (table) => `CREATE TABLE ${table} AS SELECT seq AS id, CONCAT('v', seq) AS value FROM seq_0_to_${ROWS - 1}`,
    dropSchema: (schema) => `DROP DATABASE IF EXISTS ${schema}`,
  });
}

describe.each(servers)('kill -9 with the state in the warehouse ($name), then run again: every row arrives', (server) => {
  let dir: string;
  let receiver: ReturnType<typeof startKeyCountingReceiver>;
  const table = `lm_crash_items_${process.pid}`;
  const schema = `lm_crash_state_${process.pid}`;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-wcrash-'));
    receiver = startKeyCountingReceiver();
    const url = await receiver.listen();
    await writeFile(path.join(dir, 'lastmile.yml'), `version: 1
state: .lastmile
sources:
  warehouse: { ${server.source}, diff: warehouse, stateSchema: ${schema} }
destinations:
  engine: { type: http, url: "${url}/bulk", batch: { size: ${BATCH} }, rateLimit: { requestsPerSecond: 40, concurrency: ${CONCURRENCY} } }
models:
  items: { source: warehouse, table: ${table}, primaryKey: id }
syncs:
  items_sync: { model: items, destination: engine, mode: upsert, match: { id: id }, mapping: { value: value } }
`);
    await server.query(`DROP TABLE IF EXISTS ${table}`);
    await server.query(server.createItems(table));
  });
  afterAll(async () => {
    await receiver?.close();
    await server.query(`DROP TABLE IF EXISTS ${table}`);
    await server.query(server.dropSchema(schema));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('survives kills while diffing, after 1 batch and mid-run; the state in the warehouse holds every acknowledged row', async () => {
    let kills = 0;
    for (const afterRequests of [0, 1, 7, 16]) {
      const start = receiver.requests;
      const run = spawnCli(['sync', 'items_sync', '--json'], dir);
      await new Promise<void>((resolve) => {
        if (afterRequests === 0) return void setTimeout(resolve, 400); // while reading / diffing
        receiver.onRequest(() => { if (receiver.requests - start >= afterRequests) resolve(); });
        void run.exited.then(() => resolve());
      });
      const killed = run.child.kill('SIGKILL');
      if (killed && (await run.exited) === null) kills++;
    }
    expect(kills).toBeGreaterThanOrEqual(3);

    const final = spawnCli(['sync', 'items_sync', '--json'], dir);
    expect(await final.exited, final.output()).toBe(0);
    expect(lastJson(final.output()).status).toBe('success');

    // Every row arrived, and a row was sent twice only if its batch was in flight when a kill came.
    expect(receiver.received.size).toBe(ROWS);
    const duplicates = [...receiver.received.values()].reduce((sum, n) => sum + n - 1, 0);
    expect(duplicates).toBeLessThanOrEqual(kills * CONCURRENCY * BATCH);

    // The state is in the warehouse: one delivered row per key.
    const [state] = await server.query(`SELECT count(*) AS n, sum(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END) AS delivered
      FROM ${schema}.lastmile_row_state WHERE sync_name = 'items_sync'`);
    expect(Number(state!.n)).toBe(ROWS);
    expect(Number(state!.delivered)).toBe(ROWS);

    // Nothing is left to send, and plan says where the diff ran.
    const again = spawnCli(['sync', 'items_sync', '--json'], dir);
    expect(await again.exited).toBe(0);
    expect(lastJson(again.output())).toMatchObject({ added: 0, changed: 0, delivered: 0 });
    const plan = spawnCli(['plan', 'items_sync'], dir);
    expect(await plan.exited).toBe(0);
    expect(plan.output()).toContain('plan items_sync (upsert, diff: warehouse)');
  }, 420_000);
});
