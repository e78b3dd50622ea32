import fs from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { FingerprintRecipe, RowState, RowStateInput, RowStateFiles, RowStateUpdate } from '../state-store.ts';
import { CommitQueue } from '../commit-queue.ts';
import { JournalFile, readLastSeq } from '../journal-file.ts';
import { FORGOTTEN_FP, quoteLiteral, rowStateSql, typedRowState, validateUpdates } from '../row-state-sql.ts';
import { readRowStates, stageRowStates } from '../row-state-rows.ts';
import { fsyncPath } from './durable-file.ts';
import { findManifest, generationOf, journalFile, manifestFile, snapshotFile, writeManifest, type Manifest } from './manifest.ts';
import { RunError } from '../../errors.ts';

/**
 * One sync's row state on disk: `snapshot-<g>.parquet` (written by DuckDB, read by DuckDB)
 * plus `journal-<g>.ndjson`, the updates acknowledged since, and `manifest.json` naming g.
 * Only the run holding the sync's lock writes here; any process may read. Compaction writes
 * generation g+1 beside g and keeps g's files until the next one, so a reader that took the
 * files of g (rowStateFiles) can finish scanning them.
 *
 * `scratch` is the store's own DuckDB, for compacting, rewriting and reading the files.
 */
export class RowStateFolder {
  private journal?: { generation: number; file: JournalFile };
  private readonly queue = new CommitQueue<RowStateUpdate>((updates) => this.flush(updates));
  /** Set while --full-resync rewrites the state: whatever was there, missing or damaged, is replaced. */
  private startingOver = false;

  /**
   * `guard` throws when this process's run lost the sync's lock: checked before every write.
   * `lastDelivery` names a finished run of the sync that delivered rows, if any: such a run
   * left state here, so finding none means it was lost, not that the sync is new.
   */
  constructor(
    readonly sync: string,
    readonly dir: string,
    private readonly scratch: () => Promise<DuckDBConnection>,
    private readonly reader: () => Promise<{ db: DuckDBConnection; done: () => void }>,
    private readonly guard: () => void = () => undefined,
    private readonly lastDelivery: () => string | undefined = () => undefined,
  ) {}

  /** See StateStore.fingerprintRecipe. */
  async recipe(): Promise<FingerprintRecipe | null> {
    const manifest = await this.manifest();
    if (manifest.fingerprint) return manifest.fingerprint;
    const files = await this.files();
    return files.base || files.journal ? 'duckdb-hash' : null;
  }

  /** The snapshot and the journal up to its last complete entry. */
  async files(): Promise<RowStateFiles> {
    const { generation, format } = await this.manifest();
    const journal = journalFile(this.dir, generation);
    const upToSeq = this.journal?.generation === generation ? this.journal.file.lastSeq : await readLastSeq(journal);
    const snapshot = snapshotFile(this.dir, generation);
    return {
      base: snapshot ? { path: snapshot, format: 'parquet', withLocalFp: format === 2 } : null,
      ...(upToSeq > 0 ? { journal: { path: journal, upToSeq } } : {}),
      release: async () => undefined,
    };
  }

  /**
   * On a connection of its own: a streaming result is dropped when its connection runs another
   * query, so two readers at once (a run, the API, the metrics) on the shared one lost rows.
   */
  async *read(chunkSize: number, signal: AbortSignal): AsyncIterable<RowState[]> {
    const { db, done } = await this.reader();
    try {
      yield* readRowStates(db, rowStateSql(await this.files()), chunkSize, signal);
    } finally {
      done();
    }
  }

  /** Validation and enqueueing run before the first await: commits keep their call order. */
  async commit(updates: RowStateUpdate[]): Promise<void> {
    validateUpdates(this.sync, updates);
    return this.queue.commit(updates);
  }

  /** Folds the journal into a new snapshot (nothing to do when it is empty). */
  compact(): Promise<void> {
    return this.queue.exclusive(async () => {
      const files = await this.files();
      if (!files.journal) return;
      await this.rewrite(rowStateSql(files), await this.recipe());
    });
  }

  replace(rows: RowStateInput): Promise<void> {
    return this.queue.exclusive(async () => {
      const db = await this.scratch();
      const table = `lastmile_replace_${process.pid}`;
      try {
        await stageRowStates(db, table, rows);
        await this.rewrite(`SELECT * FROM ${table}`, 'v1');
      } finally {
        await db.run(`DROP TABLE IF EXISTS ${table}`);
      }
    });
  }

