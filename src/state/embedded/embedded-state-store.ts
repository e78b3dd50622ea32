import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { RejectCategory } from '../../destinations/destination.ts';
import type { Value } from '../../sources/source.ts';
import type { Lock, RejectedQuery, RowStateUpdate, RunListQuery, StateStore } from '../state-store.ts';
import type { RejectedRow, RunRecord, RunSummary, TraceLine } from '../run-record.ts';
import { DEFAULT_LOCK_TIMING, type LockHolder, type LockTiming } from '../lock-holder.ts';
import { HistoryDb } from './history-db.ts';
import { RowStateFolder } from './row-state-folder.ts';
import { acquireSqliteLock, assertSqliteLockHeld } from './sqlite-lock.ts';

export interface EmbeddedStateOptions {
  lock?: Partial<LockTiming>;
}

/**
 * The default store: everything under the project's `.lastmile/` folder, no server.
 *   lastmile.db              runs, trace, rejected rows, cursors, locks (SQLite, WAL)
 *   syncs/<sync>/            per sync: manifest.json, snapshot-<g>.parquet, journal-<g>.ndjson
 * Row state stays in files DuckDB reads natively, so the diff never converts rows through JS.
 */
export class EmbeddedStateStore implements StateStore {
  readonly kind = 'embedded' as const;
  private readonly history: HistoryDb;
  private readonly folders = new Map<string, RowStateFolder>();
  private readonly timing: LockTiming;
  /** Locks this store's runs hold: their writes stop if another run took one over. */
  private readonly held = new Map<string, LockHolder>();
  private scratch?: Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }>;

  constructor(readonly root: string, options: EmbeddedStateOptions = {}) {
    fs.mkdirSync(path.join(root, 'syncs'), { recursive: true });
    this.history = new HistoryDb(path.join(root, 'lastmile.db'));
    this.timing = { ...DEFAULT_LOCK_TIMING, ...options.lock };
  }

  exposeRowState(sync: string, workspace: DuckDBConnection, name: string): Promise<void> {
    return this.folder(sync).expose(workspace, name);
  }

  commitRows(sync: string, updates: RowStateUpdate[]): Promise<void> {
    if (!updates.length) return Promise.resolve();
    return this.folder(sync).commit(updates);
  }

  replaceRowState(sync: string, workspace: DuckDBConnection, selectSql: string): Promise<void> {
    return this.folder(sync).replace(workspace, selectSql);
  }

  async forgetFingerprints(sync: string): Promise<void> {
    this.scratch ??= DuckDBInstance.create(':memory:').then(async (instance) => ({ instance, connection: await instance.connect() }));
    await this.folder(sync).forgetFingerprints((await this.scratch).connection);
  }

  async getCursor(sync: string): Promise<Value | null> {
    return this.history.getCursor(sync);
  }

  async setCursor(sync: string, value: Value | null): Promise<void> {
    this.history.setCursor(sync, value);
  }

  async acquireLock(sync: string, runId: string): Promise<Lock> {
    const lock = acquireSqliteLock(this.history.db, sync, runId, this.timing);
    this.held.set(sync, lock.holder);
    return {
      release: async () => {
        if (this.held.get(sync) === lock.holder) this.held.delete(sync);
        await lock.release();
      },
    };
  }

  async saveRun(run: RunRecord): Promise<void> {
    this.history.saveRun(run);
  }

  async abandonDeadRuns(): Promise<string[]> {
    return this.history.abandonDeadRuns(this.timing);
  }

  async appendTrace(runId: string, lines: TraceLine[]): Promise<void> {
    this.history.appendTrace(runId, lines);
  }

  async addRejected(rows: RejectedRow[]): Promise<void> {
    this.history.addRejected(rows);
  }

  async listRuns(query?: RunListQuery): Promise<RunSummary[]> {
    return this.history.listRuns(query);
  }

  async getRun(runId: string): Promise<(RunRecord & { trace: TraceLine[] }) | undefined> {
    return this.history.getRun(runId);
  }

  async listRejected(runId: string, query?: RejectedQuery): Promise<{ total: number; rows: RejectedRow[] }> {
    return this.history.listRejected(runId, query);
  }

  async rejectedByCategory(runId: string): Promise<Partial<Record<RejectCategory, number>>> {
    return this.history.rejectedByCategory(runId);
  }

  async close(): Promise<void> {
    for (const folder of this.folders.values()) await folder.close();
    this.folders.clear();
    if (this.scratch) {
      const { instance, connection } = await this.scratch;
      connection.closeSync();
      instance.closeSync();
      this.scratch = undefined;
    }
    this.history.close();
  }

  private folder(sync: string): RowStateFolder {
    let folder = this.folders.get(sync);
    if (!folder) {
      folder = new RowStateFolder(sync, path.join(this.root, 'syncs', folderName(sync)), () => {
        const holder = this.held.get(sync);
        if (holder) assertSqliteLockHeld(this.history.db, holder);
      });
      this.folders.set(sync, folder);
    }
    return folder;
  }
}

/** A file-system-safe, glob-free, reversible folder name for a sync. */
export function folderName(sync: string): string {
  if (!sync) throw new TypeError('a sync name must not be empty');
  return encodeURIComponent(sync).replace(/[.!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
