import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { RunRecorder } from '../../src/engine/run-recorder.ts';
import { SyncLogs } from '../../src/engine/warehouse-logs.ts';
import { DuckdbLogWriter } from '../../src/logs/duckdb-log-writer.ts';
import { PostgresLogWriter } from '../../src/logs/postgres-log-writer.ts';
import type { LogWriter } from '../../src/logs/log-tables.ts';
import { rowsIn } from '../../src/logs/change-columns.ts';
import { openStateStore } from '../../src/state/open-state-store.ts';
import type { StateStore } from '../../src/state/state-store.ts';
import { duckRows } from '../helpers/temp-project.ts';
import { needService, SERVICES } from '../helpers/services.ts';

const pgUp = await needService('postgres');
const PG_LOGS = `lm_logs_staging_${process.pid}`;

const PROFILE = {
  model: 'prices', source: 'warehouse', sourceType: 'duckdb', destination: 'engine', destinationType: 'http',
  mode: 'upsert' as const, syncModeLabel: 'Incremental (Upsert)', trigger: 'cli' as const,
};

/** `writer`, telling `staged` how many rows each of its stage() and begin() calls has taken, once taken. */
function counting(writer: LogWriter, staged: (rows: number) => void): LogWriter {
  return {
    open: () => writer.open(),
    stage: async (chunks) => {
      await writer.stage(chunks);
      staged(rowsIn(chunks));
    },
    begin: async (chunks) => {
      await writer.begin(chunks);
      staged(rowsIn(chunks));
    },
    write: (logs) => writer.write(logs),
    close: () => writer.close(),
  };
}

