import type { RowState, RowStateFiles, RowStateInput, RowStateUpdate, StateStore, FingerprintRecipe } from '../../state/state-store.ts';
import type { Value } from '../../sources/source.ts';
import { FORGOTTEN_FP, validateUpdates } from '../../state/row-state-sql.ts';
import { matchJson } from '../../state/value-json.ts';
import { RunError } from '../../errors.ts';
import { placeholders, type WarehouseSession } from './warehouse-session.ts';

/** The table in `stateSchema` that holds every sync's row state. */
export const ROW_STATE_TABLE = 'lastmile_row_state';
const COLUMNS = ['sync_name', 'row_key', 'fp', 'status', 'dest_id', 'match_json'];
/** Rows per INSERT: well within every driver's parameter limit. */
const ROWS_PER_STATEMENT = 500;

/**
 * A state store whose row state lives in the warehouse, beside the model (`diff: warehouse`):
 * one table in the schema the user granted. Everything else (locks, cursor, run history) stays
 * in the engine's own store. The engine commits through it exactly as through any store, so
 * state moves in the same places: one transaction per acknowledged batch, nothing else.
 */
export class WarehouseRowState implements StateStore {
  readonly kind: StateStore['kind'];
  /** The state table, quoted for the warehouse's SQL. */
  readonly table: string;

  private constructor(readonly session: WarehouseSession, readonly schema: string, private readonly inner: StateStore) {
    this.kind = inner.kind;
    const q = session.dialect.quote;
    this.table = `${q(schema)}.${q(ROW_STATE_TABLE)}`;
  }

  /** Opens the state in `schema`, creating the schema and table when they are missing. */
  static async open(session: WarehouseSession, schema: string, inner: StateStore): Promise<WarehouseRowState> {
    const store = new WarehouseRowState(session, schema, inner);
    const { types, quote: q } = session.dialect;
    try {
      await session.run(session.dialect.createSchema(schema));
      await session.run(
        `CREATE TABLE IF NOT EXISTS ${store.table} (sync_name ${types.name} NOT NULL, row_key ${types.key} NOT NULL, fp ${types.fp} NOT NULL,
           status ${types.name} NOT NULL, dest_id ${types.text}, match_json ${types.text}${session.dialect.declaresPrimaryKey === false ? '' : ', PRIMARY KEY (sync_name, row_key)'})`,
      );
    } catch (error) {
      throw new RunError(
        `cannot keep the sync state in ${q(schema)} (diff: warehouse): ${error instanceof Error ? error.message : String(error)}. ` +
          `Grant the source's user CREATE on the database (or create schema ${schema} for it), or set stateSchema to a schema it may write`,
        { cause: error },
      );
    }
    return store;
  }

  /** The state rows of `sync`, as a SELECT with columns row_key, fp, status, dest_id, match_json. */
  rowsOf(sync: string): string {
    return `SELECT row_key, fp, status, dest_id, match_json FROM ${this.table} WHERE sync_name = ${this.session.dialect.literal(sync)}`;
  }

  async fingerprintRecipe(sync: string): Promise<FingerprintRecipe | null> {
    const rows = await this.session.run(`SELECT 1 AS one FROM ${this.table} WHERE sync_name = ${this.p(1)} LIMIT 1`, [sync]);
    return rows.length ? 'v1' : null;
  }

  async *readRowState(sync: string, options: { chunkSize?: number; signal?: AbortSignal } = {}): AsyncIterable<RowState[]> {
    const size = options.chunkSize ?? 10_000;
    let after = '';
    for (;;) {
      options.signal?.throwIfAborted();
      // Keyset pages: no cursor held open between chunks.
      const rows = await this.session.run(
        `SELECT row_key, fp, status, dest_id, match_json FROM ${this.table} WHERE sync_name = ${this.p(1)} AND row_key > ${this.p(2)}
         ORDER BY row_key LIMIT ${size}`, [sync, after]);
      if (!rows.length) return;
      yield rows.map(toRowState);
      after = String(rows[rows.length - 1]!.row_key);
    }
  }

  rowStateFiles(): Promise<RowStateFiles> {
    throw new RunError('internal error: the row state of a warehouse diff lives in the warehouse, not in files');
  }

