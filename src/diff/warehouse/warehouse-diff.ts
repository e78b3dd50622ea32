import { randomBytes } from 'node:crypto';
import type { Column, Row, Value } from '../../sources/source.ts';
import type { RowStatus } from '../../state/state-store.ts';
import type { ChangeRow, Diff, DiffCounts, DiffKind, DiffRequest, InvalidKey } from '../diff.ts';
import { RunError } from '../../errors.ts';
import { isWarehouseSource, type WarehouseSession, type WarehouseSource } from './warehouse-session.ts';
import { WarehouseRowState } from './warehouse-row-state.ts';
import { allDuplicates, countsOf, countsQuery, diffStatement, keyedModel, mayHideDuplicates, removedStatement, visibleDuplicates, type OnePassTables } from './one-pass-diff.ts';
import { modelRelation, newestIn, type ModelRelation } from './model-relation.ts';

const SCRATCH_MAX_AGE_SECONDS = 24 * 3600;
const INTERNAL = new Set(['__kind', '__dkey', '__status', '__dest_id', '__match', '__mfp', 'lm_kind', 'lm_key', 'lm_fp', 'lm_status', 'lm_dest_id', 'lm_match']);

/**
 * `diff: warehouse`: the diff runs inside the source's own database, against the sync's state
 * kept there (WarehouseRowState). One pass fingerprints every model row (recipe v1), joins it
 * to the state, and writes only the rows that differ, with their columns, to a scratch table
 * (one-pass-diff.ts); only those rows ever leave the warehouse, when delivery asks for them.
 */
export async function openWarehouseDiff(request: DiffRequest): Promise<Diff> {
  const { source, state, sync, model, signal } = request;
  if (!isWarehouseSource(source)) throw new RunError(`source "${source.name}" (${source.type}) cannot run the diff itself; use diff: workspace`);
  if (!(state instanceof WarehouseRowState)) throw new RunError('internal error: diff: warehouse needs the row state kept in the warehouse');
  const session = state.session;
  const q = session.dialect.quote;
  // Named by their creation time, so a later diff can tell a killed diff's tables from a live one's.
  const id = `${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  const tables: OnePassTables = {
    dup: `${q(state.schema)}.${q(`lm_scratch_${id}_dup`)}`,
    diff: `${q(state.schema)}.${q(`lm_scratch_${id}_diff`)}`,
    removed: `${q(state.schema)}.${q(`lm_scratch_${id}_removed`)}`,
  };
  const diff = new WarehouseDiff(source, session, tables);
  try {
    await sweepScratch(session, state.schema);
    const relation = await modelRelation(request);
    diff.relation = relation;
    const { sql, params, plan } = relation;
    const dialect = session.dialect;
    const rows = state.rowsOf(sync);
    const key = dialect.key(plan.primaryKey);
    const keys = keyedModel(sql, key);
    const step = async (statement: string, values: typeof params = []) => {
      signal.throwIfAborted();
      await session.run(statement, values);
    };
    await step(diffStatement(dialect, tables, keyedModel(sql, key, dialect.fingerprint(plan.signature, plan.columns)), rows,
      { incremental: relation.incremental, retryRejected: request.retryRejected, fullResync: request.fullResync }), params);
    await step(removedStatement(dialect, tables, keys, rows, relation.incremental), params);
    const { fetched, hwm } = await diff.countModel(signal);
    await step(visibleDuplicates(dialect, tables));
    let countRow = (await session.run(countsQuery(tables, rows)))[0]!;
    if (relation.incremental || mayHideDuplicates(countRow, fetched)) {
      await step(`DROP TABLE ${tables.dup}`);
      await step(allDuplicates(dialect, tables, keys), params);
      countRow = (await session.run(countsQuery(tables, rows)))[0]!;
    }
    for (const statement of dialect.indexScratch(tables.diff, 'lm_key')) await step(statement);
    diff.counts = countsOf(countRow, fetched);
    diff.highWaterMark = model.cursor ? hwm ?? request.since : request.since;
    diff.columns = relation.columns.map((c) => c.name);
    return diff;
  } catch (error) {
    await diff.close();
    throw error;
  }
}

/** Drops the scratch tables of diffs killed over a day ago (a live diff, a plan beside a run, keeps its own). */
async function sweepScratch(session: WarehouseSession, schema: string): Promise<void> {
  const rows = await session.run(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ${session.dialect.placeholder(1)} AND table_name LIKE 'lm\\_scratch\\_%'`, [schema]);
  const dayAgo = Date.now() / 1000 - SCRATCH_MAX_AGE_SECONDS;
  for (const { name } of rows) {
    const created = Number(/^lm_scratch_(\d+)_/.exec(String(name))?.[1]);
    if (created < dayAgo) await session.run(`DROP TABLE IF EXISTS ${session.dialect.quote(schema)}.${session.dialect.quote(String(name))}`);
  }
}

