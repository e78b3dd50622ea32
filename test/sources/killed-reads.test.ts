import os from 'node:os';
import path from 'node:path';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/run-cli.ts';
import { startCountingReceiver } from '../helpers/counting-receiver.ts';
import { needService, SERVICES } from '../helpers/services.ts';

const pgUp = await needService('postgres');
const mariaUp = await needService('mariadb');
/** Each kill lands at a different moment of the read: the crash was a race (6 of 10 runs). */
const KILL_DELAYS_MS = [0, 40, 120, 300, 700];
const MARKER = 'lm_killed_read';

/**
 * A project whose model reads slowly (the server sleeps 50 ms every 1,000 rows, 20 s in all),
 * so the read is surely in progress when the other connection kills it.
 */
async function project(source: string, sql: string, url: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-killed-'));
  await writeFile(path.join(dir, 'lastmile.yml'), `version: 1
state: .lastmile
sources:
  app: ${source}
destinations:
  hook: { type: http, url: "${url}/bulk", batch: { size: 1000 } }
models:
  slow: { source: app, sql: "${sql}", primaryKey: id }
syncs:
  slow_sync: { model: slow, destination: hook, mode: upsert, match: { id: id }, mapping: { n: n } }
`);
  return dir;
}

/**
 * Starts the CLI run; once its read shows up on the server, waits `delayMs` and kills the
 * server side of it (`kill` answers whether it found the read); resolves with the exit.
 */
async function killMidRead(dir: string, delayMs: number, kill: (dryRun: boolean) => Promise<boolean>): Promise<CliResult> {
  const run = runCli(['sync', 'slow_sync', '--json'], dir);
  let seen = false;
  for (let attempt = 0; attempt < 600 && !seen; attempt++) {
    seen = await kill(true);
    if (!seen) await sleep(25);
  }
  expect(seen, 'the read never showed up on the server').toBe(true);
  await sleep(delayMs);
  expect(await kill(false), 'the read ended before the kill').toBe(true);
  return run;
}

async function expectCleanFailure(result: CliResult, dir: string, said: RegExp, receiver: { records: number }): Promise<void> {
  // Exit 1 with a run summary, not a crash (an unhandled 'error' event) or exit 13 (a read that never settles).
  expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: 1, stderr: expect.not.stringMatching(/Unhandled|at .*node_modules/) });
  expect(result.json).toMatchObject({ status: 'failed', delivered: 0, error: expect.stringMatching(said) });
  expect(receiver.records).toBe(0);
  // State untouched: no row state was ever written for the sync.
  const syncs = await readdir(path.join(dir, '.lastmile', 'syncs'), { recursive: true });
  expect(syncs.filter((f) => /journal|snapshot|manifest/.test(String(f)))).toEqual([]);
}

/** A database server, a slow model on it, and a way to see and kill the connection reading it. */
interface Server {
  name: string;
  up: boolean;
  source: string;
  sql: string;
  said: RegExp;
  connect(): Promise<{ kill(dryRun: boolean): Promise<boolean>; close(): Promise<void> }>;
}

const SERVERS: Server[] = [
  {
    name: 'a Postgres backend terminated mid-read (pg_terminate_backend)',
    up: pgUp,
    source: `{ type: postgres, url: "${SERVICES.postgres.url}" }`,
    sql: `SELECT i AS id, i * 2 AS n, CASE WHEN i % 1000 = 0 THEN pg_sleep(0.05) END AS ${MARKER} FROM generate_series(1, 400000) i`,
    said: /^source "app" failed while reading model "slow": .*(terminating connection due to administrator command|lost the connection mid-read)/,
    async connect() {
      const admin = new pg.Client({ connectionString: SERVICES.postgres.url });
      await admin.connect();
      const kill = async (dryRun: boolean) => {
        const { rows } = await admin.query<{ ok: boolean }>(
          `SELECT ${dryRun ? 'true' : 'pg_terminate_backend(pid)'} AS ok FROM pg_stat_activity WHERE query LIKE '%${MARKER}%' AND pid <> pg_backend_pid()`);
        return rows.some((r) => r.ok);
      };
      return { kill, close: async () => { await kill(false); await admin.end(); } };
    },
  },
  {
    name: 'a MariaDB connection killed mid-read (KILL <id>)',
    up: mariaUp,
    source: `{ type: mysql, url: "${SERVICES.mariadb.url}" }`,
    sql: `SELECT seq AS id, seq * 2 AS n, IF(seq % 1000 = 0, SLEEP(0.05), 0) AS ${MARKER} FROM seq_1_to_400000`,
    said: /^source "app" failed while reading model "slow": .*(lost the connection mid-read|Connection was killed)/,
    async connect() {
      const admin = await mysql.createConnection({ uri: SERVICES.mariadb.url });
      const kill = async (dryRun: boolean) => {
        const [rows] = await admin.query(
          `SELECT id FROM information_schema.processlist WHERE info LIKE '%${MARKER}%' AND id <> CONNECTION_ID()`) as unknown as [{ id: number }[]];
        if (!dryRun) for (const { id } of rows) await admin.query(`KILL ${Number(id)}`);
        return rows.length > 0;
      };
      return { kill, close: async () => { await kill(false); await admin.end(); } };
    },
  },
];

for (const server of SERVERS) {
  describe.skipIf(!server.up)(server.name, () => {
    let receiver: ReturnType<typeof startCountingReceiver>;
    let dir: string;
    let admin: Awaited<ReturnType<Server['connect']>>;

    beforeAll(async () => {
      receiver = startCountingReceiver();
      dir = await project(server.source, server.sql, await receiver.listen());
      admin = await server.connect();
    });
    afterAll(async () => {
      await admin.close();
      await receiver.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('fails the run with a clear message and leaves state untouched, every time', async () => {
      for (const delay of KILL_DELAYS_MS) {
        const result = await killMidRead(dir, delay, admin.kill);
        await expectCleanFailure(result, dir, server.said, receiver);
      }
    }, 240_000);
  });
}
