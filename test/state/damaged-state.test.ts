import os from 'node:os';
import path from 'node:path';
import { cp, mkdtemp, open, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { warehouseSql } from '../helpers/temp-project.ts';
import { runCli } from '../helpers/run-cli.ts';
import { startCountingReceiver } from '../helpers/counting-receiver.ts';

const ROWS = 20;

// Each test runs the CLI a few times: on a busy machine that takes a while.
describe('damaged or missing state is an error naming the file, never a silent re-send', { timeout: 180_000 }, () => {
  let receiver: ReturnType<typeof startCountingReceiver>;
  let dir: string;
  let state: string;
  let syncDir: string;
  let healthy: string;

  beforeAll(async () => {
    receiver = startCountingReceiver();
    const url = await receiver.listen();
    dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-damaged-'));
    state = path.join(dir, '.lastmile');
    syncDir = path.join(state, 'syncs', 'items_sync');
    healthy = path.join(dir, 'healthy-state');
    await writeFile(path.join(dir, 'lastmile.yml'), `version: 1
state: .lastmile
sources:
  warehouse: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  hook: { type: http, url: "${url}/bulk", batch: { size: 5 } }
models:
  items: { source: warehouse, table: items, primaryKey: id }
syncs:
  items_sync: { model: items, destination: hook, mode: mirror, match: { id: id }, mapping: { v: v } }
`);
    await warehouseSql(path.join(dir, 'warehouse.duckdb'), `CREATE TABLE items AS SELECT i AS id, 'v' || i AS v FROM range(${ROWS}) t(i)`);
    const first = await runCli(['sync', 'items_sync', '--json'], dir);
    expect(first.json, first.stderr).toMatchObject({ status: 'success', delivered: ROWS });
    await cp(state, healthy, { recursive: true });
  }, 180_000);
  afterAll(async () => {
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await rm(state, { recursive: true, force: true });
    await cp(healthy, state, { recursive: true });
  });

  /** Runs a sync that must fail without sending anything; answers its message. */
  async function failedSync(...flags: string[]): Promise<string> {
    const before = receiver.records;
    const result = await runCli(['sync', 'items_sync', '--json', ...flags], dir);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(receiver.records - before).toBe(0);
    return String(result.json?.error ?? result.stderr);
  }

  it('a deleted manifest.json: an error naming it and how to start over; --full-resync starts over', async () => {
    await rm(path.join(syncDir, 'manifest.json'));
    const message = await failedSync();
    expect(message).toContain(path.join(syncDir, 'manifest.json'));
    expect(message).toContain('lastmile sync items_sync --full-resync');

    const before = receiver.records;
    const resync = await runCli(['sync', 'items_sync', '--json', '--full-resync'], dir);
    expect(resync.json, resync.stderr).toMatchObject({ status: 'success', delivered: ROWS });
    expect(receiver.records - before).toBe(ROWS);
    const after = await runCli(['sync', 'items_sync', '--json'], dir);
    expect(after.json).toMatchObject({ status: 'success', delivered: 0, unchanged: ROWS });
  });

  it('a deleted sync folder, next to run history that delivered rows: an error naming the folder', async () => {
    await rm(syncDir, { recursive: true });
    const message = await failedSync();
    expect(message).toContain(syncDir);
    expect(message).toContain('--full-resync');
    // plan reads the same state: it says the same instead of showing every row as added.
    const plan = await runCli(['plan', 'items_sync', '--json'], dir);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain(syncDir);
  });

  it('a truncated manifest.json: an error naming it', async () => {
    await writeFile(path.join(syncDir, 'manifest.json'), '{"format":1,"gener');
    expect(await failedSync()).toContain(path.join(syncDir, 'manifest.json'));
  });

  it('a damaged snapshot: an error naming it', async () => {
    const snapshot = (await readdir(syncDir)).find((f) => f.endsWith('.parquet'))!;
    await truncate(path.join(syncDir, snapshot), 40);
    expect(await failedSync()).toContain(path.join(syncDir, snapshot));
  });

  it('a corrupt lastmile.db: an error naming it, exit 1', async () => {
    const db = path.join(state, 'lastmile.db');
    await rm(`${db}-wal`, { force: true });
    await rm(`${db}-shm`, { force: true });
    const handle = await open(db, 'r+');
    await handle.write(Buffer.from('this is not a SQLite database at all'), 0, undefined, 0);
    await handle.close();
    const result = await runCli(['sync', 'items_sync', '--json'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(db);
  });
});
