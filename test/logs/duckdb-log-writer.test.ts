import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { DuckdbLogWriter } from '../../src/logs/duckdb-log-writer.ts';
import { joinLogDatabase } from '../../src/logs/duckdb-log-database.ts';
import { duckRows } from '../helpers/temp-project.ts';
import { settledRows, writeRun } from '../helpers/duckdb-log-run.ts';

describe('DuckDB log writer', () => {
  let dir: string;
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('runs of one process that end together all land in the same file (two syncs of a server)', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-duck-logs-'));
    const file = path.join(dir, 'warehouse.duckdb');
    const runs = [1, 2, 3, 4].flatMap((round) => ['a', 'b', 'c'].map((sync) => `${sync}-${round}`));
    for (let round = 0; round < 4; round++) {
      // Three writers at once: three syncs' runs that ended together.
      await Promise.all(runs.slice(round * 3, round * 3 + 3).map((runId) => writeRun(file, runId, settledRows(runId, 20_000))));
    }
    const written = await duckRows(file, `SELECT r.run_id, count(c.key)::INT AS changes, count(DISTINCT c.key)::INT AS keys
      FROM lastmile_logs.runs r LEFT JOIN lastmile_logs.changes c USING (run_id) GROUP BY r.run_id ORDER BY r.run_id`);
    expect(written).toEqual([...runs].sort().map((run_id) => ({ run_id, changes: 20_000, keys: 20_000 })));
  });

  it('a run begun and closed unwritten leaves nothing in the file, and the next run of the process writes', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-duck-logs-'));
    const file = path.join(dir, 'warehouse.duckdb');
    const begun = new DuckdbLogWriter(file, 'lastmile_logs', { runId: 'begun', sync: 'prices_sync' });
    await begun.begin([settledRows('begun', 100)]); // holds the process's turn, its changes in the file's open transaction
    const next = writeRun(file, 'next', settledRows('next', 100)); // waits for that turn
    await begun.close();
    await next;
    expect(await duckRows(file, `SELECT run_id, count(*)::INT AS n FROM lastmile_logs.changes GROUP BY run_id`)).toEqual([{ run_id: 'next', n: 100 }]);
  });

  it('a run never written before deletes nothing from changes (a scan of every change logged: run ids of a day share the 8 bytes a string zone map keeps)', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-duck-logs-'));
    const file = path.join(dir, 'warehouse.duckdb');
    const [first, second] = ['20261202T101500-aaaaaaaa', '20261202T111500-bbbbbbbb']; // run ids of one day, as runs are named
    // The writers' shared DuckDB, joined here so that it stays open, logging every statement its writers run.
    const database = await joinLogDatabase();
    try {
      await database.connection.run(`CALL enable_logging('QueryLog')`);
      const deletesFromChanges = async () => (await database.connection.runAndReadAll(
        `SELECT count(*)::INT AS n FROM duckdb_logs WHERE type = 'QueryLog' AND message ILIKE 'DELETE FROM %"changes"%'`)).getRowObjects()[0]!.n;

      await writeRun(file, first, settledRows(first, 100));
      await writeRun(file, second, settledRows(second, 100));
      expect(await deletesFromChanges()).toBe(0);
      await writeRun(file, first, settledRows(first, 100)); // written again: its rows are replaced
      expect(await deletesFromChanges()).toBe(1);
    } finally {
      await database.connection.run(`CALL disable_logging()`);
      database.leave();
    }
    expect(await duckRows(file, `SELECT run_id, count(*)::INT AS n FROM lastmile_logs.changes GROUP BY run_id ORDER BY run_id`))
      .toEqual([{ run_id: first, n: 100 }, { run_id: second, n: 100 }]);
    expect(await duckRows(file, `SELECT count(*)::INT AS n FROM lastmile_logs.runs`)).toEqual([{ n: 2 }]);
  });
});
