import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { DuckdbSource } from '../../src/sources/duckdb/duckdb-source.ts';
import { openWorkspaceDiff } from '../../src/diff/workspace/workspace-diff.ts';
import { EmbeddedStateStore } from '../../src/state/embedded/embedded-state-store.ts';
import { PostgresStateStore } from '../../src/state/postgres/postgres-state-store.ts';
import type { StateStore } from '../../src/state/state-store.ts';
import { warehouseSql } from '../helpers/temp-project.ts';
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
