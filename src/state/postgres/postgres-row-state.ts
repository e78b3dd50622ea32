import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { RowStateUpdate } from '../state-store.ts';
import { CommitQueue } from '../commit-queue.ts';
import { Exposures } from '../exposures.ts';
import { JournalFile } from '../journal-file.ts';
import { FORGOTTEN_FP, quoteIdent, rowStateViewSql, quoteLiteral, typedRowState, validateUpdates } from '../row-state-sql.ts';
import { matchJson } from '../value-json.ts';
import { inTransaction } from './postgres-transaction.ts';

/** A temp table in the workspace holding the state as read from Postgres, plus a local overlay journal. */
interface Exposure { base: string; journal: JournalFile }

const CSV_COLUMNS = `{key: 'VARCHAR', fp: 'UBIGINT', status: 'VARCHAR', dest_id: 'VARCHAR', match: 'VARCHAR'}`;
let tableCounter = 0;

/**
 * Row state in `<schema>.row_state`. Rows move between Postgres and DuckDB as CSV through a
 * temp file (COPY on both sides, no per-row conversion in JS). The exposed relation is a view
 * over a temp table: the state as of exposure. commitRows also appends to a local overlay
 * journal per exposure, so replaceRowState can bring the workspace's views up to date (as the
 * embedded store does) without reading the whole state from Postgres again.
 */
export class PostgresRowState {
  private readonly exposures = new Exposures<Exposure>();
  private readonly queues = new Map<string, CommitQueue<RowStateUpdate>>();
  /** Overlay files of views no longer fed (their workspace may still read them): removed at close. */
  private readonly retired = new Set<string>();

