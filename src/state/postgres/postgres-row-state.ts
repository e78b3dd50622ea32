import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import Cursor from 'pg-cursor';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { Value } from '../../sources/source.ts';
import type { FingerprintRecipe, RowState, RowStateInput, RowStateFiles, RowStateUpdate, RowStatus } from '../state-store.ts';
import { CommitQueue } from '../commit-queue.ts';
import { FORGOTTEN_FP, quoteIdent, validateUpdates } from '../row-state-sql.ts';
import { matchJson } from '../value-json.ts';
import { csvQuoted } from '../../destinations/postgres/postgres-values.ts';
import { rowStateChunks } from '../row-state-rows.ts';
import type { DuckDBConnection } from '@duckdb/node-api';
import { inTransaction } from './postgres-transaction.ts';

/**
 * Row state in `<schema>.row_state`, one row per (sync, key). Commits go straight to the
 * table, grouped (one transaction per group of batches). A DuckDB diff takes the state as a
 * CSV export (COPY, no per-row conversion in JS); anyone else reads it in chunks.
 */
export class PostgresRowState {
  private readonly queues = new Map<string, CommitQueue<RowStateUpdate>>();

  /**
   * `guard` (inside each writing transaction) throws when this process's run lost the sync's lock;
   * `scratch` is a DuckDB for reading a Parquet file given to replace().
   */
  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly scratch: () => Promise<DuckDBConnection>,
    private readonly guard: (client: pg.PoolClient, sync: string) => Promise<void> = async () => undefined,
  ) {}

  private get table(): string {
    return `${quoteIdent(this.schema)}.row_state`;
  }

  private get recipes(): string {
    return `${quoteIdent(this.schema)}.row_state_recipe`;
  }

  /** Inside a writing transaction: names the recipe of a new state, or (`replace`) of any. */
  private async markRecipe(client: pg.PoolClient, sync: string, replace: boolean): Promise<void> {
    if (replace) {
      await client.query(`INSERT INTO ${this.recipes} VALUES ($1, 'v1') ON CONFLICT (sync) DO UPDATE SET fingerprint = 'v1'`, [sync]);
      return;
    }
    await client.query(
      `INSERT INTO ${this.recipes} SELECT $1, 'v1' WHERE NOT EXISTS (SELECT 1 FROM ${this.table} WHERE sync = $1) ON CONFLICT (sync) DO NOTHING`, [sync]);
  }

  /** See StateStore.fingerprintRecipe: a sync with rows but no recipe row was written before recipe v1. */
  async recipe(sync: string): Promise<FingerprintRecipe | null> {
    const { rows } = await this.pool.query<{ fingerprint: FingerprintRecipe | null; any_row: boolean }>(
      `SELECT (SELECT fingerprint FROM ${this.recipes} WHERE sync = $1) AS fingerprint,
              EXISTS (SELECT 1 FROM ${this.table} WHERE sync = $1) AS any_row`, [sync]);
    return rows[0].fingerprint ?? (rows[0].any_row ? 'duckdb-hash' : null);
  }

  /** The state as of now, exported to a temporary CSV file that `release()` removes. */
  async files(sync: string): Promise<RowStateFiles> {
    const csv = path.join(os.tmpdir(), `lastmile-${randomUUID()}-state.csv`);
    const client = await this.pool.connect();
    try {
      const select = `SELECT key, fp, status, dest_id, match::text, local_fp FROM ${this.table} WHERE sync = ${client.escapeLiteral(sync)}`;
      await pipeline(client.query(copyTo(`COPY (${select}) TO STDOUT (FORMAT csv)`)), fs.createWriteStream(csv));
    } catch (error) {
      fs.rmSync(csv, { force: true });
      throw error;
    } finally {
      client.release();
    }
    return { base: { path: csv, format: 'csv' }, release: async () => fs.rmSync(csv, { force: true }) };
  }

  async *read(sync: string, chunkSize: number, signal: AbortSignal): AsyncIterable<RowState[]> {
    const client = await this.pool.connect();
    const cursor = client.query(new Cursor(
      `SELECT key, fp::text AS fp, status, dest_id, match::text AS match, local_fp::text AS local_fp FROM ${this.table} WHERE sync = $1`, [sync]));
    try {
      for (;;) {
        signal.throwIfAborted();
        const rows = await cursor.read(chunkSize) as { key: string; fp: string; status: RowStatus; dest_id: string | null; match: string | null; local_fp: string | null }[];
        if (rows.length === 0) return;
        yield rows.map((r) => ({
          key: r.key, fp: r.fp, status: r.status, destId: r.dest_id, localFp: r.local_fp,
          match: r.match === null ? null : JSON.parse(r.match) as Record<string, Value>,
        }));
      }
    } finally {
      await cursor.close().catch(() => undefined);
      client.release();
    }
  }

  /** Validation and enqueueing run before the first await: commits keep their call order. */
  async commit(sync: string, updates: RowStateUpdate[]): Promise<void> {
    validateUpdates(sync, updates);
    return this.queue(sync).commit(updates);
  }

  /** Swaps in `rows` in one transaction; a duplicated key leaves the state as it was. */
  replace(sync: string, rows: RowStateInput): Promise<void> {
    return this.queue(sync).exclusive(() => inTransaction(this.pool, async (client) => {
      await this.guard(client, sync);
      const staged = `lastmile_replace_${process.pid}`;
      await client.query(`CREATE TEMP TABLE ${staged} (key text, fp numeric(20,0), status text, dest_id text, match jsonb, local_fp numeric(20,0)) ON COMMIT DROP`);
      await pipeline(Readable.from(csvLines(rowStateChunks(rows, this.scratch))), client.query(copyFrom(`COPY ${staged} FROM STDIN (FORMAT csv)`)));
      const bad = await client.query<{ key: string | null; n: string }>(
        `SELECT key, count(*) AS n FROM ${staged} GROUP BY key HAVING count(*) > 1 OR key IS NULL LIMIT 1`);
      if (bad.rows[0]) {
        const what = bad.rows[0].key === null ? 'a row has no key' : `key ${JSON.stringify(bad.rows[0].key)} appears ${bad.rows[0].n} times`;
        throw new Error(`cannot replace the row state of sync "${sync}": ${what}; each key must appear once. The previous state is kept.`);
      }
      await client.query(`DELETE FROM ${this.table} WHERE sync = $1`, [sync]);
      await client.query(`INSERT INTO ${this.table} (sync, key, fp, status, dest_id, match, local_fp)
        SELECT $1, key, fp, status, dest_id, match, local_fp FROM ${staged}`, [sync]);
      await this.markRecipe(client, sync, true);
    }));
  }

  forget(sync: string): Promise<void> {
    return this.queue(sync).exclusive(() => inTransaction(this.pool, async (client) => {
      await this.guard(client, sync);
      await client.query(`UPDATE ${this.table} SET fp = ${FORGOTTEN_FP}, local_fp = NULL WHERE sync = $1`, [sync]);
    }));
  }

  async close(): Promise<void> {
    for (const queue of this.queues.values()) await queue.idle();
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
      await this.markRecipe(client, sync, false);
      if (deletes.length) await client.query(`DELETE FROM ${this.table} WHERE sync = $1 AND key = ANY($2::text[])`, [sync, deletes]);
      if (upserts.length) {
        await client.query(
          `INSERT INTO ${this.table} (sync, key, fp, status, dest_id, match, local_fp)
           SELECT $1, k, f, s, d, m, h FROM unnest($2::text[], $3::numeric[], $4::text[], $5::text[], $6::jsonb[], $7::numeric[]) AS u(k, f, s, d, m, h)
           ON CONFLICT (sync, key) DO UPDATE
             SET fp = excluded.fp, status = excluded.status, dest_id = excluded.dest_id, match = excluded.match, local_fp = excluded.local_fp`,
          [sync, upserts.map((u) => u.key), upserts.map((u) => u.fp), upserts.map((u) => u.status),
            upserts.map((u) => u.destId ?? null), upserts.map((u) => matchJson(u.match)), upserts.map((u) => u.localFp ?? null)],
        );
      }
    });
  }
}

/** CSV lines (key, fp, status, dest_id, match, local_fp) for COPY … FROM STDIN; an unquoted empty field is NULL. */
async function* csvLines(rows: AsyncIterable<RowState[]>): AsyncIterable<string> {
  for await (const chunk of rows) {
    let text = '';
    for (const r of chunk) {
      text += `${csvQuoted(r.key)},${r.fp},${csvQuoted(r.status)},${r.destId == null ? '' : csvQuoted(r.destId)},${r.match == null ? '' : csvQuoted(matchJson(r.match)!)},${r.localFp ?? ''}\n`;
    }
    yield text;
  }
}
