import type { Column, Row, Value } from '../../sources/source.ts';
import type { RowStatus } from '../../state/state-store.ts';
import type { ChangeRow, Diff, DiffCounts, DiffKind, DiffRequest, InvalidKey } from '../diff.ts';
import { RunError } from '../../errors.ts';
import { rowStateSql } from '../../state/row-state-sql.ts';
import { stageRows } from '../../sources/duckdb/duckdb-staging.ts';
import { openWorkspace, type Workspace } from '../workspace/workspace.ts';
import { isFingerprintSource, placeholders, type FingerprintSource } from '../warehouse/warehouse-session.ts';
import { modelRelation, newestIn, type ModelRelation } from '../warehouse/model-relation.ts';
import { countsOf, countsQuery, diffStatements, invalidKeysQuery, type DiffTables } from '../warehouse/diff-statements.ts';

const TABLES: DiffTables = { cur: 'lm_cur', dup: 'lm_dup', diff: 'lm_diff' };
const PAIRS = 'lm_pairs';
const PREVIOUS = 'lm_previous';
const STATE = `SELECT key AS row_key, fp, status, dest_id, "match" AS match_json FROM ${PREVIOUS}`;
const INTERNAL = new Set(['__mkey', '__mfp']);
const DUCKDB = {
  createScratch: (table: string, select: string) => `CREATE OR REPLACE TEMP TABLE ${table} AS ${select}`,
  indexScratch: () => [],
};

/**
 * `diff: engine`, for read-only access to the warehouse: it computes each row's key and recipe
 * v1 fingerprint, and only those pairs cross the network. The diff runs beside the engine in a
 * DuckDB workspace against the engine's own state (the same SQL as the warehouse diff's), and
 * the rows that differ are fetched back by key when delivery asks for them.
 */
export async function openEngineDiff(request: DiffRequest): Promise<Diff> {
  const { source, state, sync, model, signal } = request;
  if (!isFingerprintSource(source)) throw new RunError(`source "${source.name}" (${source.type}) cannot fingerprint rows itself; use diff: workspace`);
  if ((await state.fingerprintRecipe(sync)) === 'duckdb-hash') {
    throw new RunError(`sync "${sync}": its state was written by a release before fingerprint recipe v1; run it once with diff: workspace, which upgrades the state, then switch to diff: engine`);
  }
  const workspace = await openWorkspace({ memoryLimit: request.memoryLimit });
  try {
    const relation = await modelRelation(request);
    const dialect = source.fingerprintSql;
    const { plan } = relation;
    const pairs = `SELECT ${dialect.key(plan.primaryKey)} AS lm_key, ${dialect.asText(dialect.fingerprint(plan.signature, plan.columns))} AS lm_fp
                   FROM (${relation.sql}) AS lm_model`;
    const text: Column[] = [{ name: 'lm_key', type: 'varchar' }, { name: 'lm_fp', type: 'varchar' }];
    async function* read() {
      for await (const chunk of source.read(pairs, { chunkSize: 50_000, signal, params: relation.params })) yield { columns: text, rows: chunk.rows };
    }
    await stageRows(workspace.connection, PAIRS, read(), signal);
    const db = workspace.connection;
    await db.run(DUCKDB.createScratch(TABLES.cur, `SELECT lm_key, CAST(lm_fp AS UBIGINT) AS lm_fp FROM ${PAIRS}`));
    await db.run(`DROP TABLE ${PAIRS}`);
    const files = await state.rowStateFiles(sync);
    try {
      await db.run(`CREATE OR REPLACE TEMP TABLE ${PREVIOUS} AS ${rowStateSql(files)}`);
    } finally {
      await files.release();
    }
    for (const statement of diffStatements(DUCKDB, TABLES, STATE, { incremental: relation.incremental, retryRejected: request.retryRejected, fullResync: request.fullResync })) {
      await db.run(statement);
    }
    const counts = countsOf((await db.runAndReadAll(countsQuery(TABLES, STATE))).getRowObjects()[0]!);
    const highWaterMark = model.cursor ? (await maxCursor(source, relation, model.cursor, signal)) ?? request.since : request.since;
    return new EngineDiff(workspace, source, relation, counts, highWaterMark);
  } catch (error) {
    await workspace.close();
    throw error;
  }
}

async function maxCursor(source: FingerprintSource, relation: ModelRelation, cursor: string, signal: AbortSignal): Promise<Value | null> {
  const sql = `SELECT max(${source.quoteIdentifier(cursor)}) AS hwm FROM (${relation.sql}) AS lm_model`;
  for await (const chunk of source.read(sql, { chunkSize: 1, signal, params: relation.params })) return chunk.rows[0]?.hwm ?? null;
  return null;
}

