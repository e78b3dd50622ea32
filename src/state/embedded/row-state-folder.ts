import fs from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { RowStateUpdate } from '../state-store.ts';
import { CommitQueue } from '../commit-queue.ts';
import { Exposures } from '../exposures.ts';
import { JournalFile, readLastSeq } from '../journal-file.ts';
import { EMPTY_ROW_STATE, FORGOTTEN_FP, quoteIdent, quoteLiteral, rowStateViewSql, typedRowState, validateUpdates } from '../row-state-sql.ts';
import { fsyncPath } from './durable-file.ts';
import { generationOf, journalFile, readManifest, snapshotFile, writeManifest } from './manifest.ts';

/**
 * One sync's row state on disk: `snapshot-<g>.parquet` (written by DuckDB, read by DuckDB)
 * plus `journal-<g>.ndjson`, the updates acknowledged since, and `manifest.json` naming g.
 * Only the run holding the sync's lock writes here; any process may read.
 *
 * An exposed relation is the state as of exposure (the journal is read up to its last entry
 * then). Before compacting, the relations this store exposed in the compacting workspace are
 * brought up to date, so `replaceRowState(…, 'SELECT * FROM <exposed>')` never drops a commit.
 */
export class RowStateFolder {
  private journal?: { generation: number; file: JournalFile };
  private readonly queue = new CommitQueue<RowStateUpdate>((updates) => this.flush(updates));
  private readonly exposures = new Exposures();

  /** `guard` throws when this process's run lost the sync's lock: checked before every write. */
  constructor(readonly sync: string, readonly dir: string, private readonly guard: () => void = () => undefined) {}

  async expose(workspace: DuckDBConnection, name: string): Promise<void> {
    await workspace.run(await this.viewSql(name));
    this.exposures.add(this.sync, workspace, name, {});
  }

  /** Validation and enqueueing run before the first await: commits keep their call order. */
  async commit(updates: RowStateUpdate[]): Promise<void> {
    validateUpdates(this.sync, updates);
    return this.queue.commit(updates);
  }

  replace(workspace: DuckDBConnection, selectSql: string): Promise<void> {
    return this.queue.exclusive(() => this.compact(workspace, selectSql));
  }

  /** Rewrites the state with every fingerprint set to FORGOTTEN_FP, through `scratch` (a private DuckDB). */
  forgetFingerprints(scratch: DuckDBConnection): Promise<void> {
    return this.queue.exclusive(async () => {
      const view = `lastmile_forget_${process.pid}`;
      await scratch.run(await this.viewSql(view));
      try {
        await this.compact(scratch, `SELECT key, ${FORGOTTEN_FP} AS fp, status, dest_id, match FROM ${quoteIdent(view)}`);
      } finally {
        await scratch.run(`DROP VIEW IF EXISTS ${quoteIdent(view)}`);
      }
    });
  }

  async close(): Promise<void> {
    await this.queue.idle();
    await this.journal?.file.close();
    this.journal = undefined;
  }

  /** The view of the current generation: snapshot plus journal up to its last complete entry. */
  private async viewSql(name: string): Promise<string> {
    const { generation } = await readManifest(this.dir);
    const path = journalFile(this.dir, generation);
    const upToSeq = this.journal?.generation === generation ? this.journal.file.lastSeq : await readLastSeq(path);
    const snapshot = snapshotFile(this.dir, generation);
    const base = snapshot ? `SELECT * FROM read_parquet(${quoteLiteral(snapshot)})` : EMPTY_ROW_STATE;
    return rowStateViewSql(name, base, { path, upToSeq });
  }

  private async flush(updates: RowStateUpdate[]): Promise<void> {
    this.guard();
    // Read the manifest each time: another process may have compacted since our last append.
    const { generation } = await readManifest(this.dir);
    if (this.journal?.generation !== generation) {
      await this.journal?.file.close();
      this.journal = undefined;
      await fs.mkdir(this.dir, { recursive: true });
      const file = await JournalFile.open(journalFile(this.dir, generation), { durable: true });
      this.journal = { generation, file };
      // The journal (and this folder) may be brand new: their names must survive a power cut too.
      await fsyncPath(this.dir);
      await fsyncPath(path.dirname(this.dir));
    }
    await this.journal.file.append(updates);
  }

  /**
   * Writes generation g+1 beside g, then switches the manifest. A crash before the switch
   * leaves g (snapshot + journal) untouched; after it, g+1 holds everything g held.
   */
  private async compact(workspace: DuckDBConnection, selectSql: string): Promise<void> {
    this.guard();
    await fs.mkdir(this.dir, { recursive: true });
    for (const exposure of this.exposures.list(this.sync)) {
      if (exposure.workspace === workspace) await workspace.run(await this.viewSql(exposure.name));
    }
    const { generation } = await readManifest(this.dir);
    const next = generation + 1;
    await this.removeFiles((file, g) => file.endsWith('.tmp') || (g !== undefined && g > generation));
    const snapshot = snapshotFile(this.dir, next)!;
    const temp = `${snapshot}.tmp`;
    try {
      await workspace.run(`COPY (${typedRowState(selectSql)}) TO ${quoteLiteral(temp)} (FORMAT parquet)`);
      await this.checkKeys(workspace, temp);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
    await fsyncPath(temp);
    await fs.rename(temp, snapshot);
    const journal = await fs.open(journalFile(this.dir, next), 'w');
    await journal.sync();
    await journal.close();
    await fsyncPath(this.dir);
    this.guard();
    await writeManifest(this.dir, { format: 1, generation: next });

    await this.journal?.file.close();
    this.journal = undefined;
    // Views over generation g would break once its files go: point them at g+1, the state as of now.
    for (const { workspace: ws, name } of this.exposures.list(this.sync)) {
      await ws.run(await this.viewSql(name)).catch(() => this.exposures.remove(this.sync, ws, name));
    }
    // Keep generation g: a reader in another process may still be scanning it.
    await this.removeFiles((_, g) => g !== undefined && g < generation);
  }

  private async checkKeys(workspace: DuckDBConnection, parquet: string): Promise<void> {
    const reader = await workspace.runAndReadAll(
      `SELECT key, count(*) AS n FROM read_parquet(${quoteLiteral(parquet)}) GROUP BY key HAVING count(*) > 1 OR key IS NULL LIMIT 1`,
    );
    const bad = reader.getRowObjectsJson()[0];
    if (!bad) return;
    const what = bad.key === null ? 'a row has no key' : `key ${JSON.stringify(bad.key)} appears ${String(bad.n)} times`;
    throw new Error(`cannot replace the row state of sync "${this.sync}": ${what}; each key must appear once. The previous state is kept.`);
  }

  private async removeFiles(doomed: (file: string, generation: number | undefined) => boolean): Promise<void> {
    for (const file of await fs.readdir(this.dir)) {
      if (file === 'manifest.json') continue;
      if (doomed(file, generationOf(file))) await fs.rm(path.join(this.dir, file), { force: true });
    }
  }
}
