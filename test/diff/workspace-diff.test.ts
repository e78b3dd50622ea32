import os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { DuckdbSource } from '../../src/sources/duckdb/duckdb-source.ts';
import { openWorkspaceDiff } from '../../src/diff/workspace/workspace-diff.ts';
import { EmbeddedStateStore } from '../../src/state/embedded/embedded-state-store.ts';
import { PostgresStateStore } from '../../src/state/postgres/postgres-state-store.ts';
import type { StateStore } from '../../src/state/state-store.ts';
import { warehouseSql } from '../helpers/temp-project.ts';
import { epochMsOf } from '../../src/engine/event-time.ts';
import { needService, SERVICES } from '../helpers/services.ts';
import { diffConformance, MAPPED, SIGNATURE, type DiffFixture, type ModelRow } from '../conformance/diff-conformance.ts';

/** The workspace diff over a DuckDB file, against a state store. */
function workspaceFixture(openStore: (dir: string) => Promise<StateStore>) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lm-diff-'));
  const file = path.join(dir, 'warehouse.duckdb');
  let store: StateStore;
  const fixture = async (): Promise<DiffFixture> => {
    store = await openStore(dir);
    return {
      async setModel(rows: ModelRow[]) {
        const values = rows.map((r) => `(${[r.sku, r.price, r.qty, r.seen, r.note].map((v) => (v === null ? 'NULL' : `'${v}'`)).join(', ')})`);
        await warehouseSql(file, `CREATE OR REPLACE TABLE items (sku VARCHAR, price DECIMAL(10,2), qty INTEGER, seen TIMESTAMPTZ, note VARCHAR);
          ${values.length ? `INSERT INTO items VALUES ${values.join(', ')}` : ''}`);
      },
      open: (sync, options = {}) => openWorkspaceDiff({
        sync, state: store, source: new DuckdbSource('warehouse', file, dir),
        model: { name: 'items', source: 'warehouse', table: 'items', primaryKey: ['sku'], cursor: options.cursor },
        fingerprint: () => ({ signature: SIGNATURE, columns: MAPPED }),
        since: options.since ?? null, retryRejected: options.retryRejected ?? false, fullResync: options.fullResync ?? false,
        persist: options.persist ?? true, signal: new AbortController().signal,
      }),
      commit: (sync, updates) => store.commitRows(sync, updates),
    };
  };
  const teardown = async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { fixture, teardown };
}

const embedded = workspaceFixture(async (dir) => new EmbeddedStateStore(path.join(dir, '.lastmile')));
diffConformance('DuckDB workspace, embedded state', embedded.fixture, embedded.teardown);

if (await needService('postgres')) {
  const pg = workspaceFixture(() => PostgresStateStore.open(SERVICES.postgres.url, { schema: `lm_diff_${process.pid}` }));
  diffConformance('DuckDB workspace, Postgres state', pg.fixture, pg.teardown);
}

describe('the workspace diff computes each change\'s event time in SQL', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lm-diff-event-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('to the millisecond epochMsOf reads from the row\'s own text, for timestamps with and without a zone and dates, before 1970 and after', async () => {
    const file = path.join(dir, 'warehouse.duckdb');
    const times = ['2026-12-02 03:17:24.123999', '1969-12-31 23:59:59.9995', '1901-05-06 07:08:09.000001', '2200-01-01 00:00:00', null];
    const rows = times.map((t, i) => `('K${i}', ${t === null ? 'NULL' : `'${t}'`})`).join(', ');
    await warehouseSql(file, `CREATE TABLE items AS SELECT sku, t::TIMESTAMP AS naive, t::TIMESTAMPTZ AS zoned, t::DATE AS day FROM (VALUES ${rows}) v(sku, t)`);
    const store = new EmbeddedStateStore(path.join(dir, '.lastmile'));
    try {
      for (const column of ['naive', 'zoned', 'day']) {
        const diff = await openWorkspaceDiff({
          sync: `by_${column}`, state: store, source: new DuckdbSource('warehouse', file, dir),
          model: { name: 'items', source: 'warehouse', table: 'items', primaryKey: ['sku'], eventTime: column },
          fingerprint: () => ({ signature: SIGNATURE, columns: [] }),
          since: null, retryRejected: false, fullResync: false, persist: false, signal: new AbortController().signal,
        });
        try {
          const changes = [];
          for await (const chunk of diff.changes(['added'], { chunkSize: 100, signal: new AbortController().signal })) changes.push(...chunk);
          expect(changes).toHaveLength(times.length);
          for (const change of changes) expect(change.eventAt, `${column} of ${change.key}`).toBe(epochMsOf(change.row![column]) ?? null);
          expect(changes.filter((c) => c.eventAt !== null)).toHaveLength(times.length - 1);
        } finally {
          await diff.close();
        }
      }
    } finally {
      await store.close();
    }
  });
});