class EngineDiff implements Diff {
  readonly method = 'engine';
  readonly columns: string[];

  constructor(
    private readonly workspace: Workspace,
    private readonly source: FingerprintSource,
    private readonly relation: ModelRelation,
    readonly counts: DiffCounts,
    readonly highWaterMark: Value | null,
  ) {
    this.columns = relation.columns.map((c) => c.name);
  }

  get incremental(): boolean {
    return this.relation.incremental;
  }

  async *invalidKeys(): AsyncIterable<InvalidKey[]> {
    if (this.counts.invalid === 0) return;
    const rows = (await this.workspace.connection.runAndReadAll(invalidKeysQuery(TABLES))).getRowObjects();
    yield rows.map((r) => ({ key: r.invalid_key == null ? null : String(r.invalid_key), copies: Number(r.copies) }));
  }

  newest(column: string, signal: AbortSignal): Promise<Value | null> {
    return newestIn(this.source, this.relation, column, signal);
  }

  async sample(perKind: number, signal: AbortSignal): Promise<ChangeRow[]> {
    const out: ChangeRow[] = [];
    for (const kind of ['added', 'changed', 'removed'] as const) {
      for await (const chunk of this.read([kind], perKind, signal, perKind)) out.push(...chunk);
    }
    return out;
  }

  changes(kinds: DiffKind[], { chunkSize, signal }: { chunkSize: number; signal: AbortSignal }): AsyncIterable<ChangeRow[]> {
    return this.read(kinds, chunkSize, signal);
  }

  close(): Promise<void> {
    return this.workspace.close();
  }

  /** Pages of differences by key (no DuckDB stream held open while the warehouse is asked), their rows fetched by key. */
  private async *read(kinds: DiffKind[], chunkSize: number, signal: AbortSignal, limit?: number): AsyncIterable<ChangeRow[]> {
    if (!kinds.length) return;
    let after = '';
    let left = limit ?? Infinity;
    while (left > 0) {
      signal.throwIfAborted();
      const size = Math.min(chunkSize, left);
      const page = (await this.workspace.connection.runAndReadAll(
        `SELECT d.lm_key, d.lm_kind, p.status, p.dest_id, p.match_json FROM ${TABLES.diff} AS d LEFT JOIN (${STATE}) AS p ON p.row_key = d.lm_key
         WHERE d.lm_kind IN (${kinds.map((k) => `'${k}'`).join(', ')}) AND d.lm_key > $1 ORDER BY d.lm_key LIMIT ${size}`, [after],
      )).getRowObjects();
      if (!page.length) return;
      after = String(page[page.length - 1]!.lm_key);
      left -= page.length;
      const rows = await this.fetch(page.filter((p) => p.lm_kind !== 'removed').map((p) => String(p.lm_key)), signal);
      yield page.map((p) => changeRow(p, rows));
      if (page.length < size) return;
    }
  }

  /** The model rows of `keys`, by key, with the fingerprint of the values they hold now. */
  private async fetch(keys: string[], signal: AbortSignal): Promise<Map<string, { fp: string; row: Row }>> {
    const found = new Map<string, { fp: string; row: Row }>();
    if (!keys.length) return found;
    const dialect = this.source.fingerprintSql;
    const { sql, params, plan } = this.relation;
    const key = dialect.key(plan.primaryKey);
    const query = `SELECT * FROM (SELECT ${key} AS __mkey, ${dialect.asText(dialect.fingerprint(plan.signature, plan.columns))} AS __mfp, lm_m.* FROM (${sql}) AS lm_m) AS lm_keyed
                   WHERE __mkey IN (${placeholders(dialect, keys.length, params.length + 1)})`;
    for await (const chunk of this.source.read(query, { chunkSize: 10_000, signal, params: [...params, ...keys] })) {
      const names = chunk.columns.map((c) => c.name).filter((name) => !INTERNAL.has(name));
      for (const r of chunk.rows) {
        const row: Row = {};
        for (const name of names) row[name] = r[name]!;
        found.set(String(r.__mkey), { fp: String(r.__mfp), row });
      }
    }
    return found;
  }
}

function changeRow(p: Record<string, unknown>, rows: Map<string, { fp: string; row: Row }>): ChangeRow {
  const kind = p.lm_kind as DiffKind;
  const key = String(p.lm_key);
  const now = kind === 'removed' ? undefined : rows.get(key);
  return {
    kind, key, fp: now?.fp ?? null, localFp: null, row: now?.row ?? null,
    previous: p.status == null ? null : {
      status: String(p.status) as RowStatus,
      destId: p.dest_id == null ? null : String(p.dest_id),
      match: p.match_json == null ? null : JSON.parse(String(p.match_json)) as Record<string, Value>,
    },
  };
}