  async commitRows(sync: string, updates: RowStateUpdate[]): Promise<void> {
    validateUpdates(sync, updates);
    // A later update of a key wins: one statement may not touch a row twice.
    const latest = new Map<string, RowStateUpdate>();
    for (const update of updates) latest.set(update.key, update);
    const deleted: string[] = [];
    const upserts: RowState[] = [];
    for (const update of latest.values()) {
      if ('deleted' in update) deleted.push(update.key);
      else upserts.push(update);
    }
    await this.session.transaction(async (run) => {
      for (let i = 0; i < deleted.length; i += ROWS_PER_STATEMENT) {
        const keys = deleted.slice(i, i + ROWS_PER_STATEMENT);
        await run(`DELETE FROM ${this.table} WHERE sync_name = ${this.p(1)} AND row_key IN (${placeholders(this.session.dialect, keys.length, 2)})`, [sync, ...keys]);
      }
      await this.insert(run, sync, upserts);
    });
  }

  async compactRowState(): Promise<void> {}

  async replaceRowState(sync: string, input: RowStateInput): Promise<void> {
    if (!Array.isArray(input) && 'parquet' in input) throw new RunError('internal error: a warehouse state is not replaced from a Parquet file');
    await this.session.transaction(async (run) => {
      await run(`DELETE FROM ${this.table} WHERE sync_name = ${this.p(1)}`, [sync]);
      if (Array.isArray(input)) return this.insert(run, sync, input);
      for await (const rows of input) await this.insert(run, sync, rows);
    });
  }

  async forgetFingerprints(sync: string): Promise<void> {
    await this.session.run(`UPDATE ${this.table} SET fp = ${FORGOTTEN_FP} WHERE sync_name = ${this.p(1)}`, [sync]);
  }

  getCursor(sync: string) { return this.inner.getCursor(sync); }
  setCursor(sync: string, value: Value | null) { return this.inner.setCursor(sync, value); }
  acquireLock(sync: string, runId: string) { return this.inner.acquireLock(sync, runId); }
  saveRun(...args: Parameters<StateStore['saveRun']>) { return this.inner.saveRun(...args); }
  abandonDeadRuns() { return this.inner.abandonDeadRuns(); }
  appendTrace(...args: Parameters<StateStore['appendTrace']>) { return this.inner.appendTrace(...args); }
  addRejected(...args: Parameters<StateStore['addRejected']>) { return this.inner.addRejected(...args); }
  listRuns(...args: Parameters<StateStore['listRuns']>) { return this.inner.listRuns(...args); }
  getRun(runId: string) { return this.inner.getRun(runId); }
  listRejected(...args: Parameters<StateStore['listRejected']>) { return this.inner.listRejected(...args); }
  rejectedByCategory(runId: string) { return this.inner.rejectedByCategory(runId); }
  rejectedGroups(runId: string) { return this.inner.rejectedGroups(runId); }
  latestRejections(sync: string) { return this.inner.latestRejections(sync); }
  pausedAt(sync: string) { return this.inner.pausedAt(sync); }
  setPaused(sync: string, at: string | null) { return this.inner.setPaused(sync, at); }

  /** Closes the warehouse session only: the engine's own store is its owner's to close. */
  close(): Promise<void> {
    return this.session.close();
  }

  private async insert(run: WarehouseSession['run'], sync: string, rows: RowState[]): Promise<void> {
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      const part = rows.slice(i, i + ROWS_PER_STATEMENT);
      const params = part.flatMap((u) => [sync, u.key, u.fp, u.status, u.destId ?? null, matchJson(u.match)]);
      const { upsert } = this.session.dialect;
      if (upsert) {
        await run(upsert(this.table, COLUMNS, ['sync_name', 'row_key'], part.length), params);
        continue;
      }
      // No upsert statement: the keys' rows go, then the rows come back, inside the caller's transaction.
      await run(`DELETE FROM ${this.table} WHERE sync_name = ${this.p(1)} AND row_key IN (${placeholders(this.session.dialect, part.length, 2)})`,
        [sync, ...part.map((u) => u.key)]);
      const rowsSql = Array.from({ length: part.length }, (_, r) => `(${placeholders(this.session.dialect, COLUMNS.length, r * COLUMNS.length + 1)})`);
      await run(`INSERT INTO ${this.table} (${COLUMNS.join(', ')}) VALUES ${rowsSql.join(', ')}`, params);
    }
  }

  private p(index: number): string {
    return this.session.dialect.placeholder(index);
  }
}

function toRowState(row: Record<string, unknown>): RowState {
  return {
    key: String(row.row_key), fp: String(row.fp), status: row.status as RowState['status'],
    destId: row.dest_id == null ? null : String(row.dest_id),
    match: row.match_json == null ? null : (JSON.parse(String(row.match_json)) as Record<string, Value>),
  };
}
