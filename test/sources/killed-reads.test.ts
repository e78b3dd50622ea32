import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/run-cli.ts';
import { needService, SERVICES } from '../helpers/services.ts';

const pgUp = await needService('postgres');
const mariaUp = await needService('mariadb');
/** Each kill lands at a different moment of the read: the crash was a race (6 of 10 runs). */
const KILL_DELAYS_MS = [0, 40, 120, 300, 700];
const MARKER = 'lm_killed_read';

/** An endpoint that counts what reaches it: a killed read must send nothing. */
function startReceiver() {
  let records = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (body) records += (JSON.parse(body) as unknown[]).length;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return {
    get records() { return records; },
    listen: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

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

describe.skipIf(!pgUp)('a Postgres backend terminated mid-read', () => {
  let receiver: ReturnType<typeof startReceiver>;
  let dir: string;
  let admin: pg.Client;

  beforeAll(async () => {
    receiver = startReceiver();
    const url = await receiver.listen();
    const sql = `SELECT i AS id, i * 2 AS n, CASE WHEN i % 1000 = 0 THEN pg_sleep(0.05) END AS ${MARKER} FROM generate_series(1, 400000) i`;
    dir = await project(`{ type: postgres, url: "${SERVICES.postgres.url}" }`, sql, url);
    admin = new pg.Client({ connectionString: SERVICES.postgres.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%${MARKER}%' AND pid <> pg_backend_pid()`);
    await admin.end();
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails the run with a clear message and leaves state untouched, every time', async () => {
    for (const delay of KILL_DELAYS_MS) {
      const result = await killMidRead(dir, delay, async (dryRun) => {
        const { rows } = await admin.query<{ ok: boolean }>(
          `SELECT ${dryRun ? 'true' : 'pg_terminate_backend(pid)'} AS ok FROM pg_stat_activity WHERE query LIKE '%${MARKER}%' AND pid <> pg_backend_pid()`);
        return rows.some((r) => r.ok);
      });
      await expectCleanFailure(result, dir, /^source "app" failed while reading model "slow": .*(terminating connection due to administrator command|lost the connection mid-read)/, receiver);
    }
  }, 240_000);
});

describe.skipIf(!mariaUp)('a MariaDB connection killed mid-read', () => {
  let receiver: ReturnType<typeof startReceiver>;
  let dir: string;
  let admin: mysql.Connection;

  beforeAll(async () => {
    receiver = startReceiver();
    const url = await receiver.listen();
    const sql = `SELECT seq AS id, seq * 2 AS n, IF(seq % 1000 = 0, SLEEP(0.05), 0) AS ${MARKER} FROM seq_1_to_400000`;
    dir = await project(`{ type: mysql, url: "${SERVICES.mariadb.url}" }`, sql, url);
    admin = await mysql.createConnection({ uri: SERVICES.mariadb.url });
  });
  afterAll(async () => {
    await admin.end();
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails the run with a clear message and leaves state untouched, every time', async () => {
    for (const delay of KILL_DELAYS_MS) {
      const result = await killMidRead(dir, delay, async (dryRun) => {
        const [rows] = await admin.query(
          `SELECT id FROM information_schema.processlist WHERE info LIKE '%${MARKER}%' AND id <> CONNECTION_ID()`) as unknown as [{ id: number }[]];
        if (!dryRun) for (const { id } of rows) await admin.query(`KILL ${Number(id)}`);
        return rows.length > 0;
      });
      await expectCleanFailure(result, dir, /^source "app" failed while reading model "slow": .*(lost the connection mid-read|Connection was killed)/, receiver);
    }
  }, 240_000);
});