  /** `guard` (inside each writing transaction) throws when this process's run lost the sync's lock. */
  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly guard: (client: pg.PoolClient, sync: string) => Promise<void> = async () => undefined,
  ) {}

  private get table(): string {
    return `${quoteIdent(this.schema)}.row_state`;
  }

  async expose(sync: string, workspace: DuckDBConnection, name: string): Promise<void> {
    // Register the overlay first: a commit landing during the copy is then still there when replace() refreshes the view.
    const journal = await JournalFile.open(tempFile('overlay.ndjson'), { durable: false });
    const base = `lastmile_state_${process.pid}_${++tableCounter}`;
    const previous = this.exposures.add(sync, workspace, name, { base, journal });
    const csv = tempFile('state.csv');
    try {
      const client = await this.pool.connect();
      try {
        const select = `SELECT key, fp, status, dest_id, match::text FROM ${this.table} WHERE sync = ${client.escapeLiteral(sync)}`;
        await pipeline(client.query(copyTo(`COPY (${select}) TO STDOUT (FORMAT csv)`)), fs.createWriteStream(csv));
      } finally {
        client.release();
      }
      await workspace.run(`CREATE OR REPLACE TEMP TABLE ${quoteIdent(base)} AS SELECT * FROM read_csv(${quoteLiteral(csv)},
        header = false, auto_detect = false, columns = ${CSV_COLUMNS}, quote = '"', escape = '"', allow_quoted_nulls = false)`);
      await workspace.run(rowStateViewSql(name, `SELECT * FROM ${quoteIdent(base)}`));
    } catch (error) {
      this.exposures.remove(sync, workspace, name);
      if (previous) this.exposures.add(sync, workspace, name, previous); // the name still shows the earlier exposure
      await this.dispose({ base, journal }, workspace);
      throw error;
    } finally {
      fs.rmSync(csv, { force: true });
    }
    if (previous) await this.dispose(previous, workspace);
  }

  /** Validation and enqueueing run before the first await: commits keep their call order. */
  async commit(sync: string, updates: RowStateUpdate[]): Promise<void> {
    validateUpdates(sync, updates);
    return this.queue(sync).commit(updates);
  }

  replace(sync: string, workspace: DuckDBConnection, selectSql: string): Promise<void> {
    return this.queue(sync).exclusive(() => this.rewrite(sync, workspace, selectSql));
  }

  forget(sync: string): Promise<void> {
    return this.queue(sync).exclusive(async () => {
      await inTransaction(this.pool, async (client) => {
        await this.guard(client, sync);
        await client.query(`UPDATE ${this.table} SET fp = ${FORGOTTEN_FP} WHERE sync = $1`, [sync]);
      });
      // Exposed copies now hold fingerprints Postgres no longer has: stop feeding them.
      for (const { workspace, name, data } of this.exposures.list(sync)) {
        this.exposures.remove(sync, workspace, name);
        await this.retire(data.journal);
      }
    });
  }

  async close(): Promise<void> {
    for (const queue of this.queues.values()) await queue.idle();
    for (const exposure of this.exposures.all()) await this.retire(exposure.journal);
    for (const file of this.retired) fs.rmSync(file, { force: true });
    this.retired.clear();
  }

  private async retire(journal: JournalFile): Promise<void> {
    await journal.close().catch(() => undefined);
    this.retired.add(journal.path);
  }

  /** Drops an exposure's overlay and, unless another exposure still reads it, its base table. */
  private async dispose(exposure: Exposure, workspace: DuckDBConnection): Promise<void> {
    await exposure.journal.close().catch(() => undefined);
    fs.rmSync(exposure.journal.path, { force: true });
    if (this.exposures.all().some((e) => e.base === exposure.base)) return;
    await workspace.run(`DROP TABLE IF EXISTS ${quoteIdent(exposure.base)}`).catch(() => undefined);
  }

  private queue(sync: string): CommitQueue<RowStateUpdate> {
    let queue = this.queues.get(sync);
    if (!queue) {
      queue = new CommitQueue((updates) => this.flush(sync, updates));
      this.queues.set(sync, queue);
    }
    return queue;
  }

  /** One transaction per group of commits; a key's last update in the group wins. */
  private async flush(sync: string, updates: RowStateUpdate[]): Promise<void> {
    const latest = new Map<string, RowStateUpdate>();
    for (const u of updates) { latest.delete(u.key); latest.set(u.key, u); }
    const upserts = [...latest.values()].filter((u) => !('deleted' in u)) as Exclude<RowStateUpdate, { deleted: true }>[];
    const deletes = [...latest.values()].filter((u) => 'deleted' in u).map((u) => u.key);
    await inTransaction(this.pool, async (client) => {
      await this.guard(client, sync);
      if (deletes.length) await client.query(`DELETE FROM ${this.table} WHERE sync = $1 AND key = ANY($2::text[])`, [sync, deletes]);
      if (upserts.length) {
        await client.query(
          `INSERT INTO ${this.table} (sync, key, fp, status, dest_id, match)
           SELECT $1, k, f, s, d, m FROM unnest($2::text[], $3::numeric[], $4::text[], $5::text[], $6::jsonb[]) AS u(k, f, s, d, m)
           ON CONFLICT (sync, key) DO UPDATE
             SET fp = excluded.fp, status = excluded.status, dest_id = excluded.dest_id, match = excluded.match`,
          [sync, upserts.map((u) => u.key), upserts.map((u) => u.fp), upserts.map((u) => u.status),
            upserts.map((u) => u.destId ?? null), upserts.map((u) => matchJson(u.match))],
        );
      }
    });
    for (const { data } of this.exposures.list(sync)) await data.journal.append(updates);
  }

  /** Materialises the new state in the workspace, then swaps it into Postgres in one transaction. */
  private async rewrite(sync: string, workspace: DuckDBConnection, selectSql: string): Promise<void> {
    for (const { workspace: ws, name, data } of this.exposures.list(sync)) {
      if (ws !== workspace) continue;
      await ws.run(rowStateViewSql(name, `SELECT * FROM ${quoteIdent(data.base)}`, { path: data.journal.path, upToSeq: data.journal.lastSeq }));
    }
    const next = `lastmile_state_${process.pid}_${++tableCounter}`;
    await workspace.run(`CREATE TEMP TABLE ${quoteIdent(next)} AS ${typedRowState(selectSql)}`);
    const csv = tempFile('replace.csv');
    try {
      await checkKeys(sync, workspace, next);
      await workspace.run(`COPY (SELECT ${quoteLiteral(sync)}, * FROM ${quoteIdent(next)}) TO ${quoteLiteral(csv)} (FORMAT csv, HEADER false)`);
      await inTransaction(this.pool, async (client) => {
        await this.guard(client, sync);
        await client.query(`DELETE FROM ${this.table} WHERE sync = $1`, [sync]);
        const copy = client.query(copyFrom(`COPY ${this.table} (sync, key, fp, status, dest_id, match) FROM STDIN (FORMAT csv)`));
        await pipeline(fs.createReadStream(csv), copy);
      });
    } catch (error) {
      await workspace.run(`DROP TABLE IF EXISTS ${quoteIdent(next)}`);
      throw error;
    } finally {
      fs.rmSync(csv, { force: true });
    }
    await this.repoint(sync, workspace, next);
  }

  /** Views in the replacing workspace now read the new table; copies elsewhere are left as they were. */
  private async repoint(sync: string, workspace: DuckDBConnection, table: string): Promise<void> {
    let used = false;
    for (const exposure of this.exposures.list(sync)) {
      this.exposures.remove(sync, exposure.workspace, exposure.name);
      if (exposure.workspace !== workspace) { await this.retire(exposure.data.journal); continue; }
      const journal = await JournalFile.open(tempFile('overlay.ndjson'), { durable: false });
      await workspace.run(rowStateViewSql(exposure.name, `SELECT * FROM ${quoteIdent(table)}`));
      this.exposures.add(sync, workspace, exposure.name, { base: table, journal });
      await this.dispose(exposure.data, workspace);
      used = true;
    }
    if (!used) await workspace.run(`DROP TABLE IF EXISTS ${quoteIdent(table)}`);
  }
}

async function checkKeys(sync: string, workspace: DuckDBConnection, table: string): Promise<void> {
  const reader = await workspace.runAndReadAll(
    `SELECT key, count(*) AS n FROM ${quoteIdent(table)} GROUP BY key HAVING count(*) > 1 OR key IS NULL LIMIT 1`,
  );
  const bad = reader.getRowObjectsJson()[0];
  if (!bad) return;
  const what = bad.key === null ? 'a row has no key' : `key ${JSON.stringify(bad.key)} appears ${String(bad.n)} times`;
  throw new Error(`cannot replace the row state of sync "${sync}": ${what}; each key must appear once. The previous state is kept.`);
}

function tempFile(suffix: string): string {
  return path.join(os.tmpdir(), `lastmile-${randomUUID()}-${suffix}`);
}
