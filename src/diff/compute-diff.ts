import type { Workspace } from '../engine/workspace.ts';
import type { Value } from '../sources/source.ts';
import { fingerprintSql, keySql } from './fingerprint-sql.ts';

/** Workspace tables a diff leaves behind for the delivery step to read. */
export const CURRENT_TABLE = 'lastmile_current';
export const DELTA_TABLE = 'lastmile_delta';
export const INVALID_TABLE = 'lastmile_invalid';

export interface DiffInput {
  /** The model relation (see read-model.ts) and its parameters. */
  modelSql: string;
  modelParams: Value[];
  primaryKey: string[];
  /** Mapping signature and the columns the mapped payload depends on. */
  signature: string;
  columns: string[];
  /** Relation holding the previous row state (StateStore.exposeRowState). */
  previous: string;
  /** Cursor mode: only new rows were read, so absence does not mean removal. */
  incremental: boolean;
  /** Treat parked (permanently rejected) rows as changed. */
  retryRejected: boolean;
  /** Treat every row that is still in the model as changed. */
  fullResync: boolean;
}

export interface DiffCounts {
  fetched: number;
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  /** Rows with a null or duplicated primary key: rejected as invalid_row. */
  invalid: number;
  /** Rows of the previous state (to judge how large a deletion is). */
  previous: number;
}

/**
 * Step 2 of a run, entirely in DuckDB: fingerprint every model row, set aside rows whose key
 * is null or duplicated, and join with the previous state. Only the differences are kept
 * (DELTA_TABLE, with a `__change` column: added | changed | removed); unchanged rows are
 * only counted.
 */
export async function computeDiff(workspace: Workspace, input: DiffInput): Promise<DiffCounts> {
  const db = workspace.connection;
  for (const table of [CURRENT_TABLE, INVALID_TABLE, DELTA_TABLE]) await db.run(`DROP TABLE IF EXISTS ${table}`);
  await db.run(
    `CREATE TEMP TABLE ${CURRENT_TABLE} AS
     SELECT ${keySql(input.primaryKey)} AS __key, ${fingerprintSql(input.signature, input.columns)} AS __fp, m.*
     FROM (${input.modelSql}) AS m`,
    input.modelParams as never,
  );
  await db.run(
    `CREATE TEMP TABLE ${INVALID_TABLE} AS
     SELECT * FROM ${CURRENT_TABLE}
     WHERE __key IS NULL
        OR __key IN (SELECT __key FROM ${CURRENT_TABLE} WHERE __key IS NOT NULL GROUP BY __key HAVING count(*) > 1)`,
  );
  const invalidKeys = `SELECT __key FROM ${INVALID_TABLE} WHERE __key IS NOT NULL`;
  const valid = `SELECT * FROM ${CURRENT_TABLE} WHERE __key IS NOT NULL AND __key NOT IN (${invalidKeys})`;
  const join = input.incremental ? 'LEFT JOIN' : 'FULL OUTER JOIN';
  const parked = input.retryRejected ? `OR p.status = 'rejected'` : '';
  const everything = input.fullResync ? 'OR c.__key IS NOT NULL' : '';
  await db.run(
    `CREATE TEMP TABLE ${DELTA_TABLE} AS
     SELECT CASE WHEN p.key IS NULL THEN 'added' WHEN c.__key IS NULL THEN 'removed' ELSE 'changed' END AS __change,
            coalesce(c.__key, p.key) AS __change_key,
            p.status AS __prev_status, p.dest_id AS __dest_id, p.match AS __prev_match,
            c.*
     FROM (${valid}) AS c
     ${join} ${input.previous} AS p ON c.__key = p.key
     WHERE p.key IS NULL
        OR (c.__key IS NULL AND p.key NOT IN (${invalidKeys}))
        OR c.__fp <> p.fp ${parked} ${everything}`,
  );
  const counts = await db.runAndReadAll(
    `SELECT
       (SELECT count(*) FROM ${CURRENT_TABLE}) AS fetched,
       (SELECT count(*) FROM ${INVALID_TABLE}) AS invalid,
       (SELECT count(*) FROM ${input.previous}) AS previous,
       count(*) FILTER (WHERE __change = 'added') AS added,
       count(*) FILTER (WHERE __change = 'changed') AS changed,
       count(*) FILTER (WHERE __change = 'removed') AS removed
     FROM ${DELTA_TABLE}`,
  );
  const row = counts.getRowObjects()[0];
  const n = (name: string) => Number(row[name]);
  const fetched = n('fetched');
  return {
    fetched,
    added: n('added'),
    changed: n('changed'),
    removed: n('removed'),
    invalid: n('invalid'),
    previous: n('previous'),
    unchanged: fetched - n('invalid') - n('added') - n('changed'),
  };
}
