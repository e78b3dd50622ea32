/**
 * `diff: warehouse` on Postgres: a 1,000,000-row model with 1 % of its rows changed, the sync's
 * state in the warehouse. Measured in turn in the same run against the same diff written by
 * hand in SQL (one query: the model fingerprinted with the same recipe v1 expression, joined to
 * the same state table, changed and added rows plus the removed ones), drained by a pg client.
 * Rows leaving the warehouse are counted for every statement the diff runs (each row a query
 * returns to Lastmile); the changed rows are those the hand-written diff returns.
 */
import pg from 'pg';
import type { BenchTable } from './run.ts';
import { createPgPrices, median, PG_URL, pgRun } from './databases/bench-databases.ts';
import { PostgresSource } from '../src/sources/postgres/postgres-source.ts';
import { WarehouseRowState } from '../src/diff/warehouse/warehouse-row-state.ts';
import { openWarehouseDiff } from '../src/diff/warehouse/warehouse-diff.ts';
import { postgresFingerprint, postgresKey } from '../src/diff/fingerprint/postgres-fingerprint.ts';
import type { WarehouseSession } from '../src/diff/warehouse/warehouse-session.ts';
import type { Column, ReadOptions } from '../src/sources/source.ts';
import type { StateStore } from '../src/state/state-store.ts';

const quick = process.env.LASTMILE_BENCH_QUICK === '1';
const ROWS = quick ? 100_000 : 1_000_000;
const REPEATS = 3;
const TABLE = 'lastmile_bench_wdiff';
const SCHEMA = 'lastmile_bench_state';
const SYNC = 'bench';
const SIGNATURE = 'm1:bench-warehouse-diff';
const COLUMNS: Column[] = [
  { name: 'competitor', type: 'varchar' }, { name: 'currency', type: 'varchar' }, { name: 'price', type: 'decimal', precision: 10, scale: 2 },
  { name: 'qty', type: 'integer' }, { name: 'sku', type: 'varchar' }, { name: 'updated_at', type: 'timestamptz' },
];
const KEY: Column[] = [{ name: 'id', type: 'bigint' }];

/** A Postgres source that counts every row its reads and statements bring back. */
class CountingSource extends PostgresSource {
  rows = 0;
  async *read(sql: string, options: ReadOptions) {
    for await (const chunk of super.read(sql, options)) {
      this.rows += chunk.rows.length;
      yield chunk;
    }
  }
  openSession(): WarehouseSession {
    const session = super.openSession();
    const count = <T extends Record<string, unknown>[]>(rows: T) => { this.rows += rows.length; return rows; };
    return {
      ...session,
      run: async (sql, params) => count(await session.run(sql, params)),
      transaction: (work) => session.transaction((run) => work(async (sql, params) => count(await run(sql, params)))),
    };
  }
}

async function lastmileDiff(): Promise<{ ms: number; rowsOut: number; changes: number }> {
  const source = new CountingSource('bench', { url: PG_URL });
  const state = await WarehouseRowState.open(source.openSession(), SCHEMA, {} as StateStore);
  const signal = new AbortController().signal;
  source.rows = 0;
  try {
    const started = performance.now();
    const diff = await openWarehouseDiff({
      sync: SYNC, source, state, since: null, retryRejected: false, fullResync: false, persist: true, signal,
      model: { name: 'prices', source: 'bench', table: TABLE, primaryKey: ['id'] },
      fingerprint: () => ({ signature: SIGNATURE, columns: COLUMNS.map((c) => c.name) }),
    });
    let changes = 0;
    for await (const chunk of diff.changes(['added', 'changed', 'removed'], { chunkSize: 5000, signal })) changes += chunk.length;
    await diff.close();
    return { ms: performance.now() - started, rowsOut: source.rows, changes };
  } finally {
    await source.close();
  }
}

/** The same diff by hand: one query, its rows drained. */
async function handWritten(): Promise<{ ms: number; rows: number }> {
  const state = `${SCHEMA}.lastmile_row_state`;
  const sql = `SELECT m.*, s.status, s.dest_id, s.match_json FROM (SELECT t.*, ${postgresKey(KEY)} AS k, ${postgresFingerprint(SIGNATURE, COLUMNS)} AS fp FROM ${TABLE} t) m
      LEFT JOIN ${state} s ON s.sync_name = '${SYNC}' AND s.row_key = m.k WHERE s.row_key IS NULL OR s.fp <> m.fp
    UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, s.row_key, NULL, s.status, s.dest_id, s.match_json FROM ${state} s
      WHERE s.sync_name = '${SYNC}' AND NOT EXISTS (SELECT 1 FROM ${TABLE} t WHERE ${postgresKey(KEY).replaceAll('"id"', 't."id"')} = s.row_key)`;
  const client = new pg.Client(PG_URL);
  await client.connect();
  try {
    const started = performance.now();
    const { rows } = await client.query(sql);
    return { ms: performance.now() - started, rows: rows.length };
  } finally {
    await client.end();
  }
}

export default async function run(): Promise<BenchTable[]> {
  await createPgPrices(TABLE, ROWS);
  const source = new PostgresSource('bench', { url: PG_URL });
  const state = await WarehouseRowState.open(source.openSession(), SCHEMA, {} as StateStore);
  await pgRun(`DELETE FROM ${state.table} WHERE sync_name = '${SYNC}'`);
  // The state of a sync that delivered every row, then 1 % of the rows change.
  await pgRun(`INSERT INTO ${state.table} SELECT '${SYNC}', ${postgresKey(KEY)}, ${postgresFingerprint(SIGNATURE, COLUMNS)}, 'delivered', NULL, NULL FROM ${TABLE}`);
  await pgRun(`UPDATE ${TABLE} SET price = price + 1 WHERE id % 100 = 0`);
  await pgRun(`VACUUM ANALYZE ${TABLE}`);
  await pgRun(`ANALYZE ${state.table}`);
  await source.close();
  const rows: BenchTable['rows'] = [];
  try {
    const ours: Awaited<ReturnType<typeof lastmileDiff>>[] = [];
    const hand: Awaited<ReturnType<typeof handWritten>>[] = [];
    for (let i = 0; i < REPEATS; i++) {
      hand.push(await handWritten());
      ours.push(await lastmileDiff());
    }
    const changed = hand[0]!.rows;
    const ratios = ours.map((o, i) => o.ms / hand[i]!.ms);
    rows.push({
      database: 'Postgres', 'model rows': ROWS, 'changed rows': changed, 'diff changes': ours[0]!.changes,
      'rows leaving the warehouse': ours[0]!.rowsOut, 'allowed (changed + 1 %)': Math.floor(changed + ROWS / 100),
      'hand-written SQL (ms)': Math.round(median(hand.map((h) => h.ms))), 'diff: warehouse (ms)': Math.round(median(ours.map((o) => o.ms))),
      'time / hand-written': `${median(ratios).toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(', ')})`, target: '≤ 1.5',
    });
  } finally {
    await pgRun(`DROP TABLE IF EXISTS ${TABLE}; DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  }
  return [{ title: `diff: warehouse on Postgres, 1 % changed, state in the warehouse, vs the same diff hand-written in SQL (median of ${REPEATS}, in turn)`, rows }];
}
