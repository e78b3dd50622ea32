import type { Workspace } from '../engine/workspace.ts';
import type { Value } from '../sources/source.ts';
import { quoteDuck } from '../engine/workspace.ts';
import { fingerprintSql, keySql } from './fingerprint-sql.ts';

/** Workspace tables a diff leaves behind. */
export const DIFF_TABLE = 'lastmile_diff';
export const DUPLICATE_KEYS_TABLE = 'lastmile_duplicate_keys';

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
  /** Cursor column: its largest value read is returned as the high-water mark. */
  cursor?: string;
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

export interface DiffResult {
  counts: DiffCounts;
  highWaterMark: Value | null;
}

/** The fingerprinted model: `__key`, `__fp` and every model column. */
export function fingerprintedModel(input: Pick<DiffInput, 'modelSql' | 'primaryKey' | 'signature' | 'columns'>): string {
  return `SELECT ${keySql(input.primaryKey)} AS __key, ${fingerprintSql(input.signature, input.columns)} AS __fp, m.*
          FROM (${input.modelSql}) AS m`;
}

/**
 * Step 2 of a run, in one pass of DuckDB over the model: fingerprint each row, join with the
 * previous state, and keep one row per difference (DIFF_TABLE: `__key`, `__change` = added |
 * changed | removed) while unchanged rows fold into a single counted group. No model column is
 * carried: the delivery step fetches them for the differences only (see delta.ts).
 * Duplicated keys are rare: when the pass sees any, it runs again without them.
 */
export async function computeDiff(workspace: Workspace, input: DiffInput): Promise<DiffResult> {
  const db = workspace.connection;
  await db.run(`DROP TABLE IF EXISTS ${DUPLICATE_KEYS_TABLE}`);
  await db.run(`CREATE TEMP TABLE ${DUPLICATE_KEYS_TABLE} (key VARCHAR, copies BIGINT)`);
  let counts = await diffPass(workspace, input);
  if (counts.duplicated) {
    await db.run(
      `INSERT INTO ${DUPLICATE_KEYS_TABLE} SELECT __key, count(*) FROM (${fingerprintedModel(input)})
       WHERE __key IS NOT NULL GROUP BY __key HAVING count(*) > 1`,
      input.modelParams as never,
    );
    counts = await diffPass(workspace, input);
  }
  const duplicates = await scalar(workspace, `SELECT coalesce(sum(copies), 0) FROM ${DUPLICATE_KEYS_TABLE}`);
  const invalid = counts.nullKeys + duplicates;
  return {
    counts: {
      fetched: counts.fetched + duplicates,
      added: counts.added,
      changed: counts.changed,
      removed: counts.removed,
      unchanged: counts.unchanged,
      invalid,
      previous: counts.previous,
    },
    highWaterMark: counts.highWaterMark,
  };
}

async function diffPass(workspace: Workspace, input: DiffInput) {
  const db = workspace.connection;
  const cursor = input.cursor ? `, ${quoteDuck(input.cursor)} AS __cursor` : ', NULL AS __cursor';
  const current = `SELECT __key, __fp, true AS __in_model ${cursor} FROM (${fingerprintedModel(input)})
                   WHERE __key IS NULL OR __key NOT IN (SELECT key FROM ${DUPLICATE_KEYS_TABLE})`;
  const previous = `SELECT * FROM ${input.previous} WHERE key NOT IN (SELECT key FROM ${DUPLICATE_KEYS_TABLE})`;
  const resend = [input.retryRejected ? `p.status = 'rejected'` : '', input.fullResync ? 'true' : ''].filter(Boolean);
  const differs = ['c.__fp <> p.fp', ...resend].join(' OR ');
  await db.run(`DROP TABLE IF EXISTS ${DIFF_TABLE}`);
  await db.run(
    `CREATE TEMP TABLE ${DIFF_TABLE} AS
     SELECT CASE WHEN __change IN ('unchanged', 'null_key') THEN NULL ELSE __either_key END AS __key,
            __change, count(*) AS __rows, count(__in_model) AS __model_rows,
            any_value(__prev_status) AS __prev_status, any_value(__dest_id) AS __dest_id,
            any_value(__prev_match) AS __prev_match, max(__cursor) AS __cursor
     FROM (
       SELECT CASE
                WHEN c.__in_model IS NULL THEN 'removed'
                WHEN c.__key IS NULL THEN 'null_key'
                WHEN p.key IS NULL THEN 'added'
                WHEN ${differs} THEN 'changed'
                ELSE 'unchanged' END AS __change,
              coalesce(c.__key, p.key) AS __either_key, c.__in_model, c.__cursor,
              p.status AS __prev_status, p.dest_id AS __dest_id, p."match" AS __prev_match
       FROM (${current}) AS c
       ${input.incremental ? 'LEFT JOIN' : 'FULL OUTER JOIN'} (${previous}) AS p ON c.__key = p.key
     )
     GROUP BY ALL`,
    input.modelParams as never,
  );
  const row = (await db.runAndReadAll(
    `SELECT
       coalesce(sum(__model_rows), 0) AS fetched,
       count(*) FILTER (WHERE __change = 'added') AS added,
       count(*) FILTER (WHERE __change = 'changed') AS changed,
       count(*) FILTER (WHERE __change = 'removed') AS removed,
       coalesce(sum(__rows) FILTER (WHERE __change = 'unchanged'), 0) AS unchanged,
       coalesce(sum(__rows) FILTER (WHERE __change = 'null_key'), 0) AS null_keys,
       count(*) FILTER (WHERE __key IS NOT NULL AND __model_rows > 1) AS visible_duplicates,
       coalesce(sum(__rows) FILTER (WHERE __change IN ('unchanged', 'changed')), 0) AS matched_rows,
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

async function maxCursor(workspace: Workspace): Promise<Value | null> {
  const { streamRows } = await import('../sources/duckdb/duckdb-rows.ts');
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
