import type { Workspace } from './workspace.ts';
import type { Value } from '../../sources/source.ts';
import type { DiffCounts } from '../diff.ts';
import { quoteDuck } from './workspace.ts';
import { fingerprintSql, keySql, localFingerprintSql, type FingerprintPlan } from './fingerprint-sql.ts';

/** Workspace tables a diff leaves behind. */
export const DIFF_TABLE = 'lastmile_diff';
export const DUPLICATE_KEYS_TABLE = 'lastmile_duplicate_keys';
/** Rows whose local fingerprint did not match state, with their recipe v1 fingerprint. */
export const CANDIDATES_TABLE = 'lastmile_candidates';

export interface DiffInput {
  /** The model relation (see read-model.ts) and its parameters. */
  modelSql: string;
  modelParams: Value[];
  /** The key and fingerprints' inputs (see fingerprint-sql.ts). */
  plan: FingerprintPlan;
  /** Relation holding the previous row state (see workspace-diff.ts). */
  previous: string;
  /** Cursor mode: only new rows were read, so absence does not mean removal. */
  incremental: boolean;
  /** Treat parked (permanently rejected) rows as changed. */
  retryRejected: boolean;
  /** Treat every row that is still in the model as changed. */
  fullResync: boolean;
  /** Cursor column: its largest value read is returned as the high-water mark. */
  cursor?: string;
}

export interface DiffResult {
  counts: DiffCounts;
  highWaterMark: Value | null;
  /** Rows found unchanged by recipe v1 after their local fingerprint differed: state should learn the new one. */
  refreshed: number;
}

/** The model with `__key` (recipe v1) and `__lfp` (the local fingerprint) in front of its columns. */
export function keyedModel(input: Pick<DiffInput, 'modelSql' | 'plan'>): string {
  return `SELECT ${keySql(input.plan)} AS __key, ${localFingerprintSql(input.plan)} AS __lfp, m.* FROM (${input.modelSql}) AS m`;
}

/**
 * Step 2 of a run, in DuckDB:
 * 1. One pass over the model: key and local fingerprint of each row, joined with the previous
 *    state. A row whose local fingerprint matches its state is unchanged; those fold into one
 *    counted group (key NULL) while every other key keeps its own (DIFF_TABLE: `__key`,
 *    `__change` = added | changed | removed). No model column is carried.
 * 2. Only for the changed ones (when nothing forced them): the recipe v1 fingerprint, compared
 *    with state's. Equal means unchanged after all (state learned it elsewhere, or DuckDB's hash()
 *    changed): `__change` = refreshed, and the run records the local fingerprint for next time.
 * The delivery step fetches the model's columns for the differences only (see delta.ts).
 * Duplicated keys are rare: when the first pass sees any, it runs again without them.
 */
export async function computeDiff(workspace: Workspace, input: DiffInput): Promise<DiffResult> {
  const db = workspace.connection;
  await db.run(`DROP TABLE IF EXISTS ${DUPLICATE_KEYS_TABLE}`);
  await db.run(`CREATE TEMP TABLE ${DUPLICATE_KEYS_TABLE} (key VARCHAR, copies BIGINT)`);
  let counts = await diffPass(workspace, input, false);
  if (counts.duplicated) {
    await db.run(
      `INSERT INTO ${DUPLICATE_KEYS_TABLE} SELECT __key, count(*) FROM (SELECT ${keySql(input.plan)} AS __key FROM (${input.modelSql}))
       WHERE __key IS NOT NULL GROUP BY __key HAVING count(*) > 1`,
      input.modelParams as never,
    );
    counts = await diffPass(workspace, input, true);
  }
  const refreshed = counts.changed > 0 ? await confirmChanges(workspace, input) : 0;
  const duplicates = await scalar(workspace, `SELECT coalesce(sum(copies), 0) FROM ${DUPLICATE_KEYS_TABLE}`);
  return {
    counts: {
      fetched: counts.fetched + duplicates,
      added: counts.added,
      changed: counts.changed - refreshed,
      removed: counts.removed,
      unchanged: counts.unchanged + refreshed,
      invalid: counts.nullKeys + duplicates,
      previous: counts.previous,
    },
    highWaterMark: counts.highWaterMark,
    refreshed,
  };
}