  /** Rewrites the state with every fingerprint set to FORGOTTEN_FP; missing or damaged state starts over empty. */
  forgetFingerprints(): Promise<void> {
    return this.queue.exclusive(async () => {
      this.startingOver = true;
      try {
        const state = rowStateSql(await this.files());
        await this.rewrite(`SELECT key, ${FORGOTTEN_FP} AS fp, status, dest_id, match, NULL AS local_fp FROM (${state})`, await this.recipe());
      } finally {
        this.startingOver = false;
      }
    });
  }

  async close(): Promise<void> {
    await this.queue.idle();
    await this.journal?.file.close();
    this.journal = undefined;
  }

  private async flush(updates: RowStateUpdate[]): Promise<void> {
    this.guard();
    // Read the manifest each time: another process may have compacted since our last append.
    const { generation } = await this.manifest();
    if (this.journal?.generation !== generation) {
      // The first commit of a new state: say which recipe its fingerprints follow.
      if ((await this.recipe()) === null) {
        await fs.mkdir(this.dir, { recursive: true });
        await writeManifest(this.dir, { format: 2, generation, fingerprint: 'v1' });
      }
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
   * Writes generation g+1 from `selectSql` (run in the store's DuckDB) beside g, then switches
   * the manifest. A crash before the switch leaves g (snapshot + journal) untouched; after it,
   * g+1 holds everything g held.
   */
  private async rewrite(selectSql: string, recipe: FingerprintRecipe | null): Promise<void> {
    this.guard();
    const db = await this.scratch();
    await fs.mkdir(this.dir, { recursive: true });
    const { generation } = await this.manifest();
    const next = generation + 1;
    await this.removeFiles((file, g) => file.endsWith('.tmp') || (g !== undefined && g > generation));
    const snapshot = snapshotFile(this.dir, next)!;
    const temp = `${snapshot}.tmp`;
    try {
      await db.run(`COPY (${typedRowState(selectSql)}) TO ${quoteLiteral(temp)} (FORMAT parquet)`);
      await this.checkKeys(db, temp);
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
    await writeManifest(this.dir, { format: 2, generation: next, ...(recipe === 'v1' || recipe === null ? { fingerprint: 'v1' as const } : {}) });
    await this.journal?.file.close();
    this.journal = undefined;
    // Keep generation g: a reader (here or in another process) may still be scanning it.
    await this.removeFiles((_, g) => g !== undefined && g < generation);
  }

  /**
   * The current manifest (generation 0 before the first commit, or for a state of the previous
   * release that never compacted). Missing or damaged state is an error naming the file and
   * how to start over; --full-resync (startingOver) replaces it instead.
   */
  private async manifest(): Promise<Manifest> {
    try {
      const manifest = await findManifest(this.dir);
      if (manifest) return manifest;
      await this.assertNothingLost();
    } catch (error) {
      if (!this.startingOver) {
        if (!(error instanceof RunError)) throw error;
        throw new RunError(`${error.message}. To start the state of sync "${this.sync}" over, sending every row again, run: lastmile sync ${this.sync} --full-resync`, { cause: error });
      }
    }
    return { format: 2, generation: 0 };
  }

  /** Without a manifest, the state is generation 0: at most a journal-0, and no run that delivered rows elsewhere. */
  private async assertNothingLost(): Promise<void> {
    const files = await fs.readdir(this.dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    const later = (files ?? []).filter((file) => (generationOf(file) ?? 0) > 0).sort();
    if (later.length) {
      throw new RunError(`${manifestFile(this.dir)} is missing, but ${this.dir} holds ${later.join(', ')}: the state is damaged. ` +
        'If you have it, restore manifest.json as {"format":2,"generation":N,"fingerprint":"v1"}, N the newest snapshot-N.parquet');
    }
    const journal = files?.includes(path.basename(journalFile(this.dir, 0))) ? await fs.stat(journalFile(this.dir, 0)) : undefined;
    if (journal && journal.size > 0) return;
    const run = this.lastDelivery();
    if (!run) return;
    const gone = files ? `${manifestFile(this.dir)} does not exist` : `${this.dir} does not exist`;
    throw new RunError(`the state of sync "${this.sync}" is missing: ${gone}, yet run ${run} delivered rows and recorded them there. ` +
      'Going on would send every row again as new (and mirror could not delete what left the model); if the state was moved, put it back');
  }

  private async checkKeys(db: DuckDBConnection, parquet: string): Promise<void> {
    const reader = await db.runAndReadAll(
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
