import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { openWarehouseDiff } from '../../src/diff/warehouse/warehouse-diff.ts';
import { openEngineDiff } from '../../src/diff/engine/engine-diff.ts';
import { WarehouseRowState } from '../../src/diff/warehouse/warehouse-row-state.ts';
import { EmbeddedStateStore } from '../../src/state/embedded/embedded-state-store.ts';
import { isWarehouseSource, type FingerprintSource } from '../../src/diff/warehouse/warehouse-session.ts';
import type { StateStore } from '../../src/state/state-store.ts';
import { MAPPED, SIGNATURE, type DiffFixture, type ModelRow } from '../conformance/diff-conformance.ts';

/** A real server holding the model table `items`. */
export interface Server {
  makeSource(): FingerprintSource;
  exec(sql: string): Promise<void>;
  create: string;
  /** A model row as a VALUES tuple in this server's SQL. */
  tuple(row: ModelRow): string;
}

/**
 * `diff: warehouse` (state in `schema` on the server) or `diff: engine` (state in the engine's
 * embedded store) over the table `items` of a real server.
 */
export function serverFixture(server: Server, method: 'warehouse' | 'engine', schema: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lm-wdiff-'));
  let source: FingerprintSource;
  let state: StateStore;
  const inner = new EmbeddedStateStore(path.join(dir, '.lastmile'));
  const fixture = async (): Promise<DiffFixture> => {
    source = server.makeSource();
    if (method === 'warehouse' && !isWarehouseSource(source)) throw new Error(`${source.type} keeps no state in the warehouse`);
    state = method === 'warehouse' && isWarehouseSource(source) ? await WarehouseRowState.open(source.openSession(), schema, inner) : inner;
    const open = method === 'warehouse' ? openWarehouseDiff : openEngineDiff;
    return {
      async setModel(rows: ModelRow[]) {
        await server.exec('DROP TABLE IF EXISTS items');
        await server.exec(server.create);
        if (rows.length) await server.exec(`INSERT INTO items VALUES ${rows.map(server.tuple).join(', ')}`);
      },
      open: (sync, options = {}) => open({
        sync, state, source,
        model: { name: 'items', source: 'warehouse', table: 'items', primaryKey: ['sku'], cursor: options.cursor },
        fingerprint: () => ({ signature: SIGNATURE, columns: MAPPED }),
        since: options.since ?? null, retryRejected: options.retryRejected ?? false, fullResync: options.fullResync ?? false,
        persist: options.persist ?? true, signal: new AbortController().signal,
      }),
      commit: (sync, updates) => state.commitRows(sync, updates),
    };
  };
  const teardown = async () => {
    await server.exec('DROP TABLE IF EXISTS items');
    if (state !== inner) await state?.close();
    await source?.close();
    await inner.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { fixture, teardown };
}

export const literal = (v: string | number | null) => (v === null ? 'NULL' : `'${v}'`);