describe('sync logs: how settled rows wait for the write', () => {
  let dir: string;
  let store: StateStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('a run past what is held in memory stages chunks while it delivers, and every row lands once with when it settled and its L', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-sync-logs-'));
    store = await openStateStore(path.join(dir, '.state'));
    const file = path.join(dir, 'warehouse.duckdb');
    const staged: number[] = [];
    const writer = counting(new DuckdbLogWriter(file, 'lastmile_logs', { runId: 'run-1', sync: 'prices_sync' }), (rows) => staged.push(rows));
    const recorder = new RunRecorder(undefined, PROFILE, 'prices_sync', 'run-1');
    const logs = new SyncLogs(writer, 'warehouse.lastmile_logs', recorder, store, undefined, { chunkRows: 100, holdRows: 300 });
    logs.open();

    const settledAt = Date.parse('2026-12-01T10:00:00Z');
    for (let batch = 0; batch < 20; batch++) {
      const rows = Array.from({ length: 50 }, (_, i) => {
        const n = batch * 50 + i;
        return n % 7 === 0
          ? { key: `K${n}`, op: 'upsert', outcome: 'rejected' as const, eventAt: settledAt - 60_000 }
          : { key: `K${n}`, op: 'upsert', outcome: 'delivered' as const, eventAt: settledAt - 60_000, latencyMs: 60_000 + batch };
      });
      logs.settled(rows, settledAt + batch);
    }
    const sum = () => staged.reduce((a, b) => a + b, 0);
    await expect.poll(sum).toBe(600); // of 1,000 rows: 300 held, 100 filling, the rest staged a chunk at a time
    expect(staged).toEqual([100, 100, 100, 100, 100, 100]);

    logs.deliveryEnded();
    recorder.summary.status = 'success';
    await logs.writeBack();
    expect(staged).toEqual([100, 100, 100, 100, 100, 100, 400]); // the rest in one go once the delivery ended

    const [counts] = await duckRows(file, `SELECT count(*)::INT AS n, count(DISTINCT key)::INT AS keys, count(latency_ms)::INT AS with_l,
      count(*) FILTER (outcome = 'rejected')::INT AS rejected, min(epoch_ms(settled_at) - epoch_ms(event_at))::INT AS first_l FROM lastmile_logs.changes`);
    expect(counts).toEqual({ n: 1_000, keys: 1_000, with_l: 857, rejected: 143, first_l: 60_000 });
    const late = await duckRows(file, `SELECT key, latency_ms FROM lastmile_logs.changes WHERE epoch_ms(settled_at) = ${settledAt + 19} AND key < 'K953' ORDER BY key`);
    expect(late).toEqual([{ key: 'K950', latency_ms: 60_019 }, { key: 'K951', latency_ms: 60_019 }, { key: 'K952', latency_ms: null }]); // K952 was rejected: no L
  });

  it.skipIf(!pgUp)('into Postgres, chunks staged while the run delivers hold no transaction open; the write moves them in', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-sync-logs-'));
    store = await openStateStore(path.join(dir, '.state'));
    const admin = new pg.Client({ connectionString: SERVICES.postgres.url });
    await admin.connect();
    try {
      await admin.query(`DROP SCHEMA IF EXISTS ${PG_LOGS} CASCADE`);
      const recorder = new RunRecorder(undefined, PROFILE, 'prices_sync', 'run-pg');
      let staged = 0;
      const writer = counting(new PostgresLogWriter({ connectionString: SERVICES.postgres.url }, PG_LOGS, { runId: 'run-pg', sync: 'prices_sync' }), (rows) => (staged += rows));
      const logs = new SyncLogs(writer, 'app_db.' + PG_LOGS, recorder, store, undefined, { chunkRows: 100, holdRows: 300 });
      logs.open();
      for (let batch = 0; batch < 20; batch++) {
        logs.settled(Array.from({ length: 50 }, (_, i) => ({ key: `K${batch * 50 + i}`, op: 'upsert', outcome: 'delivered' as const })), Date.now());
      }
      const session = () => admin.query<{ state: string }>(`SELECT state FROM pg_stat_activity WHERE application_name = 'lastmile-logs run-pg'`);
      // 600 rows went to the session's temp table, each chunk committed on its own: nothing waits in a transaction
      await expect.poll(() => staged).toBe(600);
      expect((await session()).rows.map((r) => r.state)).toEqual(['idle']);
      expect((await admin.query(`SELECT count(*)::int AS n FROM ${PG_LOGS}.changes`)).rows).toEqual([{ n: 0 }]); // not before the write

      logs.deliveryEnded();
      recorder.summary.status = 'success';
      await logs.writeBack();
      expect((await admin.query(`SELECT count(*)::int AS n, count(DISTINCT key)::int AS keys FROM ${PG_LOGS}.changes WHERE run_id = 'run-pg'`)).rows).toEqual([{ n: 1_000, keys: 1_000 }]);
      expect((await session()).rows).toEqual([]); // the session ended with the write
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${PG_LOGS} CASCADE`);
      await admin.end();
    }
  });

  const ODD_KEYS = ['', 'Ü∑ 😀', 'with "quotes", a comma\nand a line', 'tab\there \\ backslash', 'k'.repeat(1_000)];
  const SETTLED_AT = Date.parse('2026-12-01T10:00:00.250Z');

  /**
   * Settles one row per odd key (the first deferred, with no event time), writes run `runId`, and
   * answers the changes table's rows, sorted by key. Each call has a state of its own.
   */
  async function writeOddKeys(writer: (dir: string) => LogWriter, read: (dir: string) => Promise<Record<string, unknown>[]>, runId = 'run-odd'): Promise<Record<string, unknown>[]> {
    await store?.close(); // the call before it in the same test
    if (store) await rm(dir, { recursive: true, force: true });
    dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-sync-logs-'));
    store = await openStateStore(path.join(dir, '.state'));
    const recorder = new RunRecorder(undefined, PROFILE, 'prices_sync', runId);
    const logs = new SyncLogs(writer(dir), 'logs', recorder, store);
    logs.open();
    logs.settled(ODD_KEYS.map((key, i) => (i === 0
      ? { key, op: 'delete', outcome: 'deferred' as const }
      : { key, op: 'upsert', outcome: 'delivered' as const, eventAt: SETTLED_AT - 1_000 * i, latencyMs: 1_000 * i })), SETTLED_AT);
    logs.deliveryEnded();
    recorder.summary.status = 'partial';
    await logs.writeBack();
    const rows = await read(dir);
    return rows.map((row) => Object.fromEntries(Object.entries(row).map(([name, value]) => [name, value === null ? null : name === 'key' || name === 'op' || name === 'outcome' ? value : Number(value)])))
      .sort((a, b) => (String(a.key) < String(b.key) ? -1 : 1));
  }

  const EXPECTED = ODD_KEYS.map((key, i) => ({
    key, op: i === 0 ? 'delete' : 'upsert', outcome: i === 0 ? 'deferred' : 'delivered',
    settled_ms: SETTLED_AT, event_ms: i === 0 ? null : SETTLED_AT - 1_000 * i, latency_ms: i === 0 ? null : 1_000 * i,
  })).sort((a, b) => (a.key < b.key ? -1 : 1));

  it('any key text, and a row with no event time and no L, arrive exactly in a DuckDB file', async () => {
    const file = (at: string) => path.join(at, 'warehouse.duckdb');
    const changes = await writeOddKeys((at) => new DuckdbLogWriter(file(at), 'lastmile_logs', { runId: 'run-odd', sync: 'prices_sync' }), (at) => duckRows(file(at),
      `SELECT key, op::VARCHAR AS op, outcome::VARCHAR AS outcome, epoch_ms(settled_at) AS settled_ms, epoch_ms(event_at) AS event_ms, latency_ms FROM lastmile_logs.changes`));
    expect(changes).toEqual(EXPECTED);
  });

  it.skipIf(!pgUp)('any key text, and a row with no event time and no L, arrive exactly in Postgres', async () => {
    const admin = new pg.Client({ connectionString: SERVICES.postgres.url });
    await admin.connect();
    try {
      await admin.query(`DROP SCHEMA IF EXISTS ${PG_LOGS} CASCADE`);
      const write = () => writeOddKeys(() => new PostgresLogWriter({ connectionString: SERVICES.postgres.url }, PG_LOGS, { runId: 'run-odd', sync: 'prices_sync' }), async () =>
        (await admin.query(`SELECT key, op, outcome, extract(epoch FROM settled_at) * 1000 AS settled_ms, extract(epoch FROM event_at) * 1000 AS event_ms, latency_ms
          FROM ${PG_LOGS}.changes WHERE run_id = 'run-odd'`)).rows);
      expect(await write()).toEqual(EXPECTED);
      expect(await write()).toEqual(EXPECTED); // written again, the run replaces its rows
      expect((await admin.query(`SELECT count(*)::int AS n FROM ${PG_LOGS}.runs`)).rows).toEqual([{ n: 1 }]);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${PG_LOGS} CASCADE`);
      await admin.end();
    }
  });

  it.skipIf(!pgUp)('into Postgres, a run never written before deletes nothing from changes (no index on run_id: each delete would scan the whole table)', async () => {
    const admin = new pg.Client({ connectionString: SERVICES.postgres.url });
    await admin.connect();
    try {
      await admin.query(`DROP SCHEMA IF EXISTS ${PG_LOGS} CASCADE`);
      const write = (runId: string) => writeOddKeys(() => new PostgresLogWriter({ connectionString: SERVICES.postgres.url }, PG_LOGS, { runId, sync: 'prices_sync' }), async () => [], runId);
      await write('run-1'); // creates the tables
      // A statement trigger fires for every DELETE statement on changes, even one that deletes nothing.
      await admin.query(`CREATE TABLE ${PG_LOGS}.deletes_seen (at timestamptz DEFAULT now());
        CREATE FUNCTION ${PG_LOGS}.note_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO ${PG_LOGS}.deletes_seen DEFAULT VALUES; RETURN NULL; END $$;
        CREATE TRIGGER deletes_seen AFTER DELETE ON ${PG_LOGS}.changes FOR EACH STATEMENT EXECUTE FUNCTION ${PG_LOGS}.note_delete()`);
      const deletes = async () => (await admin.query(`SELECT count(*)::int AS n FROM ${PG_LOGS}.deletes_seen`)).rows[0].n as number;

      await write('run-2');
      expect(await deletes()).toBe(0);
      await write('run-1'); // written again: its rows are replaced
      expect(await deletes()).toBe(1);
      expect((await admin.query(`SELECT run_id, count(*)::int AS n FROM ${PG_LOGS}.changes GROUP BY run_id ORDER BY run_id`)).rows)
        .toEqual([{ run_id: 'run-1', n: ODD_KEYS.length }, { run_id: 'run-2', n: ODD_KEYS.length }]);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${PG_LOGS} CASCADE`);
      await admin.end();
    }
  });
});
