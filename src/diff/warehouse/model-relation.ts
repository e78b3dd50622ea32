import type { Column, Source, Value } from '../../sources/source.ts';
import type { DiffRequest } from '../diff.ts';
import { modelReadSql } from '../../sources/source.ts';
import { RunError } from '../../errors.ts';
import type { FingerprintPlan } from '../workspace/fingerprint-sql.ts';

/** The model as the warehouse reads it: SQL (with the cursor's mark as a parameter), its columns, what to fingerprint. */
export interface ModelRelation {
  sql: string;
  params: Value[];
  columns: Column[];
  plan: FingerprintPlan;
  incremental: boolean;
  /** The cursor column, if the model has one. */
  cursor?: string;
}

/** Describes the model in its own warehouse (a read of no rows) and what its fingerprint covers. */
export async function modelRelation({ source, model, since, signal, fingerprint }: DiffRequest): Promise<ModelRelation> {
  const base = model.sql ?? source.tableQuery(model.table!);
  const incremental = model.cursor !== undefined && since !== null;
  const sql = incremental ? modelReadSql(source, { sql: base, since: { column: model.cursor!, value: since } }, source.placeholder(1)) : base;
  let columns: Column[] = [];
  try {
    for await (const chunk of source.read(`SELECT * FROM (${base}) AS lm_described LIMIT 0`, { chunkSize: 1, signal })) columns = chunk.columns;
  } catch (error) {
    throw new RunError(`source "${source.name}" failed while reading model "${model.name}": ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const inputs = fingerprint(columns.map((c) => c.name));
  const typed = (names: string[]) => names.map((name) => {
    const column = columns.find((c) => c.name === name);
    if (!column) throw new RunError(`model "${model.name}" has no column "${name}" (its columns: ${columns.map((c) => c.name).join(', ')})`);
    return column;
  });
  return {
    sql, params: incremental ? [since] : [], columns, incremental, cursor: model.cursor,
    plan: { signature: inputs.signature, columns: typed(inputs.columns), primaryKey: typed(model.primaryKey) },
  };
}

/** The largest value of `column` in the model, computed in its warehouse (null: no rows). */
export async function newestIn(source: Source, relation: ModelRelation, column: string, signal: AbortSignal): Promise<Value | null> {
  const query = `SELECT max(${source.quoteIdentifier(column)}) AS newest FROM (${relation.sql}) AS lm_model`;
  for await (const chunk of source.read(query, { chunkSize: 1, signal, params: relation.params })) return chunk.rows[0]?.newest ?? null;
  return null;
}