/** The first pass; `withoutDuplicates` leaves out the keys in DUPLICATE_KEYS_TABLE (the second run of it only). */
async function diffPass(workspace: Workspace, input: DiffInput, withoutDuplicates: boolean) {
  const db = workspace.connection;
  const cursor = input.cursor ? `, ${quoteDuck(input.cursor)} AS __cursor` : ', NULL AS __cursor';
  const notDuplicated = (column: string) => (withoutDuplicates ? `${column} NOT IN (SELECT key FROM ${DUPLICATE_KEYS_TABLE})` : 'true');
  const current = `SELECT __key, __lfp, true AS __in_model ${cursor} FROM (${keyedModel(input)})
                   WHERE __key IS NULL OR ${notDuplicated('__key')}`;
  const previous = `SELECT * FROM ${input.previous} WHERE ${notDuplicated('key')}`;
  const forced = [input.retryRejected ? `p.status IN ('rejected', 'outdated')` : '', input.fullResync ? 'true' : ''].filter(Boolean).join(' OR ') || 'false';
  // Unchanged rows (and rows with a null key) fold into the one group whose key is NULL; every
  // difference keeps its own group. `__change` is read off the counts afterwards.
  await db.run(`DROP TABLE IF EXISTS ${DIFF_TABLE}`);
  await db.run(
    `CREATE TEMP TABLE ${DIFF_TABLE} AS
     SELECT *, CASE WHEN __key IS NULL THEN 'unchanged' WHEN __prev_rows = 0 THEN 'added'
                    WHEN __model_rows = 0 THEN 'removed' ELSE 'changed' END AS __change
     FROM (
       SELECT __key, count(*) AS __rows, count(__in_model) AS __model_rows, count(__prev_key) AS __prev_rows,
              ${input.cursor ? 'max(__cursor)' : 'NULL'} AS __cursor, bool_or(__forced) AS __forced
       FROM (
         SELECT CASE WHEN c.__in_model IS NULL OR p.key IS NULL OR p.local_fp IS DISTINCT FROM c.__lfp OR (${forced})
                     THEN coalesce(c.__key, p.key) END AS __key,
                c.__in_model, p.key AS __prev_key, (${forced}) AS __forced ${input.cursor ? ', c.__cursor' : ''}
         FROM (${current}) AS c
         ${input.incremental ? 'LEFT JOIN' : 'FULL OUTER JOIN'} (${previous}) AS p ON c.__key = p.key
       )
       GROUP BY __key
     )`,
    input.modelParams as never,
  );
  const row = (await db.runAndReadAll(
    `SELECT
       coalesce(sum(__model_rows), 0) AS fetched,
       count(*) FILTER (WHERE __change = 'added') AS added,
       count(*) FILTER (WHERE __change = 'changed') AS changed,
       count(*) FILTER (WHERE __change = 'removed') AS removed,
       coalesce(sum(__prev_rows) FILTER (WHERE __key IS NULL), 0) AS unchanged,
       coalesce(sum(__model_rows - __prev_rows) FILTER (WHERE __key IS NULL), 0) AS null_keys,
       count(*) FILTER (WHERE __key IS NOT NULL AND __model_rows > 1) AS visible_duplicates,
       coalesce(sum(__prev_rows) FILTER (WHERE __model_rows > 0), 0) AS matched_rows,
       (SELECT count(*) FROM (${previous})) AS previous
     FROM ${DIFF_TABLE}`,
  )).getRowObjects()[0];
  const n = (name: string) => Number(row[name]);
  // A key in state matched by two model rows (one unchanged, one changed) hides in the
  // unchanged group: it shows as more matched rows than matched state keys.
  const matchedKeys = n('previous') - n('removed');
  return {
    fetched: n('fetched'), added: n('added'), changed: n('changed'), removed: n('removed'),
    unchanged: n('unchanged'), nullKeys: n('null_keys'), previous: n('previous'),
    duplicated: n('visible_duplicates') > 0 || n('matched_rows') > matchedKeys,
    highWaterMark: input.cursor ? await maxCursor(workspace) : null,
  };
}

/**
 * The second pass: recipe v1 for the changed rows nothing forced, compared with state. Those
 * equal become `refreshed`; CANDIDATES_TABLE keeps their local fingerprint for state. Answers how many.
 */
async function confirmChanges(workspace: Workspace, input: DiffInput): Promise<number> {
  const db = workspace.connection;
  await db.run(
    `CREATE OR REPLACE TEMP TABLE ${CANDIDATES_TABLE} AS
     SELECT __key, ${fingerprintSql(input.plan)} AS __fp, __lfp
     FROM (SELECT m.* FROM (SELECT __key FROM ${DIFF_TABLE} WHERE __change = 'changed' AND NOT __forced) AS d
           JOIN (${keyedModel(input)}) AS m ON m.__key = d.__key)`,
    input.modelParams as never,
  );
  await db.run(
    `UPDATE ${DIFF_TABLE} SET __change = 'refreshed'
     FROM ${CANDIDATES_TABLE} AS c, ${input.previous} AS p
     WHERE ${DIFF_TABLE}.__key = c.__key AND p.key = c.__key AND p.fp = c.__fp`,
  );
  return scalar(workspace, `SELECT count(*) FROM ${DIFF_TABLE} WHERE __change = 'refreshed'`);
}
async function maxCursor(workspace: Workspace): Promise<Value | null> {
  const { streamRows } = await import('../../sources/duckdb/duckdb-rows.ts');
  const sql = `SELECT max(__cursor) AS hwm FROM ${DIFF_TABLE}`;
  for await (const chunk of streamRows(workspace.connection, sql, [], 1, new AbortController().signal)) {
    return chunk.rows[0]?.hwm ?? null;
  }
  return null;
}

async function scalar(workspace: Workspace, sql: string): Promise<number> {
  const result = await workspace.connection.runAndReadAll(sql);
  return Number(result.getRows()[0][0]);
}
