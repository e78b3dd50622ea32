import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { RejectCategory } from '../../destinations/destination.ts';
import type { Value } from '../../sources/source.ts';
import type { FingerprintRecipe, Lock, RejectedQuery, RowState, RowStateInput, RowStateFiles, RowStateUpdate, RunListQuery, StateStore } from '../state-store.ts';
import { openWorkspace, type Workspace } from '../../diff/workspace/workspace.ts';
import type { RejectedGroup } from '../rejected-groups.ts';
import type { RejectedRow, RunRecord, RunSummary, TraceLine } from '../run-record.ts';
import { DEFAULT_LOCK_TIMING, type LockHolder, type LockTiming } from '../lock-holder.ts';
import { HistoryDb } from './history-db.ts';
import { makeFolderSync } from './durable-file.ts';
import { ConfigError } from '../../errors.ts';
import { RowStateFolder } from './row-state-folder.ts';
import { acquireSqliteLock, assertSqliteLockHeld } from './sqlite-lock.ts';
import { redactRecord, type Redactor } from '../../config/redact.ts';

export interface EmbeddedStateOptions {
  lock?: Partial<LockTiming>;
  /** Applied to run summaries, trace lines and rejected rows before they are stored. */
  redact?: Redactor;
}

/**
 * The default store: everything under the project's `.lastmile/` folder, no server.
 *   lastmile.db              runs, trace, rejected rows, cursors, locks (SQLite, WAL)
 *   syncs/<sync>/            per sync: manifest.json, snapshot-<g>.parquet, journal-<g>.ndjson
 * Row state stays in files DuckDB reads natively (rowStateFiles), so a DuckDB diff never converts
 * rows through JS; others read it in plain chunks.
 */
/** How long close() waits for reads still streaming before it closes their database. */
const READERS_GRACE_MS = 5_000;

export class EmbeddedStateStore implements StateStore {
  readonly kind = 'embedded' as const;
  private readonly history: HistoryDb;
  private readonly folders = new Map<string, RowStateFolder>();
  private readonly timing: LockTiming;
  /** Locks this store's runs hold: their writes stop if another run took one over. */
  private readonly held = new Map<string, LockHolder>();
  /** The store's own DuckDB (memory capped, spilling to disk): compaction and reads of the Parquet state. */
  private scratch?: Promise<Workspace>;
  private readonly readers = new Set<Promise<void>>();
  private readonly redact: Redactor;

  constructor(readonly root: string, options: EmbeddedStateOptions = {}) {
    try {
      makeFolderSync(path.join(root, 'syncs'));
    } catch (error) {
      throw new ConfigError(`cannot create the state folder ${root}: ${(error as Error).message}; point state: at a folder Lastmile may write to`);
    }
    this.history = new HistoryDb(path.join(root, 'lastmile.db'));
    this.timing = { ...DEFAULT_LOCK_TIMING, ...options.lock };
    this.redact = options.redact ?? ((text) => text);
  }

  fingerprintRecipe(sync: string): Promise<FingerprintRecipe | null> {
    return this.folder(sync).recipe();
  }

  readRowState(sync: string, options: { chunkSize?: number; signal?: AbortSignal } = {}): AsyncIterable<RowState[]> {
    return this.folder(sync).read(options.chunkSize ?? 10_000, options.signal ?? new AbortController().signal);
  }

  rowStateFiles(sync: string): Promise<RowStateFiles> {
    return this.folder(sync).files();
  }

  commitRows(sync: string, updates: RowStateUpdate[]): Promise<void> {
    if (!updates.length) return Promise.resolve();
    return this.folder(sync).commit(updates);
  }

  compactRowState(sync: string): Promise<void> {
    return this.folder(sync).compact();
  }

  replaceRowState(sync: string, rows: RowStateInput): Promise<void> {
    return this.folder(sync).replace(rows);
  }

  forgetFingerprints(sync: string): Promise<void> {
    return this.folder(sync).forgetFingerprints();
  }

  private workspace(): Promise<Workspace> {
    this.scratch ??= openWorkspace();
    return this.scratch;
  }

  private async connection(): Promise<DuckDBConnection> {
    return (await this.workspace()).connection;
  }

  /** A connection of its own for one streaming read; `done` closes it. close() waits for these. */
  private async readConnection(): Promise<{ db: DuckDBConnection; done: () => void }> {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    this.readers.add(finished);
    void finished.then(() => this.readers.delete(finished));
    try {
      const db = await (await this.workspace()).connect();
      return { db, done: () => { db.closeSync(); finish(); } };
    } catch (error) {
      finish();
      throw error;
    }
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
    this.history.saveRun(redactRecord(run, this.redact));
  }

  async abandonDeadRuns(): Promise<string[]> {
    return this.history.abandonDeadRuns(this.timing);
  }

  async appendTrace(runId: string, lines: TraceLine[]): Promise<void> {
    this.history.appendTrace(runId, redactRecord(lines, this.redact));
  }

  async addRejected(rows: RejectedRow[]): Promise<void> {
    this.history.addRejected(redactRecord(rows, this.redact));
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
  rejectedGroups(runId: string): Promise<RejectedGroup[]> {
    return Promise.resolve(this.history.rejectedGroups(runId));
  }

  latestRejections(sync: string): Promise<RejectedRow[]> {
    return Promise.resolve(this.history.latestRejections(sync));
  }

  pausedAt(sync: string): Promise<string | null> {
    return Promise.resolve(this.history.pausedAt(sync));
  }

  async setPaused(sync: string, at: string | null): Promise<void> {
    await this.history.setPaused(sync, at);
  }


  async close(): Promise<void> {
    for (const folder of this.folders.values()) await folder.close();
    this.folders.clear();
    // A read still streaming on a connection of the scratch database would crash the process if
    // the database closed under it: they end first (a reader left unfinished is waited for 5 s).
    await Promise.race([Promise.all(this.readers), sleep(READERS_GRACE_MS, undefined, { ref: false })]);
    if (this.scratch) {
      await (await this.scratch).close();
      this.scratch = undefined;
    }
    this.history.close();
  }

  private folder(sync: string): RowStateFolder {
    let folder = this.folders.get(sync);
    if (!folder) {
      folder = new RowStateFolder(sync, path.join(this.root, 'syncs', folderName(sync)), () => this.connection(), () => this.readConnection(), () => {
        const holder = this.held.get(sync);
        if (holder) assertSqliteLockHeld(this.history.db, holder);
      }, () => this.history.lastDelivery(sync));
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