class WarehouseDiff implements Diff {
  readonly method = 'warehouse';
  counts!: DiffCounts;
  highWaterMark: Value | null = null;
  columns: string[] = [];
  relation?: ModelRelation;

  constructor(private readonly source: WarehouseSource, private readonly session: WarehouseSession, private readonly tables: OnePassTables) {}

  get incremental(): boolean {
    return this.relation?.incremental ?? false;
  }

  async *invalidKeys(): AsyncIterable<InvalidKey[]> {
    if (this.counts.invalid === 0) return;
    const rows = await this.session.run(`SELECT lm_key AS invalid_key, copies FROM ${this.tables.dup}
      UNION ALL SELECT NULL, count(*) FROM ${this.tables.diff} WHERE lm_kind = 'invalid' HAVING count(*) > 0`);
    yield rows.map((r) => ({ key: r.invalid_key == null ? null : String(r.invalid_key), copies: Number(r.copies) }));
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

  newest(column: string, signal: AbortSignal): Promise<Value | null> {
    return newestIn(this.source, this.relation!, column, signal);
  }

  /** Rows the model returned, and the largest cursor value among them (read as a canonical value). */
  async countModel(signal: AbortSignal): Promise<{ fetched: number; hwm: Value | null }> {
    const { sql, params, cursor } = this.relation!;
    const query = `SELECT count(*) AS fetched${cursor ? `, max(${this.session.dialect.quote(cursor)}) AS hwm` : ''} FROM (${sql}) AS lm_model`;
    for await (const chunk of this.source.read(query, { chunkSize: 1, signal, params })) {
      const row = chunk.rows[0]!;
      return { fetched: Number(row.fetched), hwm: row.hwm ?? null };
    }
    return { fetched: 0, hwm: null };
  }

  async close(): Promise<void> {
    for (const table of [this.tables.diff, this.tables.removed, this.tables.dup]) {
      await this.session.run(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    }
  }

  /**
   * The differences of `kinds` with the model's columns: the diff's keys joined back to the
   * model (only they are fingerprinted again, so state records exactly the values sent) and
   * to the state (what the destination holds).
   */
  private async *read(kinds: DiffKind[], chunkSize: number, signal: AbortSignal, limit?: number): AsyncIterable<ChangeRow[]> {
    if (!kinds.length) return;
    const sent = kinds.filter((k) => k !== 'removed');
    const order = `ORDER BY lm_key${limit ? ` LIMIT ${limit}` : ''}`;
    const queries = [
      ...(sent.length ? [`SELECT d.lm_kind AS __kind, d.lm_key AS __dkey, d.lm_fp AS __mfp, d.lm_status AS __status, d.lm_dest_id AS __dest_id, d.lm_match AS __match, d.*
        FROM ${this.tables.diff} AS d
        WHERE d.lm_kind IN (${sent.map((k) => `'${k}'`).join(', ')}) AND NOT EXISTS (SELECT 1 FROM ${this.tables.dup} AS x WHERE x.lm_key = d.lm_key) ${order}`] : []),
      ...(kinds.includes('removed') ? [`SELECT 'removed' AS __kind, lm_key AS __dkey, lm_status AS __status, lm_dest_id AS __dest_id, lm_match AS __match, lm_key
        FROM ${this.tables.removed} ${order}`] : []),
    ];
    for (const query of queries) {
      for await (const chunk of this.source.read(query, { chunkSize, signal })) {
        if (chunk.rows.length) yield chunk.rows.map((r) => changeRow(r, chunk.columns));
      }
    }
  }
}

function changeRow(r: Row, columns: Column[]): ChangeRow {
  const kind = r.__kind as DiffKind;
  const present = kind !== 'removed';
  let row: Row | null = null;
  if (present) {
    row = {};
    for (const { name } of columns) if (!INTERNAL.has(name)) row[name] = r[name]!;
  }
  return {
    kind,
    key: String(r.__dkey),
    fp: present ? String(r.__mfp) : null,
    localFp: null,
    row,
    previous: r.__status == null ? null : {
      status: String(r.__status) as RowStatus,
      destId: r.__dest_id == null ? null : String(r.__dest_id),
      match: r.__match == null ? null : JSON.parse(String(r.__match)) as Record<string, Value>,
    },
  };
}
